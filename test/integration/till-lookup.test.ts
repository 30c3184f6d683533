import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { issueToUser } from '../../src/coupons/issue.ts';
import { redeemCoupon } from '../../src/coupons/redeem.ts';
import { deliverAll, loadFixed, loadSerials, makeCampaign } from '../support/campaigns.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let now = new Date('2026-11-20T10:00:00Z');
let staff: Awaited<ReturnType<typeof personOf>>;
let otherStaff: Awaited<ReturnType<typeof personOf>>;

beforeAll(async () => {
  svc = await startTestService({ clock: () => now, env: { TILL_CURRENCY: 'twd' } });
  staff = await personOf(svc, 'staff', 'Amy at the till');
  otherStaff = await personOf(svc, 'staff', 'Ben');
});
afterAll(async () => {
  await svc?.stop();
});

const at = (iso: string) => {
  now = new Date(iso);
};
const tokenOf = async (couponId: string) =>
  ((await query(svc.ctx.db, sql`SELECT token FROM coupons WHERE id = ${couponId}`)).rows[0] as { token: string }).token;

async function couponWithCode(code: string, overrides: Record<string, unknown> = {}, redeem = true) {
  at('2026-11-20T10:00:00Z');
  const c = await makeCampaign(svc.ctx, { name: `Till ${code}`, verification: true, ...overrides });
  await loadSerials(svc.ctx, c.id, [code]);
  const issued = await issueToUser(svc.ctx, c.id, 'line', `U-look-${code}`);
  if (!issued.ok) throw new Error(issued.message);
  await deliverAll(svc.ctx);
  if (redeem) {
    const r = await redeemCoupon(svc.ctx, await tokenOf(issued.coupon.id));
    if (!r.ok) throw new Error(r.message);
  }
  return { campaign: c, couponId: issued.coupon.id };
}

const lookup = (query: Record<string, string>, auth: { Authorization: string } = staff.header) =>
  request(svc.url).get('/api/v1/verifications/lookup').query(query).set(auth);

