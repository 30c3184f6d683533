import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { sweepExpired } from '../../src/coupons/expiry.ts';
import { issueToUser } from '../../src/coupons/issue.ts';
import { redeemCoupon } from '../../src/coupons/redeem.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { expirySweepJob, jobCatalog } from '../../src/jobs/catalog.ts';
import { deliverAll, loadFixed, loadSerials, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';
import { PATIENCE_MS } from '../support/patience.ts';

let svc: TestService;
let now = new Date('2026-11-20T10:00:00Z');
beforeAll(async () => {
  svc = await startTestService({ clock: () => now });
});
afterAll(async () => {
  await svc.stop();
});

const tokenOf = async (couponId: string) =>
  ((await query(svc.ctx.db, sql`SELECT token FROM coupons WHERE id = ${couponId}`)).rows[0] as { token: string }).token;

describe('issuing', () => {
  it('issues through the API: contact created, card in the outbox, sent once delivered', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['A1', 'A2']);
    const res = await request(svc.url).post(`/api/v1/campaigns/${c.id}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-issue-1' });
    expect(res.status).toBe(201);
    expect(res.body.coupon).toMatchObject({ status: 'pending', deliveryStatus: 'pending', campaignId: c.id, source: 'api' });
    expect(res.body.coupon.pageUrl).toMatch(/^http:\/\/coupons\.test\/c\/[A-Za-z0-9_-]{24}$/);

    const outbox = await query(svc.ctx.db, sql`SELECT message FROM outbox WHERE coupon_id = ${res.body.coupon.id}`);
    expect(outbox.rows).toHaveLength(1);
    const msg = (outbox.rows[0] as { message: { type: string; card: { pageUrl: string; rewardText: string; deadlineText: string } } }).message;
    expect(msg.type).toBe('coupon');
    expect(msg.card.pageUrl).toBe(res.body.coupon.pageUrl);
    expect(msg.card.rewardText).toBe('10% off');
    expect(msg.card.deadlineText).toBe('Use by Nov 27, 2026, 10:00 UTC');

    now = new Date('2026-11-20T10:05:00Z');
    expect(await deliverAll(svc.ctx)).toBe(1);
    now = new Date('2026-11-20T10:00:00Z');
    const records = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records`).set(svc.admin);
    expect(records.body.records[0]).toMatchObject({ status: 'sent', deliveryStatus: 'sent', sentAt: '2026-11-20T10:05:00.000Z', userId: 'U-issue-1', channel: 'line' });
    // From sending: the deadline starts at the confirmed send time.
    expect(records.body.records[0].expiresAt).toBe('2026-11-27T10:05:00.000Z');
  });

  it('refuses outside the sending period, over the limit, on an empty pool, and private campaigns', async () => {
    const early = await makeCampaign(svc.ctx, { sendStart: '2026-12-01T00:00:00Z', sendEnd: '2026-12-31T00:00:00Z' });
    await loadSerials(svc.ctx, early.id, ['E1']);
    let r = await request(svc.url).post(`/api/v1/campaigns/${early.id}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-r1' });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('outside_sending_period');

    const limited = await makeCampaign(svc.ctx, { perContactLimit: 1 });
    await loadSerials(svc.ctx, limited.id, ['L1', 'L2']);
    r = await request(svc.url).post(`/api/v1/campaigns/${limited.id}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-r1' });
    expect(r.status).toBe(201);
    r = await request(svc.url).post(`/api/v1/campaigns/${limited.id}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-r1' });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('limit_reached');

    const empty = await makeCampaign(svc.ctx);
    r = await request(svc.url).post(`/api/v1/campaigns/${empty.id}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-r1' });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('sold_out');

    const priv = await makeCampaign(svc.ctx, { visibility: 'private' });
    await loadSerials(svc.ctx, priv.id, ['P1']);
    r = await request(svc.url).post(`/api/v1/campaigns/${priv.id}/coupons`).set(svc.admin).send({ channel: 'line', userId: 'U-r1' });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('private_campaign');

    r = await request(svc.url).post(`/api/v1/campaigns/${limited.id}/coupons`).set(svc.admin).send({ channel: 'fax', userId: 'U-r1' });
    expect(r.status).toBe(400);
    const issued = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM coupons WHERE campaign_id IN (${early.id}, ${empty.id}, ${priv.id})`);
    expect((issued.rows[0] as { n: number }).n).toBe(0);
  });

  it('a delivery that fails for good voids the coupon, keeps the reason and releases the claim', async () => {
    const c = await makeCampaign(svc.ctx, { perContactLimit: 1 });
    await loadSerials(svc.ctx, c.id, ['F1', 'F2']);
    const first = await issueToUser(svc.ctx, c.id, 'line', 'U-fail');
    expect(first.ok).toBe(true);
    await deliverDue(svc.ctx, async () => ({ outcome: 'failed', error: 'LINE said 400: invalid user' }));
    const rec = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records`).set(svc.admin);
    expect(rec.body.records[0]).toMatchObject({ status: 'void', deliveryStatus: 'failed', deliveryError: 'LINE said 400: invalid user' });
    const again = await issueToUser(svc.ctx, c.id, 'line', 'U-fail');
    expect(again.ok).toBe(true);
  });
});

