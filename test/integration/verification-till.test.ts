import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import { issueCoupon, issueToUser } from '../../src/coupons/issue.ts';
import { recordOpen, redeemCoupon } from '../../src/coupons/redeem.ts';
import { deliverAll, loadSerials, makeCampaign } from '../support/campaigns.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let now = new Date('2026-11-20T10:00:00Z');
beforeAll(async () => {
  svc = await startTestService({ clock: () => now });
});
afterAll(async () => {
  await svc.stop();
});

const at = (iso: string) => {
  now = new Date(iso);
};

const tokenOf = async (couponId: string) =>
  ((await query(svc.ctx.db, sql`SELECT token FROM coupons WHERE id = ${couponId}`)).rows[0] as { token: string }).token;

/** A campaign with `n` one-time serials and `n` coupons issued, delivered and redeemed. */
async function redeemedCoupons(n: number, overrides: Record<string, unknown> = {}) {
  at('2026-11-20T10:00:00Z');
  const c = await makeCampaign(svc.ctx, { verification: true, perContactLimit: 5, ...overrides });
  const codes = Array.from({ length: n }, (_, i) => `${c.id.slice(-6)}-${i}`);
  await loadSerials(svc.ctx, c.id, codes);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const issued = await issueToUser(svc.ctx, c.id, 'line', `U-till-${c.id}-${i}`);
    if (!issued.ok) throw new Error(issued.message);
    ids.push(issued.coupon.id);
  }
  await deliverAll(svc.ctx);
  for (const id of ids) {
    const r = await redeemCoupon(svc.ctx, await tokenOf(id));
    if (!r.ok) throw new Error(r.message);
  }
  return { campaign: c, ids, codes };
}

const verify = (body: Record<string, unknown>, auth: { Authorization: string } = svc.pos) =>
  request(svc.url).post('/api/v1/verifications').set(auth).send(body);
const voidIt = (body: Record<string, unknown>, auth: { Authorization: string } = svc.pos) =>
  request(svc.url).post('/api/v1/verifications/void').set(auth).send(body);

describe('POS time as given', () => {
  it('accepts a POS clock behind ours, even before the redemption we recorded, and keeps both times', async () => {
    const { campaign, codes } = await redeemedCoupons(1);
    at('2026-11-20T10:03:00Z');
    const r = await verify({ code: codes[0], verifiedAt: '2026-11-20T09:59:00Z' });
    expect(r.status).toBe(200);
    expect(r.body.coupon).toMatchObject({ verifiedAt: '2026-11-20T09:59:00.000Z', verifiedReceivedAt: '2026-11-20T10:03:00.000Z' });
    const records = await request(svc.url).get(`/api/v1/campaigns/${campaign.id}/records`).set(svc.admin);
    expect(records.body.records[0]).toMatchObject({ verifiedAt: '2026-11-20T09:59:00.000Z', verifiedReceivedAt: '2026-11-20T10:03:00.000Z' });
  });

  it('refuses a time ahead of ours beyond the skew and one after the deadline, changing nothing', async () => {
    const { campaign, codes } = await redeemedCoupons(1, { expiry: { mode: 'fromSend', hours: 1 } });
    at('2026-11-20T10:30:00Z');
    const ahead = await verify({ code: codes[0], verifiedAt: '2026-11-20T10:36:00Z' });
    expect(ahead.status).toBe(400);
    expect(ahead.body.error.code).toBe('validation_error');
    const withinSkew = await verify({ code: codes[0], verifiedAt: '2026-11-20T10:34:00Z' });
    expect(withinSkew.status).toBe(200);

    const other = await redeemedCoupons(1, { expiry: { mode: 'fromSend', hours: 1 } });
    at('2026-11-20T12:00:00Z');
    const pastDeadline = await verify({ code: other.codes[0], verifiedAt: '2026-11-20T11:30:00Z' });
    expect(pastDeadline.status).toBe(422);
    expect(pastDeadline.body.error.code).toBe('expired');
    const stored = await query(svc.ctx.db, sql`SELECT verified_at FROM coupons WHERE campaign_id = ${other.campaign.id}`);
    expect(stored.rows).toEqual([{ verified_at: null }]);
    expect(campaign.id).not.toBe(other.campaign.id);
  });
});

