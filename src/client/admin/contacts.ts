import { api } from '../shared/api.ts';
import { byId, el, input, say, select, show } from '../shared/dom.ts';
import { fmtDate, num } from '../shared/format.ts';
import type { ContactImportJson, ContactJson, ContactsPage, SyncJson } from '../shared/marketing-types.ts';

/**
 * The contacts view: search by name or user id, filter by channel and tag, a page at a time
 * ("load more" follows the API's cursor); a CSV import with its rejected rows by number; and the
 * followers sync (LINE's friends), followed by polling its import until it is done.
 */

const PAGE = 50;
const POLL_MS = 500;

const list = {
  next: null as string | null,
  shown: 0,
  /** Each load gets a number; an answer to an older one (the filter changed meanwhile) is dropped. */
  generation: 0,
};

export function setupContacts(): void {
  byId('contacts-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadContacts(false);
  });
  byId('contacts-more').addEventListener('click', () => void loadContacts(true));
  byId('contacts-import-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void withButton(e.target as HTMLFormElement, importCsv);
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-sync-channel]')) {
    button.addEventListener('click', () => void withButton(button, () => syncFollowers(button.dataset.syncChannel!)));
  }
}

export async function openContacts(): Promise<void> {
  await loadContacts(false);
}

async function withButton(scope: HTMLElement, action: () => Promise<void>): Promise<void> {
  const button = scope instanceof HTMLButtonElement ? scope : scope.querySelector('button');
  if (!button || button.disabled) return;
  button.disabled = true;
  try {
    await action();
  } finally {
    button.disabled = false;
  }
}

function query(cursor: string | null): string {
  const p = new URLSearchParams({ limit: String(PAGE) });
  const q = input('c-q').value.trim();
  const channel = select('c-channel').value;
  const tag = input('c-tag').value.trim();
  if (q) p.set('q', q);
  if (channel) p.set('channel', channel);
  if (tag) p.set('tag', tag);
  if (cursor) p.set('cursor', cursor);
  return `/api/v1/contacts?${p}`;
}

async function loadContacts(more: boolean): Promise<void> {
  const generation = ++list.generation;
  const r = await api<ContactsPage>(query(more ? list.next : null));
  if (generation !== list.generation) return;
  const tbody = byId<HTMLTableElement>('contacts').tBodies[0]!;
  byId('contacts-error').textContent = '';
  if (!r.ok) {
    byId('contacts-error').textContent = r.error.message;
    return;
  }
  if (!more) {
    tbody.textContent = '';
    list.shown = 0;
  }
  for (const c of r.body.contacts) tbody.append(contactRow(c));
  list.shown += r.body.contacts.length;
  list.next = r.body.next;
  show(byId('no-contacts'), list.shown === 0);
  show(byId('contacts-more'), list.next !== null);
  byId('contacts-count').textContent = list.shown ? `${num(list.shown)} shown${list.next ? ', more to load' : ''}` : '';
}

function contactRow(c: ContactJson): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.contact = c.id;
  const tags = el('td', null, 'tags');
  for (const t of c.tags) tags.append(el('span', t, 'badge'));
  const reachable = el('td');
  reachable.append(c.unreachableAt
    ? el('span', `blocked or unfollowed ${fmtDate(c.unreachableAt)}`, 'badge badge-no')
    : el('span', 'yes', 'badge badge-yes'));
  const user = el('td');
  user.append(el('code', c.userId));
  tr.append(el('td', c.displayName ?? '—'), el('td', c.channel), user, el('td', c.language ?? '—'), tags,
    el('td', fmtDate(c.followedAt)), el('td', fmtDate(c.lastMessageAt)), reachable);
  return tr;
}

async function importCsv(): Promise<void> {
  const file = input('contacts-file').files?.[0];
  const rejectedList = byId('contacts-import-rejected');
  rejectedList.textContent = '';
  if (!file) {
    say('contacts-import-result', false, 'Choose a CSV file first.');
    return;
  }
  const form = new FormData();
  form.append('file', file, file.name);
  say('contacts-import-result', true, 'Importing…');
  const r = await api<ContactImportJson>('/api/v1/contacts/import', { method: 'POST', form });
  if (!r.ok) {
    say('contacts-import-result', false, `Nothing was imported: ${r.error.message}`);
    return;
  }
  const b = r.body;
  say('contacts-import-result', b.rejectedCount === 0,
    `${num(b.created)} created, ${num(b.updated)} updated, ${num(b.rejectedCount)} rejected${b.rejectedCount ? ' (the other rows were imported)' : ''}`);
  for (const x of b.rejected) {
    const li = el('li', `Row ${x.row}: ${x.reason}`);
    li.dataset.row = String(x.row);
    rejectedList.append(li);
  }
  if (b.rejectedCount > b.rejected.length) rejectedList.append(el('li', `… and ${num(b.rejectedCount - b.rejected.length)} more`));
  input('contacts-file').value = '';
  await loadContacts(false);
}

function progress(state: 'running' | 'done' | 'hidden'): void {
  const bar = byId('sync-progress');
  show(bar, state !== 'hidden');
  bar.classList.toggle('indeterminate', state === 'running');
  (bar.firstElementChild as HTMLElement).style.width = state === 'done' ? '100%' : '';
  if (state === 'done') bar.setAttribute('aria-valuenow', '100');
  else bar.removeAttribute('aria-valuenow');
}

/**
 * The platform does not say how many friends there are before the last page is read (LINE's
 * follower ids), so the bar moves without a percentage while the sync runs, with the count read so
 * far beside it.
 */
async function syncFollowers(channel: string): Promise<void> {
  say('sync-result', true, 'Starting…');
  progress('running');
  const started = await api<SyncJson>('/api/v1/contacts/sync', { method: 'POST', json: { channel } });
  if (!started.ok) {
    progress('hidden');
    say('sync-result', false, started.error.message);
    return;
  }
  const path = started.headers.get('Location') ?? `/api/v1/imports/${encodeURIComponent(started.body.id)}`;
  let view = started.body;
  for (;;) {
    if (view.status === 'failed') {
      progress('hidden');
      say('sync-result', false, `The sync failed: ${view.error ?? 'no reason given'} Nothing was added.`);
      return;
    }
    if (view.status === 'done') {
      progress('done');
      say('sync-result', true, `Done: ${num(view.read)} friends read, ${num(view.created)} new contacts added. Their names and languages follow in the next minutes.`);
      await loadContacts(false);
      return;
    }
    say('sync-result', true, `Syncing… ${num(view.read)} friends read so far`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const r = await api<SyncJson>(path);
    if (!r.ok) {
      progress('hidden');
      say('sync-result', false, `The sync's progress could not be read: ${r.error.message}`);
      return;
    }
    view = r.body;
  }
}
