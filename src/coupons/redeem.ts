import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { refuse, type Refusal } from '../lib/errors.ts';
import { getCampaign } from './campaigns.ts';
import { couponColumns, type CouponRow } from './coupon-row.ts';
import { isOpenableSql } from './rules-sql.ts';
import { deadlineAtRedeem, redeemGate } from './rules.ts';
import { redeemRulesJson } from './statuses.ts';

export type RedeemRefusalCode = 'not_found' | 'not_yet' | 'expired' | 'void' | 'sold_out' | 'limit_reached';
/** A refusal changes nothing: it carries the coupon as it stands (none when the token is unknown). */
export type RedeemRefusal = Refusal<RedeemRefusalCode> & { coupon?: CouponRow };
export type RedeemResult = { ok: true; coupon: CouponRow; code: string; alreadyRedeemed: boolean } | RedeemRefusal;

export async function findCouponByToken(tx: Tx, token: string, opts: { forUpdate?: boolean } = {}): Promise<CouponRow | null> {
  const r = await query(tx, sql`SELECT ${couponColumns} FROM coupons WHERE token = ${token} ${opts.forUpdate ? sql`FOR UPDATE` : sql``}`);
  return (r.rows[0] as unknown as CouponRow | undefined) ?? null;
}

/** The words for a coupon that cannot be redeemed in its state. */
function gateRefusal(gate: 'not_yet' | 'expired' | 'void') {
  switch (gate) {
    case 'not_yet': return refuse('not_yet', 'this coupon is on its way and cannot be redeemed yet; try again in a moment');
    case 'expired': return refuse('expired', 'this coupon has expired');
    case 'void': return refuse('void', 'this coupon was withdrawn because it could not be delivered');
  }
}

/**
 * Per campaign, the highest serial id this process has taken: claims start their index scan
 * above it (see drizzle/0002_redeem_rules_from_caller.sql). Only a hint; correctness never depends on it.
 */
const serialHints = new Map<string, number>();
const MAX_HINTS = 1000;
function noteSerialTaken(campaignId: string, serialId: number): void {
  if ((serialHints.get(campaignId) ?? 0) >= serialId) return;
  if (!serialHints.has(campaignId) && serialHints.size >= MAX_HINTS) serialHints.delete(serialHints.keys().next().value!);
  serialHints.set(campaignId, serialId);
}

const soldOut = (name: string) => refuse('sold_out', `sorry, "${name}" is sold out`);
const limitReached = (limit: number) =>
  refuse('limit_reached', `you have already redeemed ${limit === 1 ? 'this coupon' : `${limit} of these coupons`}`);

/**
 * Reveals the code: takes a serial (one-time serials with FOR UPDATE SKIP LOCKED on the index of
 * available serials, or the fixed serial's counter), enforces the per-contact limit, and starts a
 * from-redemption deadline. Idempotent: pressing again shows the same code. The coupon row lock
 * makes two presses at once one redemption.
 *
 * Two equivalent paths: when a coupon lifecycle hook listens to redemptions (a loaded flow with a
 * `coupon: redeemed` trigger), the statements run here in one transaction with what it does;
 * otherwise the database function `chatcoupon_redeem` (drizzle/0002_redeem_rules_from_caller.sql)
 * does the same in one round trip, from the same status sets (statuses.ts, handed to it as
 * `redeemRulesJson`).
 */
export async function redeemCoupon(ctx: AppContext, token: string, opts: { statements?: boolean } = {}): Promise<RedeemResult> {
  if (opts.statements || ctx.hooks.coupons.listensToRedeemed()) return await redeemWithFlows(ctx, token);
  const r = await query(ctx.db, sql`
    SELECT r.outcome, r.code, r.campaign_name AS "campaignName", r.per_contact_limit AS "perContactLimit", r.serial_id AS "serialId", x.*
    FROM chatcoupon_redeem(${token}, ${ctx.clock()}, ${JSON.stringify(Object.fromEntries(serialHints))}::jsonb, ${redeemRulesJson}::jsonb) r
    LEFT JOIN LATERAL (SELECT ${couponColumns} FROM (SELECT (r.c).*) s WHERE (r.c).id IS NOT NULL) x ON true`);
  const row = r.rows[0] as unknown as CouponRow & { outcome: string; code: string | null; campaignName: string; perContactLimit: number; serialId: number | null };
  const { outcome, code, campaignName, perContactLimit, serialId, ...coupon } = row;
  if (serialId) noteSerialTaken(coupon.campaignId, serialId);
  switch (outcome) {
    case 'redeemed': return { ok: true, coupon, code: code!, alreadyRedeemed: false };
    case 'already': return { ok: true, coupon, code: code!, alreadyRedeemed: true };
    case 'not_found': return refuse('not_found', 'this coupon does not exist');
    case 'sold_out': return { ...soldOut(campaignName), coupon };
    case 'limit_reached': return { ...limitReached(perContactLimit), coupon };
    case 'not_yet': case 'expired': case 'void': return { ...gateRefusal(outcome), coupon };
    default: throw new Error(`chatcoupon_redeem answered ${outcome}`);
  }
}

