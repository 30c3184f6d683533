import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import { processInboundDue } from '../../src/contacts/inbound-worker.ts';
import { pruneFinished } from '../../src/maintenance/retention.ts';
import { deliverAll, loadSerials, makeCampaign } from '../support/campaigns.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { flowsDir } from './flow-support.ts';
import { query } from '../../src/db/client.ts';

const INBOX_SECRET = 'inbox-secret-for-chats';
let svc: TestService;
let clockNow = new Date('2026-11-20T10:00:00Z');
const minutesAgo = (m: number) => new Date(clockNow.getTime() - m * 60_000).toISOString();
// The bot answers "hi": its answer is among the chat's messages.
const flows = flowsDir({ 'hi.yaml': 'id: hi\ntrigger: { keyword: [hi] }\nsteps:\n  - say: "Hello from the bot"\n' });

beforeAll(async () => {
  svc = await startTestService({
    clock: () => clockNow,
    env: { INBOX_WEBHOOK_SECRET: INBOX_SECRET, INBOX_CALLBACK_URL: 'http://inbox.test/cb', FLOWS_DIR: flows },
  });
});
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(flows, { recursive: true, force: true });
});

let eventNo = 0;
/** A customer's message from the seller inbox, through the signed webhook and the inbound worker. */
async function inboxMessage(conversation: string, contact: { id: string; name: string }, text: string, createdAt: string) {
  const body = JSON.stringify({
    id: `evt-chat-${++eventNo}`, type: 'message.created', conversation: { id: conversation }, contact, message: { id: `m-${eventNo}`, text }, createdAt,
  });
  const r = await request(svc.url).post('/webhooks/inbox').set('content-type', 'application/json')
    .set('x-inbox-signature', `sha256=${crypto.createHmac('sha256', INBOX_SECRET).update(body).digest('hex')}`).send(body);
  expect(r.status).toBe(200);
  await processInboundDue(svc.ctx);
}

type ChatJson = { conversationId: string; externalId: string; contact: { name: string }; sendable: boolean; reason?: string; reasonCode?: string;
  lastMessages: Array<{ direction: string; text: string | null; kind: string; delivery?: string }>; coupons: Array<{ campaignId: string; status: string; name: string }> };