describe('redeeming, verifying, expiring', () => {
  it('takes one serial, shows the same code twice, and verifies with the POS time as final', async () => {
    const c = await makeCampaign(svc.ctx, { verification: true });
    await loadSerials(svc.ctx, c.id, ['S-1', 'S-2']);
    const issued = await issueToUser(svc.ctx, c.id, 'line', 'U-redeem');
    if (!issued.ok) throw new Error(issued.message);
    const token = await tokenOf(issued.coupon.id);

    const early = await redeemCoupon(svc.ctx, token);
    expect(early).toMatchObject({ ok: false, code: 'not_yet' });

    await deliverAll(svc.ctx);
    const a = await redeemCoupon(svc.ctx, token);
    const b = await redeemCoupon(svc.ctx, token);
    expect(a).toMatchObject({ ok: true, code: 'S-1', alreadyRedeemed: false });
    expect(b).toMatchObject({ ok: true, code: 'S-1', alreadyRedeemed: true });

    const unknown = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'NOPE' });
    expect(unknown.status).toBe(404);
    const future = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'S-1', verifiedAt: '2026-11-20T10:06:00Z' });
    expect(future.status).toBe(400); // more than the skew ahead of our clock
    expect(future.body.error.message).toMatch(/ahead of our clock/);
    // A POS clock two minutes behind ours is a real sale: its time is kept as given, beside ours.
    const ok = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'S-1', verifiedAt: '2026-11-20T09:58:00Z' });
    expect(ok.status).toBe(200);
    expect(ok.body.coupon).toMatchObject({ status: 'verified', verifiedAt: '2026-11-20T09:58:00.000Z', verifiedReceivedAt: '2026-11-20T10:00:00.000Z' });
    const twice = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: issued.coupon.id });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('already_verified');
    const stats = await request(svc.url).get(`/api/v1/campaigns/${c.id}/stats`).set(svc.admin);
    expect(stats.body).toMatchObject({ sent: 1, opened: 1, redeemed: 1, verified: 1, expired: 0, stockLeft: 1 });
  });

  it('refuses verifying an unredeemed coupon, a campaign without verification, and bad bodies', async () => {
    const c = await makeCampaign(svc.ctx, { verification: true });
    await loadSerials(svc.ctx, c.id, ['V-1']);
    const issued = await issueToUser(svc.ctx, c.id, 'line', 'U-v');
    if (!issued.ok) throw new Error(issued.message);
    await deliverAll(svc.ctx);
    let r = await request(svc.url).post('/api/v1/verifications').set(svc.admin).send({ couponId: issued.coupon.id });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('not_redeemed');

    const off = await makeCampaign(svc.ctx, { verification: false });
    await loadSerials(svc.ctx, off.id, ['O-1']);
    const i2 = await issueToUser(svc.ctx, off.id, 'line', 'U-v');
    if (!i2.ok) throw new Error(i2.message);
    await deliverAll(svc.ctx);
    await redeemCoupon(svc.ctx, await tokenOf(i2.coupon.id));
    r = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'O-1' });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('verification_disabled');

    r = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'O-1', couponId: 'x' });
    expect(r.status).toBe(400);
    r = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'O-1', verifiedAt: 'yesterday' });
    expect(r.status).toBe(400);
    r = await request(svc.url).post('/api/v1/verifications').send({ code: 'O-1' });
    expect(r.status).toBe(401);
  });

  it('from redemption: the deadline starts at redemption; expiry reads before the sweep and the sweep persists it', async () => {
    const c = await makeCampaign(svc.ctx, { expiry: { mode: 'fromRedeem', hours: 2 }, redeemBy: '2026-12-31T00:00:00Z', verification: true });
    await loadFixed(svc.ctx, c.id, 'FNA@5841', 10);
    const issued = await issueToUser(svc.ctx, c.id, 'line', 'U-exp');
    if (!issued.ok) throw new Error(issued.message);
    await deliverAll(svc.ctx);
    now = new Date('2026-11-21T08:00:00Z');
    const r = await redeemCoupon(svc.ctx, await tokenOf(issued.coupon.id));
    expect(r).toMatchObject({ ok: true, code: 'FNA@5841' });
    if (!r.ok) return;
    expect(r.coupon.expiresAt).toEqual(new Date('2026-11-21T10:00:00Z'));

    now = new Date('2026-11-21T10:00:01Z');
    const before = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?status=expired`).set(svc.admin);
    expect(before.body.records).toHaveLength(1);
    const stored = await query(svc.ctx.db, sql`SELECT status FROM coupons WHERE id = ${issued.coupon.id}`);
    expect((stored.rows[0] as { status: string }).status).toBe('redeemed');
    const v = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: issued.coupon.id });
    expect(v.body.error.code).toBe('expired');
    // A POS that verified in time and reports late keeps its verification.
    const late = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: issued.coupon.id, verifiedAt: '2026-11-21T09:30:00Z' });
    expect(late.status).toBe(200);

    const other = await issueToUser(svc.ctx, c.id, 'line', 'U-exp2');
    expect(other.ok).toBe(true);
    await deliverAll(svc.ctx);
    now = new Date('2027-01-01T00:00:00Z'); // past redeem-by, never redeemed
    expect(await sweepExpired(svc.ctx)).toBeGreaterThanOrEqual(1);
    const swept = await query(svc.ctx.db, sql`SELECT status FROM coupons WHERE campaign_id = ${c.id} ORDER BY issued_at`);
    expect(swept.rows.map((x) => (x as { status: string }).status)).toEqual(['verified', 'expired']);
    now = new Date('2026-11-20T10:00:00Z');
  });

  it('records can be filtered and exported as CSV', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['C-1', 'C-2', 'C-3']);
    for (const u of ['U-c1', 'U-c2', '=cmd']) await issueToUser(svc.ctx, c.id, 'line', u);
    await deliverAll(svc.ctx);
    const tokens = await query(svc.ctx.db, sql`SELECT token FROM coupons WHERE campaign_id = ${c.id} ORDER BY id LIMIT 1`);
    await redeemCoupon(svc.ctx, (tokens.rows[0] as { token: string }).token);
    const redeemed = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?status=redeemed`).set(svc.admin);
    expect(redeemed.body.records).toHaveLength(1);
    const csv = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?format=csv`).set(svc.admin);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^couponId,contactId,channel,userId/);
    expect(lines).toHaveLength(4);
    expect(csv.text).toContain('"\'=cmd"'); // formula injection neutralised, every field quoted
    const bad = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?status=lost`).set(svc.admin);
    expect(bad.status).toBe(400);
    const stats = await request(svc.url).get(`/api/v1/campaigns/${c.id}/stats`).set(svc.admin);
    expect(stats.body).toMatchObject({ sent: 3, opened: 1, redeemed: 1, verified: 0, stockLeft: 2, rates: { redeemed: 0.3333 } });
  });
  it('records can be filtered by issue date: from is inclusive, to is exclusive, both in the CSV too', async () => {
    const c = await makeCampaign(svc.ctx, { sendStart: '2026-11-01T00:00:00Z', sendEnd: '2026-12-31T00:00:00Z' });
    await loadSerials(svc.ctx, c.id, ['D-1', 'D-2', 'D-3']);
    const issueAt = async (at: string, user: string) => {
      now = new Date(at);
      const r = await issueToUser(svc.ctx, c.id, 'line', user);
      if (!r.ok) throw new Error(r.message);
    };
    await issueAt('2026-11-20T09:00:00Z', 'U-d1');
    await issueAt('2026-11-20T10:00:00Z', 'U-d2');
    await issueAt('2026-11-21T10:00:00Z', 'U-d3');
    now = new Date('2026-11-20T10:00:00Z');
    const users = async (query: string) => {
      const res = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?${query}`).set(svc.admin);
      expect(res.status).toBe(200);
      return res.body.records.map((r: { userId: string }) => r.userId);
    };
    expect(await users('')).toEqual(['U-d1', 'U-d2', 'U-d3']);
    expect(await users('from=2026-11-20T10:00:00Z')).toEqual(['U-d2', 'U-d3']);
    expect(await users('to=2026-11-20T10:00:00Z')).toEqual(['U-d1']);
    expect(await users(`from=${encodeURIComponent('2026-11-20T18:00:00+08:00')}&to=2026-11-21T12:00:00Z`)).toEqual(['U-d2', 'U-d3']);
    expect(await users('from=2026-11-22T00:00:00Z')).toEqual([]);
    expect(await users('status=pending&from=2026-11-21T00:00:00Z')).toEqual(['U-d3']);
    const csv = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?format=csv&to=2026-11-21T00:00:00Z`).set(svc.admin);
    expect(csv.text.trim().split('\r\n').slice(1).map((l) => l.split(',')[3])).toEqual(['"U-d1"', '"U-d2"']);
    const bad = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?from=yesterday`).set(svc.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/from/);
  });

  it('pages records in issue order with the cursor, ties included, and streams a CSV longer than one page', async () => {
    const c = await makeCampaign(svc.ctx);
    const n = 2101;
    await query(svc.ctx.db, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token)
      SELECT 'ctc_pg' || g, 'line', 'U-pg-' || lpad(g::text, 5, '0'), 'me-pg-' || g FROM generate_series(1, ${n}) g`);
    // Ids in random order against issue times, three coupons per second (ties broken by id).
    await query(svc.ctx.db, sql`INSERT INTO coupons (id, campaign_id, contact_id, token, status, source, issued_at)
      SELECT 'cpn_' || md5(g::text), ${c.id}, 'ctc_pg' || g, 'tok-pg-' || g, 'sent', 'api',
        timestamptz '2026-11-01T00:00:00Z' + (g / 3) * interval '1 second'
      FROM generate_series(1, ${n}) g`);
    const expected = (await query(svc.ctx.db, sql`SELECT id FROM coupons WHERE campaign_id = ${c.id} ORDER BY issued_at, id`)).rows
      .map((r) => (r as { id: string }).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records`).query({ limit: 500, ...(cursor ? { after: cursor } : {}) }).set(svc.admin);
      expect(res.status).toBe(200);
      seen.push(...res.body.records.map((r: { couponId: string }) => r.couponId));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(expected);

    const csv = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records?format=csv`).set(svc.admin);
    const rows = csv.text.trim().split('\r\n').slice(1);
    expect(rows.map((l) => l.split(',')[0])).toEqual(expected.map((id) => `"${id}"`));
  });

  it('a fixed serial is verified by couponId: by its shared code it is refused with the way to do it', async () => {
    const c = await makeCampaign(svc.ctx, { verification: true, perContactLimit: 1 });
    await loadFixed(svc.ctx, c.id, 'FIX@2026', 3);
    const a = await issueToUser(svc.ctx, c.id, 'line', 'U-fixv-a');
    const b = await issueToUser(svc.ctx, c.id, 'line', 'U-fixv-b');
    if (!a.ok || !b.ok) throw new Error('not issued');
    await deliverAll(svc.ctx);
    expect(await redeemCoupon(svc.ctx, await tokenOf(a.coupon.id))).toMatchObject({ ok: true, code: 'FIX@2026' });
    expect(await redeemCoupon(svc.ctx, await tokenOf(b.coupon.id))).toMatchObject({ ok: true, code: 'FIX@2026' });

    const byCode = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'FIX@2026' });
    expect(byCode.status).toBe(400);
    expect(byCode.body.error.message).toMatch(/fixed serial.*couponId/);
    const ok = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: a.coupon.id, verifiedAt: '2026-11-20T10:00:00Z' });
    expect(ok.status).toBe(200);
    expect(ok.body.coupon).toMatchObject({ id: a.coupon.id, status: 'verified', verifiedAt: '2026-11-20T10:00:00.000Z', serial: 'FIX@2026' });
    const twice = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: a.coupon.id });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('already_verified');
    // The other coupon with the same code is untouched.
    const rec = await request(svc.url).get(`/api/v1/campaigns/${c.id}/records`).set(svc.admin);
    // Both were issued at the same (test clock) time: compare by coupon, not by position.
    const statusOf = Object.fromEntries(rec.body.records.map((r: { couponId: string; status: string }) => [r.couponId, r.status]));
    expect(statusOf).toEqual({ [a.coupon.id]: 'verified', [b.coupon.id]: 'redeemed' });
    const unknown = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: 'cpn_nope' });
    expect(unknown.status).toBe(404);
  });

  it('a POS reporting late keeps a verification made in time even after the sweep marked the coupon expired', async () => {
    const c = await makeCampaign(svc.ctx, { verification: true, expiry: { mode: 'fromSend', hours: 1 } });
    await loadSerials(svc.ctx, c.id, ['LATE-1', 'LATE-2']);
    const a = await issueToUser(svc.ctx, c.id, 'line', 'U-late-a');
    const b = await issueToUser(svc.ctx, c.id, 'line', 'U-late-b');
    if (!a.ok || !b.ok) throw new Error('not issued');
    await deliverAll(svc.ctx);
    await redeemCoupon(svc.ctx, await tokenOf(a.coupon.id));
    await redeemCoupon(svc.ctx, await tokenOf(b.coupon.id));
    now = new Date('2026-11-20T11:30:00Z'); // both past their 11:00 deadline
    expect(await sweepExpired(svc.ctx)).toBeGreaterThanOrEqual(2);
    const late = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'LATE-1', verifiedAt: '2026-11-20T10:45:00Z' });
    expect(late.status).toBe(200);
    expect(late.body.coupon).toMatchObject({ status: 'verified', verifiedAt: '2026-11-20T10:45:00.000Z' });
    const tooLate = await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'LATE-2', verifiedAt: '2026-11-20T11:15:00Z' });
    expect(tooLate.status).toBe(422);
    expect(tooLate.body.error.code).toBe('expired');
    const stored = await query(svc.ctx.db, sql`SELECT serial_code AS code, status, expired_at AS "expiredAt" FROM coupons WHERE campaign_id = ${c.id} ORDER BY serial_code`);
    expect(stored.rows).toEqual([
      { code: 'LATE-1', status: 'verified', expiredAt: null },
      { code: 'LATE-2', status: 'expired', expiredAt: new Date('2026-11-20T11:00:00Z') },
    ]);
    now = new Date('2026-11-20T10:00:00Z');
  });
});

