/**
 * Customer pages in all four languages on a 360 px phone: nothing wider than the screen, long
 * words wrapped, `<html lang>` set. The checks hold without Thai or CJK fonts installed: a
 * missing glyph is still drawn as a box of its own width, line breaking (ICU's Thai dictionary,
 * CJK's break-anywhere) does not depend on fonts, and every page is checked a second time with
 * wide letter spacing, so a layout that only fits with narrow glyphs fails here too.
 * Set I18N_SCREENSHOTS=<dir> to keep the screenshots for a look.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { locales, type Locale } from '../../src/i18n/locales.ts';
import { messages } from '../../src/i18n/messages.ts';
import { launchBrowser, loadSerials, makeCampaign, meTokenOf, sentCoupon, signInWithToken } from '../support/browser.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { PATIENCE_MS } from '../support/patience.ts';

let svc: TestService;
let browser: Browser;
let staffToken: string;
const problems: string[] = [];
const shots = process.env.I18N_SCREENSHOTS;

beforeAll(async () => {
  [svc, browser] = await Promise.all([startTestService({ env: { TZ_DEFAULT: 'Asia/Taipei' } }), launchBrowser()]);
  staffToken = (await personOf(svc, 'staff')).header.Authorization.slice('Bearer '.length);
});
afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

const WIDTH = 360;
const small = { viewport: { width: WIDTH, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, bypassCSP: true };

/** Each language's hardest texts: a long campaign name with a word longer than the screen, a long serial, a long link. */
const seeds: Record<Locale, { name: string; instructions: string; currency: string; zone: string }> = {
  en: {
    name: 'Supercalifragilisticexpialidocious anniversary', currency: 'USD', zone: 'America/Los_Angeles',
    instructions: 'Show this page at the till.\n- One per visit\nTerms: https://shop.example/terms/anniversary-celebration-voucher-2026?utm_source=line',
  },
  ja: {
    name: '創業二十周年記念スペシャルドリンク半額キャンペーン期間限定クーポン', currency: 'JPY', zone: 'Asia/Tokyo',
    instructions: 'レジでこの画面をご提示ください。\n- ご来店ごとにお一人様一枚まで\n- 他の割引との併用はできません',
  },
  'zh-TW': {
    name: '開幕二十週年感恩回饋全品項飲料第二杯半價限時優惠券', currency: 'TWD', zone: 'Asia/Taipei',
    instructions: '結帳時請出示此畫面。\n- 每人每次限用一張\n- 不得與其他優惠併用',
  },
  th: {
    // A brand name spelt out in Thai letters is one long word no dictionary knows.
    name: 'ซูเปอร์แคลิฟราจิลิสติกเอ็กซ์เพียลิโดเชียสคาเฟ่', currency: 'THB', zone: 'Asia/Bangkok',
    instructions: 'กรุณาแสดงหน้านี้ที่จุดชำระเงิน\n- ใช้ได้หนึ่งครั้งต่อการมาร้าน\n- ไม่สามารถใช้ร่วมกับโปรโมชันอื่น',
  },
};

/** Elements sticking out to the right of the screen, and the page's own width. */
async function overflow(page: Page): Promise<{ scrollWidth: number; outside: string[] }> {
  return await page.evaluate((width) => {
    const outside: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5)) outside.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, outside };
  }, WIDTH);
}

/** The width in pixels of a PNG (from its IHDR chunk). */
const pngWidth = (png: Buffer) => png.readUInt32BE(16);

async function checkLayout(page: Page, name: string): Promise<void> {
  for (const stress of [false, true]) {
    if (stress) await page.addStyleTag({ content: 'body *{letter-spacing:.35em !important}' });
    const o = await overflow(page);
    expect([name, stress, o.outside]).toEqual([name, stress, []]);
    expect(o.scrollWidth).toBeLessThanOrEqual(WIDTH);
    if (stress && !shots) continue;
    const png = await page.screenshot({ fullPage: true });
    // A page wider than the screen makes a wider full-page screenshot.
    expect(pngWidth(png)).toBe(WIDTH * 2);
    if (shots) {
      fs.mkdirSync(shots, { recursive: true });
      fs.writeFileSync(path.join(shots, `${name}${stress ? '-stress' : ''}.png`), png);
    }
  }
}

describe.each(locales)('customer pages in %s on a 360 px phone', (locale) => {
  it('fit the screen, wrap long words, and say which language they are in', async () => {
    const seed = seeds[locale];
    const m = messages(locale);
    const campaign = await makeCampaign(svc, {
      slug: `layout-${locale.toLowerCase()}`, name: seed.name.slice(0, 50), instructions: seed.instructions, locale, timeZone: seed.zone,
      verification: true, barcode: 'code128', expiry: { mode: 'fromRedeem', days: 3 }, redeemBy: new Date(Date.now() + 20 * 86400_000).toISOString(),
      reward: { type: 'amount', value: 1500, currency: seed.currency, minSpend: 12000 },
    });
    await loadSerials(svc, campaign.id, ['LONGSERIAL-2026-ABCDEFGHIJKLMNO']);
    const user = `U-layout-${locale}`;
    const coupon = await sentCoupon(svc, campaign.id, user);
    const context = await browser.newContext({ ...small, locale });
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${svc.url}/c/${coupon.token}`);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(locale);
    expect(await page.locator('#redeem').textContent()).toBe(m.redeemButton);
    // The long name wraps onto several lines inside the card.
    const h1 = await page.locator('h1').evaluate((e) => ({ height: e.getBoundingClientRect().height, line: parseFloat(getComputedStyle(e).lineHeight) }));
    expect(h1.height).toBeGreaterThan(1.5 * h1.line);
    await checkLayout(page, `${locale}-coupon`);

    await page.reload();
    await page.click('#redeem');
    // A one-time code asks first, in the customer's language.
    await page.waitForSelector('#confirm-question');
    expect(await page.locator('#confirm-question').textContent()).toBe(m.redeemConfirm);
    await checkLayout(page, `${locale}-confirm`);
    await page.click('#confirm');
    await page.waitForSelector('#code');
    expect(await page.locator('[data-field=status]').textContent()).toBe(m.status.redeemed);
    await checkLayout(page, `${locale}-redeemed`);

    // The staff's verify page: the phone at the till signs in once.
    await page.goto(`${svc.url}/c/${coupon.token}/verify`);
    await signInWithToken(page, staffToken);
    if (!page.url().endsWith('/verify')) await page.goto(`${svc.url}/c/${coupon.token}/verify`);
    expect(await page.locator('h1').textContent()).toBe(m.verifyTitle);
    await checkLayout(page, `${locale}-verify`);

    await page.goto(`${svc.url}/me/${await meTokenOf(svc, 'line', user)}`);
    expect(await page.locator('h1').textContent()).toBe(m.myCouponsTitle);
    await checkLayout(page, `${locale}-my-coupons`);

    // The switch changes the language and the choice stays for this browser.
    const other = locale === 'en' ? 'th' : 'en';
    await page.goto(`${svc.url}/c/${coupon.token}`);
    await page.click(`#langs a[data-lang="${other}"]`);
    await page.waitForURL(/\?lang=/);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(other);
    await page.goto(`${svc.url}/me/${await meTokenOf(svc, 'line', user)}`);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe(other);
    expect(await page.locator('h1').textContent()).toBe(messages(other).myCouponsTitle);
    await context.close();
    expect(problems).toEqual([]);
    // Four pages, each laid out twice and photographed whole, in a real browser on a shared machine.
  }, 4 * PATIENCE_MS);
});
