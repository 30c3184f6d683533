import { api, type ApiProblem } from '../shared/api.ts';
import type { CampaignJson } from '../shared/api-types.ts';
import { byId, el, input, say, select, show } from '../shared/dom.ts';
import { dateInput, isoOf, localInput } from '../shared/format.ts';
import { admin, campaignPath } from './state.ts';

/**
 * The campaign form, for a new campaign and for editing one. Field names are the API's; the API's
 * field errors are shown next to the field they name. On edit only what was changed is sent.
 */
type Body = Record<string, unknown>;

/** While editing: the campaign, and the form's own reading of it as loaded (null until loaded). */
let editing: { id: string; base: Body | null } | null = null;
/** Bumped whenever the form is taken over, so a late answer for an earlier use is dropped. */
let seq = 0;

const form = () => byId<HTMLFormElement>('create-form');
const value = (id: string) => (byId(id) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
const numberOrOmit = (v: string) => (v === '' ? undefined : Number(v));

export function setupCampaignForm(): void {
  form().addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });
  byId('cancel-edit').addEventListener('click', () => {
    if (editing) location.hash = `campaign/${encodeURIComponent(editing.id)}`;
  });
  select('f-reward-type').addEventListener('change', rewardFields);
  resetCreate();
}

function rewardFields(): void {
  const type = select('f-reward-type').value;
  for (const d of document.querySelectorAll<HTMLElement>('[data-reward]')) show(d, (d.dataset.reward ?? '').split(' ').includes(type));
}

function campaignBody(): Body {
  const body: Body = {
    name: value('f-name'),
    instructions: value('f-instructions'),
    visibility: value('f-visibility'),
    perContactLimit: numberOrOmit(value('f-limit')),
    barcode: value('f-barcode'),
    verification: input('f-verification').checked,
    colors: { background: value('f-color-background'), button: value('f-color-button'), buttonText: value('f-color-button-text') },
  };
  if (value('f-slug').trim()) body.slug = value('f-slug').trim();
  const start = isoOf(value('f-send-start'));
  const end = isoOf(value('f-send-end'));
  if (start) body.sendStart = start;
  if (end) body.sendEnd = end;
  body.expiry = { mode: value('f-expiry-mode'), [value('f-expiry-unit')]: numberOrOmit(value('f-expiry-amount')) };
  const redeemBy = isoOf(value('f-redeem-by'));
  if (redeemBy) body.redeemBy = redeemBy;
  const type = value('f-reward-type');
  const reward: Body = { type };
  if (type === 'gift') reward.text = value('f-reward-text');
  else reward.value = numberOrOmit(value('f-reward-value'));
  const currency = value('f-currency').trim().toUpperCase();
  if (currency) reward.currency = currency;
  const minSpend = numberOrOmit(value('f-min-spend'));
  if (minSpend !== undefined) reward.minSpend = minSpend;
  body.reward = reward;
  return body;
}

/** On edit an empty slug is sent (and refused with the reason) rather than derived from the name. */
function editBody(): Body {
  return { ...campaignBody(), slug: value('f-slug').trim() };
}

function clearErrors(): void {
  for (const slot of form().querySelectorAll<HTMLElement>('[data-error-for]')) {
    slot.textContent = '';
    slot.parentElement?.querySelector('input,select,textarea')?.removeAttribute('aria-invalid');
  }
  show(byId('create-errors'), false);
  byId('create-errors').querySelector('ul')!.textContent = '';
}

/** The API names fields by path (reward.value, expiry.days): the nearest labelled field gets the message. */
function fieldSlot(field: string): HTMLElement | null {
  const slots = new Map<string, HTMLElement>();
  for (const slot of form().querySelectorAll<HTMLElement>('[data-error-for]')) slots.set(slot.dataset.errorFor ?? '', slot);
  const parts = field.split('.');
  while (parts.length) {
    const slot = slots.get(parts.join('.'));
    if (slot) return slot;
    parts.pop();
  }
  return null;
}

