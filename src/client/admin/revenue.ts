import type { StatsJson } from '../shared/api-types.ts';
import { byId, el, show } from '../shared/dom.ts';
import { money, num, pct } from '../shared/format.ts';

/**
 * Below the campaign's funnel: what the verified coupons sold (per currency, from the order
 * amounts the till sends), that revenue per sent coupon, and the same funnel per flow and per
 * agent who sent coupons from the workbench.
 */
type Revenue = StatsJson['revenue'];

function revenueText(r: Revenue): string {
  const parts = Object.entries(r).sort(([a], [b]) => a.localeCompare(b)).map(([currency, n]) => money(n, currency));
  return parts.length ? parts.join(' · ') : '—';
}

export function clearRevenue(): void {
  byId('funnel-revenue').textContent = '';
  byId('funnel-split').textContent = '';
}

export function renderRevenue(s: StatsJson): void {
  clearRevenue();
  const dl = byId('funnel-revenue');
  const none = Object.keys(s.revenue).length === 0;
  const add = (key: string, label: string, value: string) => {
    const dd = el('dd', value);
    dd.dataset.stat = key;
    dl.append(el('dt', label), dd);
  };
  add('revenue', 'Revenue', none ? 'none recorded yet' : revenueText(s.revenue));
  add('revenuePerSent', 'Revenue per sent coupon', none ? '—' : revenueText(s.revenuePerSent));
  if (none && s.verified > 0) {
    const dd = el('dd', 'The till has sent no order amounts with its verifications.', 'muted');
    dl.append(el('dt', ''), dd);
  }
  const split = byId('funnel-split');
  if (s.byFlow.length) split.append(splitTable('By flow', 'flow', s.byFlow.map((f) => ({ key: f.flowId, label: f.flowId, ...f }))));
  if (s.byAgent.length) split.append(splitTable('By agent', 'agent', s.byAgent.map((a) => ({ key: a.agent, label: a.name ?? a.agent, ...a }))));
  show(split, split.childElementCount > 0);
}

type Row = Omit<StatsJson['byFlow'][number], 'flowId'> & { key: string; label: string };

function splitTable(title: string, kind: string, rows: Row[]): HTMLElement {
  const box = el('div');
  box.dataset.split = kind;
  box.append(el('h3', title));
  const wrap = el('div', null, 'table-wrap');
  const table = el('table');
  const head = table.createTHead().insertRow();
  for (const [i, label] of [kind === 'flow' ? 'Flow' : 'Agent', 'Sent', 'Opened', 'Redeemed', 'Verified', 'Revenue', 'Per sent'].entries()) {
    head.append(el('th', label, i > 0 ? 'num' : undefined));
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.key = r.key;
    tr.append(el('td', r.label), el('td', num(r.sent), 'num'), el('td', num(r.opened), 'num'),
      el('td', `${num(r.redeemed)}${r.sent ? ` (${pct(r.redeemed / r.sent)})` : ''}`, 'num'), el('td', num(r.verified), 'num'),
      el('td', revenueText(r.revenue), 'num'), el('td', revenueText(r.revenuePerSent), 'num'));
  }
  wrap.append(table);
  box.append(wrap);
  return box;
}
