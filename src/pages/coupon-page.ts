import type { CampaignRow } from '../coupons/campaigns.ts';
import type { CouponRow } from '../coupons/coupon-row.ts';
import { describeReward, formatDeadline, type CouponStatus } from '../coupons/rules.ts';
import { html, jsonForScript, renderPage, trusted, type SafeHtml } from './html.ts';
import { richText } from './rich-text.ts';

export const statusLabel: Record<CouponStatus, string> = {
  pending: 'On its way',
  sent: 'Ready to use',
  opened: 'Ready to use',
  redeemed: 'Redeemed',
  verified: 'Used',
  expired: 'Expired',
  void: 'Withdrawn',
};

export interface Notice {
  kind: 'ok' | 'warn';
  title: string;
  message: string;
}

/** What a person reads when an action is refused: a title for each refusal code. */
const refusalTitles: Record<string, string> = {
  sold_out: 'Sold out',
  limit_reached: 'Limit reached',
  expired: 'This coupon has expired',
  not_yet: 'Not ready yet',
  void: 'This coupon was withdrawn',
  already_verified: 'Already verified',
  not_redeemed: 'Not redeemed yet',
  verification_disabled: 'No verification needed',
  not_found: 'Coupon not found',
};

export function refusalNotice(code: string, message: string): Notice {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return { kind: 'warn', title: refusalTitles[code] ?? 'Sorry', message: text.endsWith('.') ? text : `${text}.` };
}

export interface CouponPageView {
  token: string;
  campaign: CampaignRow;
  coupon: CouponRow;
  /** Effective status (past its deadline: expired). */
  status: CouponStatus;
  imageUrl: string | null;
  timeZone: string;
  /** The inline barcode SVG, when the code is shown and could be drawn. */
  barcode: SafeHtml | null;
  notice?: Notice;
  /** Hide the Redeem button (e.g. after "sold out"). */
  hideRedeem?: boolean;
}

function duration(minutes: number, unit: 'days' | 'hours'): string {
  const n = unit === 'days' ? minutes / 1440 : minutes / 60;
  return `${n} ${unit === 'days' ? (n === 1 ? 'day' : 'days') : (n === 1 ? 'hour' : 'hours')}`;
}

function noticeBlock(n: Notice | undefined): SafeHtml {
  if (!n) return html``;
  return html`<section class="notice${n.kind === 'ok' ? ' notice-ok' : ''}" role="status" data-notice="${n.kind}">
<h2>${n.title}</h2><p>${n.message}</p></section>`;
}

/** A form marked data-once shows its busy label and cannot be sent twice. */
const onceForms = trusted(`document.querySelectorAll('form[data-once]').forEach(function(f){f.addEventListener('submit',function(){var b=f.querySelector('button[data-busy]');if(b){setTimeout(function(){b.disabled=true;b.textContent=b.getAttribute('data-busy');},0);}});});`);

const showsCode = (s: CouponStatus) => s === 'redeemed' || s === 'verified';

