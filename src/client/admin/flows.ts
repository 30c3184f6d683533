import { api } from '../shared/api.ts';
import type { FlowJson, FlowsJson } from '../shared/api-types.ts';
import { byId, el, show } from '../shared/dom.ts';
import { num } from '../shared/format.ts';

/** The flows view: each flow file, loaded or with the loader's reason, and per-step counts. */
export function setupFlows(): void {
  byId('flows-refresh').addEventListener('click', () => void loadFlows());
}

export async function loadFlows(): Promise<void> {
  byId('flows-error').textContent = '';
  const r = await api<FlowsJson>('/api/v1/flows');
  const box = byId('flows');
  const errors = byId('flows-errors');
  const errorList = errors.querySelector('ul')!;
  box.textContent = '';
  errorList.textContent = '';
  show(errors, false);
  if (!r.ok) {
    byId('flows-error').textContent = r.error.message;
    return;
  }
  if (!r.body.flows.length) box.append(el('p', 'No flows in the flows folder.', 'muted'));
  for (const f of r.body.flows) box.append(flowBlock(f));
  for (const e of r.body.errors) errorList.append(el('li', e, 'pre'));
  show(errors, r.body.errors.length > 0);
}

function flowBlock(f: FlowJson): HTMLElement {
  const d = el('div', null, 'flow');
  d.dataset.flow = f.id;
  const h = el('h3', `${f.name ?? f.id} `);
  h.append(el('span', f.loaded ? 'loaded' : 'not loaded', `badge ${f.loaded ? 'badge-yes' : 'badge-no'}`));
  const meta = el('p', null, 'muted');
  const where = ` in ${f.file}${f.trigger ? ` · trigger ${JSON.stringify(f.trigger)}` : ''}${f.channels ? ` · ${f.channels.join(', ')}` : ''}`;
  meta.append(el('code', f.id), document.createTextNode(where));
  d.append(h, meta);
  if (f.error) d.append(el('p', f.error, 'reason pre'));
  if (f.steps.length) {
    const wrap = el('div', null, 'table-wrap');
    const table = el('table');
    const head = table.createTHead().insertRow();
    ['Step', 'Type', 'Entered', 'Completed', 'Stopped here'].forEach((label, i) => head.append(el('th', label, i >= 2 ? 'num' : undefined)));
    const body = table.createTBody();
    for (const s of f.steps) {
      const tr = body.insertRow();
      tr.dataset.step = s.path;
      tr.append(el('td', s.path), el('td', s.type), el('td', num(s.entered), 'num'), el('td', num(s.completed), 'num'), el('td', num(Math.max(0, s.entered - s.completed)), 'num'));
    }
    wrap.append(table);
    d.append(wrap);
  }
  return d;
}
