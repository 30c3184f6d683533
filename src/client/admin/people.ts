import { api, seg } from '../shared/api.ts';
import type { PersonJson, SessionJson, TokenJson } from '../shared/api-types.ts';
import { byId, el, input, say, select, show } from '../shared/dom.ts';
import { fmtDate } from '../shared/format.ts';

/**
 * The owner's people: add one (their first API token shown once), change a role, remove someone,
 * and per person their API tokens (create, shown once; revoke) and where they are signed in.
 */
const roleNames = ['owner', 'marketer', 'agent', 'staff'];
let selected: PersonJson | null = null;

export function setupPeople(): void {
  byId('people-refresh').addEventListener('click', () => void loadPeople());
  byId('person-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void addPerson();
  });
  byId('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void addToken();
  });
  byId('sessions-revoke').addEventListener('click', () => void revokeSessions());
}

export async function loadPeople(): Promise<void> {
  byId('people-error').textContent = '';
  const r = await api<{ people: PersonJson[] }>('/api/v1/people');
  if (!r.ok) {
    byId('people-error').textContent = `The people could not be shown: ${r.error.message}`;
    return;
  }
  const tbody = byId<HTMLTableElement>('people').tBodies[0]!;
  tbody.textContent = '';
  for (const p of r.body.people) tbody.append(personRow(p));
  if (selected && !r.body.people.some((p) => p.id === selected!.id)) {
    selected = null;
    show(byId('person-card'), false);
  }
}

function personRow(p: PersonJson): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.person = p.id;
  const role = el('select');
  role.setAttribute('aria-label', `Role of ${p.name}`);
  role.dataset.field = 'role';
  for (const name of roleNames) {
    const o = el('option', name);
    o.value = name;
    role.append(o);
  }
  role.value = p.role;
  role.addEventListener('change', () => void changeRole(p, role));
  const roleCell = el('td');
  roleCell.append(role);
  const actions = el('td');
  const box = el('div', null, 'actions');
  const open = el('button', 'Tokens and sessions', 'btn btn-inline btn-secondary');
  open.type = 'button';
  open.dataset.action = 'open';
  open.addEventListener('click', () => {
    selected = p;
    void loadPerson();
  });
  const remove = el('button', 'Remove', 'btn btn-inline btn-secondary');
  remove.type = 'button';
  remove.dataset.action = 'remove';
  remove.addEventListener('click', () => void removePerson(p, remove));
  box.append(open, remove);
  actions.append(box);
  tr.append(el('td', p.name), el('td', p.email ?? '—'), roleCell, el('td', p.hasPassword ? 'set' : 'not yet'), el('td', fmtDate(p.createdAt)), actions);
  return tr;
}

function showSecret(title: string, token: string): void {
  byId('person-token-title').textContent = title;
  byId('person-token-value').textContent = token;
  show(byId('person-token'), true);
}

async function addPerson(): Promise<void> {
  for (const p of document.querySelectorAll<HTMLElement>('#person-form [data-person-error]')) p.textContent = '';
  byId('people-result').textContent = '';
  show(byId('person-token'), false);
  const name = input('p-name').value.trim();
  const email = input('p-email').value.trim();
  if (!name) {
    byId('people-error').textContent = '';
    document.querySelector<HTMLElement>('#person-form [data-person-error=name]')!.textContent = 'Enter the person’s name.';
    return;
  }
  const button = byId<HTMLButtonElement>('person-add');
  button.disabled = true;
  const r = await api<PersonJson & { token: string }>('/api/v1/people', { json: { name, role: select('p-role').value, ...(email ? { email } : {}) } });
  button.disabled = false;
  if (!r.ok) {
    for (const f of r.error.fields) {
      const p = document.querySelector<HTMLElement>(`#person-form [data-person-error="${f.field}"]`);
      if (p) p.textContent = `The ${f.field} ${f.message}.`;
    }
    if (!r.error.fields.length) byId('people-error').textContent = `The person was not added: ${r.error.message}`;
    return;
  }
  say('people-result', true, `${r.body.name} was added as ${r.body.role}.`);
  showSecret(`${r.body.name}’s API token — copy it now and hand it over safely, it is not shown again:`, r.body.token);
  input('p-name').value = '';
  input('p-email').value = '';
  await loadPeople();
}

async function changeRole(p: PersonJson, box: HTMLSelectElement): Promise<void> {
  byId('people-error').textContent = '';
  byId('people-result').textContent = '';
  box.disabled = true;
  const r = await api<PersonJson>(`/api/v1/people/${seg(p.id)}`, { method: 'PATCH', json: { role: box.value } });
  box.disabled = false;
  if (!r.ok) {
    box.value = p.role;
    byId('people-error').textContent = `The role was not changed: ${r.error.message}`;
    return;
  }
  p.role = r.body.role;
  say('people-result', true, `${p.name} is now ${r.body.role}.`);
}