async function redeemWithFlows(ctx: AppContext, token: string): Promise<RedeemResult> {
  return await ctx.db.transaction(async (tx): Promise<RedeemResult> => {
    const coupon = await findCouponByToken(tx, token, { forUpdate: true });
    if (!coupon) return refuse('not_found', 'this coupon does not exist');
    const campaign = await getCampaign(tx, coupon.campaignId);
    const now = ctx.clock();
    const gate = redeemGate(coupon, now);
    if (gate === 'show_code') return { ok: true, coupon, code: coupon.serialCode!, alreadyRedeemed: true };
    if (gate !== 'take_serial') return { ...gateRefusal(gate), coupon };
    if (coupon.test) return await redeemTest(ctx, tx, coupon, campaign, now);

    const counted = await query(tx, sql`
      UPDATE contact_campaign_counters SET redeemed = redeemed + 1
      WHERE campaign_id = ${campaign.id} AND contact_id = ${coupon.contactId} AND redeemed < ${campaign.perContactLimit}
      RETURNING redeemed`);
    if (counted.rows.length === 0) return { ...limitReached(campaign.perContactLimit), coupon };

    const serial = await takeSerial(tx, campaign.id, coupon.id);
    if (!serial) {
      // Give the limit back: the pool is empty.
      await query(tx, sql`UPDATE contact_campaign_counters SET redeemed = redeemed - 1
        WHERE campaign_id = ${campaign.id} AND contact_id = ${coupon.contactId}`);
      return { ...soldOut(campaign.name), coupon };
    }

    const expiresAt = deadlineAtRedeem(campaign, coupon.expiresAt, now);
    const updated = await query(tx, sql`
      UPDATE coupons SET status = 'redeemed', redeemed_at = ${now}, opened_at = COALESCE(opened_at, ${now}),
        serial_code = ${serial.code}, serial_id = ${serial.id}, expires_at = ${expiresAt}
      WHERE id = ${coupon.id} RETURNING ${couponColumns}`);
    const redeemed = updated.rows[0] as unknown as CouponRow;
    await ctx.hooks.coupons.redeemed(tx, redeemed, campaign);
    return { ok: true, coupon: redeemed, code: serial.code, alreadyRedeemed: false };
  });
}

/** The code a test coupon shows: it says it is a test, and no serial is taken (as chatcoupon_redeem gives it). */
export function testCode(couponId: string): string {
  return `TEST-${crypto.createHash('md5').update(couponId).digest('hex').slice(0, 8).toUpperCase()}`;
}

/** A marketer's test coupon: redeemed with a test code, no per-contact count, no serial, no flow reacts. */
async function redeemTest(ctx: AppContext, tx: Tx, coupon: CouponRow, campaign: { expiryMode: 'fromSend' | 'fromRedeem'; expiryMinutes: number; redeemBy: Date | null }, now: Date): Promise<RedeemResult> {
  const code = testCode(coupon.id);
  const updated = await query(tx, sql`
    UPDATE coupons SET status = 'redeemed', redeemed_at = ${now}, opened_at = COALESCE(opened_at, ${now}), serial_code = ${code},
      expires_at = ${deadlineAtRedeem(campaign, coupon.expiresAt, now)}
    WHERE id = ${coupon.id} RETURNING ${couponColumns}`);
  return { ok: true, coupon: updated.rows[0] as unknown as CouponRow, code, alreadyRedeemed: false };
}

/** Takes one serial for a coupon, or null when the pool is empty. */
async function takeSerial(tx: Tx, campaignId: string, couponId: string): Promise<{ id: number | null; code: string } | null> {
  const fixed = await query(tx, sql`
    UPDATE fixed_serials SET taken = taken + 1 WHERE campaign_id = ${campaignId} AND taken < quantity RETURNING code`);
  if (fixed.rows[0]) return { id: null, code: (fixed.rows[0] as { code: string }).code };
  // The subquery walks serials_available_idx (campaign_id, id) WHERE coupon_id IS NULL in its own
  // order, starting above the serials this process already took (the hint), then from the start.
  const claim = (after: number) => query(tx, sql`
    UPDATE serials SET coupon_id = ${couponId}
    WHERE id = (SELECT id FROM serials WHERE campaign_id = ${campaignId} AND coupon_id IS NULL AND id > ${after}
                ORDER BY campaign_id, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id, code`);
  const hint = serialHints.get(campaignId) ?? 0;
  let taken = await claim(hint);
  if (taken.rows.length === 0 && hint > 0) taken = await claim(0);
  const row = taken.rows[0] as { id: number; code: string } | undefined;
  if (row) noteSerialTaken(campaignId, row.id);
  return row ?? null;
}

/**
 * Records that the customer opened the coupon page (first time only). Callers make sure it was
 * a person, not a link-preview crawler.
 */
export async function recordOpen(ctx: AppContext, token: string): Promise<void> {
  await query(ctx.db, sql`
    UPDATE coupons SET opened_at = ${ctx.clock()}, status = CASE WHEN status = 'sent' THEN 'opened' ELSE status END
    WHERE token = ${token} AND opened_at IS NULL AND ${isOpenableSql()}`);
}
