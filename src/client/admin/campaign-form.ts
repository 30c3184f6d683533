import { api, type ApiProblem } from '../shared/api.ts';
import type { CampaignJson, CampaignPreviewsJson, FieldError, ImageJson, PreviewCardJson } from '../shared/api-types.ts';
import { byId, el, input, say, select, show } from '../shared/dom.ts';
import { timeZones, zoneLabel } from '../shared/format.ts';
import { isoToZoned, zonedToIso } from '../shared/zoned-time.ts';
import { admin, campaignPath } from './state.ts';

/**
 * The campaign form, for a new campaign and for editing one, with its image and a live preview
 * of what customers see (the card in LINE and the coupon page on a phone, in each language).
 * Field names are the API's; the API's refusals are shown in plain sentences next to the field
 * they name. Dates are entered in the campaign's own time zone, named beside them. On edit only
 * what was changed is sent.
 */
type Body = Record<string, unknown>;

/** While editing: the campaign, and the form's own reading of it as loaded (null until loaded). */
let editing: { id: string; base: Body | null; campaign: CampaignJson | null } | null = null;
/** Bumped whenever the form is taken over, so a late answer for an earlier use is dropped. */
let seq = 0;
/** An image chosen in the form, uploaded once the campaign is saved. */
let picked: { file: File; dataUrl: string } | null = null;
/** The language the preview shows. */
let previewLang = 'en';
let previewTimer: ReturnType<typeof setTimeout> | null = null;
let previewSeq = 0;
let cards: CampaignPreviewsJson['previews'] = [];

/** The image limit of `PUT /api/v1/campaigns/:id/image`. */
const MAX_IMAGE_BYTES = 1024 * 1024;

const form = () => byId<HTMLFormElement>('create-form');
const value = (id: string) => (byId(id) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
const numberOrOmit = (v: string) => (v === '' ? undefined : Number(v));
const defaults = () => byId('admin').dataset;

export function setupCampaignForm(): void {
  const zones = select('f-time-zone');
  for (const z of timeZones()) zones.append(new Option(z, z));
  form().addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });
  byId('cancel-edit').addEventListener('click', () => {
    if (editing) location.hash = `campaign/${encodeURIComponent(editing.id)}`;
  });
  select('f-reward-type').addEventListener('change', rewardFields);
  zones.addEventListener('change', zoneNames);
  // Every change re-draws the preview a moment after the typing stops.
  form().addEventListener('input', schedulePreview);
  form().addEventListener('change', schedulePreview);
  input('f-image').addEventListener('change', () => void pickImage());
  byId('f-image-clear').addEventListener('click', () => {
    clearPicked();
    schedulePreview();
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-preview-lang]')) {
    b.addEventListener('click', () => {
      previewLang = b.dataset.previewLang ?? 'en';
      showPreview();
      postPreviewPage();
    });
  }
  resetCreate();
}

const zone = () => value('f-time-zone');

/** The zone's name beside every date of the form. */
function zoneNames(): void {
  const label = `in ${zoneLabel(zone())}`;
  for (const s of form().querySelectorAll<HTMLElement>('[data-zone]')) s.textContent = label;
}

function rewardFields(): void {
  const type = select('f-reward-type').value;
  for (const d of document.querySelectorAll<HTMLElement>('[data-reward]')) show(d, (d.dataset.reward ?? '').split(' ').includes(type));
  byId('f-reward-value-label').textContent = type === 'amount' ? 'Discount (amount off)' : 'Discount (% off)';
}

/** A `datetime-local` value, read in the campaign's zone. */
const zonedIso = (id: string) => zonedToIso(value(id), zone());

