import { api, seg } from '../shared/api.ts';
import type { CampaignJson, CampaignList, FieldError } from '../shared/api-types.ts';
import { byId, el, input, say, select, show } from '../shared/dom.ts';
import { fmtDate, num, pct } from '../shared/format.ts';
import type { BroadcastJson, BroadcastList, BroadcastStatsJson, QuotaLineJson, RecipientsPage } from '../shared/marketing-types.ts';
import { compareProportions, variantVerdict } from '../shared/significance.ts';
import { isTimeZone, zonedText, zonedToIso } from '../shared/zoned-time.ts';
import { fillAudienceCampaigns, onAudienceChange, readAudience, resetAudience, setupAudienceBuilder } from './audience-builder.ts';

/**
 * Broadcasts: the list; the compose form (audience, one campaign or up to four variants with
 * weights and texts, holdout, a time in the campaign's time zone, rate, quota rule) with the
 * quota line the API previews; and one broadcast followed live (progress, rate, time left,
 * pause / resume / cancel) with its results per variant.
 */

const POLL_MS = 1000;
const QUOTA_DEBOUNCE_MS = 400;
const MAX_VARIANTS = 4;
const VARIANT_KEYS = ['a', 'b', 'c', 'd'];
/** How far back the live rate looks. */
const RATE_WINDOW_MS = 10_000;
const FINAL = new Set(['done', 'cancelled']);

const view = {
  campaigns: [] as CampaignJson[],
  quotaTimer: undefined as ReturnType<typeof setTimeout> | undefined,
  quotaGeneration: 0,
  /** The broadcast followed on screen; a new open (or leaving the view) ends the previous loop. */
  following: 0,
  samples: [] as Array<{ t: number; done: number }>,
};

const broadcastPath = (id: string) => `/api/v1/broadcasts/${seg(id)}`;
const campaignName = (id: string) => view.campaigns.find((c) => c.id === id)?.name ?? id;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function setupBroadcasts(): void {
  setupAudienceBuilder();
  onAudienceChange(scheduleQuota);
  const form = byId<HTMLFormElement>('bc-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void send();
  });
  form.addEventListener('input', (e) => {
    if (!(e.target as HTMLElement).closest('#audience-builder')) scheduleQuota();
  });
  form.addEventListener('change', (e) => {
    const target = e.target as HTMLElement;
    if (target.matches('[name=bc-mode]')) setMode();
    if (target.matches('[name=bc-when]')) show(byId('bc-later'), input('bc-when-later').checked);
    if (target.matches('#bc-campaign, #bc-variants select')) showZone();
    if (!target.closest('#audience-builder')) scheduleQuota();
  });
  byId('bc-add-variant').addEventListener('click', () => {
    addVariant();
    scheduleQuota();
  });
  byId('bd-pause').addEventListener('click', () => void act('pause'));
  byId('bd-resume').addEventListener('click', () => void act('resume'));
  byId('bd-cancel').addEventListener('click', () => void act('cancel'));
  byId('bd-recipients-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    if (current) void loadRecipients(current.id, false);
  });
  byId('bd-recipients-more').addEventListener('click', () => {
    if (current) void loadRecipients(current.id, true);
  });
}

/** `#broadcasts`, `#broadcasts/new` or `#broadcast/<id>`. */
export async function openBroadcasts(hash: string): Promise<void> {
  const ticket = ++view.following;
  const one = /^broadcast\/(.+)$/.exec(hash);
  const compose = hash === 'broadcasts/new';
  // Each part is shown once it is filled in: nothing typed into a form that is then reset.
  for (const id of ['broadcast-list-card', 'broadcast-compose', 'broadcast-detail']) show(byId(id), false);
  byId('bd-action-result').textContent = '';
  const loaded = await loadCampaigns();
  if (ticket !== view.following) return;
  if (loaded && compose) {
    openCompose();
    show(byId('broadcast-compose'), true);
    return;
  }
  if (loaded && one) {
    show(byId('broadcast-detail'), true);
    return await follow(decodeURIComponent(one[1]!));
  }
  show(byId('broadcast-list-card'), true);
  if (loaded) await loadList();
}

