/**
 * Every text a customer reads comes from the message catalogue: pages and cards rendered in
 * Japanese, Chinese and Thai, from marketers' texts written in those languages, hold no Latin
 * word at all. A text written straight into a page or an adapter (in English) fails here.
 */
import { describe, expect, it } from '@jest/globals';
import { renderInbox } from '../../adapters/inbox/outbound.ts';
import { renderLine } from '../../adapters/line/outbound.ts';
import { renderMessenger } from '../../adapters/messenger/outbound.ts';
import type { OutboundMessage } from '../../adapters/types.ts';
import type { AppContext } from '../../src/context.ts';
import type { ContactCoupons } from '../../src/coupons/contact-coupons.ts';
import { couponCard } from '../../src/coupons/issue.ts';
import type { CouponStatus } from '../../src/coupons/rules.ts';
import { locales, type Locale } from '../../src/i18n/locales.ts';
import { messages } from '../../src/i18n/messages.ts';
import { couponPage, messagePage, refusalNotice, verifyConfirmPage, type CouponPageView } from '../../src/pages/coupon-page.ts';
import { trusted } from '../../src/pages/html.ts';
import { mePage } from '../../src/pages/me-page.ts';
import { campaignRow, couponRow, marketerTexts } from '../support/i18n-fixtures.ts';

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' };
const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, e: string) => entities[e]!);

/** What a reader sees or hears: text nodes, and the attributes browsers show or read out. */
function visibleTexts(page: string): string[] {
  const body = page
    .replace(/<script\b[\s\S]*?<\/script>/g, '')
    .replace(/<style\b[\s\S]*?<\/style>/g, '')
    // The language switch names each language in itself.
    .replace(/<nav class="langs"[\s\S]*?<\/nav>/g, '')
    // The barcode is a picture.
    .replace(/<svg\b[\s\S]*?<\/svg>/g, '');
  const out: string[] = [];
  for (const m of body.matchAll(/>([^<]+)</g)) if (m[1]!.trim()) out.push(unescape(m[1]!.trim()));
  for (const m of body.matchAll(/\s(?:alt|aria-label|title|data-busy|placeholder)="([^"]*)"/g)) if (m[1]!.trim()) out.push(unescape(m[1]!));
  out.push(unescape(/<title>([^<]*)<\/title>/.exec(page)?.[1] ?? ''));
  return out;
}

const latinWords = (texts: string[]) => texts.flatMap((t) => t.match(/[A-Za-z]{2,}/g) ?? []);

const ctx = { config: { DEFAULT_LOCALE: 'en', TZ_DEFAULT: 'UTC', PUBLIC_BASE_URL: 'https://shop.test' } } as unknown as AppContext;
const statuses: CouponStatus[] = ['pending', 'sent', 'opened', 'redeemed', 'verified', 'expired', 'void'];
const refusals = ['sold_out', 'limit_reached', 'expired', 'not_yet', 'void', 'already_verified', 'not_redeemed', 'verification_disabled', 'not_found', 'something_else'];

function views(locale: Locale): CouponPageView[] {
  const t = marketerTexts[locale];
  const rewards = [
    { rewardType: 'percent' as const, rewardValue: 10 },
    { rewardType: 'amount' as const, rewardValue: 500, rewardCurrency: t.currency, minSpend: 3000 },
    { rewardType: 'gift' as const, rewardValue: null, rewardText: t.gift },
    { rewardType: 'gift' as const, rewardValue: null, rewardText: null },
  ];
  const out: CouponPageView[] = [];
  for (const [i, reward] of rewards.entries()) {
    for (const status of statuses) {
      const campaign = campaignRow({ name: t.name, instructions: t.instructions, timeZone: t.zone, expiryMode: i % 2 ? 'fromRedeem' : 'fromSend', ...reward });
      const coupon = couponRow({
        status, serialCode: '12345678', redeemedAt: new Date('2026-04-11T03:00:00Z'), verifiedAt: status === 'verified' ? new Date('2026-04-11T03:05:00Z') : null,
        expiresAt: i === 3 ? null : new Date('2026-04-17T14:59:00Z'),
      });
      out.push({ token: 'tok_abcdefgh', campaign, coupon, status, imageUrl: null, locale, timeZone: t.zone, barcode: trusted('<svg><text>12345678</text></svg>') });
    }
  }
  const m = messages(locale);
  const base = out[1]!;
  for (const code of refusals) {
    out.push({ ...base, notice: refusalNotice(m, code, { campaignName: t.name, limit: 3, verifiedAt: '2026' }) });
    out.push({ ...base, notice: refusalNotice(m, code, { campaignName: t.name, limit: 1, verifiedAt: null }), hideRedeem: true });
  }
  return out;
}

