import { api, call, problemFrom } from '../shared/api.ts';
import type { AuditEntryJson } from '../shared/api-types.ts';
import { byId, el, input, select, show } from '../shared/dom.ts';
import { fmtDate } from '../shared/format.ts';

/** The owner's audit log: who did what and when, filtered by who and what, paged, and as CSV. */
let next: string | null = null;

export function setupAudit(): void {
  byId('audit-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadAudit();
  });
  select('a-action').addEventListener('change', () => void loadAudit());
  byId('audit-more').addEventListener('click', () => void loadAudit(true));
  byId('audit-download').addEventListener('click', () => void download());
}

function filters(): URLSearchParams {
  const q = new URLSearchParams();
  if (input('a-actor').value.trim()) q.set('actor', input('a-actor').value.trim());
  if (select('a-action').value) q.set('action', select('a-action').value);
  return q;
}

export async function loadAudit(more = false): Promise<void> {
  byId('audit-error').textContent = '';
  const q = filters();
  q.set('limit', '100');
  if (more && next) q.set('cursor', next);
  const r = await api<{ entries: AuditEntryJson[]; next: string | null }>(`/api/v1/audit?${q.toString()}`);
  if (!r.ok) {
    byId('audit-error').textContent = `The audit log could not be shown: ${r.error.message}`;
    return;
  }
  const tbody = byId<HTMLTableElement>('audit').tBodies[0]!;
  if (!more) tbody.textContent = '';
  for (const e of r.body.entries) {
    const tr = el('tr');
    tr.dataset.entry = e.id;
    const who = el('td', e.actor.name);
    who.append(el('div', e.actor.role, 'muted'));
    const on = el('td', e.target.name ?? e.target.id);
    on.append(el('div', e.target.type, 'muted'));
    const details = Object.entries(e.details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ');
    tr.append(el('td', fmtDate(e.at)), who, el('td', e.action), on, el('td', details, 'pre'));
    tbody.append(tr);
  }
  next = r.body.next;
  show(byId('audit-more'), next !== null);
  show(byId('no-audit'), tbody.rows.length === 0);
}

async function download(): Promise<void> {
  byId('audit-error').textContent = '';
  const q = filters();
  q.set('format', 'csv');
  const res = await call(`/api/v1/audit?${q.toString()}`, { accept: 'text/csv' });
  if (!(res instanceof Response)) {
    byId('audit-error').textContent = res.message;
    return;
  }
  if (!res.ok) {
    byId('audit-error').textContent = `The CSV was not made: ${(await problemFrom(res)).message}`;
    return;
  }
  try {
    const url = URL.createObjectURL(await res.blob());
    const a = el('a');
    a.href = url;
    a.download = 'audit.csv';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    byId('audit-error').textContent = `The download broke off: ${err instanceof Error ? err.message : String(err)}`;
  }
}