async function loadCampaigns(): Promise<boolean> {
  const r = await api<CampaignList>('/api/v1/campaigns');
  if (!r.ok) {
    byId('broadcasts-error').textContent = r.error.message;
    byId('bd-error').textContent = r.error.message;
    return false;
  }
  view.campaigns = r.body.campaigns;
  return true;
}

// ---- the list ----

function statusBadge(status: string): HTMLElement {
  const b = el('span', status, `badge${status === 'done' ? ' badge-yes' : status === 'cancelled' || status === 'paused' ? ' badge-no' : ''}`);
  b.dataset.status = status;
  return b;
}

async function loadList(): Promise<void> {
  byId('broadcasts-error').textContent = '';
  const r = await api<BroadcastList>('/api/v1/broadcasts');
  const tbody = byId<HTMLTableElement>('broadcasts').tBodies[0]!;
  tbody.textContent = '';
  if (!r.ok) {
    byId('broadcasts-error').textContent = r.error.message;
    return;
  }
  for (const b of r.body.broadcasts) {
    const tr = el('tr');
    tr.dataset.broadcast = b.id;
    const name = el('td');
    const open = el('button', b.name, 'linkish');
    open.type = 'button';
    open.addEventListener('click', () => { location.hash = `broadcast/${encodeURIComponent(b.id)}`; });
    name.append(open);
    const status = el('td');
    status.append(statusBadge(b.status));
    tr.append(name, status, el('td', fmtDate(b.sendAt)), el('td', num(b.counts.recipients), 'num'), el('td', num(b.counts.sent), 'num'),
      el('td', num(b.counts.skipped), 'num'), el('td', num(b.counts.failed), 'num'));
    tbody.append(tr);
  }
  show(byId('no-broadcasts'), r.body.broadcasts.length === 0);
}

// ---- compose ----

function campaignOptions(s: HTMLSelectElement): void {
  const keep = s.value;
  s.textContent = '';
  s.append(new Option('Choose a campaign', ''));
  for (const c of view.campaigns) s.append(new Option(`${c.name} (${c.rewardText})`, c.id));
  s.value = view.campaigns.some((c) => c.id === keep) ? keep : '';
}

function openCompose(): void {
  byId<HTMLFormElement>('bc-form').reset();
  byId('bc-variants').textContent = '';
  campaignOptions(select('bc-campaign'));
  fillAudienceCampaigns(view.campaigns);
  setMode();
  show(byId('bc-later'), false);
  showErrors([], null);
  showZone();
  resetAudience();
  void refreshQuota();
}

function setMode(): void {
  const variants = input('bc-mode-variants').checked;
  show(byId('bc-single'), !variants);
  show(byId('bc-variants-box'), variants);
  if (variants && byId('bc-variants').children.length === 0) {
    addVariant();
    addVariant();
  }
  showZone();
}

function relabelVariants(): void {
  const rows = [...byId('bc-variants').children] as HTMLElement[];
  rows.forEach((row, i) => {
    row.dataset.variant = VARIANT_KEYS[i]!;
    row.querySelector('.key')!.textContent = VARIANT_KEYS[i]!.toUpperCase();
  });
  (byId('bc-add-variant') as HTMLButtonElement).disabled = rows.length >= MAX_VARIANTS;
}

