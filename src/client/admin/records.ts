import { api, call, problemFrom, seg } from '../shared/api.ts';
import type { HistoryJson, RecordJson, RecordsPage } from '../shared/api-types.ts';
import { byId, el, input, select, show } from '../shared/dom.ts';
import { money } from '../shared/format.ts';
import { isoToZoned, zonedToIso } from '../shared/zoned-time.ts';
import { statusBadge } from '../shared/wording.ts';
import { admin, campaignPath } from './state.ts';

/** The redemption records of the campaign on screen: filters, pages of 50, CSV download. */
const PAGE = 50;
let cursor: string | null = null;
let shown = 0;

export function setupRecords(): void {
  byId('records-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    if (admin.current) void loadRecords(false);
  });
  select('r-status').addEventListener('change', () => { if (admin.current) void loadRecords(false); });
  byId('more').addEventListener('click', () => { if (admin.current && cursor) void loadRecords(true); });
  byId('download').addEventListener('click', () => void download());
  byId('history-close').addEventListener('click', () => closeHistory());
}

export function resetRecords(): void {
  closeHistory();
  select('r-status').value = '';
  input('r-from').value = '';
  input('r-to').value = '';
}

/** Records are shown and filtered on the campaign's own clock (named above the table). */
const zone = () => admin.current?.timeZone ?? 'UTC';
const atZone = (iso: string | null | undefined) => (iso ? isoToZoned(iso, zone()).replace('T', ' ') : '');

function recordParams(): URLSearchParams {
  const p = new URLSearchParams();
  if (select('r-status').value) p.set('status', select('r-status').value);
  const from = zonedToIso(input('r-from').value, zone());
  const to = zonedToIso(input('r-to').value, zone());
  if (from) p.set('from', from);
  if (to) p.set('to', to);
  return p;
}

export async function loadRecords(more: boolean): Promise<void> {
  const id = admin.current?.id;
  if (!id) return;
  const p = recordParams();
  p.set('limit', String(PAGE));
  if (more && cursor) p.set('after', cursor);
  byId('records-error').textContent = '';
  const moreButton = byId<HTMLButtonElement>('more');
  moreButton.disabled = true;
  const r = await api<RecordsPage>(`${campaignPath(id)}/records?${p.toString()}`);
  if (admin.current?.id !== id) return;
  const tbody = byId<HTMLTableElement>('records').tBodies[0]!;
  if (!more) {
    tbody.textContent = '';
    shown = 0;
  }
  moreButton.disabled = false;
  if (!r.ok) {
    byId('records-error').textContent = r.error.message;
    cursor = null;
    show(moreButton, false);
    return;
  }
  for (const record of r.body.records) {
    tbody.append(recordRow(record));
    shown++;
  }
  cursor = r.body.nextCursor;
  show(moreButton, cursor !== null);
  show(byId('no-records'), shown === 0);
  byId('records-count').textContent = shown ? `${shown} shown` : '';
}

function recordRow(x: RecordJson): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.record = x.couponId;
  const who = el('td', x.displayName || x.userId);
  if (x.displayName) who.append(el('div', x.userId, 'muted'));
  const status = el('td');
  status.dataset.field = 'status';
  status.append(el('span', x.status, statusBadge(x.status)));
  const delivery = el('td', x.deliveryStatus);
  if (x.deliveryError) delivery.append(el('div', x.deliveryError, 'reason'));
  tr.append(who, el('td', x.channel), status, delivery);
  for (const at of [x.issuedAt, x.sentAt, x.openedAt, x.redeemedAt, x.verifiedAt, x.expiresAt]) tr.append(el('td', atZone(at)));
  const serial = el('td');
  serial.dataset.field = 'serial';
  if (x.serial) serial.append(el('code', x.serial));
  const more = el('td');
  const button = el('button', 'History', 'linkish');
  button.type = 'button';
  button.dataset.action = 'history';
  button.setAttribute('aria-label', `History of the coupon of ${x.displayName || x.userId}`);
  button.addEventListener('click', () => void openHistory(x));
  more.append(button);
  tr.append(serial, more);
  return tr;
}

/** Who did it, in words: the history's `by` and `from`. */
type HistoryEvent = HistoryJson['events'][number];

