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

describe('POST /api/v1/campaign-previews (a campaign being written)', () => {
  const draft = (over: Record<string, unknown> = {}) => {
    const { slug: _slug, ...body } = campaignBody({ name: 'Draft sale', locale: 'th', timeZone: 'Asia/Bangkok', reward: { type: 'percent', value: 20 }, ...over });
    return body;
  };

  it('answers the card in each language for fields not saved anywhere', async () => {
    const before = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    const res = await request(svc.url).post('/api/v1/campaign-previews').set(svc.admin).send({ campaign: draft() });
    expect(res.status).toBe(200);
    expect(res.body.previews.map((p: { locale: string }) => p.locale)).toEqual(['en', 'ja', 'zh-TW', 'th']);
    expect(res.body.previews[0].card).toMatchObject({ campaignName: 'Draft sale', rewardText: '20% off', buttonLabel: 'Open coupon' });
    expect(res.body.previews[3].card.buttonLabel).toBe('เปิดคูปอง');
    const after = await request(svc.url).get('/api/v1/campaigns').set(svc.admin);
    expect(after.body.campaigns).toHaveLength(before.body.campaigns.length);
  });

  it('previews an edit on top of the stored campaign, changing nothing', async () => {
    const created = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ slug: 'edit-preview', name: 'Stored name' }));
    const res = await request(svc.url).post('/api/v1/campaign-previews').set(svc.admin).send({ campaign: { name: 'Typed name' }, campaignId: created.body.id });
    expect(res.status).toBe(200);
    expect(res.body.previews[0].card.campaignName).toBe('Typed name');
    expect((await request(svc.url).get(`/api/v1/campaigns/${created.body.id}`).set(svc.admin)).body.name).toBe('Stored name');
  });

  it('refuses a half-written campaign in plain words naming its fields, and callers without the role', async () => {
    const res = await request(svc.url).post('/api/v1/campaign-previews').set(svc.admin).send({ campaign: draft({ reward: { type: 'percent' }, name: '' }) });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual(expect.arrayContaining([
      { field: 'reward.value', message: 'is required' }, { field: 'name', message: 'is required' },
    ]));
    const notObject = await request(svc.url).post('/api/v1/campaign-previews').set(svc.admin).send({ campaign: 'x' });
    expect(notObject.status).toBe(400);
    expect((await request(svc.url).post('/api/v1/campaign-previews').send({ campaign: draft() })).status).toBe(401);
    expect((await request(svc.url).post('/api/v1/campaign-previews').set(svc.pos).send({ campaign: draft() })).status).toBe(403);
  });
});

describe('POST /admin/preview (the phone frame of the campaign form)', () => {
  const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

  it('renders the coupon page for the fields as written, framable only by our own pages, with no script', async () => {
    const { slug: _slug, ...campaign } = campaignBody({ name: '台北春季', instructions: '- **一人一張**', reward: { type: 'amount', value: 100, currency: 'TWD' } });
    const res = await request(svc.url).post('/admin/preview').set(svc.admin).type('form')
      .send({ campaign: JSON.stringify(campaign), locale: 'zh-TW', image: png });
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.text).toContain('<html lang="zh-TW">');
    expect(res.text).toContain('台北春季');
    expect(res.text).toContain('<li><strong>一人一張</strong></li>');
    expect(res.text).toContain(`src="${png}"`);
    expect(res.text).not.toContain('<script');
  });

  it('refuses what is not a campaign or not an image, and callers without the role', async () => {
    const { slug: _slug, ...campaign } = campaignBody();
    const bad = await request(svc.url).post('/admin/preview').set(svc.admin).type('form')
      .send({ campaign: JSON.stringify(campaign), locale: 'en', image: 'javascript:alert(1)' });
    expect(bad.status).toBe(400);
    const notJson = await request(svc.url).post('/admin/preview').set(svc.admin).type('form').send({ campaign: '{', locale: 'en' });
    expect(notJson.status).toBe(400);
    expect((await request(svc.url).post('/admin/preview').type('form').send({ campaign: JSON.stringify(campaign), locale: 'en' })).status).toBe(401);
  });
});

describe('the admin page', () => {
  it('may frame our own pages (the phone preview) and nothing else', async () => {
    const res = await request(svc.url).get('/admin').set(svc.admin);
    expect(res.headers['content-security-policy']).toContain("frame-src 'self'");
  });
});