function addVariant(): void {
  const box = byId('bc-variants');
  if (box.children.length >= MAX_VARIANTS) return;
  const row = el('div', null, 'variant');
  const campaign = el('select');
  campaign.setAttribute('aria-label', 'Campaign');
  campaign.dataset.field = 'campaignId';
  campaignOptions(campaign);
  const weight = el('input');
  weight.type = 'number';
  weight.min = '1';
  weight.max = '100';
  weight.step = '1';
  weight.value = '1';
  weight.setAttribute('aria-label', 'Weight');
  weight.dataset.field = 'weight';
  const text = el('input');
  text.placeholder = 'Text before the card (optional)';
  text.maxLength = 2000;
  text.setAttribute('aria-label', 'Text');
  text.dataset.field = 'text';
  const remove = el('button', 'Remove', 'btn btn-inline btn-secondary');
  remove.type = 'button';
  remove.addEventListener('click', () => {
    row.remove();
    relabelVariants();
    scheduleQuota();
  });
  row.append(el('span', '', 'key'), campaign, weight, text, remove);
  box.append(row);
  relabelVariants();
}

/** The campaign whose time zone the send time is read in: the one campaign, or the first variant's. */
function leadCampaign(): CampaignJson | undefined {
  const id = input('bc-mode-variants').checked
    ? byId('bc-variants').querySelector<HTMLSelectElement>('select')?.value
    : select('bc-campaign').value;
  return view.campaigns.find((c) => c.id === id);
}