const eventNames: Record<string, string> = {
  issued: 'Issued', delivered: 'Delivered', delivery_failed: 'Delivery failed', opened: 'Opened', redeemed: 'Redeemed',
  verified: 'Verified', voided: 'Verification voided', expired: 'Expired',
};
const byNames: Record<string, string> = {
  api: 'through the API', flow: 'by a flow', agent: 'by an agent', customer: 'by the customer', system: 'by the service',
  pos: 'by the till (POS token)', admin: 'with the admin token', staff: 'by staff', broadcast: 'by a broadcast',
};

export function historyWords(e: HistoryEvent, channelNames: Record<string, string>): { what: string; who: string; details: string[] } {
  const f = e.from;
  const who: string[] = [];
  if (e.event === 'issued') {
    who.push(byNames[e.by] ?? `by ${e.by}`);
    if (f.flowId) who.push(`(flow “${f.flowId}”)`);
    if (f.agent) who.push(`(${f.agent})`);
    if (f.channel) who.push(`for ${channelNames[f.channel] ?? f.channel}`);
  } else if (e.event === 'delivered' || e.event === 'delivery_failed') {
    who.push(`to ${channelNames[f.channel ?? ''] ?? f.channel ?? 'the chat'}`);
  } else {
    who.push(byNames[e.by] ?? `by ${e.by}`);
    if (f.page) who.push(`on the ${f.page}`);
  }
  const details: string[] = [];
  if (f.storeId) details.push(`store ${f.storeId}`);
  if (f.ip) details.push(`from ${f.ip}`);
  if (e.posAt) details.push(`the till’s own time ${atZone(e.posAt)}`);
  if (e.amount !== undefined) details.push(`order ${e.currency ? money(e.amount, e.currency) : String(e.amount)}`);
  if (e.reason) details.push(e.event === 'voided' ? `reason: ${e.reason}` : e.reason);
  return { what: eventNames[e.event] ?? e.event, who: who.join(' '), details };
}

let historyFor: string | null = null;

function closeHistory(): void {
  historyFor = null;
  show(byId('history'), false);
  byId('history-events').textContent = '';
  byId('history-error').textContent = '';
}

async function openHistory(x: RecordJson): Promise<void> {
  historyFor = x.couponId;
  const box = byId('history');
  const list = byId('history-events');
  list.textContent = '';
  byId('history-error').textContent = '';
  byId('history-title').textContent = `History of the coupon of ${x.displayName || x.userId}${x.serial ? ` (${x.serial})` : ''}`;
  box.dataset.coupon = x.couponId;
  show(box, true);
  box.scrollIntoView({ block: 'nearest' });
  const r = await api<HistoryJson>(`/api/v1/coupons/${seg(x.couponId)}/history`);
  if (historyFor !== x.couponId) return;
  if (!r.ok) {
    byId('history-error').textContent = `The history could not be shown: ${r.error.message}`;
    return;
  }
  for (const e of r.body.events) {
    const words = historyWords(e, r.body.channelLabels);
    const li = el('li');
    li.dataset.event = e.event;
    const when = el('time', atZone(e.at), 'muted');
    when.dateTime = e.at;
    const body = el('div');
    body.append(el('span', words.what, 'what'), document.createTextNode(` ${words.who}`));
    if (words.details.length) body.append(el('div', words.details.join(' · '), 'muted'));
    li.append(when, body);
    list.append(li);
  }
  if (!r.body.events.length) list.append(el('li', 'Nothing has happened to this coupon yet.', 'muted'));
}

function filenameOf(res: Response, fallback: string): string {
  const cd = res.headers.get('Content-Disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) {
    try {
      return decodeURIComponent(star[1]!);
    } catch {
      // A malformed encoded name: the plain one below, or the fallback.
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return plain ? plain[1]! : fallback;
}

async function download(): Promise<void> {
  const c = admin.current;
  if (!c) return;
  const p = recordParams();
  p.set('format', 'csv');
  const button = byId<HTMLButtonElement>('download');
  button.disabled = true;
  byId('records-error').textContent = '';
  try {
    const res = await call(`${campaignPath(c.id)}/records?${p.toString()}`, { accept: 'text/csv' });
    if (!(res instanceof Response)) {
      byId('records-error').textContent = res.message;
      return;
    }
    if (!res.ok) {
      byId('records-error').textContent = (await problemFrom(res)).message;
      return;
    }
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a');
    a.href = url;
    a.download = filenameOf(res, `${c.slug}-records.csv`);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    byId('records-error').textContent = `The download broke off: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    button.disabled = false;
  }
}
