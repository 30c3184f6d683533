import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { sentCoupon } from '../support/browser.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let clockNow = new Date('2026-12-01T09:00:00Z');
let marketer: Awaited<ReturnType<typeof personOf>>;
let agent: Awaited<ReturnType<typeof personOf>>;
let staff: Awaited<ReturnType<typeof personOf>>;

beforeAll(async () => {
  svc = await startTestService({ clock: () => clockNow, env: { TZ_DEFAULT: 'Asia/Taipei' } });
  marketer = await personOf(svc, 'marketer', 'Mia Marketer');
  agent = await personOf(svc, 'agent', 'Amy Agent');
  staff = await personOf(svc, 'staff', 'Sam Staff');
});
afterAll(async () => {
  await svc?.stop();
});

async function activeChat(userId: string) {
  const contact = await ensureContact(svc.ctx.db, 'line', userId, { at: clockNow });
  return await ensureConversation(svc.ctx.db, contact, userId, { inboundAt: new Date(clockNow.getTime() - 60_000) });
}

async function audit(query: string) {
  const r = await request(svc.url).get(`/api/v1/audit?${query}`).set(svc.admin);
  expect(r.status).toBe(200);
  return r.body.entries as Array<{ actor: { id: string; name: string; role: string }; action: string; target: { type: string; id: string; name: string | null }; details: Record<string, unknown> }>;
}

describe('audit log entries and per-agent limits', () => {
  let campaignId: string;

  it('records campaigns created and updated and serials loaded, with the person who did it', async () => {
    const created = await request(svc.url).post('/api/v1/campaigns').set(marketer.header).send({
      name: 'Agent gift', slug: 'agent-gift', sendStart: '2026-11-01T00:00:00Z', sendEnd: '2027-01-31T00:00:00Z',
      expiry: { mode: 'fromSend', days: 7 }, reward: { type: 'percent', value: 10 }, verification: true,
    });
    expect(created.status).toBe(201);
    campaignId = created.body.id;
    const patched = await request(svc.url).patch(`/api/v1/campaigns/${campaignId}`).set(marketer.header).send({ name: 'Agent gift 10%' });
    expect(patched.status).toBe(200);
    const loaded = await request(svc.url).post(`/api/v1/campaigns/${campaignId}/serials`).set(marketer.header).send({ fixed: { code: 'GIFT10', quantity: 50 } });
    expect(loaded.status).toBe(200);

    const mine = await audit(`actor=${marketer.id}`);
    expect(mine.map((e) => e.action)).toEqual(['serials.loaded', 'campaign.updated', 'campaign.created']);
    expect(mine[2]).toMatchObject({ actor: { id: marketer.id, name: 'Mia Marketer', role: 'marketer' }, target: { type: 'campaign', id: campaignId, name: 'Agent gift' } });
    expect(mine[1]!.details).toEqual({ fields: ['name'] });
    expect(mine[0]!.details).toMatchObject({ kind: 'fixed' });
  });

  it('holds an agent to the campaign\'s daily limit, with the reason in the workbench, and shows who sent each coupon', async () => {
    // Only marketers (and the owner) set the limit.
    expect((await request(svc.url).put(`/api/v1/campaigns/${campaignId}/agent-limit`).set(agent.header).send({ perAgentPerDay: 5 })).status).toBe(403);
    const bad = await request(svc.url).put(`/api/v1/campaigns/${campaignId}/agent-limit`).set(marketer.header).send({ perAgentPerDay: 0 });
    expect(bad.status).toBe(400);
    const set = await request(svc.url).put(`/api/v1/campaigns/agent-gift/agent-limit`).set(marketer.header).send({ perAgentPerDay: 1 });
    expect(set.body).toEqual({ campaignId, perAgentPerDay: 1 });

    const first = await activeChat('U-limit-1');
    const second = await activeChat('U-limit-2');
    const sent = await request(svc.url).post('/api/v1/workbench/send').set(agent.header).send({ conversationId: first.id, campaignId });
    expect(sent.status).toBe(201);

    const refused = await request(svc.url).post('/api/v1/workbench/send').set(agent.header).send({ conversationId: second.id, campaignId });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('agent_limit_reached');
    expect(refused.body.error.message).toContain('your daily limit is 1');
    const list = await request(svc.url).get(`/api/v1/workbench/coupons?conversationId=${second.id}`).set(agent.header);
    const row = list.body.coupons.find((c: { campaignId: string }) => c.campaignId === campaignId);
    expect(row).toMatchObject({ sendable: false, reasonCode: 'agent_limit_reached', agentLimit: { perDay: 1, sentToday: 1 } });
    // Another agent has a day of their own; the owner is not limited.
    const other = await personOf(svc, 'agent', 'Ben Agent');
    expect((await request(svc.url).post('/api/v1/workbench/send').set(other.header).send({ conversationId: second.id, campaignId })).status).toBe(201);

    // The next day (in the shop's time zone) the agent may send again.
    clockNow = new Date('2026-12-01T16:30:00Z'); // 00:30 on 2 December in Taipei
    const third = await activeChat('U-limit-3');
    expect((await request(svc.url).post('/api/v1/workbench/send').set(agent.header).send({ conversationId: third.id, campaignId })).status).toBe(201);

    const records = await request(svc.url).get(`/api/v1/campaigns/${campaignId}/records`).set(marketer.header);
    expect(records.body.records.map((r: { sentBy: string }) => r.sentBy).sort()).toEqual(['Amy Agent', 'Amy Agent', 'Ben Agent']);
    const csv = await request(svc.url).get(`/api/v1/campaigns/${campaignId}/records?format=csv`).set(marketer.header);
    expect(csv.text).toContain('Amy Agent');

    const sends = await audit(`action=coupon.sent&actor=${agent.id}`);
    expect(sends).toHaveLength(2);
    expect(sends[1]).toMatchObject({ actor: { name: 'Amy Agent', role: 'agent' }, target: { type: 'coupon', id: sent.body.coupon.id }, details: { campaignId, conversationId: first.id, channel: 'line' } });
  });

  it('records verifications with the staff member who made them', async () => {
    const coupon = await sentCoupon(svc, campaignId, 'U-verify-audit');
    await deliverDue(svc.ctx, async () => ({ outcome: 'sent' }));
    const redeemed = await request(svc.url).post(`/c/${coupon.token}/redeem`).set('Accept', 'application/json');
    expect(redeemed.status).toBe(200);
    const verified = await request(svc.url).post('/api/v1/verifications').set(staff.header).send({ couponId: coupon.id });
    expect(verified.status).toBe(200);
    const entries = await audit('action=coupon.verified');
    expect(entries[0]).toMatchObject({ actor: { id: staff.id, name: 'Sam Staff', role: 'staff' }, target: { type: 'coupon', id: coupon.id } });
  });
});