function zoneOf(c: CampaignJson | undefined): string {
  const zone = c?.timeZone;
  return zone && isTimeZone(zone) ? zone : Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function showZone(): void {
  const c = leadCampaign();
  byId('bc-zone').textContent = c ? `(${zoneOf(c)}, the campaign's time zone)` : `(${zoneOf(undefined)}; choose a campaign to use its time zone)`;
}

interface Draft {
  name: string;
  audience: ReturnType<typeof readAudience>;
  campaignId?: string;
  text?: string;
  variants?: Array<{ campaignId: string; weight: number; text?: string }>;
  holdoutPercent: number;
  sendAt?: string;
  ratePerSecond?: number;
  quota: string;
}

/** The form as the API's body. Empty optional fields are left out; numbers the API checks. */
function draft(): Draft {
  const d: Draft = { name: input('bc-name').value, audience: readAudience(), holdoutPercent: Number(input('bc-holdout').value || 0), quota: select('bc-quota').value };
  if (input('bc-mode-variants').checked) {
    d.variants = ([...byId('bc-variants').children] as HTMLElement[]).map((row) => {
      const text = row.querySelector<HTMLInputElement>('[data-field=text]')!.value.trim();
      return {
        campaignId: row.querySelector<HTMLSelectElement>('[data-field=campaignId]')!.value,
        weight: Number(row.querySelector<HTMLInputElement>('[data-field=weight]')!.value),
        ...(text ? { text } : {}),
      };
    });
  } else {
    d.campaignId = select('bc-campaign').value;
    const text = byId<HTMLTextAreaElement>('bc-text').value.trim();
    if (text) d.text = text;
  }
  if (input('bc-when-later').checked) {
    // Left out until a time is chosen: the quota preview works without it, sending asks for it.
    const at = zonedToIso(input('bc-send-at').value, zoneOf(leadCampaign()));
    if (at) d.sendAt = at;
  }
  const rate = input('bc-rate').value;
  if (rate !== '') d.ratePerSecond = Number(rate);
  return d;
}

/** The line carries `data-state` while a preview is due or on its way, `data-uses` once it is in. */
function scheduleQuota(): void {
  clearTimeout(view.quotaTimer);
  view.quotaGeneration++;
  const line = byId('bc-quota-line');
  line.dataset.state = 'pending';
  delete line.dataset.uses;
  view.quotaTimer = setTimeout(() => void refreshQuota(), QUOTA_DEBOUNCE_MS);
}

/** "This uses N of your M remaining messages this month", from the API's preview of the draft. */
async function refreshQuota(): Promise<void> {
  clearTimeout(view.quotaTimer);
  const generation = ++view.quotaGeneration;
  const line = byId('bc-quota-line');
  const { name: _name, ...body } = draft();
  const chosen = body.variants ? body.variants.length > 0 && body.variants.every((v) => v.campaignId) : !!body.campaignId;
  delete line.dataset.uses;
  if (!chosen) {
    delete line.dataset.state;
    line.className = 'quota-line muted';
    line.textContent = 'Choose the campaign to see how much of this month\'s LINE quota the broadcast uses.';
    return;
  }
  line.dataset.state = 'counting';
  const r = await api<QuotaLineJson>('/api/v1/broadcasts/preview', { method: 'POST', json: body });
  if (generation !== view.quotaGeneration) return;
  delete line.dataset.state;
  if (!r.ok) {
    line.className = 'quota-line reason';
    line.textContent = `The quota could not be worked out: ${r.error.message}`;
    return;
  }
  const { uses, remaining } = r.body;
  line.dataset.uses = String(uses);
  line.dataset.remaining = remaining === null ? '' : String(remaining);
  if (remaining === null) {
    line.className = 'quota-line';
    line.textContent = uses === 0
      ? 'This uses no LINE messages.'
      : `This uses ${num(uses)} LINE message${uses === 1 ? '' : 's'}; LINE sets no monthly limit on this account.`;
    return;
  }
  const short = uses > remaining;
  line.className = short ? 'quota-line reason' : 'quota-line';
  line.textContent = `This uses ${num(uses)} of your ${num(remaining)} remaining messages this month.`
    + (short ? ` That is ${num(uses - remaining)} more than remain: "Send nothing" refuses the broadcast, "Send to as many as fit" skips the rest.` : '');
}

function showErrors(fields: FieldError[], message: string | null): void {
  const form = byId('bc-form');
  for (const p of form.querySelectorAll<HTMLElement>('[data-bc-error-for]')) {
    if (p.closest('#audience-builder') && message === null) continue;
    const key = p.dataset.bcErrorFor!;
    p.textContent = fields.filter((f) => f.field === key || f.field.startsWith(`${key}.`)).map((f) => f.message).join('; ');
  }
  const box = byId('bc-errors');
  const list = box.querySelector('ul')!;
  list.textContent = '';
  if (message !== null) {
    if (fields.length) for (const f of fields) list.append(el('li', `${f.field}: ${f.message}`));
    else list.append(el('li', message));
  }
  show(box, message !== null);
}

async function send(): Promise<void> {
  const button = byId<HTMLButtonElement>('bc-send');
  if (button.disabled) return;
  const body = draft();
  if (input('bc-when-later').checked && !body.sendAt) {
    showErrors([{ field: 'sendAt', message: 'choose the date and time to send' }], 'Choose when to send it.');
    return;
  }
  button.disabled = true;
  try {
    const r = await api<BroadcastJson>('/api/v1/broadcasts', { method: 'POST', json: body });
    if (!r.ok) {
      showErrors(r.error.fields, r.error.message);
      return;
    }
    showErrors([], null);
    location.hash = `broadcast/${encodeURIComponent(r.body.id)}`;
  } finally {
    button.disabled = false;
  }
}

// ---- one broadcast, live ----

let current: BroadcastJson | null = null;

async function follow(id: string): Promise<void> {
  const ticket = view.following;
  view.samples = [];
  current = null;
  byId('bd-error').textContent = '';
  byId('bd-verdict').textContent = '';
  byId('bd-name').textContent = '';
  delete byId('bd-status').dataset.status;
  select('bd-r-status').value = '';
  select('bd-r-reason').value = '';
  byId<HTMLTableElement>('bd-recipients').tBodies[0]!.textContent = '';
  byId<HTMLTableElement>('bd-results').tBodies[0]!.textContent = '';
  let listed = false;
  for (let round = 0; ticket === view.following; round++) {
    const r = await api<BroadcastJson>(broadcastPath(id));
    if (ticket !== view.following) return;
    if (!r.ok) {
      byId('bd-error').textContent = r.error.message;
      if (r.status === 404 || r.status === 401 || r.status === 403) return;
    } else {
      renderBroadcast(r.body);
      const final = FINAL.has(r.body.status);
      if (final || round % 3 === 0) await loadResults(r.body, ticket);
      if (!listed || final) await loadRecipients(id, false);
      listed = true;
      if (final) return;
    }
    await sleep(POLL_MS);
  }
}

function countRow(dl: HTMLElement, label: string, value: string, key: string): void {
  const dd = el('dd', value);
  dd.dataset.count = key;
  dl.append(el('dt', label), dd);
}

const reasonText: Record<string, string> = {
  quota_exhausted: 'LINE\'s monthly message limit was reached. Resume once the quota allows more (next month, or after raising the plan).',
  quota_exceeded: 'The broadcast does not fit the LINE quota left this month, so nothing was sent (all or nothing).',
  outside_sending_period: 'The campaign\'s sending period is over.',
  campaign_paused: 'Its campaign was paused, ended or archived. Make the campaign active again, then resume.',
  not_found: 'Its campaign was removed.',
};

function renderBroadcast(b: BroadcastJson): void {
  current = b;
  const zone = zoneOf(view.campaigns.find((c) => c.id === b.variants[0]?.campaignId));
  byId('bd-name').textContent = b.name;
  const status = byId('bd-status');
  const badge = statusBadge(b.status);
  status.className = badge.className;
  status.textContent = b.status;
  status.dataset.status = b.status;
  byId('bd-reason').textContent = b.reason ? `Paused: ${reasonText[b.reason] ?? b.reason}` : '';
  byId('bd-when').textContent = `${b.status === 'scheduled' ? 'Starts' : 'Send time'} ${zonedText(b.sendAt, zone)}`
    + `${b.startedAt ? ` · started ${fmtDate(b.startedAt)}` : ''}${b.finishedAt ? ` · ended ${fmtDate(b.finishedAt)}` : ''}`
    + ` · up to ${num(b.ratePerSecond)} cards a second`;

  const c = b.counts;
  const target = c.recipients - c.holdout;
  const processed = c.sent + c.failed + c.skipped;
  const share = target > 0 ? processed / target : FINAL.has(b.status) ? 1 : 0;
  const bar = byId('bd-progress');
  (bar.firstElementChild as HTMLElement).style.width = `${Math.round(share * 1000) / 10}%`;
  bar.setAttribute('aria-valuenow', String(Math.round(share * 100)));
  byId('bd-progress-text').textContent = b.status === 'scheduled'
    ? 'Not started yet: the recipient list is fixed when it starts.'
    : `${num(processed)} of ${num(target)} done (${num(c.sent)} sent, ${num(c.skipped)} skipped, ${num(c.failed)} failed)${c.holdout ? `; ${num(c.holdout)} held out` : ''}`;

  const now = performance.now();
  view.samples.push({ t: now, done: processed });
  while (view.samples.length > 2 && now - view.samples[0]!.t > RATE_WINDOW_MS) view.samples.shift();
  const first = view.samples[0]!;
  const rate = now > first.t ? ((processed - first.done) * 1000) / (now - first.t) : 0;
  const pace = byId('bd-pace');
  if (b.status === 'running') {
    const left = c.pending;
    pace.textContent = view.samples.length < 2
      ? 'Measuring the rate…'
      : rate > 0
        ? `${num(Math.round(rate * 10) / 10)} cards a second · about ${duration(left / rate)} left`
        : left > 0 ? 'Waiting for the delivery of cards already issued…' : 'Finishing…';
  } else {
    pace.textContent = b.status === 'paused' ? `Paused with ${num(c.pending)} left.` : '';
  }

  show(byId('bd-pause'), b.status === 'running' || b.status === 'scheduled');
  show(byId('bd-resume'), b.status === 'paused');
  show(byId('bd-cancel'), !FINAL.has(b.status));

  const dl = byId('bd-counts');
  dl.textContent = '';
  countRow(dl, 'Recipients', num(c.recipients), 'recipients');
  countRow(dl, 'Sent', num(c.sent), 'sent');
  countRow(dl, 'Waiting', num(c.pending), 'pending');
  countRow(dl, 'Skipped', num(c.skipped), 'skipped');
  countRow(dl, 'Failed', num(c.failed), 'failed');
  countRow(dl, 'Held out', num(c.holdout), 'holdout');
  const skipped = byId('bd-skipped');
  skipped.textContent = '';
  for (const [reason, n] of Object.entries(b.skippedBy)) countRow(skipped, reason.replaceAll('_', ' '), num(n), `skipped-${reason}`);
  show(byId('bd-no-skipped'), Object.keys(b.skippedBy).length === 0);
  const reasons = select('bd-r-reason');
  const keep = reasons.value;
  reasons.textContent = '';
  reasons.append(new Option('Any reason', ''));
  for (const reason of Object.keys(b.skippedBy)) reasons.append(new Option(reason.replaceAll('_', ' '), reason));
  reasons.value = keep in b.skippedBy ? keep : '';
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function money(revenue: Record<string, number>): string {
  const parts = Object.entries(revenue).sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => {
    try {
      return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount);
    } catch {
      return `${num(amount)} ${currency}`;
    }
  });
  return parts.length ? parts.join(', ') : '—';
}

