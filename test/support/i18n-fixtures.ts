import type { CampaignRow } from '../../src/coupons/campaigns.ts';
import type { CouponRow } from '../../src/coupons/coupon-row.ts';
import type { Locale } from '../../src/i18n/locales.ts';

/** Marketers' texts written in each language, as a shop there would write them. */
export const marketerTexts: Record<Locale, { name: string; instructions: string; gift: string; zone: string; currency: string }> = {
  en: { name: 'Spring coffee', instructions: 'One per visit.', gift: 'Free cookie', zone: 'America/New_York', currency: 'USD' },
  ja: { name: '春のコーヒー割引', instructions: 'ご来店ごとにお一つまで。', gift: 'クッキー1枚', zone: 'Asia/Tokyo', currency: 'JPY' },
  'zh-TW': { name: '春季咖啡優惠', instructions: '每次來店限用一張。', gift: '免費餅乾', zone: 'Asia/Taipei', currency: 'TWD' },
  th: { name: 'กาแฟต้อนรับหน้าร้อนสุดคุ้มประจำเดือนเมษายน', instructions: 'ใช้ได้หนึ่งครั้งต่อการมาร้าน', gift: 'คุกกี้ฟรี', zone: 'Asia/Bangkok', currency: 'THB' },
};

export function campaignRow(over: Partial<CampaignRow> = {}): CampaignRow {
  const t = new Date('2026-04-01T00:00:00Z');
  return {
    id: 'cmp_1', slug: 'spring', name: 'Spring coffee', instructions: '', sendStart: t, sendEnd: new Date('2026-06-01T00:00:00Z'),
    expiryMode: 'fromSend', expiryMinutes: 7 * 1440, expiryUnit: 'days', redeemBy: null, perContactLimit: 1, barcode: 'qr',
    colorBackground: '#ffffff', colorButton: '#06c755', colorButtonText: '#ffffff',
    rewardType: 'percent', rewardValue: 10, rewardCurrency: null, rewardText: null, minSpend: null,
    visibility: 'public', verification: true, refusalText: null, remindBeforeHours: null, imageFile: null, imageType: null,
    locale: null, timeZone: null, state: 'active', createdAt: t, updatedAt: t,
    ...over,
  } as CampaignRow;
}

export function couponRow(over: Partial<CouponRow> = {}): CouponRow {
  return {
    id: 'cpn_1', campaignId: 'cmp_1', contactId: 'ctc_1', conversationId: 'cnv_1', token: 'tok_abcdefgh', status: 'sent',
    deliveryStatus: 'sent', deliveryError: null, source: 'api', issuedAt: new Date('2026-04-10T01:00:00Z'),
    sentAt: new Date('2026-04-10T01:00:00Z'), openedAt: null, redeemedAt: null, verifiedAt: null,
    verifiedReceivedAt: null, verifiedBy: null, amount: null, currency: null, storeId: null,
    expiresAt: new Date('2026-04-17T14:59:00Z'), serialCode: null, test: false,
    ...over,
  };
}
