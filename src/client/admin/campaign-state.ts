import { api } from '../shared/api.ts';
import type { CampaignJson } from '../shared/api-types.ts';
import { byId, el, input, say, show } from '../shared/dom.ts';
import { admin, campaignPath, actions } from './state.ts';

/**
 * The campaign's state on screen (active, paused, ended, archived) with the moves it allows,
 * duplicating it, and "Send me a test": the card to the marketer's own contact, picked once.
 */
type State = CampaignJson['state'];
type Move = 'active' | 'paused' | 'ended' | 'archived' | 'unarchive';

interface TestContact { channel: string; userId: string }
interface ContactsPage { contacts: Array<{ id: string; channel: string; userId: string; displayName: string | null }> }
interface TestSent { coupon: { id: string; pageUrl: string }; testContact: TestContact }

/** Which moves each state allows (the API's rule; it refuses any other with the reason). */
const moves: Record<State, Move[]> = {
  active: ['paused', 'ended', 'archived'],
  paused: ['active', 'ended', 'archived'],
  ended: ['archived'],
  archived: ['unarchive'],
};

const stateWords: Record<State, string> = {
  active: 'Active: sending as set up.',
  paused: 'Paused: nothing is sent (flows, agents, broadcasts, the API); coupons already sent still open and redeem.',
  ended: 'Ended: nothing is sent again; coupons already sent still open and redeem. Duplicate it to run it again.',
  archived: 'Archived: ended, and left out of the lists and the workbench; its records are kept.',
};

/** Moves that cannot be undone are confirmed first, saying what they do. */
const confirmations: Partial<Record<Move, { text: string; yes: string }>> = {
  ended: { text: 'End this campaign for good? Nothing more is sent; coupons already sent keep working. It cannot be started again, only duplicated.', yes: 'End it' },
  archived: { text: 'Archive this campaign? It ends for good and leaves the lists and the workbench; its records are kept.', yes: 'Archive it' },
};

let testContact: TestContact | null | undefined;
let pendingMove: Move | null = null;

export function setupCampaignState(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-move]')) {
    b.addEventListener('click', () => ask(b.dataset.move as Move));
  }
  byId('confirm-yes').addEventListener('click', () => {
    const move = pendingMove;
    closeConfirm();
    if (move) void move_(move);
  });
  byId('confirm-no').addEventListener('click', closeConfirm);
  byId('duplicate').addEventListener('click', () => void duplicate());
  byId('test-send').addEventListener('click', () => void sendTest());
  byId('test-change').addEventListener('click', () => openPicker());
  byId('test-pick').addEventListener('submit', (e) => {
    e.preventDefault();
    void findContacts();
  });
}

/** The state, its meaning and its buttons for the campaign on screen. */
export function showCampaignState(c: CampaignJson, changed: boolean): void {
  const badge = byId('d-state');
  badge.textContent = c.state;
  badge.className = `badge ${c.state === 'active' ? 'badge-yes' : c.state === 'paused' ? 'badge-paused' : 'badge-no'}`;
  byId('state-note').textContent = stateWords[c.state];
  for (const b of document.querySelectorAll<HTMLElement>('[data-move]')) show(b, moves[c.state].includes(b.dataset.move as Move));
  const testable = c.state === 'active' || c.state === 'paused';
  show(byId('test-send'), testable);
  show(byId('test-change'), testable && Boolean(testContact));
  if (changed) {
    closeConfirm();
    show(byId('test-pick'), false);
    byId('state-result').textContent = '';
  }
  if (testContact === undefined) void loadTestContact();
}

function ask(move: Move): void {
  const confirm = confirmations[move];
  if (!confirm) {
    void move_(move);
    return;
  }
  pendingMove = move;
  byId('confirm-text').textContent = confirm.text;
  byId('confirm-yes').textContent = confirm.yes;
  show(byId('confirm-move'), true);
  byId('confirm-yes').focus();
}

function closeConfirm(): void {
  pendingMove = null;
  show(byId('confirm-move'), false);
}