async function loadResults(b: BroadcastJson, ticket: number): Promise<void> {
  const r = await api<BroadcastStatsJson>(`${broadcastPath(b.id)}/stats`);
  if (ticket !== view.following) return;
  const tbody = byId<HTMLTableElement>('bd-results').tBodies[0]!;
  const verdict = byId('bd-verdict');
  if (!r.ok) {
    byId('bd-error').textContent = r.error.message;
    return;
  }
  tbody.textContent = '';
  verdict.textContent = '';
  const campaignOf = new Map(b.variants.map((v) => [v.key, v.campaignId]));
  for (const v of r.body.variants) {
    const tr = el('tr');
    tr.dataset.variant = v.key;
    const campaign = campaignOf.get(v.key);
    tr.append(el('th', v.key === 'holdout' ? 'Holdout (nothing sent)' : v.key.toUpperCase()), el('td', campaign ? campaignName(campaign) : '—'),
      el('td', num(v.recipients), 'num'), el('td', num(v.sent), 'num'), el('td', num(v.opened), 'num'), el('td', num(v.redeemed), 'num'),
      el('td', num(v.verified), 'num'),
      el('td', v.key === 'holdout' ? `${pct(v.recipients ? v.redeemed / v.recipients : 0)} of the group` : pct(v.sent ? v.redeemed / v.sent : 0), 'num'),
      el('td', money(v.revenue), 'num'), el('td', v.key === 'holdout' ? '—' : money(v.revenuePerSent), 'num'));
    tbody.append(tr);
  }
  const notes: string[] = [];
  if (!FINAL.has(b.status)) notes.push('The broadcast has not ended: these figures will still change.');
  const sending = r.body.variants.filter((v) => v.key !== 'holdout');
  if (sending.length > 1) notes.push(...variantVerdict(sending.map((v) => ({ key: v.key.toUpperCase(), trials: v.sent, redeemed: v.redeemed }))).notes);
  const holdout = r.body.variants.find((v) => v.key === 'holdout');
  if (holdout) notes.push(holdoutNote(sending, holdout));
  for (const n of notes) verdict.append(el('li', n));
}

