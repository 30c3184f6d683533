import { api } from '../shared/api.ts';
import type { CouponJson, TillHistoryJson, TillLookupJson } from '../shared/api-types.ts';
import { byId, el, input, show, showUncaughtErrors } from '../shared/dom.ts';
import { fmtDate } from '../shared/format.ts';
import { signOut } from '../shared/session.ts';
import { cameraProblem, startScanning, type ScanSession } from './scanner.ts';

/**
 * The staff scanner at the till (signed-in session): scan or type the code the customer shows,
 * read the coupon, verify it or read why not, undo a verification within its window.
 */

let current: TillLookupJson | null = null;
let scanning: ScanSession | null = null;
/** The last look-up came from the camera: "next" starts it again. */
let usedCamera = false;

const statusWords: Record<string, string> = {
  pending: 'Not delivered yet',
  sent: 'Sent, not opened',
  opened: 'Opened, not redeemed',
  redeemed: 'Redeemed: ready to verify',
  verified: 'Verified',
  expired: 'Expired',
  void: 'Withdrawn',
};

function sentence(text: string): string {
  return text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}` : '';
}

function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return '';
  if (!currency) return String(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
  } catch {
    return `${currency} ${amount}`;
  }
}

function who(e: TillHistoryJson): string {
  if (e.byName) return e.byName;
  if (e.by === 'pos') return 'the POS';
  if (e.by === 'admin') return 'the owner\'s token';
  return e.by;
}

/** One history line in words, as staff read it. */
function historyLine(e: TillHistoryJson): string {
  switch (e.event) {
    case 'issued': {
      const by = e.byName ? `by ${e.byName}` : e.by === 'flow' ? 'by a chat flow' : e.by === 'broadcast' ? 'in a broadcast' : e.by === 'agent' ? 'by an agent' : 'through the API';
      return `Given ${by}${e.channelTitle ? ` on ${e.channelTitle}` : ''}`;
    }
    case 'delivered': return 'Delivered to the customer\'s chat';
    case 'delivery_failed': return `Could not be delivered${e.reason ? `: ${e.reason}` : ''}`;
    case 'opened': return 'Opened by the customer';
    case 'redeemed': return 'Redeemed by the customer (code shown)';
    case 'verified': {
      const total = money(e.amount, e.currency);
      return `Verified by ${who(e)}${total ? `, order total ${total}` : ''}${e.from.storeId ? ` at ${e.from.storeId}` : ''}`;
    }
    case 'voided': return `Verification undone by ${who(e)}${e.reason ? `: ${e.reason}` : ''}`;
    case 'expired': return 'Expired';
  }
}

function clearResult(): void {
  current = null;
  show(byId('result'), false);
  byId('error').textContent = '';
  byId('r-done').textContent = '';
}

function render(r: TillLookupJson): void {
  current = r;
  show(byId('result'), true);
  byId('r-name').textContent = r.campaign.name;
  byId('r-reward').textContent = r.campaign.rewardText;
  const status = byId('r-status');
  status.textContent = statusWords[r.coupon.status] ?? r.coupon.status;
  status.className = `status status-${r.coupon.status}`;
  status.dataset.status = r.coupon.status;
  byId('r-code').textContent = r.coupon.serial ?? '—';
  byId('r-deadline').textContent = r.coupon.deadlineText ?? 'No deadline';
  byId('r-why').textContent = r.verify.possible ? '' : sentence(r.verify.reason ?? '');

  const form = byId('verify-form');
  show(form, r.verify.possible);
  const ask = r.orderAmount.ask;
  show(byId('amount-box'), r.verify.possible && ask !== 'off');
  const amount = input('amount');
  amount.value = '';
  amount.required = ask === 'required';
  const currency = input('currency');
  show(currency, !r.orderAmount.currency);
  currency.required = ask === 'required' && !r.orderAmount.currency;
  byId('amount-label').textContent = `Order total${r.orderAmount.currency ? ` (${r.orderAmount.currency})` : ''}${ask === 'required' ? '' : ' — optional'}`;

  show(byId('undo-box'), r.undo.possible);
  byId('undo-until').textContent = r.undo.possible
    ? (r.undo.until ? `You can undo this verification until ${new Date(r.undo.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.` : 'As the owner, you can undo this verification at any time.')
    : '';

  const list = byId('r-history');
  list.textContent = '';
  for (const e of r.history) {
    const li = el('li');
    li.dataset.event = e.event;
    li.append(el('span', fmtDate(e.at), 'muted'), document.createTextNode(` ${historyLine(e)}`));
    list.append(li);
  }
  byId('result').scrollIntoView({ block: 'start' });
}

/** Only the latest look-up is shown (a camera read and a typed code may cross). */
let lookups = 0;

async function lookup(params: { code: string } | { couponId: string }): Promise<void> {
  byId('error').textContent = '';
  const q = new URLSearchParams(params);
  const mine = ++lookups;
  const r = await api<TillLookupJson>(`/api/v1/verifications/lookup?${q.toString()}`);
  if (mine !== lookups) return;
  if (!r.ok) {
    clearResult();
    byId('error').textContent = sentence(r.error.message);
    return;
  }
  render(r.body);
}

async function verify(): Promise<void> {
  const r = current;
  if (!r) return;
  const body: Record<string, unknown> = { couponId: r.coupon.id };
  const amountText = input('amount').value.trim();
  if (r.orderAmount.ask !== 'off' && amountText !== '') {
    const amount = Number(amountText);
    if (!Number.isFinite(amount) || amount < 0) {
      byId('r-why').textContent = 'Enter the order total as a number, such as 1200.';
      return;
    }
    body.amount = amount;
    const currency = r.orderAmount.currency ?? input('currency').value.trim().toUpperCase();
    if (!currency) {
      byId('r-why').textContent = 'Enter the currency of the order total, such as TWD.';
      return;
    }
    body.currency = currency;
  } else if (r.orderAmount.ask === 'required') {
    byId('r-why').textContent = 'Enter the order total first.';
    input('amount').focus();
    return;
  }
  const button = byId<HTMLButtonElement>('verify');
  button.disabled = true;
  button.textContent = 'Verifying…';
  try {
    const res = await api<{ status: string; coupon: CouponJson }>('/api/v1/verifications', { method: 'POST', json: body });
    if (!res.ok) {
      byId('r-why').textContent = `Not verified: ${sentence(res.error.message)}`;
      return;
    }
    await lookup({ couponId: r.coupon.id });
    byId('r-done').textContent = `Verified at ${fmtDate(res.body.coupon.verifiedReceivedAt ?? res.body.coupon.verifiedAt)}. Give the customer the reward.`;
  } finally {
    button.disabled = false;
    button.textContent = 'Verify';
  }
}

async function undo(): Promise<void> {
  const r = current;
  if (!r) return;
  const button = byId<HTMLButtonElement>('undo');
  button.disabled = true;
  try {
    const reason = byId<HTMLSelectElement>('undo-reason').value;
    const res = await api<{ status: string }>('/api/v1/verifications/void', { method: 'POST', json: { couponId: r.coupon.id, reason } });
    if (!res.ok) {
      byId('r-done').textContent = '';
      byId('r-why').textContent = `Not undone: ${sentence(res.error.message)}`;
      return;
    }
    await lookup({ couponId: r.coupon.id });
    byId('r-done').textContent = 'Verification undone: the coupon can be verified again.';
  } finally {
    button.disabled = false;
  }
}

function stopCamera(): void {
  scanning?.stop();
  scanning = null;
  show(byId('camera'), false);
  show(byId('stop-camera'), false);
  show(byId('start-camera'), true);
}

async function startCamera(): Promise<void> {
  clearResult();
  const status = byId('camera-status');
  status.textContent = 'Starting the camera…';
  show(byId('start-camera'), false);
  show(byId('camera'), true);
  try {
    scanning = await startScanning(byId<HTMLVideoElement>('video'), (code, kind) => {
      scanning = null;
      stopCamera();
      status.textContent = `Read ${code}.`;
      status.dataset.decoder = kind;
      input('code').value = code;
      usedCamera = true;
      void lookup({ code });
    });
    show(byId('stop-camera'), true);
    status.textContent = 'Hold the barcode inside the frame.';
  } catch (err) {
    stopCamera();
    status.textContent = cameraProblem(err);
  }
}

showUncaughtErrors('error');
byId('start-camera').addEventListener('click', () => void startCamera());
byId('stop-camera').addEventListener('click', () => {
  stopCamera();
  byId('camera-status').textContent = '';
});
byId('manual').addEventListener('submit', (e) => {
  e.preventDefault();
  const code = input('code').value.trim();
  if (!code) {
    byId('error').textContent = 'Type the code under the barcode, or scan it.';
    return;
  }
  stopCamera();
  usedCamera = false;
  void lookup({ code });
});
byId('verify-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void verify();
});
byId('undo').addEventListener('click', () => void undo());
byId('next').addEventListener('click', () => {
  clearResult();
  input('code').value = '';
  byId('camera-status').textContent = '';
  window.scrollTo({ top: 0 });
  if (usedCamera) void startCamera();
  else input('code').focus();
});
byId('logout').addEventListener('click', () => {
  stopCamera();
  void signOut().then((problem) => {
    if (problem) byId('error').textContent = problem;
  });
});
