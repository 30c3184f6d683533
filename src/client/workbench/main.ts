import type { WorkbenchTarget } from '../../pages/workbench-page.ts';
import { api } from '../shared/api.ts';
import type { CouponJson, WorkbenchCouponJson, WorkbenchJson } from '../shared/api-types.ts';
import { byId, el, input, select, show, showUncaughtErrors } from '../shared/dom.ts';
import { signOut } from '../shared/session.ts';
import { visibilityText } from '../shared/wording.ts';
import { richText } from '../shared/rich-text.ts';
import { zonedText } from '../shared/zoned-time.ts';

/**
 * The agents' workbench (for a signed-in session), embeddable beside a conversation in an inbox: the coupons that can be
 * sent now, and sending one into the conversation. The conversation the inbox named is in the
 * page's `data-target`.
 */
const TARGET = JSON.parse(byId('workbench').dataset.target ?? 'null') as WorkbenchTarget;

let coupons: WorkbenchCouponJson[] = [];
let current: WorkbenchCouponJson | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;

type Chat = { channel: string; externalId: string } | { conversationId: string };

function target(): Chat | null {
  const v = input('conversation').value.trim();
  if (TARGET && 'channel' in TARGET && v === TARGET.externalId) return { channel: TARGET.channel, externalId: TARGET.externalId };
  return v ? { conversationId: v } : null;
}

async function load(): Promise<void> {
  const p = new URLSearchParams();
  const q = input('q').value.trim();
  if (q) p.set('q', q);
  if (select('reward').value) p.set('reward', select('reward').value);
  if (select('visibility').value) p.set('visibility', select('visibility').value);
  const t = target();
  if (t && 'conversationId' in t) p.set('conversationId', t.conversationId);
  if (t && 'channel' in t) {
    p.set('channel', t.channel);
    p.set('externalId', t.externalId);
  }
  byId('error').textContent = '';
  const r = await api<WorkbenchJson>(`/api/v1/workbench/coupons?${p.toString()}`);
  if (!r.ok) {
    byId('error').textContent = r.error.message;
    coupons = [];
    render();
    return;
  }
  coupons = r.body.coupons;
  const c = r.body.conversation;
  byId('chat').textContent = c ? (c.active ? `Chat is active (${c.channel}).` : `Chat is not active: ${c.reason ?? ''}`) : (t ? '' : 'Enter a conversation id to send.');
  render();
  if (current) {
    const again = coupons.find((x) => x.campaignId === current!.campaignId);
    if (again) {
      current = again;
      detail();
    }
  }
}

function render(): void {
  const list = byId('list');
  list.textContent = '';
  for (const c of coupons) {
    const li = el('li');
    const b = el('button', null, 'item');
    b.type = 'button';
    b.dataset.campaign = c.campaignId;
    const row = el('div', null, 'row');
    row.append(el('h2', c.name), el('span', `${c.stockLeft} left`, 'muted'));
    const meta = el('p', null, 'muted');
    meta.append(el('span', c.visibility, 'badge'));
    if (c.sendable !== undefined) meta.append(el('span', c.sendable ? 'can send' : 'cannot send', `badge ${c.sendable ? 'badge-yes' : 'badge-no'}`));
    meta.append(document.createTextNode(`until ${zonedText(c.sendEnd, c.timeZone)}`));
    b.append(row, el('p', c.rewardText, 'reward'), meta);
    if (c.sendable === false && c.reason) b.append(el('p', c.reason, 'reason'));
    b.addEventListener('click', () => {
      current = c;
      byId('d-result').textContent = '';
      byId('d-result').className = '';
      detail();
    });
    li.append(b);
    list.append(li);
  }
  show(byId('empty'), coupons.length === 0);
}

function detail(): void {
  const c = current;
  if (!c) return;
  show(byId('list-view'), false);
  show(byId('detail'), true);
  byId('d-name').textContent = c.name;
  byId('d-reward').textContent = c.rewardText;
  byId('d-visibility').textContent = visibilityText(c.visibility);
  byId('d-stock').textContent = String(c.stockLeft);
  byId('d-period').textContent = `${zonedText(c.sendStart, c.timeZone).replace(/ \(.*\)$/, '')} – ${zonedText(c.sendEnd, c.timeZone)}`;
  byId('d-limit').textContent = String(c.perContactLimit);
  byId('d-instructions').replaceChildren(richText(c.instructions));
  const t = target();
  byId('d-reason').textContent = !t ? 'Enter a conversation id to send this coupon.' : (c.sendable === false ? (c.reason ?? 'It cannot be sent to this chat.') : '');
  byId<HTMLButtonElement>('send').disabled = !t || c.sendable === false;
}

function back(): void {
  current = null;
  show(byId('detail'), false);
  show(byId('list-view'), true);
}

async function send(): Promise<void> {
  const t = target();
  if (!t || !current) return;
  const button = byId<HTMLButtonElement>('send');
  button.disabled = true;
  button.textContent = 'Sending…';
  const out = byId('d-result');
  try {
    const r = await api<{ coupon: CouponJson }>('/api/v1/workbench/send', { method: 'POST', json: { campaignId: current.campaignId, ...t } });
    out.textContent = '';
    if (r.ok) {
      out.className = 'notice notice-ok';
      const a = el('a', r.body.coupon.pageUrl);
      a.href = r.body.coupon.pageUrl;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      out.append(document.createTextNode('Sent. Coupon page: '), a);
    } else {
      out.className = 'notice';
      out.textContent = `Not sent: ${r.error.message}`;
    }
  } finally {
    button.textContent = 'Send';
  }
  await load();
  if (current) detail();
}

showUncaughtErrors('error');
input('q').addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => void load(), 250);
});
select('reward').addEventListener('change', () => void load());
select('visibility').addEventListener('change', () => void load());
input('conversation').addEventListener('change', () => void load());
byId('back').addEventListener('click', back);
byId('send').addEventListener('click', () => void send());
byId('logout').addEventListener('click', () => {
  void signOut().then((problem) => {
    if (problem) byId('error').textContent = problem;
  });
});
if (TARGET) input('conversation').value = 'conversationId' in TARGET ? TARGET.conversationId : TARGET.externalId;
void load();