describe('amount, currency and store', () => {
  it('are kept on the coupon, in records and the CSV; stats add revenue per currency and per sent coupon', async () => {
    const { campaign, codes } = await redeemedCoupons(4);
    at('2026-11-20T10:10:00Z');
    expect((await verify({ code: codes[0], amount: 1200, currency: 'jpy', storeId: 'shibuya-1' })).status).toBe(200);
    expect((await verify({ code: codes[1], amount: 800.5, currency: 'JPY', storeId: 'shibuya-1' })).status).toBe(200);
    const twd = await verify({ code: codes[2], amount: 350, currency: 'TWD' }, svc.admin);
    expect(twd.status).toBe(200);
    expect(twd.body.coupon).toMatchObject({ amount: 350, currency: 'TWD', storeId: null });

    const records = await request(svc.url).get(`/api/v1/campaigns/${campaign.id}/records?status=verified`).set(svc.admin);
    expect(records.body.records.map((r: { amount: number; currency: string; storeId: string | null }) => [r.amount, r.currency, r.storeId])
      .sort((a: [number], b: [number]) => a[0] - b[0]))
      .toEqual([[350, 'TWD', null], [800.5, 'JPY', 'shibuya-1'], [1200, 'JPY', 'shibuya-1']]);
    const csv = await request(svc.url).get(`/api/v1/campaigns/${campaign.id}/records?format=csv&status=verified`).set(svc.admin);
    const lines = csv.text.trim().replace(/"/g, '').split('\r\n');
    expect(lines[0]).toMatch(/,verifiedReceivedAt,amount,currency,storeId$/);
    expect(lines.filter((l) => /,2026-11-20T10:10:00.000Z,1200,JPY,shibuya-1$/.test(l))).toHaveLength(1);

    const stats = await request(svc.url).get(`/api/v1/campaigns/${campaign.id}/stats`).set(svc.admin);
    expect(stats.body).toMatchObject({ sent: 4, verified: 3, revenue: { JPY: 2000.5, TWD: 350 }, revenuePerSent: { JPY: 500.13, TWD: 87.5 } });
  });

  it('takes the campaign reward currency when only an amount is given, and refuses bad values', async () => {
    const { codes } = await redeemedCoupons(2, { reward: { type: 'amount', value: 100, currency: 'THB' } });
    const ok = await verify({ code: codes[0], amount: 990 });
    expect(ok.body.coupon).toMatchObject({ amount: 990, currency: 'THB' });

    const plain = await redeemedCoupons(1);
    const noCurrency = await verify({ code: plain.codes[0], amount: 10 });
    expect(noCurrency.status).toBe(400);
    expect(noCurrency.body.error.message).toMatch(/currency: required with amount/);
    for (const bad of [{ amount: -1, currency: 'JPY' }, { amount: '12', currency: 'JPY' }, { amount: 1, currency: 'XYZ' },
      { amount: 1, currency: 'JPY', storeId: 'x'.repeat(65) }, { amount: 1e13, currency: 'JPY' }]) {
      const r = await verify({ code: codes[1], ...bad });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('validation_error');
    }
    const stored = await query(svc.ctx.db, sql`SELECT status FROM coupons c JOIN serials s ON s.id = c.serial_id WHERE s.code = ${codes[1]}`);
    expect(stored.rows).toEqual([{ status: 'redeemed' }]);
  });

  it('splits the funnel and revenue per flow and per agent', async () => {
    at('2026-11-20T10:00:00Z');
    const c = await makeCampaign(svc.ctx, { verification: true, perContactLimit: 5 });
    await loadSerials(svc.ctx, c.id, ['PF-1', 'PF-2', 'PF-3']);
    const ids = await svc.ctx.db.transaction(async (tx) => {
      const out: string[] = [];
      for (const [i, req] of ([{ source: 'flow', flowId: 'welcome' }, { source: 'flow', flowId: 'welcome' }, { source: 'agent', issuedBy: 'admin' }] as const).entries()) {
        const contact = await ensureContact(tx, 'line', `U-split-${i}`, { at: now });
        const conversation = await ensureConversation(tx, contact, `U-split-${i}`);
        const issued = await issueCoupon(svc.ctx, tx, { campaign: { id: c.id }, contact, conversation, ...req });
        if (!issued.ok) throw new Error(issued.message);
        out.push(issued.coupon.id);
      }
      return out;
    });
    await deliverAll(svc.ctx);
    for (const id of ids) await redeemCoupon(svc.ctx, await tokenOf(id));
    await verify({ couponId: ids[0], amount: 100, currency: 'TWD' });
    await verify({ couponId: ids[2], amount: 40, currency: 'TWD' });
    const stats = await request(svc.url).get(`/api/v1/campaigns/${c.id}/stats`).set(svc.admin);
    expect(stats.body.byFlow).toEqual([{ flowId: 'welcome', sent: 2, opened: 2, redeemed: 2, verified: 1, revenue: { TWD: 100 }, revenuePerSent: { TWD: 50 } }]);
    expect(stats.body.byAgent).toEqual([{ agent: 'admin', name: null, sent: 1, opened: 1, redeemed: 1, verified: 1, revenue: { TWD: 40 }, revenuePerSent: { TWD: 40 } }]);
    expect(stats.body.revenue).toEqual({ TWD: 140 });
  });
});

describe('POST /api/v1/verifications/void', () => {
  it('lets the POS void its own verification within 30 minutes: the coupon is redeemed again and revenue drops', async () => {
    const { campaign, ids, codes } = await redeemedCoupons(1);
    at('2026-11-20T10:10:00Z');
    await verify({ code: codes[0], amount: 500, currency: 'TWD', storeId: 'taipei-2' });
    at('2026-11-20T10:39:59Z');
    const r = await voidIt({ code: codes[0], reason: 'rang up the wrong order' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'voided', coupon: { id: ids[0], status: 'redeemed', verifiedAt: null, amount: null } });
    const stats = await request(svc.url).get(`/api/v1/campaigns/${campaign.id}/stats`).set(svc.admin);
    expect(stats.body).toMatchObject({ verified: 0, redeemed: 1, revenue: {} });
    // It can be verified again, and the history keeps both.
    at('2026-11-20T10:45:00Z');
    expect((await verify({ code: codes[0], amount: 450, currency: 'TWD' })).status).toBe(200);
    const history = await request(svc.url).get(`/api/v1/coupons/${ids[0]}/history`).set(svc.admin);
    expect(history.status).toBe(200);
    expect(history.body.events.map((e: { event: string }) => e.event)).toEqual(['issued', 'delivered', 'opened', 'redeemed', 'verified', 'voided', 'verified']);
    expect(history.body.events[0]).toMatchObject({ by: 'api', from: { channel: 'line' } });
    expect(history.body.events[4]).toMatchObject({ by: 'pos', at: '2026-11-20T10:10:00.000Z', posAt: '2026-11-20T10:10:00.000Z', amount: 500, currency: 'TWD', from: { storeId: 'taipei-2' } });
    expect(history.body.events[4].from.ip).toBeDefined();
    expect(history.body.events[5]).toMatchObject({ by: 'pos', at: '2026-11-20T10:39:59.000Z', reason: 'rang up the wrong order' });
  });

  it('refuses the POS after 30 minutes or on a verification it did not make; an admin may void any time', async () => {
    const { ids, codes } = await redeemedCoupons(2);
    at('2026-11-20T10:10:00Z');
    await verify({ code: codes[0] });
    await verify({ code: codes[1] }, svc.admin);
    at('2026-11-20T10:40:01Z');
    const late = await voidIt({ code: codes[0], reason: 'late' });
    expect(late.status).toBe(403);
    expect(late.body.error.code).toBe('void_window_passed');
    at('2026-11-20T10:11:00Z');
    const notOwn = await voidIt({ couponId: ids[1], reason: 'not mine' });
    expect(notOwn.status).toBe(403);
    expect(notOwn.body.error.code).toBe('void_window_passed');
    const stored = await query(svc.ctx.db, sql`SELECT status FROM coupons WHERE id IN (${ids[0]}, ${ids[1]})`);
    expect(stored.rows).toEqual([{ status: 'verified' }, { status: 'verified' }]);

    at('2026-12-01T00:00:00Z');
    const admin = await voidIt({ code: codes[0], reason: 'customer returned the goods' }, svc.admin);
    expect(admin.status).toBe(200);
    expect(admin.body.coupon.status).not.toBe('verified');
    // A marketer, too, may void any verification, with a reason kept in the coupon's history.
    const marketer = await personOf(svc, 'marketer');
    const byMarketer = await voidIt({ couponId: ids[1], reason: 'staff scanned the wrong phone' }, marketer.header);
    expect(byMarketer.status).toBe(200);
    expect(byMarketer.body.coupon.verifiedAt).toBeNull();
    const history = await request(svc.url).get(`/api/v1/coupons/${ids[1]}/history`).set(svc.admin);
    expect(history.body.events.at(-1)).toMatchObject({ event: 'voided', reason: 'staff scanned the wrong phone' });
  });

  it('refuses a coupon that is not verified, an unknown one, bad bodies, and callers without a token', async () => {
    const { ids } = await redeemedCoupons(1);
    const notVerified = await voidIt({ couponId: ids[0], reason: 'x' });
    expect(notVerified.status).toBe(409);
    expect(notVerified.body.error.code).toBe('not_verified');
    expect((await voidIt({ couponId: 'cpn_nope', reason: 'x' })).status).toBe(404);
    for (const bad of [{ couponId: ids[0] }, { couponId: ids[0], reason: '' }, { reason: 'x' }, { couponId: ids[0], code: 'A', reason: 'x' },
      { couponId: ids[0], reason: 'x'.repeat(501) }]) {
      const r = await voidIt(bad);
      expect(r.status).toBe(400);
    }
    const anonymous = await request(svc.url).post('/api/v1/verifications/void').send({ couponId: ids[0], reason: 'x' });
    expect(anonymous.status).toBe(401);
    const wrong = await voidIt({ couponId: ids[0], reason: 'x' }, { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });
});

describe('GET /api/v1/coupons/:id/history', () => {
  it('shows issue, delivery, opening and redemption; 404 for an unknown coupon; admin only', async () => {
    at('2026-11-20T10:00:00Z');
    const c = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, c.id, ['H-1']);
    const issued = await issueToUser(svc.ctx, c.id, 'line', 'U-history');
    if (!issued.ok) throw new Error(issued.message);
    at('2026-11-20T10:01:00Z');
    await deliverAll(svc.ctx);
    at('2026-11-20T10:02:00Z');
    await recordOpen(svc.ctx, await tokenOf(issued.coupon.id));
    const h = await request(svc.url).get(`/api/v1/coupons/${issued.coupon.id}/history`).set(svc.admin);
    expect(h.body).toEqual({ couponId: issued.coupon.id, channelLabels: { line: 'LINE', messenger: 'Messenger', inbox: 'the inbox' }, events: [
      { event: 'issued', at: '2026-11-20T10:00:00.000Z', by: 'api', from: { channel: 'line' } },
      { event: 'delivered', at: '2026-11-20T10:01:00.000Z', by: 'system', from: { channel: 'line' } },
      { event: 'opened', at: '2026-11-20T10:02:00.000Z', by: 'customer', from: { page: 'coupon page' } },
    ] });
    expect((await request(svc.url).get('/api/v1/coupons/cpn_nope/history').set(svc.admin)).status).toBe(404);
    expect((await request(svc.url).get(`/api/v1/coupons/${issued.coupon.id}/history`).set(svc.pos)).status).toBe(403);
    expect((await request(svc.url).get(`/api/v1/coupons/${issued.coupon.id}/history`)).status).toBe(401);
  });
});