type VariantStats = BroadcastStatsJson['variants'][number];

/** Whether the broadcast made more people redeem than the holdout, who got nothing, did anyway. */
function holdoutNote(sending: VariantStats[], holdout: VariantStats): string {
  const got = sending.reduce((s, v) => ({ successes: s.successes + v.redeemed, trials: s.trials + v.recipients }), { successes: 0, trials: 0 });
  const c = compareProportions(got, { successes: holdout.redeemed, trials: holdout.recipients });
  const rates = `Against the holdout: ${pct(c.rateA)} of those sent to redeemed, ${pct(c.rateB)} of the holdout redeemed some other way`;
  if (!c.enoughData) return `${rates}; too few redemptions yet to tell whether the broadcast made the difference.`;
  if (c.pValue === null) return `${rates}; no difference.`;
  if (c.significant && c.difference > 0) return `${rates}; the broadcast made more people redeem, by more than chance (p ${c.pValue < 0.001 ? '< 0.001' : `= ${c.pValue.toFixed(3)}`}).`;
  return `${rates}; the difference could be chance (p = ${c.pValue.toFixed(3)}).`;
}

const recipients = { next: null as string | null, shown: 0, generation: 0 };

/** Who got what: each recipient's status, the reason one was skipped, or why a card failed. */
async function loadRecipients(id: string, more: boolean): Promise<void> {
  const generation = ++recipients.generation;
  const p = new URLSearchParams({ limit: '50' });
  if (select('bd-r-status').value) p.set('status', select('bd-r-status').value);
  if (select('bd-r-reason').value) p.set('reason', select('bd-r-reason').value);
  if (more && recipients.next) p.set('cursor', recipients.next);
  const r = await api<RecipientsPage>(`${broadcastPath(id)}/recipients?${p}`);
  if (generation !== recipients.generation || current?.id !== id) return;
  const tbody = byId<HTMLTableElement>('bd-recipients').tBodies[0]!;
  byId('bd-recipients-error').textContent = '';
  if (!r.ok) {
    byId('bd-recipients-error').textContent = r.error.message;
    return;
  }
  if (!more) {
    tbody.textContent = '';
    recipients.shown = 0;
  }
  for (const x of r.body.recipients) {
    const tr = el('tr');
    tr.dataset.recipient = x.contactId;
    tr.dataset.status = x.status;
    const status = x.status === 'issued' ? `card ${x.deliveryStatus ?? 'pending'}` : x.status === 'pending' ? 'not issued yet' : x.status === 'holdout' ? 'held out' : 'skipped';
    const detail = x.status === 'skipped' ? (x.reason ?? '').replaceAll('_', ' ') : x.deliveryError ?? '';
    tr.append(el('td', x.displayName ?? x.userId ?? x.contactId), el('td', x.channel), el('td', x.variant === 'holdout' ? '—' : x.variant.toUpperCase()),
      el('td', status), el('td', detail, x.status === 'skipped' || x.deliveryError ? 'reason' : undefined));
    tbody.append(tr);
  }
  recipients.shown += r.body.recipients.length;
  recipients.next = r.body.next;
  show(byId('no-recipients'), recipients.shown === 0);
  show(byId('bd-recipients-more'), recipients.next !== null);
  byId('bd-recipients-count').textContent = recipients.shown ? `${num(recipients.shown)} shown${recipients.next ? ', more to load' : ''}` : '';
}

