import { api } from '../shared/api.ts';
import type { CampaignJson, StatsJson } from '../shared/api-types.ts';
import { byId, el, show } from '../shared/dom.ts';
import { num, pct, zoneLabel } from '../shared/format.ts';
import { isoToZoned } from '../shared/zoned-time.ts';
import { richText } from '../shared/rich-text.ts';
import { barcodeText, expiryText, stockText } from '../shared/wording.ts';
import { loadCampaigns, markSelected } from './campaign-list.ts';
import { loadRecords, resetRecords } from './records.ts';
import { clearRevenue, renderRevenue } from './revenue.ts';
import { admin, campaignPath } from './state.ts';
import { resetUploads, showPoolForms } from './uploads.ts';
import { showCampaignState } from './campaign-state.ts';

/** The campaign on screen: its settings, its funnel, and (below) uploads and records. */
export function selectCampaign(c: CampaignJson): void {
  const changed = admin.current?.id !== c.id;
  admin.current = c;
  markSelected();
  show(byId('detail'), true);
  const result = byId('edit-result');
  if (admin.flash?.id === c.id) {
    result.textContent = admin.flash.text;
    admin.flash = null;
  } else if (changed) {
    result.textContent = '';
  }
  if (changed) {
    resetUploads();
    resetRecords();
  }
  renderSettings(c);
  showCampaignState(c, changed);
  void loadStats(c.id);
  void loadRecords(false);
  if (changed) byId('detail').scrollIntoView({ block: 'start' });
}

export function hideCampaign(): void {
  admin.current = null;
  show(byId('detail'), false);
  markSelected();
}

/** Reloads the list and the campaign on screen (after an upload changed its stock). */
export async function refreshCurrent(): Promise<void> {
  const id = admin.current?.id;
  if (!id) return;
  if (!(await loadCampaigns())) return;
  const c = admin.campaigns.find((x) => x.id === id);
  if (c && admin.current?.id === id) {
    admin.current = c;
    renderSettings(c);
    showCampaignState(c, false);
    await loadStats(id);
  }
}

function settingRow(dl: HTMLElement, label: string, value: Node | string | number | null, field: string): void {
  const dd = el('dd');
  dd.dataset.setting = field;
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value === null ? '' : String(value);
  dl.append(el('dt', label), dd);
}

function swatches(colors: CampaignJson['colors']): HTMLElement {
  const span = el('span');
  for (const [key, label] of [['background', 'background'], ['button', 'button'], ['buttonText', 'button text']] as const) {
    const sw = el('span', null, 'swatch');
    sw.style.background = colors[key];
    span.append(sw, document.createTextNode(`${label} ${colors[key]}  `));
  }
  return span;
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

function renderSettings(c: CampaignJson): void {
  byId('d-name').textContent = c.name;
  const dl = byId('d-settings');
  dl.textContent = '';
  settingRow(dl, 'Slug', c.slug, 'slug');
  settingRow(dl, 'Id', c.id, 'id');
  const at = (iso: string) => isoToZoned(iso, c.timeZone).replace('T', ' ');
  settingRow(dl, 'Time zone', zoneLabel(c.timeZone), 'timeZone');
  byId('records-zone').textContent = `times in ${zoneLabel(c.timeZone)}`;
  settingRow(dl, 'Sending period', `${at(c.sendStart)} – ${at(c.sendEnd)}`, 'period');
  settingRow(dl, 'Expiry', expiryText(c.expiry), 'expiry');
  settingRow(dl, 'Redeem by', c.redeemBy ? at(c.redeemBy) : '—', 'redeemBy');
  settingRow(dl, 'Per contact', c.perContactLimit, 'perContactLimit');
  settingRow(dl, 'Reward', c.rewardText, 'reward');
  settingRow(dl, 'Visibility', c.visibility, 'visibility');
  settingRow(dl, 'Customers\' language', c.locale, 'locale');
  settingRow(dl, 'Verification', c.verification ? 'on' : 'off', 'verification');
  settingRow(dl, 'Barcode', barcodeText(c.barcode), 'barcode');
  settingRow(dl, 'Colours', swatches(c.colors), 'colors');
  const stock = c.stock;
  settingRow(dl, 'Stock', stock ? (stock.soldOut && stock.kind !== 'none' ? `sold out (${num(stock.total)} loaded)` : stockText(stock)) : '', 'stock');
  if (c.remindBeforeHours) settingRow(dl, 'Reminder', `${c.remindBeforeHours} h before expiry`, 'remind');
  if (c.refusalText) settingRow(dl, 'Refusal text', c.refusalText, 'refusalText');
  const instructions = el('div', c.instructions.trim() ? null : '—', 'rich');
  instructions.append(richText(c.instructions));
  settingRow(dl, 'Instructions', instructions, 'instructions');
  showPoolForms(c);
  const img = byId<HTMLImageElement>('image-preview');
  if (c.imageUrl) {
    img.src = samePath(c.imageUrl);
    show(img, true);
  } else {
    img.removeAttribute('src');
    show(img, false);
  }
}

async function loadStats(id: string): Promise<void> {
  const r = await api<StatsJson>(`${campaignPath(id)}/stats`);
  if (admin.current?.id !== id) return;
  const tbody = byId<HTMLTableElement>('funnel').tBodies[0]!;
  tbody.textContent = '';
  const extra = byId('funnel-extra');
  extra.textContent = '';
  clearRevenue();
  if (!r.ok) {
    tbody.append(el('tr'));
    tbody.rows[0]!.append(el('td', r.error.message, 'reason'));
    return;
  }
  const s = r.body;
  const rows: Array<[string, string, number, string]> = [
    ['sent', 'Sent', s.sent, s.sent ? '100%' : ''],
    ['opened', 'Opened', s.opened, `${pct(s.rates.opened)} of sent`],
    ['redeemed', 'Redeemed', s.redeemed, `${pct(s.rates.redeemed)} of sent${s.opened ? `, ${pct(s.rates.redeemedOfOpened)} of opened` : ''}`],
    ['verified', 'Verified', s.verified, `${pct(s.rates.verified)} of redeemed`],
  ];
  for (const [stage, label, count, rate] of rows) {
    const tr = el('tr');
    tr.dataset.stage = stage;
    const n = el('td', num(count), 'num');
    n.dataset.stat = stage;
    const bar = el('td', null, 'bar');
    const fill = el('div', null, 'fill');
    fill.style.width = `${s.sent ? Math.min(100, (count / s.sent) * 100) : 0}%`;
    bar.append(fill);
    const rt = el('td', rate, 'muted');
    rt.dataset.rate = stage;
    tr.append(el('th', label), n, bar, rt);
    tbody.append(tr);
  }
  const more: Array<[string, string, number | string]> = [
    ['expired', 'Expired', s.expired],
    ['stockLeft', 'Stock left', s.stock.soldOut && s.stock.kind !== 'none' ? '0 (sold out)' : num(s.stockLeft)],
    ['issued', 'Issued', s.issued],
    ['deliveryPending', 'Delivery pending', s.deliveryPending],
    ['deliveryFailed', 'Delivery failed', s.deliveryFailed],
  ];
  for (const [key, label, value] of more) {
    const dd = el('dd', typeof value === 'number' ? num(value) : value);
    dd.dataset.stat = key;
    extra.append(el('dt', label), dd);
  }
  renderRevenue(s);
}
