import { api } from '../shared/api.ts';
import type { CampaignJson } from '../shared/api-types.ts';
import { byId, el, input, select } from '../shared/dom.ts';
import { num } from '../shared/format.ts';
import type { AudienceJson, EstimateJson } from '../shared/marketing-types.ts';

/**
 * The audience builder of the compose form: channels, tags, languages, activity and a campaign's
 * coupons, turned into the contract's audience object. Each change asks the estimate API again
 * (after a short pause in typing) and shows the count per channel; an answer to an older audience
 * than the one on screen is dropped. While a count is on its way the line carries
 * `data-state` (`pending`, then `counting`).
 */

const DEBOUNCE_MS = 300;

const state = {
  timer: undefined as ReturnType<typeof setTimeout> | undefined,
  generation: 0,
  listeners: [] as Array<() => void>,
};

const words = (id: string) => input(id).value.split(',').map((t) => t.trim()).filter(Boolean);

/** The audience on screen, keys left out when not set (they are ANDed; none means everyone). */
export function readAudience(): AudienceJson {
  const a: AudienceJson = {};
  const boxes = [...document.querySelectorAll<HTMLInputElement>('#audience-builder [data-audience-channel]')];
  const channels = boxes.filter((b) => b.checked).map((b) => b.dataset.audienceChannel!);
  if (channels.length < boxes.length) a.channels = channels as AudienceJson['channels'];
  const tagsAll = words('ab-tags-all');
  const tagsAny = words('ab-tags-any');
  const tagsNone = words('ab-tags-none');
  const languages = words('ab-languages');
  if (tagsAll.length) a.tagsAll = tagsAll;
  if (tagsAny.length) a.tagsAny = tagsAny;
  if (tagsNone.length) a.tagsNone = tagsNone;
  if (languages.length) a.languages = languages;
  const after = input('ab-followed-after').value;
  if (after) a.followedAfter = new Date(`${after}T00:00:00`).toISOString();
  const active = input('ab-active').value;
  if (active !== '') a.activeWithinDays = Number(active);
  const campaign = select('ab-campaign').value;
  if (campaign) a.campaign = { id: campaign, has: select('ab-campaign-has').value as 'none' | 'unredeemed' | 'redeemed' };
  return a;
}

/** Called after every change of the audience (the compose form's quota line follows it). */
export function onAudienceChange(listener: () => void): void {
  state.listeners.push(listener);
}

export function setupAudienceBuilder(): void {
  const box = byId('audience-builder');
  const changed = () => {
    clearTimeout(state.timer);
    // An answer still on its way is for an audience no longer on screen.
    state.generation++;
    byId('ab-estimate').dataset.state = 'pending';
    state.timer = setTimeout(() => void refreshEstimate(), DEBOUNCE_MS);
    for (const l of state.listeners) l();
  };
  box.addEventListener('input', changed);
  box.addEventListener('change', changed);
}

/** The campaigns a "coupons of a campaign" condition may name. */
export function fillAudienceCampaigns(campaigns: CampaignJson[]): void {
  const s = select('ab-campaign');
  const keep = s.value;
  s.textContent = '';
  s.append(new Option('Any', ''));
  for (const c of campaigns) s.append(new Option(c.name, c.id));
  s.value = campaigns.some((c) => c.id === keep) ? keep : '';
}

/** Clears the builder to "everyone" and shows that count. */
export function resetAudience(): void {
  for (const b of document.querySelectorAll<HTMLInputElement>('#audience-builder [data-audience-channel]')) b.checked = true;
  for (const id of ['ab-tags-all', 'ab-tags-any', 'ab-tags-none', 'ab-languages', 'ab-followed-after', 'ab-active']) input(id).value = '';
  select('ab-campaign').value = '';
  void refreshEstimate();
}

function fieldErrors(fields: Array<{ field: string; message: string }>): void {
  for (const p of byId('audience-builder').querySelectorAll<HTMLElement>('[data-bc-error-for]')) {
    const key = p.dataset.bcErrorFor!;
    p.textContent = fields.filter((f) => f.field === key || f.field.startsWith(`${key}.`)).map((f) => f.message).join('; ');
  }
}

export async function refreshEstimate(): Promise<void> {
  clearTimeout(state.timer);
  const generation = ++state.generation;
  const out = byId('ab-estimate');
  const audience = readAudience();
  if (audience.channels?.length === 0) {
    delete out.dataset.state;
    fieldErrors([{ field: 'audience.channels', message: 'choose at least one channel' }]);
    out.className = 'estimate reason';
    out.textContent = 'No channel chosen: nobody would get it.';
    return;
  }
  out.dataset.state = 'counting';
  const r = await api<EstimateJson>('/api/v1/audiences/estimate', { method: 'POST', json: { audience } });
  if (generation !== state.generation) return;
  delete out.dataset.state;
  out.textContent = '';
  if (!r.ok) {
    fieldErrors(r.error.fields);
    out.className = 'estimate reason';
    out.textContent = r.error.message;
    return;
  }
  fieldErrors([]);
  out.className = 'estimate';
  const total = el('span', `${num(r.body.contacts)} contact${r.body.contacts === 1 ? '' : 's'}`);
  total.dataset.total = String(r.body.contacts);
  out.append(total);
  for (const [channel, n] of Object.entries(r.body.byChannel)) {
    const s = el('span', `${channel} ${num(n)}`);
    s.dataset.channel = channel;
    s.dataset.count = String(n);
    out.append(s);
  }
}
