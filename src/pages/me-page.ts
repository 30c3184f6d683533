import type { ContactCoupons } from '../coupons/contact-coupons.ts';
import { formatDeadline } from '../coupons/rules.ts';
import { statusLabel } from './coupon-page.ts';
import { html, renderPage } from './html.ts';

/** The contact's coupon list: each coupon links to its page. */
export function mePage(list: ContactCoupons, timeZone: string, nonce: string): string {
  const items = list.coupons.map((c) => html`<li>
<a class="item" href="/c/${encodeURIComponent(c.token)}" data-token="${c.token}">
<h2>${c.campaignName}</h2>
<p class="reward">${c.rewardText}</p>
<p class="muted"><span class="status status-${c.status}" data-status="${c.status}">${statusLabel[c.status]}</span>
${c.expiresAt ? html` · Use by ${formatDeadline(c.expiresAt, timeZone)}` : ''}</p>
</a></li>`);
  const body = html`<main>
<h1>My coupons</h1>
${list.displayName ? html`<p class="muted">${list.displayName}</p>` : ''}
${items.length ? html`<ul class="list" id="coupons">${items}</ul>` : html`<p class="item" id="empty">You have no coupons yet.</p>`}
</main>`;
  return renderPage({ title: 'My coupons', nonce, body });
}