describe('GET /api/v1/verifications/lookup (the staff scanner)', () => {
  it('shows a redeemed coupon by its code: name, reward, status, deadline, history, and that it can be verified', async () => {
    const { campaign, couponId } = await couponWithCode('LOOK-1001', { reward: { type: 'amount', value: 100, currency: 'JPY' }, timeZone: 'Asia/Tokyo' });
    at('2026-11-20T10:05:00Z');
    const r = await lookup({ code: 'LOOK-1001' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      coupon: { id: couponId, status: 'redeemed', serial: 'LOOK-1001', expiresAt: '2026-11-27T10:00:00.000Z', deadlineText: '2026-11-27 19:00 (Asia/Tokyo)' },
      campaign: { id: campaign.id, name: 'Till LOOK-1001', rewardText: 'JPY 100 off', verification: true },
      verify: { possible: true },
      undo: { possible: false },
      // The reward's own currency comes before TILL_CURRENCY.
      orderAmount: { ask: 'optional', currency: 'JPY' },
    });
    expect(r.body.history.map((e: { event: string }) => e.event)).toEqual(['issued', 'delivered', 'opened', 'redeemed']);
    // Typed by hand in lower case, the same coupon.
    expect((await lookup({ code: 'look-1001' })).body.coupon.id).toBe(couponId);
  });

  it('says in plain words why a coupon cannot be verified, and what was already done with it', async () => {
    const notRedeemed = await couponWithCode('LOOK-2001', {}, false);
    const byId = await lookup({ couponId: notRedeemed.couponId });
    expect(byId.status).toBe(200);
    expect(byId.body.verify).toEqual({ possible: false, code: 'not_redeemed', reason: expect.stringContaining('has to press Redeem') });
    // Not redeemed, so no code names it yet.
    const byCode = await lookup({ code: 'LOOK-2001' });
    expect(byCode.status).toBe(404);
    expect(byCode.body.error.message).toContain('press Redeem');

    const { couponId } = await couponWithCode('LOOK-2002');
    at('2026-11-20T10:10:00Z');
    const v = await request(svc.url).post('/api/v1/verifications').set(staff.header).send({ couponId, amount: 1200 });
    expect(v.status).toBe(200);
    // Currency from TILL_CURRENCY when the reward names none.
    expect(v.body.coupon).toMatchObject({ amount: 1200, currency: 'TWD' });
    const again = await lookup({ code: 'LOOK-2002' });
    expect(again.body.coupon.status).toBe('verified');
    expect(again.body.verify).toMatchObject({ possible: false, code: 'already_verified' });
    expect(again.body.history.at(-1)).toMatchObject({ event: 'verified', by: staff.id, byName: 'Amy at the till', amount: 1200 });
    // Amy may undo her own until 30 minutes after; Ben may not; the owner may any time.
    expect(again.body.undo).toEqual({ possible: true, until: '2026-11-20T10:40:00.000Z' });
    expect((await lookup({ code: 'LOOK-2002' }, otherStaff.header)).body.undo).toEqual({ possible: false });
    expect((await lookup({ code: 'LOOK-2002' }, svc.admin)).body.undo).toEqual({ possible: true, until: null });
    at('2026-11-20T10:41:00Z');
    expect((await lookup({ code: 'LOOK-2002' })).body.undo).toEqual({ possible: false });
  });

  it('refuses a fixed code shared by several coupons, naming what to do instead', async () => {
    at('2026-11-20T10:00:00Z');
    const c = await makeCampaign(svc.ctx, { verification: true });
    await loadFixed(svc.ctx, c.id, 'SHARED5', 10);
    for (const user of ['U-fixed-1', 'U-fixed-2']) {
      const issued = await issueToUser(svc.ctx, c.id, 'line', user);
      if (!issued.ok) throw new Error(issued.message);
      await deliverAll(svc.ctx);
      const r = await redeemCoupon(svc.ctx, await tokenOf(issued.coupon.id));
      if (!r.ok) throw new Error(r.message);
    }
    const r = await lookup({ code: 'SHARED5' });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('Verify button on the customer\'s coupon page');
  });

  it('bad input gets a clear 400, an unknown code a 404, and other roles a 403', async () => {
    const none = await lookup({});
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('validation_error');
    expect((await lookup({ code: 'A', couponId: 'B' })).status).toBe(400);
    expect((await lookup({ code: 'x'.repeat(65) })).status).toBe(400);
    const unknown = await lookup({ code: 'NO-SUCH-CODE' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const agent = await personOf(svc, 'agent');
    expect((await lookup({ code: 'NO-SUCH-CODE' }, agent.header)).status).toBe(403);
    expect((await lookup({ code: 'NO-SUCH-CODE' }, svc.pos)).status).toBe(404);
    expect((await request(svc.url).get('/api/v1/verifications/lookup?code=X')).status).toBe(401);
  });
});

describe('STAFF_ORDER_AMOUNT=required', () => {
  let strict: TestService;
  beforeAll(async () => {
    strict = await startTestService({ env: { STAFF_ORDER_AMOUNT: 'required', TILL_CURRENCY: 'TWD' } });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('refuses a staff verification without the order total, changing nothing; the POS is not held to it', async () => {
    const c = await makeCampaign(strict.ctx, { verification: true });
    await loadSerials(strict.ctx, c.id, ['REQ-1', 'REQ-2']);
    const ids: string[] = [];
    for (const user of ['U-req-1', 'U-req-2']) {
      const issued = await issueToUser(strict.ctx, c.id, 'line', user);
      if (!issued.ok) throw new Error(issued.message);
      ids.push(issued.coupon.id);
    }
    await deliverAll(strict.ctx);
    for (const id of ids) {
      const token = ((await query(strict.ctx.db, sql`SELECT token FROM coupons WHERE id = ${id}`)).rows[0] as { token: string }).token;
      const r = await redeemCoupon(strict.ctx, token);
      if (!r.ok) throw new Error(r.message);
    }
    const amy = await personOf(strict, 'staff');
    const look = await request(strict.url).get('/api/v1/verifications/lookup').query({ couponId: ids[0]! }).set(amy.header);
    expect(look.body.orderAmount).toEqual({ ask: 'required', currency: 'TWD' });
    const without = await request(strict.url).post('/api/v1/verifications').set(amy.header).send({ couponId: ids[0] });
    expect(without.status).toBe(400);
    expect(without.body.error.message).toContain('order\'s total');
    const state = await query(strict.ctx.db, sql`SELECT status FROM coupons WHERE id = ${ids[0]}`);
    expect(state.rows).toEqual([{ status: 'redeemed' }]);
    const withAmount = await request(strict.url).post('/api/v1/verifications').set(amy.header).send({ couponId: ids[0], amount: 300, currency: 'TWD' });
    expect(withAmount.status).toBe(200);
    expect((await request(strict.url).post('/api/v1/verifications').set(strict.pos).send({ couponId: ids[1] })).status).toBe(200);
  });
});