export function couponPage(v: CouponPageView, nonce: string): string {
  const { campaign, coupon, status, timeZone: tz } = v;
  const base = `/c/${encodeURIComponent(v.token)}`;
  const code = showsCode(status) ? coupon.serialCode : null;
  const canRedeem = (status === 'sent' || status === 'opened') && !v.hideRedeem;
  const canVerify = campaign.verification && status === 'redeemed';
  const notRedeemedYet = status === 'pending' || status === 'sent' || status === 'opened';

  const deadline: SafeHtml[] = [];
  if (campaign.expiryMode === 'fromRedeem' && notRedeemedYet) {
    deadline.push(html`<li>Valid for ${duration(campaign.expiryMinutes, campaign.expiryUnit)} after you redeem</li>`);
    if (coupon.expiresAt) deadline.push(html`<li>Redeem by <time datetime="${coupon.expiresAt.toISOString()}">${formatDeadline(coupon.expiresAt, tz)}</time></li>`);
  } else if (coupon.expiresAt) {
    deadline.push(html`<li>Use by <time data-field="deadline" datetime="${coupon.expiresAt.toISOString()}">${formatDeadline(coupon.expiresAt, tz)}</time></li>`);
  } else {
    deadline.push(html`<li>No deadline</li>`);
  }

  const body = html`<main>
${noticeBlock(v.notice)}
<article class="card">
${v.imageUrl ? html`<img class="hero" src="${v.imageUrl}" alt="" width="640" height="640">` : ''}
<div class="card-body">
<h1>${campaign.name}</h1>
<p class="reward" data-field="reward">${describeReward(campaign)}</p>
<ul class="meta">
<li>Status: <span class="status status-${status}" data-field="status" data-status="${status}">${statusLabel[status]}</span></li>
${deadline}
${coupon.redeemedAt && showsCode(status) ? html`<li>Redeemed ${formatDeadline(coupon.redeemedAt, tz)}</li>` : ''}
${coupon.verifiedAt && status === 'verified' ? html`<li data-field="verified-at">Verified at ${formatDeadline(coupon.verifiedAt, tz)}</li>` : ''}
</ul>
${code ? html`<div class="code-box">
<p class="muted">Your code</p>
<div class="code" id="code" data-field="code">${code}</div>
${v.barcode ? html`<div class="barcode" id="barcode" role="img" aria-label="Barcode of ${code}">${v.barcode}</div>` : ''}
<p class="muted">${status === 'verified' ? 'This coupon has been used.' : 'Show this code to the staff.'}</p>
</div>` : ''}
${canRedeem ? html`<form method="post" action="${base}/redeem" data-once>
<button class="btn" type="submit" id="redeem" data-busy="Redeeming…">Redeem</button>
<p class="muted">Press Redeem at the till: your code will be shown.</p>
</form>` : ''}
${status === 'pending' ? html`<p class="muted">This coupon is still on its way to your chat. Try again in a moment.</p>` : ''}
${canVerify ? html`<a class="btn btn-secondary" id="verify" href="${base}/verify">Staff: verify</a>` : ''}
</div>
</article>
${campaign.instructions.trim() ? html`<section class="card"><div class="card-body instructions"><h2>How to use</h2>${richText(campaign.instructions)}</div></section>` : ''}
</main>`;

  // Opens are recorded by the script: link-preview crawlers do not run it.
  const recordOpen = coupon.openedAt === null && (status === 'sent' || status === 'opened');
  const script = html`(function(){
var openUrl=${jsonForScript(`${base}/open`)};
if(${jsonForScript(recordOpen)}){try{fetch(openUrl,{method:'POST',keepalive:true,credentials:'omit'}).catch(function(){});}catch(e){}}
${onceForms}
})();`;
  return renderPage({
    title: `${campaign.name} – ${describeReward(campaign)}`,
    nonce,
    body,
    theme: { background: campaign.colorBackground, button: campaign.colorButton, buttonText: campaign.colorButtonText },
    script,
  });
}

export function verifyConfirmPage(v: Omit<CouponPageView, 'notice' | 'hideRedeem'>, nonce: string): string {
  const base = `/c/${encodeURIComponent(v.token)}`;
  const body = html`<main>
<article class="card"><div class="card-body">
<h1>Confirm verification?</h1>
<p>${v.campaign.name} – ${describeReward(v.campaign)}</p>
${v.coupon.serialCode ? html`<p>Code: <span class="code" data-field="code">${v.coupon.serialCode}</span></p>` : ''}
<p class="muted">Staff only. Once verified, the coupon is used and cannot be verified again.</p>
<form method="post" action="${base}/verify" data-once>
<input type="hidden" name="confirm" value="yes">
<div class="actions">
<a class="btn btn-secondary" id="cancel" href="${base}">Cancel</a>
<button class="btn" type="submit" id="confirm" data-busy="Verifying…">Confirm</button>
</div>
</form>
</div></article>
</main>`;
  const script = onceForms;
  return renderPage({
    title: 'Confirm verification?',
    nonce,
    body,
    theme: { background: v.campaign.colorBackground, button: v.campaign.colorButton, buttonText: v.campaign.colorButtonText },
    script,
  });
}

/** A friendly page for unknown links and other dead ends. */
export function messagePage(title: string, message: string, nonce: string): string {
  return renderPage({
    title,
    nonce,
    body: html`<main><article class="card"><div class="card-body"><h1>${title}</h1><p>${message}</p></div></article></main>`,
  });
}
