import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { sweepExpired } from '../../src/coupons/expiry.ts';
import { campaignStats, couponToJson, parseRecordsQuery, recordsPage } from '../../src/coupons/records.ts';
import { redeemCoupon, type RedeemResult } from '../../src/coupons/redeem.ts';
import type { CouponRow } from '../../src/coupons/coupon-row.ts';
import { effectiveStatus, redeemGate, verifyGate } from '../../src/coupons/rules.ts';
import { couponStatuses, expirableStatuses, type CouponStatus } from '../../src/coupons/statuses.ts';
import { verifyCoupon, type VerifyResult } from '../../src/coupons/verify.ts';
import { loadSerials, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

/**
 * Every coupon state through every path that judges it: the database redeem function, the
 * statement-by-statement redeem, verify, the records filter, the API's status, stats and the
 * expiry sweep must all give the answer of the rules in src/coupons/rules.ts.
 */
const now = new Date('2026-11-20T10:00:00Z');
const hour = 3_600_000;
const deadlines = {
  none: null,
  past: new Date(now.getTime() - hour),
  atNow: now,
  future: new Date(now.getTime() + hour),
} as const;

interface State {
  status: CouponStatus;
  deadline: keyof typeof deadlines;
  serialCode: string | null;
  redeemedAt: Date | null;
}
const states: State[] = couponStatuses.flatMap((status) => (Object.keys(deadlines) as Array<keyof typeof deadlines>).flatMap((deadline) =>
  [null, 'TAKEN-1'].flatMap((serialCode) => [null, new Date(now.getTime() - 2 * hour)].map((redeemedAt) => ({ status, deadline, serialCode, redeemedAt })))));
const describeState = (s: State) =>
  `${s.status}, deadline ${s.deadline}, ${s.serialCode ? 'with' : 'no'} code, ${s.redeemedAt ? 'redeemed before' : 'never redeemed'}`;
const asCoupon = (s: State) => ({ status: s.status, expiresAt: deadlines[s.deadline], serialCode: s.serialCode, redeemedAt: s.redeemedAt });

/** The copies of each state, one per path that changes the coupon, and one that is only read (then swept). */
const copies = ['redeemFunction', 'redeemStatements', 'verify', 'read'] as const;
type Copy = typeof copies[number];

let svc: TestService;
let seq = 0;
beforeAll(async () => {
  svc = await startTestService({ clock: () => now });
});
afterAll(async () => {
  await svc.stop();
});

async function insertCoupon(campaignId: string, s: State): Promise<CouponRow> {
  seq += 1;
  const contactId = `ct-parity-${seq}`;
  await query(svc.ctx.db, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token)
    VALUES (${contactId}, 'line', ${`U-parity-${seq}`}, ${`me-parity-${seq}`})`);
  await query(svc.ctx.db, sql`INSERT INTO contact_campaign_counters (campaign_id, contact_id, held) VALUES (${campaignId}, ${contactId}, 1)`);
  const sentAt = s.status === 'pending' ? null : new Date(now.getTime() - 3 * hour);
  const r = await query(svc.ctx.db, sql`
    INSERT INTO coupons (id, campaign_id, contact_id, token, status, delivery_status, source, issued_at, sent_at, redeemed_at, expires_at, serial_code)
    VALUES (${`cpn-parity-${seq}`}, ${campaignId}, ${contactId}, ${`tok-parity-${seq}`}, ${s.status}, ${sentAt ? 'sent' : 'pending'}, 'api',
      ${new Date(now.getTime() - 4 * hour)}, ${sentAt}, ${s.redeemedAt}, ${deadlines[s.deadline]}, ${s.serialCode})
    RETURNING id, token`);
  return r.rows[0] as unknown as CouponRow;
}

const redeemAnswer = (r: RedeemResult) => (r.ok ? (r.alreadyRedeemed ? 'show_code' : 'take_serial') : r.code);
const verifyAnswer = (r: VerifyResult) => (r.ok ? 'verify' : r.code);
const rawStatus = async (id: string) =>
  ((await query(svc.ctx.db, sql`SELECT status FROM coupons WHERE id = ${id}`)).rows[0] as { status: CouponStatus }).status;

describe('coupon rules parity', () => {
  it(`every state (${states.length}) gets the same answer from every path`, async () => {
    const cases: Array<{ state: State; campaignId: string; coupons: Record<Copy, CouponRow> }> = [];
    for (const state of states) {
      const campaign = await makeCampaign(svc.ctx, { perContactLimit: 5, verification: true });
      await loadSerials(svc.ctx, campaign.id, [`S-${campaign.id}-1`, `S-${campaign.id}-2`]);
      const coupons = {} as Record<Copy, CouponRow>;
      for (const copy of copies) coupons[copy] = await insertCoupon(campaign.id, state);
      cases.push({ state, campaignId: campaign.id, coupons });
    }

    const expected: Record<string, unknown> = {};
    const actual: Record<string, unknown> = {};
    for (const { state, campaignId, coupons } of cases) {
      const key = describeState(state);
      const effective = effectiveStatus(asCoupon(state), now);
      expected[key] = {
        redeemFunction: redeemGate(asCoupon(state), now),
        redeemStatements: redeemGate(asCoupon(state), now),
        verify: verifyGate(asCoupon(state), true, now),
        apiStatus: effective,
        recordsFilter: [effective],
        recordStatus: effective,
        statsExpired: effective === 'expired' ? copies.length : 0,
        afterSweep: { raw: effective, recordsFilter: [effective], statsExpired: -1 },
      };

      // Read paths first, on every copy as inserted.
      const underFilter: CouponStatus[] = [];
      for (const status of couponStatuses) {
        const page = await recordsPage(svc.ctx.db, campaignId, parseRecordsQuery({ status }), now);
        if (page.some((r) => r.couponId === coupons.read.id)) underFilter.push(status);
      }
      const all = await recordsPage(svc.ctx.db, campaignId, parseRecordsQuery({}), now);
      const full = (await query(svc.ctx.db, sql`SELECT id, campaign_id AS "campaignId", contact_id AS "contactId", token, status,
        delivery_status AS "deliveryStatus", source, issued_at AS "issuedAt", expires_at AS "expiresAt", serial_code AS "serialCode"
        FROM coupons WHERE id = ${coupons.read.id}`)).rows[0] as unknown as CouponRow;
      actual[key] = {
        apiStatus: couponToJson(svc.ctx, full, now).status,
        recordsFilter: underFilter,
        recordStatus: all.find((r) => r.couponId === coupons.read.id)?.status,
        statsExpired: (await campaignStats(svc.ctx, campaignId)).expired,
      };

      // Paths that change the coupon, each on its own copy.
      Object.assign(actual[key] as object, {
        redeemFunction: redeemAnswer(await redeemCoupon(svc.ctx, coupons.redeemFunction.token)),
        redeemStatements: redeemAnswer(await redeemCoupon(svc.ctx, coupons.redeemStatements.token, { statements: true })),
        verify: verifyAnswer(await verifyCoupon(svc.ctx, { couponId: coupons.verify.id }, { actor: 'parity' })),
      });
    }

    // The sweep persists what every read already showed, and nothing else.
    await sweepExpired(svc.ctx);
    for (const { state, campaignId, coupons } of cases) {
      const key = describeState(state);
      const underFilter: CouponStatus[] = [];
      for (const status of couponStatuses) {
        const page = await recordsPage(svc.ctx.db, campaignId, parseRecordsQuery({ status }), now);
        if (page.some((r) => r.couponId === coupons.read.id)) underFilter.push(status);
      }
      // Stats count the campaign's coupons as they stand now (the other copies were redeemed or verified).
      const rows = (await query(svc.ctx.db, sql`SELECT status, expires_at AS "expiresAt" FROM coupons WHERE campaign_id = ${campaignId}`))
        .rows as Array<{ status: CouponStatus; expiresAt: Date | null }>;
      (expected[key] as { afterSweep: { statsExpired: number } }).afterSweep.statsExpired =
        rows.filter((r) => effectiveStatus(r, now) === 'expired').length;
      Object.assign(actual[key] as object, {
        afterSweep: { raw: await rawStatus(coupons.read.id), recordsFilter: underFilter, statsExpired: (await campaignStats(svc.ctx, campaignId)).expired },
      });
    }

    expect(actual).toEqual(expected);
    // The table covers every status and every answer each gate can give.
    const answers = (path: string) => new Set(Object.values(expected).map((e) => (e as Record<string, string>)[path]));
    expect([...answers('redeemFunction')].sort()).toEqual(['expired', 'not_yet', 'show_code', 'take_serial', 'void']);
    expect([...answers('verify')].sort()).toEqual(['already_verified', 'expired', 'not_redeemed', 'verify', 'void']);
  });

  it('the deadline index of the running database covers exactly the statuses that expire', async () => {
    const r = await query(svc.ctx.db, sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'coupons_expiry_idx'`);
    const def = (r.rows[0] as { indexdef: string }).indexdef;
    const listed = couponStatuses.filter((s) => def.includes(`'${s}'`));
    expect(listed).toEqual([...expirableStatuses]);
  });
});