describe('the expiry sweep job', () => {
  it('is in the job catalog, scheduled every minute when the workers run, and expires coupons past their deadline', async () => {
    expect(jobCatalog).toContain(expirySweepJob);
    expect(expirySweepJob.cron).toBe('* * * * *');
    const live = await startTestService({ workers: true, send: async () => ({ outcome: 'sent' }) });
    try {
      const schedules = await live.jobs.boss.getSchedules(expirySweepJob.name);
      expect(schedules).toEqual([expect.objectContaining({ name: 'coupons.expiry-sweep', cron: '* * * * *', timezone: 'UTC' })]);

      const c = await makeCampaign(live.ctx);
      await loadSerials(live.ctx, c.id, ['SWEEP-1']);
      const issued = await issueToUser(live.ctx, c.id, 'line', 'U-sweep');
      if (!issued.ok) throw new Error(issued.message);
      const statusOf = async () => ((await query(live.ctx.db, sql`SELECT status FROM coupons WHERE id = ${issued.coupon.id}`)).rows[0] as { status: string }).status;
      await waitFor(async () => (await statusOf()) === 'sent', 'the delivery worker to send the card');
      await query(live.ctx.db, sql`UPDATE coupons SET expires_at = now() - interval '1 minute' WHERE id = ${issued.coupon.id}`);
      expect(await live.ctx.jobs.send(expirySweepJob, {})).toBeTruthy();
      await waitFor(async () => (await statusOf()) === 'expired', 'the sweep job to expire the coupon');
    } finally {
      await live.stop();
    }
  });
});

