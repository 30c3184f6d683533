import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import { newLineUserId } from '../../scripts/support/line-webhook.ts';
import { broadcastRound, issueSlice } from '../../src/broadcasts/broadcast-worker.ts';
import { issueToUser } from '../../src/coupons/issue.ts';
import { redeemCoupon } from '../../src/coupons/redeem.ts';
import { deliverDue, type SendFn } from '../../src/delivery/delivery-worker.ts';
import { loadFixed, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let standin: LineStandin;
let now = new Date();
const messengerSent: string[] = [];

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'line-token' });
  svc = await startTestService({
    env: { LINE_CHANNEL_SECRET: 'secret', LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url },
    clock: () => now,
  });
});
afterAll(async () => {
  await svc?.stop();
  await standin?.close();
});
beforeEach(async () => {
  await query(svc.ctx.db, sql`TRUNCATE contacts, conversations, coupons, outbox, broadcasts, broadcast_recipients, contact_campaign_counters CASCADE`);
  standin.quota = { limit: null, used: 0 };
  standin.requests.length = 0;
  standin.delivered.length = 0;
  messengerSent.length = 0;
  now = new Date();
});

/** LINE goes to the stand-in through the real adapter; Messenger (not configured here) is recorded. */
const send: SendFn = async (delivery, row) => {
  if (row.channel === 'line') return await svc.ctx.channels.line!.send(delivery);
  messengerSent.push(delivery.to.userId);
  return { outcome: 'sent' };
};

function tick(ms: number): void {
  now = new Date(now.getTime() + ms);
}

