import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { Tx } from '../db/client.ts';
import { AppError, parseOrThrow, refuse, type Refusal, type Result } from '../lib/errors.ts';
import { getCampaign, type CampaignRow } from './campaigns.ts';
import { couponColumns, type CouponRow } from './coupon-row.ts';
import { formatDeadline, verifyGate, type VerifyGate } from './rules.ts';
import { query } from '../db/client.ts';

/** ISO 4217 codes this runtime knows (Intl's list), e.g. JPY, TWD, THB. */
const currencies = new Set(Intl.supportedValuesOf('currency'));

export const verificationBody = z.object({
  code: z.string().trim().min(1).max(32).optional(),
  couponId: z.string().trim().min(1).max(64).optional(),
  verifiedAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' }).optional(),
  amount: z.number().finite().min(0).max(1e12).optional(),
  currency: z.string().trim().toUpperCase()
    .refine((c) => currencies.has(c), { message: 'must be an ISO 4217 currency code such as JPY, TWD or THB' }).optional(),
  storeId: z.string().trim().min(1).max(64).optional(),
}).strict().refine((b) => (b.code === undefined) !== (b.couponId === undefined), { message: 'give exactly one of code or couponId' });

export type VerifyRefusalCode = 'not_found' | 'verification_disabled' | 'already_verified' | 'not_redeemed' | 'expired' | 'void';
export type VerifyResult = Result<{ coupon: CouponRow }, VerifyRefusalCode>;

/** The words for a coupon that cannot be verified, for the POS and the staff page alike. */
export function verifyRefusal(
  gate: Exclude<VerifyGate, 'verify'>, campaign: Pick<CampaignRow, 'name'>, coupon: Pick<CouponRow, 'verifiedAt'>, timeZone: string,
): Refusal<VerifyRefusalCode> {
  switch (gate) {
    case 'verification_disabled': return refuse('verification_disabled', `"${campaign.name}" does not use verification`);
    case 'already_verified': return refuse('already_verified',
      `this coupon was already verified${coupon.verifiedAt ? ` at ${formatDeadline(coupon.verifiedAt, timeZone)}` : ''}`);
    case 'expired': return refuse('expired', 'this coupon expired before it was verified');
    case 'void': return refuse('void', 'this coupon was withdrawn');
    case 'not_redeemed': return refuse('not_redeemed', 'this coupon has not been redeemed yet: the customer has to press Redeem first');
  }
}

/** How far in the future a POS clock may be ahead of ours before its time is refused. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** A coupon named by its serial (one-time serials), its id, or its page token (the staff button). */
export type CouponRef = { code: string } | { couponId: string } | { token: string };

/** Who verifies or voids, and from where: the history keeps it. */
export interface TillActor {
  /** Who: `pos`, `admin` (the ADMIN_TOKEN), or the person's id. */
  actor: string;
  ip?: string | null;
}

export interface VerifyOptions extends TillActor {
  verifiedAt?: Date | undefined;
  amount?: number | undefined;
  currency?: string | undefined;
  storeId?: string | undefined;
}

/** Finds and locks the coupon a till names; a refusal when there is none. */
export async function lockCouponAtTill(tx: Tx, by: CouponRef): Promise<CouponRow | Refusal<'not_found'>> {
  let where;
  if ('code' in by) {
    const matches = await query(tx, sql`SELECT c.id FROM coupons c JOIN serials s ON s.id = c.serial_id WHERE s.code = ${by.code} LIMIT 2`);
    if (matches.rows.length === 0) {
      const fixed = await query(tx, sql`SELECT 1 FROM fixed_serials WHERE code = ${by.code} LIMIT 1`);
      if (fixed.rows.length > 0) throw new AppError('bad_request', 'this code is a fixed serial shared by many coupons: name the coupon by couponId');
      return refuse('not_found', `no redeemed coupon has the code ${by.code}`);
    }
    if (matches.rows.length > 1) throw new AppError('bad_request', 'this code belongs to several campaigns: name the coupon by couponId');
    where = sql`id = ${(matches.rows[0] as { id: string }).id}`;
  } else if ('couponId' in by) {
    where = sql`id = ${by.couponId}`;
  } else {
    where = sql`token = ${by.token}`;
  }
  const r = await query(tx, sql`SELECT ${couponColumns} FROM coupons WHERE ${where} FOR UPDATE`);
  return (r.rows[0] as unknown as CouponRow | undefined) ?? refuse('not_found', 'this coupon does not exist');
}

/**
 * Verifies a redeemed coupon. The POS's own `verifiedAt` is stored as given, beside our receipt
 * time: a POS clock behind ours (even before the redemption we recorded) is a real sale, not an
 * error. The deadline is judged at the POS's time, so a POS reporting late does not lose a
 * verification it made in time; only a time ahead of ours by more than the skew is refused.
 */
