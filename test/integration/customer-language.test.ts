import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { ensureContact } from '../../src/contacts/contacts.ts';
import { campaignBody } from '../support/campaigns.ts';
import { loadSerials, makeCampaign, meTokenOf, sentCoupon } from '../support/browser.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ env: { TZ_DEFAULT: 'Asia/Taipei', DEFAULT_LOCALE: 'th' } });
});
afterAll(async () => {
  await svc.stop();
});

const lang = (html: string) => /<html lang="([^"]+)">/.exec(html)?.[1];
const setLanguage = (userId: string, language: string | null) =>
  query(svc.ctx.db, sql`UPDATE contacts SET language = ${language} WHERE channel = 'line' AND platform_user_id = ${userId}`);

describe('campaign locale and timeZone', () => {
  it('defaults to DEFAULT_LOCALE and TZ_DEFAULT, reads back, and changes with PATCH', async () => {
    const created = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ slug: 'lang-defaults' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ locale: 'th', timeZone: 'Asia/Taipei' });
    const patched = await request(svc.url).patch(`/api/v1/campaigns/${created.body.id}`).set(svc.admin).send({ locale: 'ja', timeZone: 'asia/tokyo' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ locale: 'ja', timeZone: 'Asia/Tokyo' });
    const read = await request(svc.url).get(`/api/v1/campaigns/${created.body.id}`).set(svc.admin);
    expect(read.body).toMatchObject({ locale: 'ja', timeZone: 'Asia/Tokyo' });
  });

  it('refuses a language we do not write and a zone that is not IANA, changing nothing', async () => {
    const created = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ slug: 'lang-bad', locale: 'zh-TW', timeZone: 'Asia/Bangkok' }));
    expect(created.body).toMatchObject({ locale: 'zh-TW', timeZone: 'Asia/Bangkok' });
    for (const bad of [{ locale: 'fr' }, { locale: 'zh-CN' }, { timeZone: 'Mars/Olympus' }, { timeZone: 'GMT+8 ' }, { timeZone: 8 }]) {
      const res = await request(svc.url).patch(`/api/v1/campaigns/${created.body.id}`).set(svc.admin).send(bad);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.message).toMatch(/locale|timeZone/);
    }
    const bad = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ slug: 'lang-bad-2', timeZone: 'Nowhere/City' }));
    expect(bad.status).toBe(400);
    const read = await request(svc.url).get(`/api/v1/campaigns/${created.body.id}`).set(svc.admin);
    expect(read.body).toMatchObject({ locale: 'zh-TW', timeZone: 'Asia/Bangkok' });
  });
});