function showErrors(problem: ApiProblem): void {
  let list = problem.fields;
  if (!list.length) {
    // A conflict (409) names its field in its message: "barcode: cannot change …".
    const m = /^([A-Za-z][A-Za-z.]*): (.*)$/.exec(problem.message);
    list = [m ? { field: m[1]!, message: m[2]! } : { field: '', message: problem.message }];
  }
  const ul = byId('create-errors').querySelector('ul')!;
  for (const f of list) {
    ul.append(el('li', `${f.field ? `${f.field}: ` : ''}${f.message}`));
    const slot = f.field ? fieldSlot(f.field) : null;
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}; ${f.message}` : f.message;
      slot.parentElement?.querySelector('input,select,textarea')?.setAttribute('aria-invalid', 'true');
    }
  }
  show(byId('create-errors'), true);
  form().querySelector<HTMLElement>('[aria-invalid=true]')?.focus();
}

async function submit(): Promise<void> {
  clearErrors();
  byId('create-result').textContent = '';
  const button = byId<HTMLButtonElement>('create');
  if (editing) {
    await save(editing, button);
    return;
  }
  button.disabled = true;
  try {
    const r = await api<CampaignJson>('/api/v1/campaigns', { method: 'POST', json: campaignBody() });
    if (!r.ok) {
      showErrors(r.error);
      return;
    }
    form().reset();
    resetCreate();
    location.hash = `campaign/${encodeURIComponent(r.body.id)}`;
  } finally {
    button.disabled = false;
  }
}

function resetCreate(): void {
  const now = new Date();
  now.setSeconds(0, 0);
  input('f-send-start').value = localInput(now);
  input('f-send-end').value = localInput(new Date(now.getTime() + 30 * 86_400_000));
  rewardFields();
}

function formMode(edit: boolean): void {
  byId('form-title').textContent = edit ? 'Edit campaign' : 'New campaign';
  byId('create').textContent = edit ? 'Save changes' : 'Create campaign';
  byId('f-slug-hint').textContent = edit ? '(the name flows use)' : '(the name flows use; empty: from the name)';
  byId('form-errors-title').textContent = edit ? 'The campaign was not saved:' : 'The campaign was not created:';
  show(byId('cancel-edit'), edit);
}

/** The form as a blank "new campaign" form again (after an edit was left). */
export function enterCreate(): void {
  if (!editing) return;
  seq++;
  editing = null;
  form().reset();
  clearErrors();
  byId('create-result').textContent = '';
  byId<HTMLButtonElement>('create').disabled = false;
  formMode(false);
  resetCreate();
}

function setValue(id: string, v: string | number | null | undefined): void {
  (byId(id) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value = v === null || v === undefined ? '' : String(v);
}

function fillForm(c: CampaignJson): void {
  setValue('f-name', c.name);
  setValue('f-slug', c.slug);
  setValue('f-visibility', c.visibility);
  setValue('f-instructions', c.instructions);
  setValue('f-send-start', dateInput(c.sendStart));
  setValue('f-send-end', dateInput(c.sendEnd));
  setValue('f-redeem-by', dateInput(c.redeemBy));
  setValue('f-limit', c.perContactLimit);
  const ex = c.expiry;
  const unit = 'hours' in ex && ex.hours !== undefined ? 'hours' : 'days';
  setValue('f-expiry-mode', ex.mode);
  setValue('f-expiry-unit', unit);
  setValue('f-expiry-amount', unit === 'hours' ? ex.hours : ex.days);
  const rw = c.reward;
  setValue('f-reward-type', rw.type);
  setValue('f-reward-value', rw.type === 'gift' ? null : rw.value);
  setValue('f-reward-text', rw.type === 'gift' ? rw.text : null);
  setValue('f-currency', rw.currency);
  setValue('f-min-spend', rw.minSpend);
  setValue('f-barcode', c.barcode);
  setValue('f-color-background', c.colors.background);
  setValue('f-color-button', c.colors.button);
  setValue('f-color-button-text', c.colors.buttonText);
  input('f-verification').checked = c.verification;
  rewardFields();
}

/**
 * Only what the marketer changed is sent: settings the form does not show (or shows rounded to the
 * minute, like the sending period) stay as stored. A field emptied on the form is sent as null.
 */
function changedFields(base: Body, now: Body): Body | null {
  const out: Body = {};
  for (const key of new Set([...Object.keys(base), ...Object.keys(now)])) {
    if (JSON.stringify(base[key]) !== JSON.stringify(now[key])) out[key] = now[key] === undefined ? null : now[key];
  }
  return Object.keys(out).length ? out : null;
}

export async function openEdit(id: string): Promise<void> {
  const mine = ++seq;
  editing = { id, base: null };
  admin.flash = null;
  byId('edit-result').textContent = '';
  form().reset();
  clearErrors();
  formMode(true);
  const button = byId<HTMLButtonElement>('create');
  button.disabled = true;
  say('create-result', true, 'Loading…');
  const r = await api<CampaignJson>(campaignPath(id));
  if (mine !== seq) return;
  if (!r.ok) {
    say('create-result', false, r.error.message);
    return;
  }
  fillForm(r.body);
  editing.base = editBody();
  byId('form-title').textContent = `Edit campaign: ${r.body.name}`;
  byId('create-result').textContent = '';
  button.disabled = false;
  input('f-name').focus();
}

async function save(ed: { id: string; base: Body | null }, button: HTMLButtonElement): Promise<void> {
  if (!ed.base) return;
  const patch = changedFields(ed.base, editBody());
  if (!patch) {
    say('create-result', true, 'Nothing changed.');
    return;
  }
  button.disabled = true;
  const mine = seq;
  try {
    const r = await api<CampaignJson>(campaignPath(ed.id), { method: 'PATCH', json: patch });
    if (mine !== seq) return;
    if (!r.ok) {
      showErrors(r.error);
      return;
    }
    ed.base = editBody();
    admin.flash = { id: ed.id, text: `Saved: ${Object.keys(patch).join(', ')}.` };
    location.hash = `campaign/${encodeURIComponent(ed.id)}`;
  } finally {
    button.disabled = false;
  }
}
