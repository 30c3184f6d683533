import type { WorkbenchTarget } from '../../pages/workbench-page.ts';
import { api, seg } from '../shared/api.ts';
import type { ChatJson, ChatsJson, CouponJson, CardDeliveryJson, HandoffJson, OneChatJson, WorkbenchCouponJson, WorkbenchJson } from '../shared/api-types.ts';
import { byId, el, input, select, show, showUncaughtErrors } from '../shared/dom.ts';
import { fmtDate } from '../shared/format.ts';
import { richText } from '../shared/rich-text.ts';
import { signOut } from '../shared/session.ts';
import { statusBadge, visibilityText } from '../shared/wording.ts';
import { zonedText } from '../shared/zoned-time.ts';

/**
 * The agents' workbench (for a signed-in session), embeddable beside a conversation in an inbox:
 * the chats active now and the handoff queue; one chat with its recent messages, the coupons the
 * customer holds and those that can be sent now; sending one shows its card and follows its
 * delivery. The conversation the inbox named is in the page's `data-target`: the page opens on it.
 */
const TARGET = JSON.parse(byId('workbench').dataset.target ?? 'null') as WorkbenchTarget;

/** How often the open view refreshes itself, and how often a sent card's delivery is asked. */
const LIST_REFRESH_MS = 20_000;
const CHAT_REFRESH_MS = 10_000;
const DELIVERY_POLL_MS = [500, 1000, 1000, 2000, 2000, 3000];
const DELIVERY_GIVE_UP_MS = 10 * 60_000;

type ChatRef = { conversationId: string } | { channel: string; externalId: string };

/** What shops call each channel, from the server (the chat list's answer). */
const channelTitles = new Map<string, string>();
const channelName = (c: string) => channelTitles.get(c) ?? c;

let chatRef: ChatRef | null = null;
let chat: ChatJson | null = null;
let coupons: WorkbenchCouponJson[] = [];
let current: WorkbenchCouponJson | null = null;
let filterTimer: ReturnType<typeof setTimeout> | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
/** The coupon whose delivery is followed, and the timer asking again. */
let following: { couponId: string; since: number; tries: number; timer?: ReturnType<typeof setTimeout> } | null = null;

function error(text: string): void {
  byId('error').textContent = text;
}

function schedule(fn: () => Promise<void>, ms: number): void {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void fn(), ms);
}

function messageSnippet(c: ChatJson): string {
  const last = c.lastMessages.at(-1);
  if (!last) return '';
  const text = last.text ?? `(${last.kind})`;
  return `${last.direction === 'out' ? 'You: ' : ''}${text}`;
}

/* ---------- the chat list and the handoff queue ---------- */

async function loadChats(): Promise<void> {
  const p = new URLSearchParams();
  if (select('channel-filter').value) p.set('channel', select('channel-filter').value);
  const [chats, handoffs] = await Promise.all([
    api<ChatsJson>(`/api/v1/workbench/chats?${p.toString()}`),
    api<{ conversations: HandoffJson[] }>('/api/v1/handoffs'),
  ]);
  if (chatRef) return;
  error(!chats.ok ? chats.error.message : !handoffs.ok ? handoffs.error.message : '');
  if (chats.ok) {
    renderChannels(chats.body.channels);
    renderChats(chats.body.chats);
  }
  if (handoffs.ok) renderHandoffs(handoffs.body.conversations);
  schedule(loadChats, LIST_REFRESH_MS);
}

function renderChannels(channels: ChatsJson['channels']): void {
  const filter = select('channel-filter');
  if (filter.options.length > 1) return;
  for (const c of channels) {
    channelTitles.set(c.name, c.title);
    const option = el('option', c.title);
    option.value = c.name;
    filter.append(option);
  }
}