describe('the language of customer pages', () => {
  it('follows the browser\'s choice, the contact, Accept-Language, the campaign, then DEFAULT_LOCALE', async () => {
    const campaign = await makeCampaign(svc, { slug: 'lang-choice', locale: 'ja', timeZone: 'Asia/Tokyo' });
    await loadSerials(svc, campaign.id, ['LC-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-lang-1');
    const page = `/c/${coupon.token}`;

    // The campaign's locale when nothing else is known.
    const plain = await request(svc.url).get(page);
    expect(lang(plain.text)).toBe('ja');
    expect(plain.text).toContain('引き換える');
    expect(plain.text).toContain('有効期限：');

    // The browser's language beats the campaign's.
    const browser = await request(svc.url).get(page).set('Accept-Language', 'ko-KR,ko;q=0.9,zh-HK;q=0.8,en;q=0.5');
    expect(lang(browser.text)).toBe('zh-TW');
    expect(browser.text).toContain('立即兌換');

    // The contact's language beats the browser's.
    await setLanguage('U-lang-1', 'th-TH');
    const contact = await request(svc.url).get(page).set('Accept-Language', 'zh-TW');
    expect(lang(contact.text)).toBe('th');
    expect(contact.text).toContain('แลกคูปอง');

    // The switch on the page: remembered for this browser, over everything else.
    const switched = await request(svc.url).get(`${page}?lang=en`).set('Accept-Language', 'zh-TW');
    expect(lang(switched.text)).toBe('en');
    const cookie = (switched.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('cc_lang=en'))!;
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const again = await request(svc.url).get(page).set('Cookie', 'other=1; cc_lang=en').set('Accept-Language', 'zh-TW');
    expect(lang(again.text)).toBe('en');
    expect(again.text).toContain('>Redeem<');
    // A redemption keeps the chosen language.
    const redeemed = await request(svc.url).post(`${page}/redeem`).set('Cookie', 'cc_lang=en').type('form').send('');
    expect(lang(redeemed.text)).toBe('en');
    expect(redeemed.text).toContain('Your code');

    // An unknown language in the link or the cookie is ignored.
    const ignored = await request(svc.url).get(`${page}?lang=xx`).set('Cookie', 'cc_lang=fr');
    expect(lang(ignored.text)).toBe('th');
    expect(ignored.headers['set-cookie']).toBeUndefined();
  });

  it('falls back to DEFAULT_LOCALE for pages with nothing to go by, and answers dead links in the browser\'s language', async () => {
    const missing = await request(svc.url).get('/c/unknowntoken123');
    expect(missing.status).toBe(404);
    expect(lang(missing.text)).toBe('th');
    expect(missing.text).toContain('ไม่พบคูปอง');
    const ja = await request(svc.url).get('/me/unknowntoken123').set('Accept-Language', 'ja-JP');
    expect(ja.status).toBe(404);
    expect(lang(ja.text)).toBe('ja');
    expect(ja.text).toContain('ページが見つかりません');
  });

  it('writes the "my coupons" page in the contact\'s language, each date in its campaign\'s zone', async () => {
    const campaign = await makeCampaign(svc, { slug: 'lang-me', locale: 'en', timeZone: 'Asia/Bangkok', reward: { type: 'amount', value: 50, currency: 'THB', minSpend: 300 } });
    await loadSerials(svc, campaign.id, ['LM-1']);
    const coupon = await sentCoupon(svc, campaign.id, 'U-lang-me');
    await setLanguage('U-lang-me', 'th');
    const me = await request(svc.url).get(`/me/${await meTokenOf(svc, 'line', 'U-lang-me')}`);
    expect(me.status).toBe(200);
    expect(lang(me.text)).toBe('th');
    expect(me.text).toContain('คูปองของฉัน');
    expect(me.text).toContain('ลด 50 บาท (เมื่อซื้อครบ 300 บาท)');
    const bangkok = new Intl.DateTimeFormat('th', { timeZone: 'Asia/Bangkok', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .format(coupon.expiresAt!);
    expect(me.text).toContain(`ใช้ได้ถึง ${bangkok}`);
  });
});

describe('the card and chat texts', () => {
  it('writes the card in the contact\'s language with money and dates of the campaign', async () => {
    const campaign = await makeCampaign(svc, { slug: 'lang-card', locale: 'en', timeZone: 'Asia/Tokyo', reward: { type: 'amount', value: 300, currency: 'JPY' } });
    await loadSerials(svc, campaign.id, ['LK-1', 'LK-2']);
    const first = await sentCoupon(svc, campaign.id, 'U-lang-card-en');
    await svc.ctx.db.transaction((tx) => ensureContact(tx, 'line', 'U-lang-card-ja', { language: 'ja' }));
    const second = await sentCoupon(svc, campaign.id, 'U-lang-card-ja');
    const cards = await query(svc.ctx.db, sql`SELECT coupon_id AS "couponId", message FROM outbox WHERE coupon_id IN (${first.id}, ${second.id})`);
    const card = (id: string) => ((cards.rows as Array<{ couponId: string; message: { card: Record<string, string> } }>).find((r) => r.couponId === id)!).message.card;
    expect(card(first.id)).toMatchObject({ rewardText: '¥300 off', buttonLabel: 'Open coupon' });
    expect(card(first.id)!.deadlineText).toMatch(/^Use by .* GMT\+9$/);
    expect(card(second.id)).toMatchObject({ rewardText: '300円引き', buttonLabel: 'クーポンを開く' });
    expect(card(second.id)!.deadlineText).toMatch(/^有効期限：\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d$/);
  });
});