export async function verifyCoupon(ctx: AppContext, by: CouponRef, opts: VerifyOptions): Promise<VerifyResult> {
  const now = ctx.clock();
  const at = opts.verifiedAt ?? now;
  if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw new AppError('validation_error', `verifiedAt: more than ${CLOCK_SKEW_MS / 60_000} minutes ahead of our clock (${now.toISOString()})`);
  }
  return await ctx.db.transaction(async (tx): Promise<VerifyResult> => {
    const found = await lockCouponAtTill(tx, by);
    if ('ok' in found) return found;
    const coupon = found;
    const campaign = await getCampaign(tx, coupon.campaignId);
    const gate = verifyGate(coupon, campaign.verification, at);
    if (gate !== 'verify') return verifyRefusal(gate, campaign, coupon, ctx.config.TZ_DEFAULT);
    let currency = opts.currency ?? null;
    if (opts.amount !== undefined && !currency) {
      currency = campaign.rewardCurrency ?? ctx.config.TILL_CURRENCY ?? null;
      if (!currency) throw new AppError('validation_error', 'currency: required with amount (an ISO 4217 code such as JPY)');
    }
    const amount = opts.amount ?? null;
    const storeId = opts.storeId ?? null;
    const updated = await query(tx, sql`UPDATE coupons SET status = 'verified', verified_at = ${at}, verified_received_at = ${now},
        verified_by = ${opts.actor}, amount = ${amount}, currency = ${currency}, store_id = ${storeId}, expired_at = NULL
      WHERE id = ${coupon.id} RETURNING ${couponColumns}`);
    await query(tx, sql`INSERT INTO coupon_history (coupon_id, event, at, pos_at, actor, store_id, ip, amount, currency)
      VALUES (${coupon.id}, 'verified', ${now}, ${at}, ${opts.actor}, ${storeId}, ${opts.ip ?? null}, ${amount}, ${currency})`);
    return { ok: true, coupon: updated.rows[0] as unknown as CouponRow };
  });
}

/** Undoing a verification: the POS may only undo its own, this soon after it was received. */
export const POS_VOID_WINDOW_MS = 30 * 60_000;

export const voidBody = z.object({
  code: z.string().trim().min(1).max(32).optional(),
  couponId: z.string().trim().min(1).max(64).optional(),
  reason: z.string().trim().min(1).max(500),
}).strict().refine((b) => (b.code === undefined) !== (b.couponId === undefined), { message: 'give exactly one of code or couponId' });

export type VoidRefusalCode = 'not_found' | 'not_verified' | 'void_window_passed';
export type VoidResult = Result<{ coupon: CouponRow }, VoidRefusalCode>;

/**
 * Undoes a verification: the coupon is `redeemed` again (its order amount no longer counts), and
 * the void is kept in its history. The owner (`anyTime`) may void any time; the POS and staff only
 * their own verification, within 30 minutes of when we received it.
 */
export async function voidVerification(
  ctx: AppContext, by: CouponRef, opts: TillActor & { reason: string; anyTime: boolean },
): Promise<VoidResult> {
  const now = ctx.clock();
  return await ctx.db.transaction(async (tx): Promise<VoidResult> => {
    const found = await lockCouponAtTill(tx, by);
    if ('ok' in found) return found;
    const coupon = found;
    if (coupon.status !== 'verified') return refuse('not_verified', 'this coupon is not verified: there is nothing to void');
    if (!opts.anyTime) {
      const received = coupon.verifiedReceivedAt ?? coupon.verifiedAt!;
      if (coupon.verifiedBy !== opts.actor) return refuse('void_window_passed', 'only your own verifications can be voided here; ask the owner');
      if (now.getTime() - received.getTime() > POS_VOID_WINDOW_MS) {
        return refuse('void_window_passed', `a verification can be voided only within ${POS_VOID_WINDOW_MS / 60_000} minutes; ask the owner`);
      }
    }
    const updated = await query(tx, sql`UPDATE coupons SET status = 'redeemed', verified_at = NULL, verified_received_at = NULL,
        verified_by = NULL, amount = NULL, currency = NULL, store_id = NULL
      WHERE id = ${coupon.id} RETURNING ${couponColumns}`);
    await query(tx, sql`INSERT INTO coupon_history (coupon_id, event, at, actor, ip, reason, store_id, amount, currency)
      VALUES (${coupon.id}, 'voided', ${now}, ${opts.actor}, ${opts.ip ?? null}, ${opts.reason}, ${coupon.storeId}, ${coupon.amount}, ${coupon.currency})`);
    return { ok: true, coupon: updated.rows[0] as unknown as CouponRow };
  });
}

export function parseVoid(body: unknown) {
  const b = parseOrThrow(voidBody, body);
  return { by: b.code !== undefined ? { code: b.code } : { couponId: b.couponId! }, reason: b.reason };
}

export function parseVerification(body: unknown) {
  const b = parseOrThrow(verificationBody, body);
  return {
    by: b.code !== undefined ? { code: b.code } : { couponId: b.couponId! },
    verifiedAt: b.verifiedAt ? new Date(b.verifiedAt) : undefined,
    amount: b.amount,
    currency: b.currency,
    storeId: b.storeId,
  };
}