async function move_(move: Move): Promise<void> {
  const c = admin.current;
  if (!c) return;
  const state = move === 'unarchive' ? 'ended' : move;
  const r = await api<CampaignJson>(campaignPath(c.id), { method: 'PATCH', json: { state } });
  if (admin.current?.id !== c.id) return;
  if (!r.ok) {
    say('state-result', false, r.error.message);
    return;
  }
  const done: Record<Move, string> = {
    active: 'Resumed: sending again.', paused: 'Paused: nothing is sent until you resume it.', ended: 'Ended.',
    archived: 'Archived.', unarchive: 'Taken out of the archive (still ended).',
  };
  say('state-result', true, done[move]);
  await actions.refreshCurrent();
}

async function duplicate(): Promise<void> {
  const c = admin.current;
  if (!c) return;
  const r = await api<CampaignJson>(`${campaignPath(c.id)}/duplicate`, { method: 'POST', json: {} });
  if (!r.ok) {
    say('state-result', false, r.error.message);
    return;
  }
  admin.flash = { id: r.body.id, text: `Duplicated from “${c.name}”: its settings and image, no serials yet. Edit it to rename it and set its dates.` };
  location.hash = `campaign/${encodeURIComponent(r.body.id)}`;
}

async function loadTestContact(): Promise<void> {
  const r = await api<{ testContact: TestContact | null }>('/api/v1/me/test-contact');
  testContact = r.ok ? r.body.testContact : null;
  if (admin.current) show(byId('test-change'), Boolean(testContact) && !byId('test-send').classList.contains('hidden'));
}

async function sendTest(): Promise<void> {
  const c = admin.current;
  if (!c) return;
  if (testContact === undefined) await loadTestContact();
  if (!testContact) {
    openPicker();
    return;
  }
  await send(c, {});
}

function openPicker(): void {
  show(byId('test-pick'), true);
  byId('test-matches').textContent = '';
  say('state-result', true, 'Pick your own contact once (send a message to the shop\'s chat first if you are not listed); your tests then go there.');
  input('test-q').focus();
}

async function findContacts(): Promise<void> {
  const q = input('test-q').value.trim();
  const ul = byId('test-matches');
  ul.textContent = '';
  const r = await api<ContactsPage>(`/api/v1/contacts?q=${encodeURIComponent(q)}`);
  if (!r.ok) {
    say('state-result', false, r.error.message);
    return;
  }
  if (!r.body.contacts.length) {
    ul.append(el('li', 'No contact matches. Send a message to the shop\'s chat from your own account, then look again.', 'muted'));
    return;
  }
  for (const x of r.body.contacts.slice(0, 10)) {
    const li = el('li');
    const b = el('button', `${x.displayName ?? x.userId} (${x.channel} ${x.userId})`, 'linkish');
    b.type = 'button';
    b.dataset.contact = x.id;
    b.addEventListener('click', () => {
      const c = admin.current;
      if (c) void send(c, { channel: x.channel, userId: x.userId });
    });
    li.append(b);
    ul.append(li);
  }
}

async function send(c: CampaignJson, body: Partial<TestContact>): Promise<void> {
  const button = byId<HTMLButtonElement>('test-send');
  button.disabled = true;
  try {
    const r = await api<TestSent>(`${campaignPath(c.id)}/test`, { method: 'POST', json: body });
    if (admin.current?.id !== c.id) return;
    if (!r.ok) {
      if (r.error.code === 'no_test_contact') {
        testContact = null;
        openPicker();
        return;
      }
      say('state-result', false, r.error.message);
      return;
    }
    testContact = r.body.testContact;
    show(byId('test-pick'), false);
    show(byId('test-change'), true);
    const line = byId('state-result');
    line.className = 'ok';
    line.textContent = `Test sent to ${testContact.channel} ${testContact.userId}; it does not count in the numbers. `;
    const a = el('a', 'Open the test coupon');
    a.href = r.body.coupon.pageUrl;
    a.target = '_blank';
    a.rel = 'noopener';
    a.id = 'test-coupon-link';
    line.append(a);
  } finally {
    button.disabled = false;
  }
}
