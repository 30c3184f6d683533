import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { campaignBody } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc.stop();
});

describe('GET /api/v1/campaigns/:id/preview', () => {
  it('shows the card and the coupon page in each of the four languages, issuing nothing', async () => {
    const created = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({
      slug: 'preview-me', name: '春のコーヒー', timeZone: 'Asia/Tokyo', expiry: { mode: 'fromSend', days: 7 },
      reward: { type: 'amount', value: 300, currency: 'JPY', minSpend: 1500 },
    }));
    expect(created.status).toBe(201);
    const res = await request(svc.url).get(`/api/v1/campaigns/${created.body.id}/preview`).set(svc.admin);
    expect(res.status).toBe(200);
    expect(res.body.previews.map((p: { locale: string }) => p.locale)).toEqual(['en', 'ja', 'zh-TW', 'th']);
    const byLocale = Object.fromEntries(res.body.previews.map((p: { locale: string }) => [p.locale, p])) as Record<string, { card: Record<string, string>; page: string }>;
    expect(byLocale.ja!.card).toMatchObject({ campaignName: '春のコーヒー', rewardText: '300円引き（1,500円以上のお買い上げで）', buttonLabel: 'クーポンを開く' });
    expect(byLocale.ja!.card.deadlineText).toMatch(/^有効期限：/);
    expect(byLocale.en!.card).toMatchObject({ rewardText: '¥300 off (min. spend ¥1,500)', buttonLabel: 'Open coupon' });
    expect(byLocale['zh-TW']!.card.buttonLabel).toBe('查看優惠券');
    expect(byLocale.th!.card.buttonLabel).toBe('เปิดคูปอง');
    for (const [locale, text] of [['en', 'Redeem'], ['ja', '引き換える'], ['zh-TW', '立即兌換'], ['th', 'แลกคูปอง']] as const) {
      expect(byLocale[locale]!.page).toContain(`<html lang="${locale}">`);
      expect(byLocale[locale]!.page).toContain(`>${text}</button>`);
      expect(byLocale[locale]!.page).toContain('春のコーヒー');
    }
    const issued = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM coupons WHERE campaign_id = ${created.body.id}`);
    expect((issued.rows[0] as { n: number }).n).toBe(0);
  });

  it('answers 404 for an unknown campaign and 401 without the admin token', async () => {
    const missing = await request(svc.url).get('/api/v1/campaigns/cmp_nope/preview').set(svc.admin);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const anonymous = await request(svc.url).get('/api/v1/campaigns/cmp_nope/preview');
    expect(anonymous.status).toBe(401);
  });
});