describe('the agent\'s inbox view: GET /api/v1/workbench/chats, /chat, /deliveries/:couponId', () => {
  let campaignId: string;
  let alice: ChatJson;

  it('lists the chats active now, newest first, with name, channel, last messages, whether a coupon can go there and why not', async () => {
    const c = await makeCampaign(svc.ctx, { name: 'Chat gift', perContactLimit: 1, reward: { type: 'percent', value: 15 } });
    campaignId = c.id;
    await loadSerials(svc.ctx, c.id, ['CG1', 'CG2', 'CG3']);
    await inboxMessage('conv-old', { id: 'k-old', name: 'Olga' }, 'last week', minutesAgo(3 * 24 * 60));
    await inboxMessage('conv-bob', { id: 'k-bob', name: 'Bob' }, 'hello from yesterday', minutesAgo(30 * 60));
    await inboxMessage('conv-alice', { id: 'k-alice', name: 'Alice' }, 'hi', minutesAgo(62));
    await inboxMessage('conv-alice', { id: 'k-alice', name: 'Alice' }, 'any coupons today?', minutesAgo(60));
    await inboxMessage('conv-carol', { id: 'k-carol', name: 'Carol' }, 'is the shop open?', minutesAgo(10));
    // A LINE customer who wrote lately and then blocked the account.
    const blocked = await ensureContact(svc.ctx.db, 'line', 'U-blocked-1', { at: clockNow, displayName: 'Dan', unreachableAt: new Date(minutesAgo(5)) });
    await ensureConversation(svc.ctx.db, blocked, 'U-blocked-1', { inboundAt: new Date(minutesAgo(20)) });

    const r = await request(svc.url).get('/api/v1/workbench/chats').set(svc.admin);
    expect(r.status).toBe(200);
    const chats = r.body.chats as ChatJson[];
    expect(chats.map((c) => c.contact.name)).toEqual(['Carol', 'Dan', 'Alice', 'Bob']);
    alice = chats[2]!;
    expect(alice).toMatchObject({ channel: 'inbox', externalId: 'conv-alice', sendable: true, coupons: [] });
    // The bot's answer was written after both messages (the outbox keeps the database's time).
    expect(alice.lastMessages.map((m) => [m.direction, m.text])).toEqual([['in', 'hi'], ['in', 'any coupons today?'], ['out', 'Hello from the bot']]);
    expect(chats[1]).toMatchObject({ channel: 'line', sendable: false, reasonCode: 'contact_unreachable' });
    expect(chats[3]).toMatchObject({ sendable: false, reasonCode: 'chat_inactive' });
    expect(chats[3]!.reason).toContain('has not written in the last 24 hours');

    const line = await request(svc.url).get('/api/v1/workbench/chats?channel=line').set(svc.admin);
    expect(line.body.chats.map((c: ChatJson) => c.contact.name)).toEqual(['Dan']);
    const longer = await request(svc.url).get('/api/v1/workbench/chats?hours=100').set(svc.admin);
    expect(longer.body.chats.map((c: ChatJson) => c.contact.name)).toContain('Olga');
  });

  it('after a send the chat shows the coupon held, the card among its messages, and "limit" as why no more can go', async () => {
    const agent = await personOf(svc, 'agent', 'Mia');
    const sent = await request(svc.url).post('/api/v1/workbench/send').set(agent.header).send({ channel: 'inbox', externalId: 'conv-alice', campaignId });
    expect(sent.status).toBe(201);
    const couponId = sent.body.coupon.id as string;

    const pending = await request(svc.url).get(`/api/v1/workbench/deliveries/${couponId}`).set(agent.header);
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ couponId, deliveryStatus: 'pending', card: { campaignName: 'Chat gift', rewardText: '15% off', buttonLabel: expect.any(String) } });
    expect(pending.body.card.pageUrl).toMatch(/^http:\/\/coupons\.test\/c\//);
    await deliverAll(svc.ctx);
    const delivered = await request(svc.url).get(`/api/v1/workbench/deliveries/${couponId}`).set(agent.header);
    expect(delivered.body).toMatchObject({ deliveryStatus: 'sent', status: 'sent', deliveryError: null });

    const one = await request(svc.url).get('/api/v1/workbench/chat').query({ channel: 'inbox', externalId: 'conv-alice' }).set(agent.header);
    expect(one.status).toBe(200);
    const chat = one.body.chat as ChatJson;
    expect(chat.conversationId).toBe(alice.conversationId);
    expect(chat.coupons).toEqual([expect.objectContaining({ id: couponId, campaignId, name: 'Chat gift', status: 'sent' })]);
    expect(chat).toMatchObject({ sendable: false, reasonCode: 'limit_reached' });
    expect(chat.lastMessages.map((m) => [m.direction, m.kind, m.delivery ?? null])).toEqual([
      ['in', 'text', null], ['in', 'text', null], ['out', 'text', 'sent'], ['out', 'coupon', 'sent']]);
    expect(chat.lastMessages[3]!.text).toBe('Chat gift — 15% off');
    // By our id, the same chat.
    const byId = await request(svc.url).get('/api/v1/workbench/chat').query({ conversationId: alice.conversationId }).set(agent.header);
    expect(byId.body.chat.externalId).toBe('conv-alice');
  });

  it('names the agent\'s own daily limit as the reason when that is what stops a send', async () => {
    const limited = await personOf(svc, 'agent', 'Noa');
    expect((await request(svc.url).put(`/api/v1/campaigns/${campaignId}/agent-limit`).set(svc.admin).send({ perAgentPerDay: 1 })).status).toBe(200);
    expect((await request(svc.url).post('/api/v1/workbench/send').set(limited.header).send({ channel: 'inbox', externalId: 'conv-carol', campaignId })).status).toBe(201);
    await inboxMessage('conv-erin', { id: 'k-erin', name: 'Erin' }, 'hello', minutesAgo(1));
    const r = await request(svc.url).get('/api/v1/workbench/chats').set(limited.header);
    const erin = (r.body.chats as ChatJson[]).find((c) => c.contact.name === 'Erin')!;
    expect(erin).toMatchObject({ sendable: false, reasonCode: 'agent_limit_reached' });
    // The owner is not held to agents' limits.
    const owner = await request(svc.url).get('/api/v1/workbench/chats').set(svc.admin);
    expect((owner.body.chats as ChatJson[]).find((c) => c.contact.name === 'Erin')).toMatchObject({ sendable: true });
  });

  it('the handoff queue: an agent takes a handed-off chat, another cannot, release clears both', async () => {
    const mia = await personOf(svc, 'agent', 'Mia2');
    const noa = await personOf(svc, 'agent', 'Noa2');
    const carol = (await request(svc.url).get('/api/v1/workbench/chat').query({ channel: 'inbox', externalId: 'conv-carol' }).set(svc.admin)).body.chat as ChatJson;
    const notHanded = await request(svc.url).post(`/api/v1/conversations/${carol.conversationId}/take`).set(mia.header);
    expect(notHanded.status).toBe(409);
    expect(notHanded.body.error.message).toContain('not waiting for an agent');
    // What a flow's handoff step does.
    await svc.ctx.db.transaction((tx) => query(tx, sql`UPDATE conversations SET handoff_at = ${clockNow} WHERE id = ${carol.conversationId}`));
    const queue = await request(svc.url).get('/api/v1/handoffs').set(noa.header);
    expect(queue.body.conversations).toEqual([expect.objectContaining({ id: carol.conversationId, displayName: 'Carol', takenBy: null })]);
    const took = await request(svc.url).post(`/api/v1/conversations/${carol.conversationId}/take`).set(mia.header);
    expect(took.status).toBe(200);
    expect(took.body).toEqual({ id: carol.conversationId, taken: true, takenBy: { id: mia.id, name: 'Mia2' } });
    // Taking it again is harmless; another agent is told who was first.
    expect((await request(svc.url).post(`/api/v1/conversations/${carol.conversationId}/take`).set(mia.header)).status).toBe(200);
    const second = await request(svc.url).post(`/api/v1/conversations/${carol.conversationId}/take`).set(noa.header);
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain('already taken');
    expect((await request(svc.url).get('/api/v1/handoffs').set(noa.header)).body.conversations[0].takenBy).toEqual({ id: mia.id, name: 'Mia2' });
    const chat = (await request(svc.url).get('/api/v1/workbench/chat').query({ conversationId: carol.conversationId }).set(noa.header)).body.chat;
    expect(chat.handoff).toMatchObject({ takenBy: { id: mia.id, name: 'Mia2' } });

    const released = await request(svc.url).post(`/api/v1/conversations/${carol.conversationId}/release`).set(noa.header);
    expect(released.body).toMatchObject({ released: true, handoff: false });
    const row = await query(svc.ctx.db, sql`SELECT handoff_at, handoff_taken_by, handoff_taken_at FROM conversations WHERE id = ${carol.conversationId}`);
    expect(row.rows).toEqual([{ handoff_at: null, handoff_taken_by: null, handoff_taken_at: null }]);
    expect((await request(svc.url).post('/api/v1/conversations/cnv_nope/take').set(mia.header)).status).toBe(404);
  });

  it('messages go with retention: pruned events are no longer shown', async () => {
    clockNow = new Date(Date.now() + (svc.config.RETENTION_DAYS + 1) * 86_400_000);
    try {
      await pruneFinished(svc.ctx);
      const r = await request(svc.url).get('/api/v1/workbench/chat').query({ channel: 'inbox', externalId: 'conv-alice' }).set(svc.admin);
      expect(r.body.chat.lastMessages).toEqual([]);
    } finally {
      clockNow = new Date('2026-11-20T10:00:00Z');
    }
  });

  it('refuses bad input with a clear 4xx and other roles with 403', async () => {
    expect((await request(svc.url).get('/api/v1/workbench/chat').set(svc.admin)).status).toBe(400);
    expect((await request(svc.url).get('/api/v1/workbench/chat?conversationId=cnv_nope').set(svc.admin)).status).toBe(404);
    expect((await request(svc.url).get('/api/v1/workbench/chat?channel=fax&externalId=1').set(svc.admin)).status).toBe(400);
    expect((await request(svc.url).get('/api/v1/workbench/chats?hours=0').set(svc.admin)).status).toBe(400);
    expect((await request(svc.url).get('/api/v1/workbench/chats?sort=name').set(svc.admin)).status).toBe(400);
    const none = await request(svc.url).get('/api/v1/workbench/deliveries/cpn_nope').set(svc.admin);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('not_found');
    const staff = await personOf(svc, 'staff');
    expect((await request(svc.url).get('/api/v1/workbench/chats').set(staff.header)).status).toBe(403);
    expect((await request(svc.url).get('/api/v1/workbench/chats')).status).toBe(401);
  });
});
