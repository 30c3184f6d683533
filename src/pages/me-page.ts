import type { ContactCoupons } from '../coupons/contact-coupons.ts';
import { describeRewardIn, formatDateTime } from '../i18n/format.ts';
import type { Locale } from '../i18n/locales.ts';
import { messages } from '../i18n/messages.ts';
import { html, renderPage } from './html.ts';

/** The contact's coupon list: each coupon links to its page, dates in its campaign's zone. */
export function mePage(list: ContactCoupons, locale: Locale, nonce: string): string {
  const m = messages(locale);
  const items = list.coupons.map((c) => html`<li>
<a class="item" href="/c/${encodeURIComponent(c.token)}" data-token="${c.token}">
<h2>${c.campaignName}</h2>
<p class="reward">${describeRewardIn(locale, c.reward)}</p>
<p class="muted"><span class="status status-${c.status}" data-status="${c.status}">${m.status[c.status]}</span>
${c.expiresAt ? html`<span class="deadline">${m.useBy({ date: formatDateTime(locale, c.expiresAt, c.timeZone) })}</span>` : ''}</p>
</a></li>`);
  const body = html`<main>
<h1>${m.myCouponsTitle}</h1>
${list.displayName ? html`<p class="muted">${list.displayName}</p>` : ''}
${items.length ? html`<ul class="list" id="coupons">${items}</ul>` : html`<p class="item" id="empty">${m.noCouponsYet}</p>`}
</main>`;
  return renderPage({ title: m.myCouponsTitle, lang: locale, languageSwitch: m.languageLabel, nonce, body });
}