/** Contacts straight into the table: `n` of a channel with tags, language and activity. */
async function addContacts(n: number, opts: { channel?: string; tags?: string[]; language?: string | null; unreachable?: boolean; lastMessageAgoMs?: number } = {}): Promise<string[]> {
  const channel = opts.channel ?? 'line';
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const userId = channel === 'line' ? newLineUserId() : `${channel}-${Math.random().toString(36).slice(2)}`;
    const r = await query(svc.ctx.db, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token, tags, language, unreachable_at, last_message_at)
      VALUES ('ctc_' || md5(random()::text), ${channel}, ${userId}, md5(random()::text), ${sql.param(opts.tags ?? [])}::text[], ${opts.language ?? null},
        ${opts.unreachable ? now : null}, ${opts.lastMessageAgoMs === undefined ? null : new Date(now.getTime() - opts.lastMessageAgoMs)}) RETURNING id`);
    const id = (r.rows[0] as { id: string }).id;
    if (opts.lastMessageAgoMs !== undefined) {
      await query(svc.ctx.db, sql`INSERT INTO conversations (id, contact_id, channel, external_id, last_inbound_at)
        VALUES ('cnv_' || md5(random()::text), ${id}, ${channel}, ${userId}, ${new Date(now.getTime() - opts.lastMessageAgoMs)})`);
    }
    ids.push(id);
  }
  return ids;
}

async function campaignWithStock(quantity = 10_000, overrides: Record<string, unknown> = {}) {
  const c = await makeCampaign(svc.ctx, overrides);
  await loadFixed(svc.ctx, c.id, 'FIXED-1', quantity);
  return c;
}

const post = (path: string, body: unknown) => request(svc.url).post(path).set(svc.admin).send(body as object);
const get = (path: string) => request(svc.url).get(path).set(svc.admin);

/** Runs the broadcast to its end: slices as the clock moves, deliveries after each. */
async function runToEnd(id: string, stepMs = 1000): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    tick(stepMs);
    const outcome = await issueSlice(svc.ctx, id);
    while ((await deliverDue(svc.ctx, send)) > 0) { /* drain */ }
    if (outcome.state === 'done' || outcome.state === 'idle') return;
  }
  throw new Error('the broadcast did not finish');
}

describe('audience estimates', () => {
  it('counts per channel with every filter, never unreachable or inbox contacts', async () => {
    const c = await campaignWithStock();
    await addContacts(5, { tags: ['vip', 'tokyo'], language: 'ja', lastMessageAgoMs: 3600_000 });
    await addContacts(4, { tags: ['vip'], language: 'zh-TW' });
    await addContacts(3, { tags: ['tokyo'], language: 'en', unreachable: true });
    await addContacts(2, { channel: 'messenger', tags: ['vip'], lastMessageAgoMs: 3600_000 });
    await addContacts(6, { channel: 'inbox', tags: ['vip'] });

    const all = await post('/api/v1/audiences/estimate', { audience: {} });
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ contacts: 11, byChannel: { line: 9, messenger: 2 } });

    const cases: Array<[Record<string, unknown>, number]> = [
      [{ channels: ['line'], tagsAll: ['vip', 'tokyo'] }, 5],
      [{ tagsAny: ['tokyo', 'nobody'] }, 5],
      [{ tagsNone: ['tokyo'] }, 6],
      [{ languages: ['zh'] }, 4],
      [{ languages: ['ja', 'zh-tw'] }, 9],
      [{ activeWithinDays: 1 }, 7],
      [{ campaign: { id: c.id, has: 'none' } }, 11],
      [{ campaign: { id: c.id, has: 'redeemed' } }, 0],
    ];
    for (const [audience, expected] of cases) {
      const res = await post('/api/v1/audiences/estimate', { audience });
      expect([audience, res.body.contacts]).toEqual([audience, expected]);
    }
  });

  it('refuses inbox, unknown keys and unknown campaigns', async () => {
    expect((await post('/api/v1/audiences/estimate', { audience: { channels: ['inbox'] } })).status).toBe(400);
    expect((await post('/api/v1/audiences/estimate', { audience: { tag: 'x' } })).status).toBe(400);
    expect((await post('/api/v1/audiences/estimate', { audience: { campaign: { id: 'cmp_nope', has: 'none' } } })).status).toBe(404);
    expect((await request(svc.url).post('/api/v1/audiences/estimate').send({})).status).toBe(401);
  });
});

describe('broadcasts', () => {
  it('sends one card per recipient at the set rate, skipping with reasons, and reports counts, stats and records', async () => {
    const c = await campaignWithStock();
    const line = await addContacts(25, { tags: ['vip'] });
    await addContacts(1, { channel: 'messenger', tags: ['vip'], lastMessageAgoMs: 3600_000 });
    await addContacts(1, { channel: 'messenger', tags: ['vip'], lastMessageAgoMs: 30 * 3600_000 });
    await addContacts(2, { tags: ['vip'], unreachable: true });
    await addContacts(2, { channel: 'inbox', tags: ['vip'] });
    // One contact already holds this campaign's coupon: the per-contact limit applies.
    await query(svc.ctx.db, sql`INSERT INTO contact_campaign_counters (campaign_id, contact_id, held) VALUES (${c.id}, ${line[0]!}, 1)`);

    const created = await post('/api/v1/broadcasts', { name: 'VIP week', audience: { tagsAll: ['vip'] }, campaignId: c.id, text: 'A gift for you', ratePerSecond: 10 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'VIP week', status: 'running', reason: null,
      counts: { recipients: 27, sent: 0, failed: 0, skipped: 0, pending: 27, holdout: 0 }, skippedBy: {} });
    const id = created.body.id as string;

    // The rate: ten a second.
    tick(1000);
    expect(await issueSlice(svc.ctx, id)).toEqual({ state: 'issued', count: 10 });
    expect(await issueSlice(svc.ctx, id)).toEqual({ state: 'waiting' });
    await runToEnd(id);

    const failures = await query(svc.ctx.db, sql`SELECT channel, last_error FROM outbox WHERE status <> 'sent'`);
    expect(failures.rows).toEqual([]);
    const done = await get(`/api/v1/broadcasts/${id}`);
    expect(done.body).toMatchObject({ status: 'done', counts: { recipients: 27, sent: 25, failed: 0, skipped: 2, pending: 0, holdout: 0 },
      skippedBy: { limit_reached: 1, outside_window: 1 } });
    // One push per LINE recipient (text and card together, one message as LINE counts), each once.
    const pushes = standin.delivered.filter((r) => r.kind === 'push');
    expect(pushes).toHaveLength(24);
    expect(new Set(pushes.map((p) => (p.body as { to: string }).to)).size).toBe(24);
    expect((pushes[0]!.body as { messages: Array<{ type: string; text?: string }> }).messages.map((m) => m.type)).toEqual(['text', 'flex']);
    expect((pushes[0]!.body as { messages: Array<{ text?: string }> }).messages[0]!.text).toBe('A gift for you');
    expect(messengerSent).toHaveLength(1);

    const records = await get(`/api/v1/campaigns/${c.id}/records`);
    expect(records.body.records).toHaveLength(25);
    expect(records.body.records.every((r: { broadcastId: string }) => r.broadcastId === id)).toBe(true);

    const stats = await get(`/api/v1/broadcasts/${id}/stats`);
    expect(stats.body).toEqual({ variants: [{ key: 'a', recipients: 27, sent: 25, opened: 0, redeemed: 0, verified: 0, revenue: {}, revenuePerSent: {} }] });

    const skipped = await query(svc.ctx.db, sql`SELECT reason FROM broadcast_recipients WHERE broadcast_id = ${id} AND status = 'skipped' ORDER BY reason`);
    expect(skipped.rows).toEqual([{ reason: 'limit_reached' }, { reason: 'outside_window' }]);

    // Each recipient's outcome, filtered and a page at a time.
    const refused = await get(`/api/v1/broadcasts/${id}/recipients?status=skipped`);
    expect(refused.status).toBe(200);
    expect(refused.body.next).toBeNull();
    expect(refused.body.recipients.map((r: { reason: string }) => r.reason).sort()).toEqual(['limit_reached', 'outside_window']);
    expect(refused.body.recipients.find((r: { reason: string }) => r.reason === 'limit_reached')).toMatchObject({
      contactId: line[0], channel: 'line', variant: 'a', status: 'skipped', couponId: null, deliveryStatus: null });
    expect((await get(`/api/v1/broadcasts/${id}/recipients?reason=outside_window`)).body.recipients).toEqual([
      expect.objectContaining({ channel: 'messenger', status: 'skipped', reason: 'outside_window' })]);
    const issuedOne = await get(`/api/v1/broadcasts/${id}/recipients?status=issued&limit=1`);
    expect(issuedOne.body.recipients[0]).toMatchObject({ status: 'issued', reason: null, deliveryStatus: 'sent', deliveryError: null });
    expect(issuedOne.body.recipients[0].couponId).toMatch(/^cpn_/);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/api/v1/broadcasts/${id}/recipients?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.recipients.map((r: { contactId: string }) => r.contactId));
      cursor = res.body.next;
    } while (cursor);
    expect(seen).toHaveLength(27);
    expect(new Set(seen).size).toBe(27);
    for (const bad of ['cursor=abc', 'status=sent', 'limit=0', 'colour=red']) {
      const res = await get(`/api/v1/broadcasts/${id}/recipients?${bad}`);
      expect([bad, res.status, res.body.error.code]).toEqual([bad, 400, 'validation_error']);
    }
    expect((await get('/api/v1/broadcasts/brd_nope/recipients')).status).toBe(404);
    expect((await get('/api/v1/broadcasts')).body.broadcasts.map((b: { id: string }) => b.id)).toContain(id);
  });

  it('refuses with all-or-nothing when the quota is short, naming both numbers; up-to-remaining sends what fits', async () => {
    const c = await campaignWithStock();
    await addContacts(30);
    standin.quota = { limit: 100, used: 85 };
    const refused = await post('/api/v1/broadcasts', { name: 'Too many', campaignId: c.id });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect(refused.body.error.message).toMatch(/30 LINE messages/);
    expect(refused.body.error.message).toMatch(/only 15 remain/);
    expect((await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM broadcasts`)).rows[0]).toEqual({ n: 0 });

    const preview = await post('/api/v1/broadcasts/preview', { campaignId: c.id });
    expect(preview.body).toEqual({ uses: 30, remaining: 15 });

    const fit = await post('/api/v1/broadcasts', { name: 'What fits', campaignId: c.id, quota: 'up-to-remaining', ratePerSecond: 1000 });
    expect(fit.status).toBe(201);
    expect(fit.body.counts).toMatchObject({ recipients: 30, skipped: 15, pending: 15 });
    expect(fit.body.skippedBy).toEqual({ quota: 15 });
    await runToEnd(fit.body.id);
    expect((await get(`/api/v1/broadcasts/${fit.body.id}`)).body.counts).toMatchObject({ sent: 15, skipped: 15, pending: 0 });
    expect(standin.quota.used).toBe(100);
  });

  it("pauses with quota_exhausted on LINE's monthly-limit 429 and does not retry it; an ordinary 429 is retried", async () => {
    const c = await campaignWithStock();
    await addContacts(3);
    const created = await post('/api/v1/broadcasts', { name: 'Month end', campaignId: c.id, ratePerSecond: 1000 });
    const id = created.body.id as string;
    tick(1000);
    expect(await issueSlice(svc.ctx, id)).toEqual({ state: 'issued', count: 3 });
    standin.script({ status: 429, body: { message: 'Too many requests' } }, { status: 429, body: { message: 'You have reached your monthly limit.' } });
    await deliverDue(svc.ctx, send);
    const b = await get(`/api/v1/broadcasts/${id}`);
    expect(b.body).toMatchObject({ status: 'paused', reason: 'quota_exhausted', counts: { sent: 1, pending: 2, failed: 0 } });
    const rows = await query(svc.ctx.db, sql`SELECT status, next_attempt_at = 'infinity' AS parked, last_error FROM outbox WHERE broadcast_id = ${id} AND status = 'pending' ORDER BY last_error`);
    expect(rows.rows).toEqual([
      { status: 'pending', parked: true, last_error: 'LINE 429: Too many requests' },
      { status: 'pending', parked: true, last_error: 'LINE 429: You have reached your monthly limit.' },
    ]);
    const before = standin.requests.length;
    expect(await deliverDue(svc.ctx, send)).toBe(0);
    expect(standin.requests.length).toBe(before);

    // Resumed (the quota grew): both go out, once each.
    const resumed = await post(`/api/v1/broadcasts/${id}/resume`, {});
    expect(resumed.body.status).toBe('running');
    await runToEnd(id);
    expect((await get(`/api/v1/broadcasts/${id}`)).body).toMatchObject({ status: 'done', counts: { sent: 3, pending: 0 } });
    expect(standin.delivered.filter((r) => r.kind === 'push')).toHaveLength(3);
  });

  it('pauses, resumes and cancels; a cancelled broadcast withdraws what was not sent', async () => {
    const c = await campaignWithStock();
    await addContacts(20);
    const id = (await post('/api/v1/broadcasts', { name: 'Stop me', campaignId: c.id, ratePerSecond: 5 })).body.id as string;
    tick(1000);
    await issueSlice(svc.ctx, id);
    const paused = await post(`/api/v1/broadcasts/${id}/pause`, {});
    expect(paused.body).toMatchObject({ status: 'paused', reason: null });
    tick(5000);
    expect(await issueSlice(svc.ctx, id)).toEqual({ state: 'idle' });
    expect(await deliverDue(svc.ctx, send)).toBe(0);
    expect((await post(`/api/v1/broadcasts/${id}/resume`, {})).body.status).toBe('running');
    tick(1000);
    await issueSlice(svc.ctx, id);
    while ((await deliverDue(svc.ctx, send)) > 0) { /* drain */ }
    const cancelled = await post(`/api/v1/broadcasts/${id}/cancel`, {});
    expect(cancelled.body).toMatchObject({ status: 'cancelled', counts: { recipients: 20, sent: 10, skipped: 10, pending: 0 }, skippedBy: { cancelled: 10 } });
    const audit = await query(svc.ctx.db, sql`SELECT action FROM audit_log WHERE target_id = ${id} ORDER BY id`);
    expect(audit.rows.map((r) => (r as { action: string }).action)).toEqual(['broadcast.started', 'broadcast.paused', 'broadcast.resumed', 'broadcast.cancelled']);
    expect((await post(`/api/v1/broadcasts/${id}/resume`, {})).status).toBe(409);
    expect((await post(`/api/v1/broadcasts/${id}/pause`, {})).status).toBe(409);
    expect((await post('/api/v1/broadcasts/brd_nope/pause', {})).status).toBe(404);
  });

  it('starts a scheduled broadcast when its time comes', async () => {
    const c = await campaignWithStock();
    await addContacts(4);
    const at = new Date(now.getTime() + 3600_000).toISOString();
    const created = await post('/api/v1/broadcasts', { name: 'Later', campaignId: c.id, sendAt: at });
    expect(created.body).toMatchObject({ status: 'scheduled', sendAt: at, counts: { recipients: 0 } });
    await broadcastRound(svc.ctx);
    expect((await get(`/api/v1/broadcasts/${created.body.id}`)).body.status).toBe('scheduled');
    tick(3600_000);
    await addContacts(1); // joined before the start: included, the list is fixed at the start
    await broadcastRound(svc.ctx);
    const started = await get(`/api/v1/broadcasts/${created.body.id}`);
    expect(started.body).toMatchObject({ status: 'running', counts: { recipients: 5 } });
  });

  it('assigns variants by weight and a holdout, fixed per recipient, and reports each funnel', async () => {
    const [a, b] = [await campaignWithStock(), await campaignWithStock()];
    await addContacts(400);
    const created = await post('/api/v1/broadcasts', {
      name: 'A/B', holdoutPercent: 20, ratePerSecond: 10_000,
      variants: [{ campaignId: a.id, text: 'Hello', weight: 3 }, { campaignId: b.id, weight: 1 }],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const groups = await query(svc.ctx.db, sql`SELECT variant, count(*)::int AS n FROM broadcast_recipients WHERE broadcast_id = ${id} GROUP BY variant ORDER BY variant`);
    const n = Object.fromEntries((groups.rows as Array<{ variant: string; n: number }>).map((g) => [g.variant, g.n]));
    expect(n.holdout! + n.a! + n.b!).toBe(400);
    expect(n.holdout).toBeGreaterThan(50);
    expect(n.holdout).toBeLessThan(110);
    expect(n.a! / n.b!).toBeGreaterThan(2);
    const before = await query(svc.ctx.db, sql`SELECT contact_id, variant FROM broadcast_recipients WHERE broadcast_id = ${id} ORDER BY contact_id`);
    await post(`/api/v1/broadcasts/${id}/pause`, {});
    await post(`/api/v1/broadcasts/${id}/resume`, {});
    await runToEnd(id);
    const after = await query(svc.ctx.db, sql`SELECT contact_id, variant FROM broadcast_recipients WHERE broadcast_id = ${id} ORDER BY contact_id`);
    expect(after.rows).toEqual(before.rows);

    const stats = await get(`/api/v1/broadcasts/${id}/stats`);
    expect(stats.body.variants.map((v: { key: string }) => v.key)).toEqual(['a', 'b', 'holdout']);
    expect(stats.body.variants[0]).toEqual({ key: 'a', recipients: n.a, sent: n.a, opened: 0, redeemed: 0, verified: 0, revenue: {}, revenuePerSent: {} });
    expect(stats.body.variants[2]).toMatchObject({ key: 'holdout', recipients: n.holdout, sent: 0 });
    expect((await get(`/api/v1/broadcasts/${id}`)).body.counts).toMatchObject({ holdout: n.holdout, sent: n.a! + n.b! });
  });

  it('reports revenue per currency for each variant and the holdout, from verified coupons', async () => {
    const [a, b] = [await campaignWithStock(), await campaignWithStock()];
    await addContacts(60);
    const id = (await post('/api/v1/broadcasts', {
      name: 'Revenue', holdoutPercent: 20, ratePerSecond: 10_000, variants: [{ campaignId: a.id }, { campaignId: b.id }],
    })).body.id as string;
    await runToEnd(id);
    const coupons = await query(svc.ctx.db, sql`SELECT r.variant, cp.id, cp.token FROM broadcast_recipients r JOIN coupons cp ON cp.id = r.coupon_id
      WHERE r.broadcast_id = ${id} ORDER BY r.variant, cp.id`);
    const rows = coupons.rows as Array<{ variant: string; id: string; token: string }>;
    const ofA = rows.filter((r) => r.variant === 'a');
    const ofB = rows.filter((r) => r.variant === 'b');
    const verify = async (c: { id: string; token: string }, amount: number, currency: string) => {
      expect((await redeemCoupon(svc.ctx, c.token)).ok).toBe(true);
      const res = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: c.id, amount, currency });
      expect(res.status).toBe(200);
    };
    await verify(ofA[0]!, 1200, 'TWD');
    await verify(ofA[1]!, 800.5, 'TWD');
    await verify(ofA[2]!, 300, 'JPY');
    await verify(ofB[0]!, 99.99, 'TWD');
    // A holdout contact who redeemed a coupon of the campaign some other way after the start.
    const holdout = await query(svc.ctx.db, sql`SELECT c.channel, c.platform_user_id AS "userId" FROM broadcast_recipients r JOIN contacts c ON c.id = r.contact_id
      WHERE r.broadcast_id = ${id} AND r.variant = 'holdout' LIMIT 2`);
    const [h, tester] = holdout.rows as Array<{ channel: 'line'; userId: string }>;
    const other = await issueToUser(svc.ctx, a.id, h!.channel, h!.userId);
    if (!other.ok) throw new Error(other.message);
    // A marketer's test coupon to another holdout contact is not a customer's redemption.
    const test = await issueToUser(svc.ctx, a.id, tester!.channel, tester!.userId, { test: true });
    if (!test.ok) throw new Error(test.message);
    while ((await deliverDue(svc.ctx, send)) > 0) { /* drain */ }
    await verify(other.coupon, 500, 'TWD');
    await verify(test.coupon, 700, 'TWD');

    const stats = (await get(`/api/v1/broadcasts/${id}/stats`)).body as { variants: Array<Record<string, unknown>> };
    const [va, vb, vh] = stats.variants;
    expect(va).toMatchObject({ key: 'a', sent: ofA.length, redeemed: 3, verified: 3, revenue: { TWD: 2000.5, JPY: 300 } });
    expect(va!.revenuePerSent).toEqual({ TWD: Math.round((2000.5 / ofA.length) * 100) / 100, JPY: Math.round((300 / ofA.length) * 100) / 100 });
    expect(vb).toMatchObject({ key: 'b', sent: ofB.length, redeemed: 1, verified: 1, revenue: { TWD: 99.99 } });
    expect(vh).toMatchObject({ key: 'holdout', sent: 0, redeemed: 1, verified: 1, revenue: { TWD: 500 }, revenuePerSent: { TWD: 0 } });
  });

  it('announces broadcast.finished to the shop\'s systems when a broadcast is done or cancelled, once, with the change', async () => {
    const hook = await post('/api/v1/webhooks', { url: 'https://shop.example/hooks', events: ['broadcast.finished'] });
    expect(hook.status).toBe(201);
    try {
      const c = await campaignWithStock();
      await addContacts(6);
      const events = async () => (await query(svc.ctx.db, sql`SELECT e.type, e.payload, e.dedupe_key AS "key", count(d.*)::int AS deliveries
        FROM webhook_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id WHERE e.type = 'broadcast.finished' GROUP BY e.id ORDER BY e.created_at, e.id`)).rows as
        Array<{ type: string; payload: Record<string, unknown>; key: string; deliveries: number }>;

      const done = (await post('/api/v1/broadcasts', { name: 'To the end', campaignId: c.id, ratePerSecond: 2 })).body.id as string;
      tick(1000);
      await issueSlice(svc.ctx, done);
      expect(await events()).toEqual([]); // still running
      await runToEnd(done);
      expect(await issueSlice(svc.ctx, done)).toEqual({ state: 'idle' });
      let got = await events();
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ key: `broadcast:${done}:finished`, deliveries: 1,
        payload: { id: done, name: 'To the end', status: 'done', counts: { recipients: 6, sent: 6, skipped: 0, pending: 0 } } });
      expect(got[0]!.payload).toEqual((await get(`/api/v1/broadcasts/${done}`)).body);

      const stopped = (await post('/api/v1/broadcasts', { name: 'Stopped', campaignId: c.id, ratePerSecond: 1 })).body.id as string;
      expect(await events()).toHaveLength(1);
      expect((await post(`/api/v1/broadcasts/${stopped}/cancel`, {})).status).toBe(200);
      expect((await post(`/api/v1/broadcasts/${stopped}/cancel`, {})).status).toBe(200);
      got = await events();
      expect(got).toHaveLength(2);
      expect(got[1]).toMatchObject({ key: `broadcast:${stopped}:finished`, payload: { id: stopped, status: 'cancelled', skippedBy: { cancelled: 6 } } });
    } finally {
      await query(svc.ctx.db, sql`DELETE FROM webhook_endpoints`);
    }
  });

  it('refuses bad bodies', async () => {
    const c = await campaignWithStock();
    const bad: Array<[Record<string, unknown>, number]> = [
      [{ name: 'x' }, 400],
      [{ name: 'x', campaignId: c.id, variants: [{ campaignId: c.id }] }, 400],
      [{ name: 'x', variants: Array.from({ length: 5 }, () => ({ campaignId: c.id })) }, 400],
      [{ name: 'x', campaignId: c.id, holdoutPercent: 60 }, 400],
      [{ name: 'x', campaignId: c.id, ratePerSecond: 0 }, 400],
      [{ name: 'x', campaignId: c.id, audience: { channels: ['inbox'] } }, 400],
      [{ name: 'x', campaignId: 'cmp_nope' }, 404],
    ];
    for (const [body, status] of bad) expect([body, (await post('/api/v1/broadcasts', body)).status]).toEqual([body, status]);
    const priv = await campaignWithStock(10, { visibility: 'private' });
    expect((await post('/api/v1/broadcasts', { name: 'x', campaignId: priv.id })).status).toBe(422);
    expect((await request(svc.url).post('/api/v1/broadcasts').send({ name: 'x', campaignId: c.id })).status).toBe(401);
  });
});
