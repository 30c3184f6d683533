import { api } from '../shared/api.ts';
import type { CampaignList } from '../shared/api-types.ts';
import { byId, el, show } from '../shared/dom.ts';
import { zonedText } from '../shared/zoned-time.ts';
import { stockText } from '../shared/wording.ts';
import { admin } from './state.ts';

/** The campaign table: name (opens the campaign), slug, period, reward, visibility, stock. */
export async function loadCampaigns(): Promise<boolean> {
  const r = await api<CampaignList>('/api/v1/campaigns');
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
  for (const c of admin.campaigns) {
    const tr = el('tr');
    tr.dataset.campaign = c.id;
    const name = el('td');
    const open = el('button', c.name, 'linkish');
    open.type = 'button';
    open.addEventListener('click', () => { location.hash = `campaign/${encodeURIComponent(c.id)}`; });
    name.append(open);
    const visibility = el('td');
    visibility.append(el('span', c.visibility, 'badge'));
    const stock = el('td', null, 'num');
    stock.dataset.field = 'stock';
    if (c.stock?.soldOut) stock.append(el('span', c.stock.kind === 'none' ? 'nothing loaded' : 'sold out', 'badge badge-no'));
    else stock.textContent = stockText(c.stock);
    tr.append(name, el('td', c.slug), el('td', periodText(c)), el('td', c.rewardText), visibility, stock);
    tbody.append(tr);
  }
  show(byId('no-campaigns'), admin.campaigns.length === 0);
  markSelected();
}

/** The sending period on the campaign's own clock, its zone named once. */
function periodText(c: CampaignList['campaigns'][number]): string {
  return `${zonedText(c.sendStart, c.timeZone).replace(/ \(.*\)$/, '')} – ${zonedText(c.sendEnd, c.timeZone)}`;
}

export function markSelected(): void {
  for (const tr of document.querySelectorAll<HTMLTableRowElement>('#campaigns tr[data-campaign]')) {
    tr.classList.toggle('selected', admin.current !== null && tr.dataset.campaign === admin.current.id);
  }
}