function list(locale: Locale): ContactCoupons {
  const t = marketerTexts[locale];
  return {
    contactId: 'ctc_1', displayName: null, language: locale,
    coupons: statuses.filter((s) => s !== 'pending' && s !== 'void').map((status, i) => ({
      token: `tok_${i}xxxxxxx`, campaignName: t.name, status, issuedAt: new Date('2026-04-10T00:00:00Z'),
      expiresAt: i % 2 ? null : new Date('2026-04-17T14:59:00Z'), redeemedAt: null, verifiedAt: null, timeZone: t.zone, campaignLocale: null,
      reward: { rewardType: 'amount', rewardValue: 100, rewardCurrency: t.currency, rewardText: null, minSpend: i ? 500 : null },
    })),
  };
}

function allPages(locale: Locale): string[] {
  const m = messages(locale);
  const pages = views(locale).flatMap((v) => [couponPage(v, 'n'), verifyConfirmPage(v, 'n')]);
  pages.push(mePage(list(locale), locale, 'n'), mePage({ ...list(locale), coupons: [] }, locale, 'n'));
  for (const text of [m.couponNotFound, m.serverError, m.badRequest, m.listNotFound({ keyword: '我的優惠券' })]) pages.push(messagePage(locale, text, 'n'));
  return pages;
}

describe('customer pages', () => {
  it.each(locales.filter((l) => l !== 'en'))('hold no text outside the catalogue (%s)', (locale) => {
    const texts = allPages(locale).flatMap((p) => visibleTexts(p).map((t) => t.replace(/12345678/g, '')));
    expect(texts.length).toBeGreaterThan(500);
    expect(latinWords(texts)).toEqual([]);
  });

  it.each(locales)('set <html lang> and mark the current language in the switch (%s)', (locale) => {
    for (const page of allPages(locale)) {
      expect(page).toContain(`<html lang="${locale}">`);
      expect(page).toMatch(new RegExp(`data-lang="${locale}" aria-current="true"`));
    }
  });

  it('show a marketer\'s texts as written, in any language', () => {
    const v = views('ja')[0]!;
    const page = couponPage({ ...v, campaign: { ...v.campaign, name: 'Summer <Sale>', instructions: 'Bring a friend' } }, 'n');
    expect(page).toContain('Summer &lt;Sale&gt;');
    expect(page).toContain('Bring a friend');
  });
});

describe('the coupon card', () => {
  const to = { userId: 'U1', conversationId: 'C1' };

  /** The strings a chat app shows: LINE texts, labels and alt text; Messenger titles; the inbox card's fields. */
  function shownStrings(value: unknown, key = ''): string[] {
    if (typeof value === 'string') return /^(text|label|altText|title|subtitle|reward|deadline|buttonLabel|displayText)$/.test(key) ? [value] : [];
    if (Array.isArray(value)) return value.flatMap((v) => shownStrings(v, key));
    if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => shownStrings(v, k));
    return [];
  }

  it.each(locales.filter((l) => l !== 'en'))('is written from the catalogue in every adapter (%s)', (locale) => {
    const t = marketerTexts[locale];
    for (const reward of [{ rewardType: 'percent' as const, rewardValue: 15 }, { rewardType: 'amount' as const, rewardValue: 300, rewardCurrency: t.currency, minSpend: 2000 }]) {
      for (const expiresAt of [new Date('2026-04-17T14:59:00Z'), null]) {
        const card = couponCard(ctx, campaignRow({ name: t.name, timeZone: t.zone, ...reward }), couponRow({ expiresAt }), { language: locale });
        const message: OutboundMessage = { type: 'coupon', card };
        const shown = [renderLine(message, to), renderMessenger(message, to), renderInbox(message, to)].flatMap((r) => shownStrings(r));
        expect(shown.length).toBeGreaterThan(8);
        expect(latinWords(shown)).toEqual([]);
        expect(shown).toContain(messages(locale).cardButton);
      }
    }
  });

  it('follows the contact\'s language, else the campaign\'s, else the default', () => {
    const campaign = campaignRow({ name: 'Café', locale: 'th', timeZone: 'Asia/Bangkok' });
    expect(couponCard(ctx, campaign, couponRow(), { language: 'ja-JP' }).buttonLabel).toBe('クーポンを開く');
    expect(couponCard(ctx, campaign, couponRow(), { language: 'ko' }).buttonLabel).toBe('เปิดคูปอง');
    const card = couponCard(ctx, campaignRow({ timeZone: 'Asia/Tokyo' }), couponRow(), { language: null });
    expect(card.buttonLabel).toBe('Open coupon');
    expect(card.deadlineText).toBe('Use by Apr 17, 2026, 23:59 GMT+9');
    expect(card.altText).toBe('Coupon: Spring coffee – 10% off (Use by Apr 17, 2026, 23:59 GMT+9)');
    const zh = couponCard(ctx, campaignRow({ timeZone: 'Asia/Taipei', rewardType: 'amount', rewardValue: 100, rewardCurrency: 'TWD' }), couponRow(), { language: 'zh-Hant' });
    expect(zh).toMatchObject({ rewardText: '折抵100元', deadlineText: '使用期限：2026年4月17日 22:59', buttonLabel: '查看優惠券' });
  });
});