/** Polls a condition the service's own workers make true (they run on their own schedule). */
async function waitFor(done: () => Promise<boolean>, what: string, timeoutMs = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// Both redemption paths (the database function, and the statements a `coupon: redeemed` flow needs) hold the same rules.
describe.each([['the database function', false], ['statements in one transaction', true]] as const)('concurrency, redeeming through %s', (_path, statements) => {
  const redeem = (token: string) => redeemCoupon(svc.ctx, token, { statements });
  async function issueMany(campaignId: string, users: string[]): Promise<string[]> {
    const tokens: string[] = [];
    for (const u of users) {
      const r = await issueToUser(svc.ctx, campaignId, 'line', u);
      if (!r.ok) throw new Error(r.message);
      tokens.push(await tokenOf(r.coupon.id));
    }
    await deliverAll(svc.ctx);
    return tokens;
  }

  it('50 parallel redeems on a 20-serial pool give 20 distinct serials and 30 sold out', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, Array.from({ length: 20 }, (_, i) => `P-${i}`));
    const tokens = await issueMany(c.id, Array.from({ length: 50 }, (_, i) => `U-par-${i}`));
    const results = await Promise.all(tokens.map((t) => redeem(t)));
    const codes = results.filter((r) => r.ok).map((r) => (r.ok ? r.code : ''));
    expect(codes).toHaveLength(20);
    expect(new Set(codes).size).toBe(20);
    expect(results.filter((r) => !r.ok && r.code === 'sold_out')).toHaveLength(30);
    const taken = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM serials WHERE campaign_id = ${c.id} AND coupon_id IS NOT NULL`);
    expect((taken.rows[0] as { n: number }).n).toBe(20);
  });

  it('parallel redeems by one contact never pass its limit', async () => {
    const c = await makeCampaign(svc.ctx, { perContactLimit: 3 });
    await loadSerials(svc.ctx, c.id, Array.from({ length: 10 }, (_, i) => `L-${i}`));
    const tokens = await issueMany(c.id, ['U-one', 'U-one', 'U-one']);
    // A fourth coupon for the same contact, slipped in past the issue limit, to race the redeem limit.
    await query(svc.ctx.db, sql`UPDATE contact_campaign_counters SET held = 0 WHERE campaign_id = ${c.id}`);
    tokens.push(...await issueMany(c.id, ['U-one', 'U-one']));
    const results = await Promise.all([...tokens, ...tokens].map((t) => redeem(t)));
    const distinctCodes = new Set(results.filter((r) => r.ok).map((r) => (r.ok ? r.code : '')));
    expect(distinctCodes.size).toBe(3);
    expect(results.some((r) => !r.ok && r.code === 'limit_reached')).toBe(true);
  });

  it('two presses at once on one coupon take one serial', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['D-1', 'D-2']);
    const [token] = await issueMany(c.id, ['U-double']);
    const results = await Promise.all(Array.from({ length: 8 }, () => redeem(token!)));
    expect(new Set(results.map((r) => (r.ok ? r.code : r.code)))).toEqual(new Set(['D-1']));
  });

  it('a serial below where claims start (given back by a rolled-back claim) is still handed out before sold out', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['H-1', 'H-2', 'H-3']);
    const tokens = await issueMany(c.id, ['U-h1', 'U-h2', 'U-h3', 'U-h4']);
    expect(await redeem(tokens[0]!)).toMatchObject({ ok: true, code: 'H-1' });
    expect(await redeem(tokens[1]!)).toMatchObject({ ok: true, code: 'H-2' });
    await query(svc.ctx.db, sql`UPDATE serials SET coupon_id = NULL WHERE campaign_id = ${c.id} AND code = 'H-1'`);
    expect(await redeem(tokens[2]!)).toMatchObject({ ok: true, code: 'H-3' });
    expect(await redeem(tokens[3]!)).toMatchObject({ ok: true, code: 'H-1' });
  });

  it('a sold-out refusal gives the contact\'s limit back and carries the coupon unchanged', async () => {
    const c = await makeCampaign(svc.ctx, { perContactLimit: 2 });
    await loadSerials(svc.ctx, c.id, ['G-1']);
    const [first, second] = await issueMany(c.id, ['U-give', 'U-give']);
    expect(await redeem(first!)).toMatchObject({ ok: true, code: 'G-1' });
    const refused = await redeem(second!);
    expect(refused).toMatchObject({ ok: false, code: 'sold_out', coupon: { status: 'sent', serialCode: null } });
    const counter = await query(svc.ctx.db, sql`SELECT redeemed FROM contact_campaign_counters WHERE campaign_id = ${c.id}`);
    expect((counter.rows[0] as { redeemed: number }).redeemed).toBe(1);
  });

  it('a fixed pool of 5 gives exactly 5', async () => {
    const c = await makeCampaign(svc.ctx);
    await loadFixed(svc.ctx, c.id, 'SAME-CODE', 5);
    const tokens = await issueMany(c.id, Array.from({ length: 12 }, (_, i) => `U-fix-${i}`));
    const results = await Promise.all(tokens.map((t) => redeem(t)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.code === 'sold_out')).toHaveLength(7);
    const stats = await request(svc.url).get(`/api/v1/campaigns/${c.id}/stats`).set(svc.admin);
    expect(stats.body.stockLeft).toBe(0);
  });
});
