import type { CampaignRow } from '../coupons/campaigns.ts';
import type { CouponRow } from '../coupons/coupon-row.ts';
import type { CouponStatus } from '../coupons/rules.ts';
import { describeDuration, describeRewardIn, formatDateAndTime, formatDateTime } from '../i18n/format.ts';
import type { Locale } from '../i18n/locales.ts';
import { messages, type Messages } from '../i18n/messages.ts';
import { assetUrl } from './client-assets.ts';
import { html, htmlMessage, renderPage, type SafeHtml } from './html.ts';
import { richText } from './rich-text.ts';

export interface Notice {
  kind: 'ok' | 'warn';
  title: string;
  message: string;
}

export type RefusalCode = 'sold_out' | 'limit_reached' | 'expired' | 'not_yet' | 'void' | 'already_verified' | 'not_redeemed'
  | 'verification_disabled' | 'not_found';

/** What a customer (or staff) reads when an action is refused, in their language. */
export function refusalNotice(
  m: Messages, code: string, facts: { campaignName: string; limit: number; verifiedAt: string | null },
): Notice {
  const r = (() => {
    switch (code as RefusalCode) {
      case 'sold_out': return m.soldOut({ name: facts.campaignName });
      case 'limit_reached': return m.limitReached({ limit: facts.limit });
      case 'expired': return m.expired;
      case 'not_yet': return m.notYet;
      case 'void': return m.withdrawn;
      case 'already_verified': return m.alreadyVerified({ date: facts.verifiedAt });
      case 'not_redeemed': return m.notRedeemed;
      case 'verification_disabled': return m.verificationDisabled({ name: facts.campaignName });
      case 'not_found': return m.couponNotFound;
      default: return m.otherRefusal;
    }
  })();
  return { kind: 'warn', title: r.title, message: r.text };
}

export interface CouponPageView {
  token: string;
  campaign: CampaignRow;
  coupon: CouponRow;
  /** Effective status (past its deadline: expired). */
  status: CouponStatus;
  imageUrl: string | null;
  locale: Locale;
  /** The campaign's time zone: every date on the page is shown in it. */
  timeZone: string;
  /** The inline barcode SVG, when the code is shown and could be drawn. */
  barcode: SafeHtml | null;
  notice?: Notice;
  /** Hide the Redeem button (e.g. after "sold out"). */
  hideRedeem?: boolean;
  /** Each code is given once (one-time serials): Redeem asks for a confirmation first. */
  oneTimeCode?: boolean;
}

function noticeBlock(n: Notice | undefined): SafeHtml {
  if (!n) return html``;
  return html`<section class="notice${n.kind === 'ok' ? ' notice-ok' : ''}" role="status" data-notice="${n.kind}">
<h2>${n.title}</h2><p>${n.message}</p></section>`;
}

/** A date inside a sentence, kept machine-readable. */
function timeTag(d: Date, text: string, field?: string): SafeHtml {
  return html`<time${field ? html` data-field="${field}"` : ''} datetime="${d.toISOString()}">${text}</time>`;
}

/** "Used on <date> at <time>", in the campaign's zone; the date and time stay machine-readable. */
function usedOn(m: Messages, locale: Locale, at: Date, tz: string): SafeHtml {
  const parts = formatDateAndTime(locale, at, tz);
  return html`<time datetime="${at.toISOString()}">${m.usedOn(parts)}</time>`;
}

const showsCode = (s: CouponStatus) => s === 'redeemed' || s === 'verified';