async function act(action: 'pause' | 'resume' | 'cancel'): Promise<void> {
  const b = current;
  if (!b) return;
  if (action === 'cancel' && !confirm(`Cancel "${b.name}"? Cards already sent stay sent; nobody else gets one.`)) return;
  const buttons = ['bd-pause', 'bd-resume', 'bd-cancel'].map((id) => byId<HTMLButtonElement>(id));
  for (const x of buttons) x.disabled = true;
  try {
    const r = await api<BroadcastJson>(`${broadcastPath(b.id)}/${action}`, { method: 'POST' });
    if (!r.ok) {
      say('bd-action-result', false, r.error.message);
      return;
    }
    say('bd-action-result', true, action === 'pause' ? 'Paused.' : action === 'resume' ? 'Resumed.' : 'Cancelled.');
    if (current?.id === b.id) renderBroadcast(r.body);
    // The live loop stopped at an end it saw; a resumed broadcast is followed again.
    if (action === 'resume' || FINAL.has(r.body.status)) {
      view.following++;
      void follow(b.id);
    }
  } finally {
    for (const x of buttons) x.disabled = false;
  }
}

/** Leaving the broadcasts view ends the live loop. */
export function leaveBroadcasts(): void {
  view.following++;
  clearTimeout(view.quotaTimer);
}