function renderChats(chats: ChatJson[]): void {
  const list = byId('chat-list');
  list.textContent = '';
  for (const c of chats) {
    const li = el('li');
    const b = el('button', null, 'item');
    b.type = 'button';
    b.dataset.conversation = c.conversationId;
    const row = el('div', null, 'row');
    row.append(el('h2', c.contact.name), el('span', c.lastInboundAt ? fmtDate(c.lastInboundAt) : '', 'muted'));
    const meta = el('p', null, 'muted');
    meta.append(el('span', c.channelTitle, 'badge'));
    meta.append(el('span', c.sendable ? 'can send' : 'cannot send', `badge ${c.sendable ? 'badge-yes' : 'badge-no'}`));
    if (c.handoffAt) meta.append(el('span', 'handed off', 'badge badge-wait'));
    if (c.coupons.length > 0) meta.append(document.createTextNode(`holds ${c.coupons.length} coupon${c.coupons.length === 1 ? '' : 's'}`));
    b.append(row, meta, el('p', messageSnippet(c), 'snippet'));
    if (!c.sendable && c.reason) b.append(el('p', c.reason, 'reason'));
    b.addEventListener('click', () => void openChat({ conversationId: c.conversationId }));
    li.append(b);
    list.append(li);
  }
  show(byId('no-chats'), chats.length === 0);
}

function renderHandoffs(items: HandoffJson[]): void {
  const list = byId('handoff-list');
  list.textContent = '';
  for (const h of items) {
    const li = el('li', null, 'item');
    li.dataset.handoff = h.id;
    const row = el('div', null, 'row');
    row.append(el('h2', h.displayName ?? `${channelName(h.channel)} customer`), el('span', `since ${fmtDate(h.handoffAt)}`, 'muted'));
    li.append(row);
    li.append(el('p', h.takenBy ? `Taken by ${h.takenBy.name}` : 'Nobody has taken it yet', h.takenBy ? 'muted' : 'reason'));
    const actions = el('div', null, 'actions');
    const open = el('button', 'Open', 'btn btn-secondary small');
    open.type = 'button';
    open.addEventListener('click', () => void openChat({ conversationId: h.id }));
    actions.append(open);
    if (!h.takenBy) {
      const take = el('button', 'Take', 'btn small');
      take.type = 'button';
      take.dataset.take = h.id;
      take.addEventListener('click', () => void takeChat(h.id, true));
      actions.append(take);
    }
    li.append(actions);
    list.append(li);
  }
  show(byId('handoffs'), items.length > 0);
}

function showChats(): void {
  chatRef = null;
  chat = null;
  stopFollowing();
  byId('title').textContent = 'Chats';
  show(byId('chat-view'), false);
  show(byId('chats-view'), true);
  void loadChats();
}

/* ---------- one chat ---------- */

async function openChat(ref: ChatRef): Promise<void> {
  chatRef = ref;
  current = null;
  stopFollowing();
  show(byId('chats-view'), false);
  show(byId('chat-view'), true);
  show(byId('detail'), false);
  show(byId('list-view'), true);
  byId('d-result').textContent = '';
  byId('title').textContent = 'Chat';
  await loadChat();
}

function chatQuery(ref: ChatRef): URLSearchParams {
  return new URLSearchParams('conversationId' in ref ? { conversationId: ref.conversationId } : { channel: ref.channel, externalId: ref.externalId });
}

async function loadChat(): Promise<void> {
  const ref = chatRef;
  if (!ref) return;
  const r = await api<OneChatJson>(`/api/v1/workbench/chat?${chatQuery(ref).toString()}`);
  if (chatRef !== ref) return;
  if (!r.ok) {
    chat = null;
    byId('c-name').textContent = 'conversationId' in ref ? ref.conversationId : ref.externalId;
    byId('c-meta').textContent = '';
    byId('chat').textContent = r.error.message;
    byId('chat').className = 'reason';
    coupons = [];
    renderCoupons();
    schedule(loadChat, CHAT_REFRESH_MS);
    return;
  }
  error('');
  chat = r.body.chat;
  renderChat(chat);
  await loadCoupons();
  schedule(loadChat, CHAT_REFRESH_MS);
}