async function removePerson(p: PersonJson, button: HTMLButtonElement): Promise<void> {
  if (!confirm(`Remove ${p.name}? Their tokens and sessions stop working at once.`)) return;
  byId('people-error').textContent = '';
  button.disabled = true;
  const r = await api<PersonJson>(`/api/v1/people/${seg(p.id)}`, { method: 'DELETE' });
  button.disabled = false;
  if (!r.ok) {
    byId('people-error').textContent = `${p.name} was not removed: ${r.error.message}`;
    return;
  }
  say('people-result', true, `${p.name} was removed.`);
  await loadPeople();
}

async function loadPerson(): Promise<void> {
  const p = selected;
  if (!p) return;
  show(byId('person-card'), true);
  byId('person-title').textContent = p.name;
  byId('person-error').textContent = '';
  const [tokens, sessions] = await Promise.all([
    api<{ tokens: TokenJson[] }>(`/api/v1/people/${seg(p.id)}/tokens`),
    api<{ sessions: SessionJson[] }>(`/api/v1/people/${seg(p.id)}/sessions`),
  ]);
  if (selected?.id !== p.id) return;
  const problems: string[] = [];
  const tBody = byId<HTMLTableElement>('tokens').tBodies[0]!;
  tBody.textContent = '';
  if (tokens.ok) for (const t of tokens.body.tokens) tBody.append(tokenRow(p, t));
  else problems.push(`The tokens could not be shown: ${tokens.error.message}`);
  const sBody = byId<HTMLTableElement>('sessions').tBodies[0]!;
  sBody.textContent = '';
  if (sessions.ok) for (const s of sessions.body.sessions) sBody.append(sessionRow(p, s));
  else problems.push(`The sessions could not be shown: ${sessions.error.message}`);
  byId('person-error').textContent = problems.join(' ');
}

/** A table cell holding one small button (`data-action`) that runs `act` when pressed. */
function rowAction(label: string, action: string, act: () => Promise<void>): HTMLTableCellElement {
  const button = el('button', label, 'btn btn-inline btn-secondary');
  button.type = 'button';
  button.dataset.action = action;
  button.addEventListener('click', () => void act());
  const cell = el('td');
  cell.append(button);
  return cell;
}

function tokenRow(p: PersonJson, t: TokenJson): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.token = t.id;
  const revoke = rowAction('Revoke', 'revoke', async () => {
    if (!confirm(`Revoke the token “${t.name}”? Whatever uses it stops working at once.`)) return;
    const r = await api<unknown>(`/api/v1/people/${seg(p.id)}/tokens/${seg(t.id)}`, { method: 'DELETE' });
    if (!r.ok) byId('person-error').textContent = `The token was not revoked: ${r.error.message}`;
    else await loadPerson();
  });
  tr.append(el('td', t.name), el('td', fmtDate(t.createdAt)), el('td', t.lastUsedAt ? fmtDate(t.lastUsedAt) : 'never'), revoke);
  return tr;
}

function sessionRow(p: PersonJson, s: SessionJson): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.session = s.id;
  const end = rowAction('Sign out', 'end', async () => {
    const r = await api<{ revoked: number }>(`/api/v1/people/${seg(p.id)}/sessions/${seg(s.id)}`, { method: 'DELETE' });
    if (!r.ok) byId('person-error').textContent = `That session was not ended: ${r.error.message}`;
    else await loadPerson();
  });
  tr.append(el('td', fmtDate(s.createdAt)), el('td', fmtDate(s.lastSeenAt)), el('td', s.address ?? '—'), el('td', s.userAgent ?? '—'), end);
  return tr;
}

async function addToken(): Promise<void> {
  const p = selected;
  if (!p) return;
  byId('person-error').textContent = '';
  const name = input('t-name').value.trim();
  if (!name) {
    byId('person-error').textContent = 'Name the token after what will use it (e.g. “nightly export”).';
    return;
  }
  const r = await api<TokenJson & { token: string }>(`/api/v1/people/${seg(p.id)}/tokens`, { json: { name } });
  if (!r.ok) {
    byId('person-error').textContent = `The token was not created: ${r.error.message}`;
    return;
  }
  input('t-name').value = '';
  showSecret(`The token “${r.body.name}” for ${p.name} — copy it now, it is not shown again:`, r.body.token);
  await loadPerson();
}

async function revokeSessions(): Promise<void> {
  const p = selected;
  if (!p) return;
  byId('person-error').textContent = '';
  const r = await api<{ revoked: number }>(`/api/v1/people/${seg(p.id)}/sessions`, { method: 'DELETE' });
  if (!r.ok) {
    byId('person-error').textContent = `${p.name} was not signed out: ${r.error.message}`;
    return;
  }
  say('person-result', true, `${p.name} was signed out of ${r.body.revoked} session${r.body.revoked === 1 ? '' : 's'}.`);
  await loadPerson();
}
