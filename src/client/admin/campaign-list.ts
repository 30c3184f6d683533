import { api } from '../shared/api.ts';
import type { CampaignList } from '../shared/api-types.ts';
import { byId, el, input, show } from '../shared/dom.ts';
import { zonedText } from '../shared/zoned-time.ts';
import { stockText } from '../shared/wording.ts';
import { admin } from './state.ts';

/**
 * The campaign table: name (opens the campaign, with its state when not active), slug, period,
 * reward, visibility, stock. Archived campaigns are listed only when asked for, but stay known so
 * one can still be opened.
 */
export async function loadCampaigns(): Promise<boolean> {
  const r = await api<CampaignList>('/api/v1/campaigns?archived=1');
  if (!r.ok) {
    byId('error').textContent = r.error.message;
    return false;
  }
  admin.campaigns = r.body.campaigns;
  renderCampaigns();
  return true;
}

function renderCampaigns(): void {
  const tbody = byId<HTMLTableElement>('campaigns').tBodies[0]!;
  tbody.textContent = '';
  const archived = input('show-archived').checked;
  const shown = admin.campaigns.filter((c) => archived || c.state !== 'archived');
  for (const c of shown) {
    const tr = el('tr');
    tr.dataset.campaign = c.id;
    const name = el('td');
    const open = el('button', c.name, 'linkish');
    open.type = 'button';
    open.addEventListener('click', () => { location.hash = `campaign/${encodeURIComponent(c.id)}`; });
    name.append(open);
    if (c.state !== 'active') name.append(' ', el('span', c.state, `badge ${c.state === 'paused' ? 'badge-paused' : 'badge-no'}`));
    const visibility = el('td');
    visibility.append(el('span', c.visibility, 'badge'));
    const stock = el('td', null, 'num');
    stock.dataset.field = 'stock';
    if (c.stock?.soldOut) stock.append(el('span', c.stock.kind === 'none' ? 'nothing loaded' : 'sold out', 'badge badge-no'));
    else stock.textContent = stockText(c.stock);
    tr.append(name, el('td', c.slug), el('td', periodText(c)), el('td', c.rewardText), visibility, stock);
    tbody.append(tr);
  }
  show(byId('no-campaigns'), shown.length === 0);
  markSelected();
}

/** The sending period on the campaign's own clock, its zone named once. */
function periodText(c: CampaignList['campaigns'][number]): string {
  return `${zonedText(c.sendStart, c.timeZone).replace(/ \(.*\)$/, '')} – ${zonedText(c.sendEnd, c.timeZone)}`;
}

export function setupCampaignList(): void {
  input('show-archived').addEventListener('change', renderCampaigns);
}

export function markSelected(): void {
  for (const tr of document.querySelectorAll<HTMLTableRowElement>('#campaigns tr[data-campaign]')) {
    tr.classList.toggle('selected', admin.current !== null && tr.dataset.campaign === admin.current.id);
  }
}
