import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import { resumeDueRuns } from '../../src/flows/jobs.ts';
import { loadSerials, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { contactOf, flowCampaign, flowsDir, registryOf, runsOf, say, textsOf } from './flow-support.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
const now = new Date('2026-11-20T10:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600_000);
/** The service's clock; only the flows test moves it, and puts it back. */
let clockNow = now;
// A flow that gives its coupon a day and an hour after the customer last wrote.
const dir = flowsDir({
  'later.yaml': 'id: later-gift\ntrigger: { keyword: [later please] }\nsteps:\n  - wait: 25h\n  - coupon: window-gift\n',
});

beforeAll(async () => {
  svc = await startTestService({ clock: () => clockNow, env: { FLOWS_DIR: dir } });
});
afterAll(async () => {
  await svc.stop();
  fs.rmSync(dir, { recursive: true, force: true });
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
    const outbox = await query(svc.ctx.db, sql`SELECT channel, conversation_id FROM outbox WHERE coupon_id = ${sent.body.coupon.id}`);
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

describe("Messenger's 24-hour window, on every path that sends a coupon", () => {
  const issueByApi = (campaignId: string, channel: string, userId: string) => request(svc.url)
    .post(`/api/v1/campaigns/${campaignId}/coupons`).set(svc.admin).send({ channel, userId });
  const couponsOf = async (userId: string) => (await query(svc.ctx.db, sql`SELECT cp.id FROM coupons cp
    JOIN contacts ct ON ct.id = cp.contact_id WHERE ct.channel = 'messenger' AND ct.platform_user_id = ${userId}`)).rows;

  it('the admin API refuses a PSID that never wrote or wrote more than 24 hours ago, and writes nothing', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['API-1', 'API-2']);
    const never = await issueByApi(c.id, 'messenger', 'PSID-never');
    expect(never.status).toBe(422);
    expect(never.body.error).toMatchObject({ code: 'chat_inactive', message: expect.stringMatching(/24-hour window/) });
    await chat('messenger', 'PSID-old', 'PSID-old', hoursAgo(24.5));
    const old = await issueByApi(c.id, 'messenger', 'PSID-old');
    expect(old.status).toBe(422);
    expect(old.body.error.code).toBe('chat_inactive');
    expect([...await couponsOf('PSID-never'), ...await couponsOf('PSID-old')]).toEqual([]);
    const outbox = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM outbox o JOIN contacts ct ON ct.id = o.contact_id
      WHERE ct.platform_user_id IN ('PSID-never', 'PSID-old')`);
    expect(outbox.rows).toEqual([{ n: 0 }]);

    await chat('messenger', 'PSID-recent', 'PSID-recent', hoursAgo(23));
    const ok = await issueByApi(c.id, 'messenger', 'PSID-recent');
    expect(ok.status).toBe(201);
  });

  it('a Messenger chat is active for exactly its window, whatever ACTIVE_CHAT_HOURS says', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['X-1']);
    svc.ctx.config.ACTIVE_CHAT_HOURS = 12;
    try {
      const line = await chat('line', 'U-short', 'U-short', hoursAgo(13));
      const refused = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: line.id, campaignId: c.id });
      expect(refused.status).toBe(422);
      expect(refused.body.error.message).toMatch(/last 12 hours/);
      const messenger = await chat('messenger', 'PSID-13h', 'PSID-13h', hoursAgo(13));
      const sent = await request(svc.url).post('/api/v1/workbench/send').set(svc.admin).send({ conversationId: messenger.id, campaignId: c.id });
      expect(sent.status).toBe(201);
    } finally {
      svc.ctx.config.ACTIVE_CHAT_HOURS = 24;
    }
  });

  it('the workbench lists the chat as not active with the reason', async () => {
    await makeCampaign(svc.ctx, { name: 'Listed' }).then((c) => loadSerials(svc.ctx, c.id, ['L-1']));
    const conv = await chat('messenger', 'PSID-listed', 'PSID-listed', hoursAgo(24.5));
    const listed = await request(svc.url).get(`/api/v1/workbench/coupons?conversationId=${conv.id}`).set(svc.admin);
    expect(listed.body.conversation).toMatchObject({ active: false, reason: expect.stringMatching(/24-hour window/) });
    expect(listed.body.coupons.length).toBeGreaterThan(0);
    for (const coupon of listed.body.coupons) expect(coupon).toMatchObject({ sendable: false, reasonCode: 'chat_inactive' });
  });

  it('a flow step that comes due after the window closed issues nothing (a LINE contact gets the same coupon)', async () => {
    await flowCampaign(svc.ctx, 'window-gift');
    await registryOf(svc.ctx).reload();
    try {
      await say(svc.ctx, 'messenger', 'PSID-flow', 'later please');
      await say(svc.ctx, 'line', 'U-flow', 'later please');
      clockNow = new Date(now.getTime() + 27 * 3600_000);
      expect(await resumeDueRuns(svc.ctx)).toBe(2);

      expect(await textsOf(svc.ctx, 'line', 'U-flow')).toEqual(['[coupon Campaign window-gift]']);
      // Refused up front: no coupon, no claim, and no refusal text either (it could not be delivered).
      expect(await textsOf(svc.ctx, 'messenger', 'PSID-flow')).toEqual([]);
      expect(await couponsOf('PSID-flow')).toEqual([]);
      const contact = await contactOf(svc.ctx, 'messenger', 'PSID-flow');
      const held = await query(svc.ctx.db, sql`SELECT held FROM contact_campaign_counters WHERE contact_id = ${contact.id}`);
      expect(held.rows).toEqual([]);
      expect((await runsOf(svc.ctx, contact.id)).map((r) => r.status)).toEqual(['done']);
      const step = await query(svc.ctx.db, sql`SELECT sr.outcome FROM flow_step_runs sr JOIN flow_runs r ON r.id = sr.run_id
        WHERE r.contact_id = ${contact.id} AND sr.step_path = '1'`);
      expect(step.rows).toEqual([{ outcome: 'refused' }]);
    } finally {
      clockNow = now;
    }
  });
});