function renderChat(c: ChatJson): void {
  byId('c-name').textContent = c.contact.name;
  byId('c-meta').textContent = `${c.channelTitle}${c.lastInboundAt ? ` · last message ${fmtDate(c.lastInboundAt)}` : ''}`;
  const state = byId('chat');
  state.textContent = c.sendable ? 'A coupon can be sent into this chat.' : `No coupon can be sent now: ${c.reason ?? ''}`;
  state.className = c.sendable ? 'ok' : 'reason';

  show(byId('c-handoff'), c.handoff !== null);
  if (c.handoff) {
    const taken = c.handoff.takenBy ? ` ${c.handoff.takenBy.name} took it${c.handoff.takenAt ? ` at ${fmtDate(c.handoff.takenAt)}` : ''}.` : ' Nobody has taken it yet.';
    byId('c-handoff-text').textContent = `Handed off to an agent at ${fmtDate(c.handoff.at)}: the bot stays silent here until the chat is given back.${taken}`;
    show(byId('take'), c.handoff.takenBy === null);
  }

  const messages = byId('c-messages');
  messages.textContent = '';
  for (const m of c.lastMessages) {
    const li = el('li', null, `msg msg-${m.direction}`);
    li.dataset.direction = m.direction;
    const time = el('time', `${fmtDate(m.at)}${m.delivery && m.delivery !== 'sent' ? ` · ${m.delivery}` : ''}`);
    time.dateTime = m.at;
    li.append(time, document.createTextNode(m.text ?? `(${m.kind})`));
    messages.append(li);
  }
  show(byId('c-no-messages'), c.lastMessages.length === 0);

  const held = byId('c-coupons');
  held.textContent = '';
  for (const h of c.coupons) {
    const li = el('li');
    li.dataset.coupon = h.id;
    li.append(el('span', `${h.name}: ${h.status}`, statusBadge(h.status)));
    held.append(li);
  }
  show(byId('c-no-coupons'), c.coupons.length === 0);
}

/* ---------- the coupons that can be sent into the chat ---------- */

async function loadCoupons(): Promise<void> {
  const ref = chatRef;
  if (!ref) return;
  const p = chatQuery(ref);
  const q = input('q').value.trim();
  if (q) p.set('q', q);
  if (select('reward').value) p.set('reward', select('reward').value);
  if (select('visibility').value) p.set('visibility', select('visibility').value);
  const r = await api<WorkbenchJson>(`/api/v1/workbench/coupons?${p.toString()}`);
  if (chatRef !== ref) return;
  if (!r.ok) {
    error(r.error.message);
    coupons = [];
  } else {
    coupons = r.body.coupons;
  }
  renderCoupons();
  if (current) {
    const again = coupons.find((x) => x.campaignId === current!.campaignId);
    if (again) {
      current = again;
      detail();
    }
  }
}

function renderCoupons(): void {
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
      stopFollowing();
      show(byId('sent'), false);
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
  byId('d-reason').textContent = !chat ? 'Open a chat to send this coupon.' : (c.sendable === false ? (c.reason ?? 'It cannot be sent to this chat.') : '');
  byId<HTMLButtonElement>('send').disabled = !chat || c.sendable === false;
}

function back(): void {
  current = null;
  stopFollowing();
  show(byId('sent'), false);
  show(byId('detail'), false);
  show(byId('list-view'), true);
}

async function send(): Promise<void> {
  if (!chat || !current) return;
  const button = byId<HTMLButtonElement>('send');
  button.disabled = true;
  button.textContent = 'Sending…';
  const out = byId('d-result');
  try {
    const r = await api<{ coupon: CouponJson }>('/api/v1/workbench/send', { method: 'POST', json: { campaignId: current.campaignId, conversationId: chat.conversationId } });
    out.textContent = '';
    if (r.ok) {
      out.className = 'notice notice-ok';
      const a = el('a', r.body.coupon.pageUrl);
      a.href = r.body.coupon.pageUrl;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      out.append(document.createTextNode('Sent. Coupon page: '), a);
      follow(r.body.coupon.id);
    } else {
      out.className = 'notice';
      out.textContent = `Not sent: ${r.error.message}`;
    }
  } finally {
    button.textContent = 'Send';
  }
  await loadChat();
}

/* ---------- the card as it went out, and its delivery ---------- */