function campaignBody(): Body {
  const body: Body = {
    name: value('f-name'),
    instructions: value('f-instructions'),
    visibility: value('f-visibility'),
    perContactLimit: numberOrOmit(value('f-limit')),
    barcode: value('f-barcode'),
    verification: input('f-verification').checked,
    colors: { background: value('f-color-background'), button: value('f-color-button'), buttonText: value('f-color-button-text') },
    locale: value('f-locale'),
    timeZone: zone(),
  };
  if (value('f-slug').trim()) body.slug = value('f-slug').trim();
  const start = zonedIso('f-send-start');
  const end = zonedIso('f-send-end');
  if (start) body.sendStart = start;
  if (end) body.sendEnd = end;
  body.expiry = { mode: value('f-expiry-mode'), [value('f-expiry-unit')]: numberOrOmit(value('f-expiry-amount')) };
  const redeemBy = zonedIso('f-redeem-by');
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

/** The field's name as its label shows it, without the hints in brackets. */
function labelOf(slot: HTMLElement): string {
  const label = slot.parentElement?.querySelector('label');
  let text = '';
  for (const n of label?.childNodes ?? []) if (n.nodeType === Node.TEXT_NODE) text += n.textContent;
  return text.trim().replace(/\s*\(.*\)$/, '');
}

/**
 * A refusal as a sentence about the field the marketer sees: "Enter a number for the discount",
 * "Sending ends must be after sendStart". The API's words are plain already; this names the field
 * by its label instead of its path.
 */
export function fieldSentence(label: string, control: Element | null, message: string): string {
  const lower = label.charAt(0).toLowerCase() + label.slice(1);
  const isNumber = control instanceof HTMLInputElement && control.type === 'number';
  if (message === 'is required' || message === 'must not be empty' || message === 'must be a number') {
    if (isNumber) return `Enter a number for the ${lower}.`;
    if (control instanceof HTMLSelectElement) return `Choose the ${lower}.`;
    if (message !== 'must be a number') return `Enter the ${lower}.`;
  }
  if (message === 'must be a whole number' && isNumber) return `Enter a whole number for the ${lower}.`;
  return `${label} ${message}${/[.!?]$/.test(message) ? '' : '.'}`;
}

function showErrors(problem: ApiProblem): void {
  let list: FieldError[] = problem.fields;
  if (!list.length) {
    // A conflict (409) names its field in its message: "barcode: cannot change …".
    const m = /^([A-Za-z][A-Za-z.]*): (.*)$/.exec(problem.message);
    list = [m ? { field: m[1]!, message: m[2]! } : { field: '', message: problem.message }];
  }
  const ul = byId('create-errors').querySelector('ul')!;
  for (const f of list) {
    const slot = f.field ? fieldSlot(f.field) : null;
    const control = slot?.parentElement?.querySelector('input,select,textarea') ?? null;
    const sentence = slot ? fieldSentence(labelOf(slot) || f.field, control, f.message) : f.field ? `${f.field}: ${f.message}` : f.message;
    ul.append(el('li', sentence));
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${sentence}` : sentence;
      control?.setAttribute('aria-invalid', 'true');
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
  const mine = seq;
  try {
    const r = await api<CampaignJson>('/api/v1/campaigns', { method: 'POST', json: campaignBody() });
    if (mine !== seq) return;
    if (!r.ok) {
      showErrors(r.error);
      return;
    }
    const imageProblem = picked ? await uploadImage(r.body.id, picked.file) : null;
    admin.flash = { id: r.body.id, text: imageProblem ? `Created, but the image was not saved: ${imageProblem} Choose it again under Edit.` : 'Created.' };
    form().reset();
    resetCreate();
    location.hash = `campaign/${encodeURIComponent(r.body.id)}`;
  } finally {
    button.disabled = false;
  }
}

/** Uploads the chosen image; answers the refusal in words, or null when saved. */
async function uploadImage(campaignId: string, file: File): Promise<string | null> {
  const data = new FormData();
  data.append('file', file, file.name);
  const r = await api<ImageJson>(`${campaignPath(campaignId)}/image`, { method: 'PUT', form: data });
  if (r.ok) return null;
  return `${r.error.message.charAt(0).toUpperCase()}${r.error.message.slice(1)}${/[.!?]$/.test(r.error.message) ? '' : '.'}`;
}

/** A new campaign: the service's language and zone, sending from now (in that zone) for 30 days. */
function resetCreate(): void {
  clearPicked();
  select('f-locale').value = defaults().defaultLocale ?? 'en';
  setZone(defaults().defaultTimeZone ?? 'UTC');
  const now = new Date();
  now.setSeconds(0, 0);
  input('f-send-start').value = isoToZoned(now.toISOString(), zone());
  input('f-send-end').value = isoToZoned(new Date(now.getTime() + 30 * 86_400_000).toISOString(), zone());
  previewLang = value('f-locale');
  rewardFields();
  zoneNames();
  schedulePreview();
}

/** Selects the zone, adding it to the list when this browser does not know it by that name. */
function setZone(z: string): void {
  const zones = select('f-time-zone');
  if (![...zones.options].some((o) => o.value === z)) zones.append(new Option(z, z));
  zones.value = z;
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
  if (!editing) {
    schedulePreview();
    return;
  }
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
  setValue('f-locale', c.locale);
  setZone(c.timeZone);
  setValue('f-send-start', isoToZoned(c.sendStart, c.timeZone));
  setValue('f-send-end', isoToZoned(c.sendEnd, c.timeZone));
  setValue('f-redeem-by', c.redeemBy ? isoToZoned(c.redeemBy, c.timeZone) : '');
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
  previewLang = c.locale;
  rewardFields();
  zoneNames();
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
  editing = { id, base: null, campaign: null };
  admin.flash = null;
  byId('edit-result').textContent = '';
  form().reset();
  clearErrors();
  clearPicked();
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
  editing.campaign = r.body;
  fillForm(r.body);
  editing.base = editBody();
  byId('form-title').textContent = `Edit campaign: ${r.body.name}`;
  byId('f-image-note').textContent = r.body.imageUrl ? 'The campaign has an image; choose a file only to replace it.' : '';
  byId('create-result').textContent = '';
  button.disabled = false;
  input('f-name').focus();
  schedulePreview();
}

async function save(ed: { id: string; base: Body | null }, button: HTMLButtonElement): Promise<void> {
  if (!ed.base) return;
  const patch = changedFields(ed.base, editBody());
  if (!patch && !picked) {
    say('create-result', true, 'Nothing changed.');
    return;
  }
  button.disabled = true;
  const mine = seq;
  try {
    const saved: string[] = [];
    if (patch) {
      const r = await api<CampaignJson>(campaignPath(ed.id), { method: 'PATCH', json: patch });
      if (mine !== seq) return;
      if (!r.ok) {
        showErrors(r.error);
        return;
      }
      ed.base = editBody();
      saved.push(...Object.keys(patch));
    }
    if (picked) {
      const problem = await uploadImage(ed.id, picked.file);
      if (mine !== seq) return;
      if (problem) {
        showErrors({ code: 'validation_error', message: problem, fields: [{ field: 'image', message: problem }] });
        if (saved.length) say('create-result', true, `Saved: ${saved.join(', ')}; the image was not.`);
        return;
      }
      saved.push('image');
      clearPicked();
    }
    admin.flash = { id: ed.id, text: `Saved: ${saved.join(', ')}.` };
    location.hash = `campaign/${encodeURIComponent(ed.id)}`;
  } finally {
    button.disabled = false;
  }
}

// --- The image -------------------------------------------------------------------------------

function clearPicked(): void {
  picked = null;
  input('f-image').value = '';
  show(byId('f-image-clear'), false);
  byId('f-image-note').textContent = editing?.campaign?.imageUrl ? 'The campaign has an image; choose a file only to replace it.' : '';
  const slot = fieldSlot('image');
  if (slot) slot.textContent = '';
}

/** Checks the chosen image as the server will (type, size) before it is uploaded with the campaign. */
async function pickImage(): Promise<void> {
  const file = input('f-image').files?.[0];
  const slot = fieldSlot('image')!;
  slot.textContent = '';
  if (!file) {
    clearPicked();
    return;
  }
  const refuse = (text: string) => {
    picked = null;
    input('f-image').value = '';
    slot.textContent = text;
    schedulePreview();
  };
  if (file.type !== 'image/png' && file.type !== 'image/jpeg') return refuse('Choose a JPG or PNG image.');
  if (file.size > MAX_IMAGE_BYTES) return refuse(`This image is ${(file.size / 1048576).toFixed(1)} MB; the limit is 1 MB. Save it smaller and choose it again.`);
  const dataUrl = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsDataURL(file);
  }).catch((err: unknown) => {
    refuse(`The file could not be read (${err instanceof Error ? err.message : String(err)}).`);
    return null;
  });
  if (!dataUrl) return;
  picked = { file, dataUrl };
  byId('f-image-note').textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB) is saved with the campaign.`;
  show(byId('f-image-clear'), true);
  byId('f-image-clear').textContent = editing?.campaign?.imageUrl ? 'Keep the current image' : 'No image';
  schedulePreview();
}

// --- The preview -----------------------------------------------------------------------------

function schedulePreview(): void {
  if (previewTimer) clearTimeout(previewTimer);
  previewTimer = setTimeout(() => void runPreview(), 300);
}

function draft(): { campaign: Body; campaignId?: string } {
  return editing?.base ? { campaign: editBody(), campaignId: editing.id } : { campaign: campaignBody() };
}

/** Asks the server for the cards of the campaign as written now; the page follows in the frame. */
async function runPreview(): Promise<void> {
  if ((editing && !editing.base) || byId('view-new').classList.contains('hidden')) return;
  const mine = ++previewSeq;
  const r = await api<CampaignPreviewsJson>('/api/v1/campaign-previews', { method: 'POST', json: draft() });
  if (mine !== previewSeq) return;
  const note = byId('preview-note');
  if (!r.ok) {
    const waits = r.error.fields.map((f) => {
      const slot = fieldSlot(f.field);
      return slot ? fieldSentence(labelOf(slot) || f.field, slot.parentElement?.querySelector('input,select,textarea') ?? null, f.message) : `${f.field}: ${f.message}`;
    });
    note.className = 'reason';
    note.textContent = cards.length
      ? `The preview shows the last version that could be saved. ${waits.join(' ') || r.error.message}`
      : `The preview appears once the campaign could be saved. ${waits.join(' ') || r.error.message}`;
    return;
  }
  note.className = 'muted';
  note.textContent = '';
  cards = r.body.previews;
  showPreview();
  postPreviewPage();
}

/** The coupon page, drawn by the server into the phone frame (no script runs in it). */
function postPreviewPage(): void {
  if (!cards.length) return;
  const f = byId<HTMLFormElement>('preview-form');
  const d = draft();
  const field = (name: string) => f.querySelector<HTMLInputElement>(`[name=${name}]`)!;
  field('campaign').value = JSON.stringify(d.campaign);
  field('campaignId').value = d.campaignId ?? '';
  field('locale').value = previewLang;
  field('image').value = picked?.dataUrl ?? '';
  f.submit();
}

function showPreview(): void {
  for (const b of document.querySelectorAll<HTMLElement>('[data-preview-lang]')) {
    if (b.dataset.previewLang === previewLang) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  const p = cards.find((x) => x.locale === previewLang) ?? cards[0];
  if (p) lineCard(p.card, p.locale);
}

/** Black or white text, whichever reads on the background, as the LINE card picks it. */
function textColorOn(background: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(background);
  if (!m) return '#111111';
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => parseInt(h!, 16) / 255) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 ? '#ffffff' : '#111111';
}

/** Images are served by this service: shown from its own origin whatever PUBLIC_BASE_URL says. */
function samePath(url: string): string {
  try {
    const u = new URL(url, location.href);
    return u.pathname.startsWith('/images/') ? u.pathname : url;
  } catch {
    return url;
  }
}

/**
 * The card as LINE draws our flex bubble: the image on top (only from an https address), the
 * name, reward and deadline on the campaign's background, and a button in the button colour
 * with a white label (LINE draws a primary button's label white).
 */
function lineCard(card: PreviewCardJson, locale: string): void {
  const box = byId('line-card');
  box.textContent = '';
  box.lang = locale;
  const notes: string[] = [];
  const https = card.pageUrl.startsWith('https://');
  const image = picked?.dataUrl ?? (card.imageUrl ? samePath(card.imageUrl) : null);
  if (image && https) {
    const img = el('img');
    img.src = image;
    img.alt = '';
    box.append(img);
  } else if (image) {
    notes.push('LINE leaves the image out: it shows images only from an https address, and PUBLIC_BASE_URL is not https.');
  }
  const body = el('div', null, 'lb-body');
  body.style.background = card.colors.background;
  body.style.color = textColorOn(card.colors.background);
  body.append(el('div', card.campaignName, 'lb-name'), el('div', card.rewardText, 'lb-reward'));
  if (card.deadlineText) body.append(el('div', card.deadlineText, 'lb-deadline'));
  const footer = el('div', null, 'lb-footer');
  footer.style.background = card.colors.background;
  const button = el('span', card.buttonLabel, 'lb-button');
  button.style.background = card.colors.button;
  footer.append(button);
  box.append(body, footer);
  if (card.colors.buttonText.toLowerCase() !== '#ffffff') notes.push('LINE draws the button\'s label white; the button text colour is used on the coupon page.');
  byId('line-alt').textContent = [`Notification: “${card.altText}”`, ...notes].join(' ');
}
