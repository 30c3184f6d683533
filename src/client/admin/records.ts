import { api, call, problemFrom } from '../shared/api.ts';
import type { RecordJson, RecordsPage } from '../shared/api-types.ts';
import { byId, el, input, select, show } from '../shared/dom.ts';
import { fmtDate, isoOf } from '../shared/format.ts';
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
}

export function resetRecords(): void {
  select('r-status').value = '';
  input('r-from').value = '';
  input('r-to').value = '';
}

function recordParams(): URLSearchParams {
  const p = new URLSearchParams();
  if (select('r-status').value) p.set('status', select('r-status').value);
  const from = isoOf(input('r-from').value);
  const to = isoOf(input('r-to').value);
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
  for (const at of [x.issuedAt, x.sentAt, x.openedAt, x.redeemedAt, x.verifiedAt, x.expiresAt]) tr.append(el('td', fmtDate(at)));
  const serial = el('td');
  serial.dataset.field = 'serial';
  if (x.serial) serial.append(el('code', x.serial));
  tr.append(serial);
  return tr;
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