export function couponPage(v: CouponPageView, nonce: string): string {
  const { campaign, coupon, status, timeZone: tz, locale } = v;
  const m = messages(locale);
  const date = (d: Date) => formatDateTime(locale, d, tz);
  const reward = describeRewardIn(locale, campaign);
  const base = `/c/${encodeURIComponent(v.token)}`;
  const code = showsCode(status) ? coupon.serialCode : null;
  const canRedeem = (status === 'sent' || status === 'opened') && !v.hideRedeem;
  const canVerify = campaign.verification && status === 'redeemed';
  const notRedeemedYet = status === 'pending' || status === 'sent' || status === 'opened';

  const deadline: SafeHtml[] = [];
  if (campaign.expiryMode === 'fromRedeem' && notRedeemedYet) {
    deadline.push(html`<li>${m.validAfterRedeem({ duration: describeDuration(locale, campaign.expiryMinutes, campaign.expiryUnit) })}</li>`);
    if (coupon.expiresAt) deadline.push(html`<li>${htmlMessage(m.redeemBy, { date: timeTag(coupon.expiresAt, date(coupon.expiresAt)) })}</li>`);
  } else if (coupon.expiresAt) {
    deadline.push(html`<li>${htmlMessage(m.useBy, { date: timeTag(coupon.expiresAt, date(coupon.expiresAt), 'deadline') })}</li>`);
  } else {
    deadline.push(html`<li>${m.noDeadline}</li>`);
  }

  // Opens are recorded by the page's script (src/client/pages/coupon.ts): link-preview crawlers do not run it.
  const recordOpen = coupon.openedAt === null && (status === 'sent' || status === 'opened');
  const body = html`<main${recordOpen ? html` data-open-url="${base}/open"` : ''}>
${coupon.test ? html`<section class="notice notice-test" role="note" data-notice="test"><h2>${m.testTitle}</h2><p>${m.testText}</p></section>` : ''}
${noticeBlock(v.notice)}
<article class="card">
${v.imageUrl ? html`<img class="hero" src="${v.imageUrl}" alt="" width="640" height="640">` : ''}
<div class="card-body">
<h1>${campaign.name}</h1>
<p class="reward" data-field="reward">${reward}</p>
<ul class="meta">
<li><span class="status status-${status}" data-field="status" data-status="${status}">${m.status[status]}</span></li>
${deadline}
${coupon.redeemedAt && showsCode(status) ? html`<li>${htmlMessage(m.redeemedAt, { date: timeTag(coupon.redeemedAt, date(coupon.redeemedAt)) })}</li>` : ''}
${coupon.verifiedAt && status === 'verified' ? html`<li data-field="verified-at" class="used-on">${usedOn(m, locale, coupon.verifiedAt, tz)}</li>` : ''}
</ul>
${code && status === 'verified' ? html`<div class="code-box used" data-field="used">
<p class="muted">${m.yourCode}</p>
<div class="code" id="code" data-field="code">${code}</div>
<p class="muted">${m.couponUsed}</p>
</div>` : code ? html`<div class="code-box">
<p class="muted">${m.yourCode}</p>
<div class="code" id="code" data-field="code">${code}</div>
${v.barcode ? html`<div class="barcode" id="barcode" role="img" aria-label="${m.barcodeOf({ code })}">${v.barcode}</div>` : ''}
<p class="muted">${m.showCodeToStaff}</p>
</div>` : ''}
${canRedeem && v.oneTimeCode ? html`<a class="btn" id="redeem" href="${base}/redeem">${m.redeemButton}</a>
<p class="muted">${m.redeemHint}</p>` : canRedeem ? html`<form method="post" action="${base}/redeem" data-once>
<button class="btn" type="submit" id="redeem" data-busy="${m.redeemBusy}">${m.redeemButton}</button>
<p class="muted">${m.redeemHint}</p>
</form>` : ''}
${status === 'pending' ? html`<p class="muted">${m.pendingHint}</p>` : ''}
${canVerify ? html`<a class="btn btn-secondary" id="verify" href="${base}/verify">${m.staffVerifyLink}</a>` : ''}
</div>
</article>
${campaign.instructions.trim() ? html`<section class="card"><div class="card-body instructions"><h2>${m.howToUse}</h2>${richText(campaign.instructions)}</div></section>` : ''}
</main>`;

  return renderPage({
    title: m.pageTitle({ name: campaign.name, reward }),
    lang: locale,
    languageSwitch: m.languageLabel,
    nonce,
    body,
    theme: { background: campaign.colorBackground, button: campaign.colorButton, buttonText: campaign.colorButtonText },
    scripts: [assetUrl('pages/coupon.ts')],
  });
}

type ConfirmView = Omit<CouponPageView, 'notice' | 'hideRedeem'>;

/**
 * A "are you sure?" step before a coupon changes for good: the question, what it is about, a
 * line of detail, and a form posting `confirm=yes` to `action`, with Cancel back to the coupon.
 */
function confirmPage(v: ConfirmView, nonce: string, step: {
  title: string; heading: SafeHtml; detail: SafeHtml | ''; hint: string; action: string; busy: string; button: string; before?: SafeHtml | '';
}): string {
  const m = messages(v.locale);
  const base = `/c/${encodeURIComponent(v.token)}`;
  const body = html`<main>
${step.before ?? ''}
<article class="card"><div class="card-body">
${step.heading}
<p>${m.pageTitle({ name: v.campaign.name, reward: describeRewardIn(v.locale, v.campaign) })}</p>
${step.detail}
<p class="muted">${step.hint}</p>
<form method="post" action="${base}/${step.action}" data-once>
<input type="hidden" name="confirm" value="yes">
<div class="actions">
<a class="btn btn-secondary" id="cancel" href="${base}">${m.cancel}</a>
<button class="btn" type="submit" id="confirm" data-busy="${step.busy}">${step.button}</button>
</div>
</form>
</div></article>
</main>`;
  return renderPage({
    title: step.title,
    lang: v.locale,
    languageSwitch: m.languageLabel,
    nonce,
    body,
    theme: { background: v.campaign.colorBackground, button: v.campaign.colorButton, buttonText: v.campaign.colorButtonText },
    scripts: [assetUrl('pages/coupon.ts')],
  });
}

export function verifyConfirmPage(v: ConfirmView, nonce: string): string {
  const m = messages(v.locale);
  return confirmPage(v, nonce, {
    title: m.verifyTitle,
    heading: html`<h1>${m.verifyTitle}</h1>`,
    detail: v.coupon.serialCode ? html`<p>${htmlMessage(m.codeLine, { code: html`<span class="code" data-field="code">${v.coupon.serialCode}</span>` })}</p>` : '',
    hint: m.verifyStaffOnly, action: 'verify', busy: m.verifyBusy, button: m.confirm,
  });
}

/** Before a one-time code is taken: "Show this at the till. Redeem now?" (the code is given once). */
export function redeemConfirmPage(v: ConfirmView, nonce: string): string {
  const m = messages(v.locale);
  return confirmPage(v, nonce, {
    title: m.redeemConfirm,
    before: v.coupon.test ? html`<section class="notice notice-test" role="note" data-notice="test"><h2>${m.testTitle}</h2><p>${m.testText}</p></section>` : '',
    heading: html`<h1 id="confirm-question">${m.redeemConfirm}</h1>`,
    detail: '',
    hint: m.redeemConfirmHint, action: 'redeem', busy: m.redeemBusy, button: m.redeemNow,
  });
}

/** A friendly page for unknown links and other dead ends. */
export function messagePage(locale: Locale, text: { title: string; text: string }, nonce: string): string {
  return renderPage({
    title: text.title,
    lang: locale,
    languageSwitch: messages(locale).languageLabel,
    nonce,
    body: html`<main><article class="card"><div class="card-body"><h1>${text.title}</h1><p>${text.text}</p></div></article></main>`,
  });
}
