import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import { loadSerials, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
const now = new Date('2026-11-20T10:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600_000);

beforeAll(async () => {
  svc = await startTestService({ clock: () => now });
});
afterAll(async () => {
  await svc.stop();
});

async function chat(channel: 'line' | 'messenger' | 'inbox', userId: string, externalId: string, lastInbound: Date | null) {
  const contact = await ensureContact(svc.ctx.db, channel, userId, { at: now });
  return await ensureConversation(svc.ctx.db, contact, externalId, lastInbound ? { inboundAt: lastInbound } : {});
}

describe('workbench API', () => {
  it('lists the campaigns sendable now, filterable, and says for one chat which can be sent and why not', async () => {
    const pub = await makeCampaign(svc.ctx, { name: 'Coffee 20', reward: { type: 'percent', value: 20 }, perContactLimit: 1 });
    const priv = await makeCampaign(svc.ctx, { name: 'VIP gift', reward: { type: 'gift', text: 'Tote bag' }, visibility: 'private' });
    const soldOut = await makeCampaign(svc.ctx, { name: 'Gone' });
    const later = await makeCampaign(svc.ctx, { name: 'Later', sendStart: '2026-12-01T00:00:00Z', sendEnd: '2026-12-31T00:00:00Z' });
    await loadSerials(svc.ctx, pub.id, ['W1', 'W2']);
    await loadSerials(svc.ctx, priv.id, ['V1']);
    await loadSerials(svc.ctx, later.id, ['L1']);

    const all = await request(svc.url).get('/api/v1/workbench/coupons').set(svc.admin);
    expect(all.status).toBe(200);
    const ids = all.body.coupons.map((c: { campaignId: string }) => c.campaignId);
    expect(ids).toEqual(expect.arrayContaining([pub.id, priv.id]));
    expect(ids).not.toContain(soldOut.id);
    expect(ids).not.toContain(later.id);

    const gifts = await request(svc.url).get('/api/v1/workbench/coupons?reward=gift&visibility=private').set(svc.admin);
    expect(gifts.body.coupons.map((c: { campaignId: string }) => c.campaignId)).toEqual([priv.id]);
    const byName = await request(svc.url).get('/api/v1/workbench/coupons?q=coffee').set(svc.admin);
    expect(byName.body.coupons).toHaveLength(1);
    expect(byName.body.coupons[0]).toMatchObject({ name: 'Coffee 20', rewardText: '20% off', stockLeft: 2 });

    const active = await chat('line', 'U-wb-1', 'U-wb-1', hoursAgo(1));
    const forChat = await request(svc.url).get(`/api/v1/workbench/coupons?conversationId=${active.id}`).set(svc.admin);
    expect(forChat.body.conversation).toMatchObject({ id: active.id, active: true });
    expect(forChat.body.coupons.find((c: { campaignId: string }) => c.campaignId === pub.id).sendable).toBe(true);

    const bad = await request(svc.url).get('/api/v1/workbench/coupons?reward=free').set(svc.admin);
    expect(bad.status).toBe(400);
  });

  it('sends into an active chat (auto-claimed) and refuses with the reason otherwise', async () => {
    const c = await makeCampaign(svc.ctx, { name: 'Send me', perContactLimit: 1, visibility: 'private', reward: { type: 'percent', value: 15 } });
    await loadSerials(svc.ctx, c.id, ['S1', 'S2']);
    const active = await chat('inbox', 'contact-7', 'conv-7', hoursAgo(2));
    const sent = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin)
      .send({ channel: 'inbox', externalId: 'conv-7', campaignId: c.id });
    expect(sent.status).toBe(201);
    expect(sent.body.coupon).toMatchObject({ campaignId: c.id, source: 'agent', status: 'pending' });
    const outbox = await svc.ctx.db.execute(sql`SELECT channel, conversation_id FROM outbox WHERE coupon_id = ${sent.body.coupon.id}`);
    expect(outbox.rows).toEqual([{ channel: 'inbox', conversation_id: active.id }]);

    const again = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: active.id, campaignId: c.id });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('limit_reached');
    const listed = await request(svc.url).get(`/api/v1/workbench/coupons?conversationId=${active.id}`).set(svc.admin);
    expect(listed.body.coupons.find((x: { campaignId: string }) => x.campaignId === c.id)).toMatchObject({ sendable: false, reasonCode: 'limit_reached' });

    const stale = await chat('line', 'U-stale', 'U-stale', hoursAgo(30));
    const r1 = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: stale.id, campaignId: c.id });
    expect(r1.status).toBe(422);
    expect(r1.body.error.code).toBe('chat_inactive');

    const ended = await makeCampaign(svc.ctx, { sendStart: '2026-10-01T00:00:00Z', sendEnd: '2026-11-01T00:00:00Z' });
    await loadSerials(svc.ctx, ended.id, ['E1']);
    const fresh = await chat('line', 'U-fresh', 'U-fresh', hoursAgo(0.1));
    const r2 = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: fresh.id, campaignId: ended.id });
    expect(r2.status).toBe(422);
    expect(r2.body.error.code).toBe('outside_sending_period');

    const empty = await makeCampaign(svc.ctx);
    const r3 = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: fresh.id, campaignId: empty.id });
    expect(r3.status).toBe(409);
    expect(r3.body.error.code).toBe('sold_out');

    const r4 = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: 'cnv_missing', campaignId: c.id });
    expect(r4.status).toBe(404);
    const r5 = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ campaignId: c.id });
    expect(r5.status).toBe(400);
  });

  it("respects Messenger's 24-hour window even when chats stay active longer", async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['M1']);
    svc.ctx.config.ACTIVE_CHAT_HOURS = 48;
    try {
      const conv = await chat('messenger', 'PSID-1', 'PSID-1', hoursAgo(25));
      const r = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: conv.id, campaignId: c.id });
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('chat_inactive');
      expect(r.body.error.message).toMatch(/24-hour window/);
      const line = await chat('line', 'U-long', 'U-long', hoursAgo(25));
      const ok = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: line.id, campaignId: c.id });
      expect(ok.status).toBe(201);
    } finally {
      svc.ctx.config.ACTIVE_CHAT_HOURS = 24;
    }
  });
});
