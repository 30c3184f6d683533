import type { CouponCard } from '../../adapters/types.ts';
import type { AppContext } from '../context.ts';
import { campaignImageUrl, campaignTimeZone, type CampaignRow } from '../coupons/campaigns.ts';
import type { CouponRow } from '../coupons/coupon-row.ts';
import { couponCard } from '../coupons/issue.ts';
import { deadlineAtSend } from '../coupons/rules.ts';
import { locales, type Locale } from '../i18n/locales.ts';
import { couponPage } from './coupon-page.ts';
import { newNonce } from './html.ts';

export interface CampaignPreview {
  locale: Locale;
  /** The chat card as a contact reading this language gets it. */
  card: CouponCard;
  /** The coupon page (HTML) as it opens, ready to redeem. */
  page: string;
}

/** A coupon of the campaign as if sent now, ready to redeem. Nothing is issued or stored. */
function previewCoupon(ctx: AppContext, campaign: CampaignRow): CouponRow {
  const now = ctx.clock();
  return {
    id: 'cpn_preview', campaignId: campaign.id, contactId: 'ctc_preview', conversationId: null, token: 'preview',
    status: 'sent', deliveryStatus: 'sent', deliveryError: null, source: 'api', issuedAt: now, sentAt: now,
    // Already opened: the preview's script never reports an open.
    openedAt: now, redeemedAt: null, verifiedAt: null, expiresAt: deadlineAtSend(campaign, now), serialCode: null,
    verifiedReceivedAt: null, verifiedBy: null, amount: null, currency: null, storeId: null, test: false,
  };
}

/** The chat card of the campaign in each of our languages. */
export function campaignCards(ctx: AppContext, campaign: CampaignRow): Array<{ locale: Locale; card: CouponCard }> {
  const coupon = previewCoupon(ctx, campaign);
  return locales.map((locale) => ({ locale, card: couponCard(ctx, campaign, coupon, { language: locale }) }));
}

/**
 * The coupon page of the campaign in one language. `imageUrl` stands in for the campaign's own
 * image (an image picked in the form, not uploaded yet).
 */
export function campaignPreviewPage(ctx: AppContext, campaign: CampaignRow, locale: Locale, nonce: string, imageUrl?: string): string {
  const coupon = previewCoupon(ctx, campaign);
  const page = couponPage({
    token: coupon.token, campaign, coupon, status: 'sent', imageUrl: imageUrl ?? campaignImageUrl(ctx, campaign), locale,
    timeZone: campaignTimeZone(ctx, campaign), barcode: null,
  }, nonce);
  // The preview frame is sandboxed (no script, no form sent): the page's own script stays out.
  return page.replace(/<script type="module" src="[^"]*"><\/script>/g, '');
}

/**
 * What a customer would see of a campaign in each of our languages: the card and the coupon page
 * of a coupon sent now. Nothing is issued or stored.
 */
export function campaignPreviews(ctx: AppContext, campaign: CampaignRow): CampaignPreview[] {
  return campaignCards(ctx, campaign).map(({ locale, card }) => ({ locale, card, page: campaignPreviewPage(ctx, campaign, locale, newNonce()) }));
}