function renderCard(d: CardDeliveryJson): void {
  const card = byId('sent-card');
  card.textContent = '';
  const c = d.card;
  card.style.background = c.colors.background;
  if (c.imageUrl) {
    const img = el('img');
    img.src = c.imageUrl;
    img.alt = '';
    card.append(img);
  }
  const body = el('div', null, 'body');
  body.append(el('p', c.campaignName, 'name'), el('p', c.rewardText, 'reward'));
  if (c.deadlineText) body.append(el('p', c.deadlineText, 'deadline'));
  const button = el('a', c.buttonLabel, 'btn');
  button.href = c.pageUrl;
  button.target = '_blank';
  button.rel = 'noopener noreferrer';
  button.style.background = c.colors.button;
  button.style.color = c.colors.buttonText;
  body.append(button);
  card.append(body);
}

function renderDelivery(d: CardDeliveryJson): void {
  const line = byId('delivery');
  line.dataset.status = d.deliveryStatus;
  if (d.deliveryStatus === 'sent') {
    line.className = 'ok';
    line.textContent = `Delivered to the chat${d.sentAt ? ` at ${fmtDate(d.sentAt)}` : ''}.`;
  } else if (d.deliveryStatus === 'failed') {
    line.className = 'reason';
    line.textContent = `Could not be delivered${d.deliveryError ? `: ${d.deliveryError}` : ''}. The coupon was given back; the customer does not hold it.`;
  } else {
    line.className = 'muted';
    line.textContent = 'Delivering…';
  }
}

function stopFollowing(): void {
  clearTimeout(following?.timer);
  following = null;
}

function follow(couponId: string): void {
  stopFollowing();
  following = { couponId, since: Date.now(), tries: 0 };
  show(byId('sent'), true);
  byId('sent-card').textContent = '';
  byId('delivery').textContent = 'Delivering…';
  void poll();
}

async function poll(): Promise<void> {
  const f = following;
  if (!f) return;
  const r = await api<CardDeliveryJson>(`/api/v1/workbench/deliveries/${seg(f.couponId)}`);
  if (following !== f) return;
  if (!r.ok) {
    byId('delivery').className = 'reason';
    byId('delivery').textContent = `Delivery could not be checked: ${r.error.message}`;
  } else {
    if (f.tries === 0) renderCard(r.body);
    renderDelivery(r.body);
    if (r.body.deliveryStatus !== 'pending') {
      following = null;
      void loadChat();
      return;
    }
  }
  if (Date.now() - f.since > DELIVERY_GIVE_UP_MS) {
    byId('delivery').textContent = 'Still not delivered: the platform has not taken it yet. It is retried; look again later.';
    following = null;
    return;
  }
  f.timer = setTimeout(() => void poll(), DELIVERY_POLL_MS[Math.min(f.tries, DELIVERY_POLL_MS.length - 1)]);
  f.tries++;
}

/* ---------- handoffs: take and give back ---------- */

async function takeChat(conversationId: string, fromQueue: boolean): Promise<void> {
  const r = await api<{ id: string }>(`/api/v1/conversations/${seg(conversationId)}/take`, { method: 'POST' });
  if (!r.ok) {
    error(r.error.message);
    return;
  }
  error('');
  if (fromQueue) await openChat({ conversationId });
  else await loadChat();
}

async function releaseChat(): Promise<void> {
  if (!chat) return;
  const r = await api<{ released: boolean }>(`/api/v1/conversations/${seg(chat.conversationId)}/release`, { method: 'POST' });
  if (!r.ok) {
    error(r.error.message);
    return;
  }
  error('');
  await loadChat();
}

/* ---------- wiring ---------- */

showUncaughtErrors('error');
input('q').addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => void loadCoupons(), 250);
});
select('reward').addEventListener('change', () => void loadCoupons());
select('visibility').addEventListener('change', () => void loadCoupons());
select('channel-filter').addEventListener('change', () => void loadChats());
byId('refresh').addEventListener('click', () => void loadChats());
byId('to-chats').addEventListener('click', showChats);
byId('back').addEventListener('click', back);
byId('send').addEventListener('click', () => void send());
byId('take').addEventListener('click', () => {
  if (chat) void takeChat(chat.conversationId, false);
});
byId('release').addEventListener('click', () => void releaseChat());
byId('logout').addEventListener('click', () => {
  void signOut().then((problem) => {
    if (problem) error(problem);
  });
});
if (TARGET) void openChat(TARGET);
else void loadChats();
