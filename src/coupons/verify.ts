import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { AppError, parseOrThrow, refuse, type Refusal, type Result } from '../lib/errors.ts';
import { getCampaign, type CampaignRow } from './campaigns.ts';
import { couponColumns, type CouponRow } from './coupon-row.ts';
import { formatDeadline, verifyGate, type VerifyGate } from './rules.ts';

export const verificationBody = z.object({
  code: z.string().trim().min(1).max(32).optional(),
  couponId: z.string().trim().min(1).max(64).optional(),
  verifiedAt: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' }).optional(),
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
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Verifies a redeemed coupon, named by its serial (one-time serials), its id, or its page token
 * (the staff button). The POS's own `verifiedAt` is stored as final; the deadline is judged at
 * that time, so a POS reporting late does not lose a verification it made in time.
 */
export async function verifyCoupon(
  ctx: AppContext, by: { code: string } | { couponId: string } | { token: string }, opts: { verifiedAt?: Date; verifiedBy: string },
): Promise<VerifyResult> {
  const now = ctx.clock();
  const at = opts.verifiedAt ?? now;
  if (at.getTime() > now.getTime() + CLOCK_SKEW_MS) throw new AppError('validation_error', 'verifiedAt: must not be in the future');
  return await ctx.db.transaction(async (tx): Promise<VerifyResult> => {
    let where;
    if ('code' in by) {
      const matches = await tx.execute(sql`SELECT c.id FROM coupons c JOIN serials s ON s.id = c.serial_id WHERE s.code = ${by.code} LIMIT 2`);
      if (matches.rows.length === 0) {
        const fixed = await tx.execute(sql`SELECT 1 FROM fixed_serials WHERE code = ${by.code} LIMIT 1`);
        if (fixed.rows.length > 0) throw new AppError('bad_request', 'this code is a fixed serial shared by many coupons: verify it by couponId');
        return refuse('not_found', `no redeemed coupon has the code ${by.code}`);
      }
      if (matches.rows.length > 1) throw new AppError('bad_request', 'this code belongs to several campaigns: verify it by couponId');
      where = sql`id = ${(matches.rows[0] as { id: string }).id}`;
    } else if ('couponId' in by) {
      where = sql`id = ${by.couponId}`;
    } else {
      where = sql`token = ${by.token}`;
    }
    const r = await tx.execute(sql`SELECT ${couponColumns} FROM coupons WHERE ${where} FOR UPDATE`);
    const coupon = r.rows[0] as unknown as CouponRow | undefined;
    if (!coupon) return refuse('not_found', 'this coupon does not exist');
    const campaign = await getCampaign(tx, coupon.campaignId);
    const gate = verifyGate(coupon, campaign.verification, at);
    if (gate !== 'verify') return verifyRefusal(gate, campaign, coupon, ctx.config.TZ_DEFAULT);
    if (coupon.redeemedAt && at < coupon.redeemedAt) throw new AppError('validation_error', 'verifiedAt: must not be before the coupon was redeemed');
    const updated = await tx.execute(sql`UPDATE coupons SET status = 'verified', verified_at = ${at}, verified_by = ${opts.verifiedBy}, expired_at = NULL
      WHERE id = ${coupon.id} RETURNING ${couponColumns}`);
    return { ok: true, coupon: updated.rows[0] as unknown as CouponRow };
  });
}

export function parseVerification(body: unknown) {
  const b = parseOrThrow(verificationBody, body);
  return {
    by: b.code !== undefined ? { code: b.code } : { couponId: b.couponId! },
    verifiedAt: b.verifiedAt ? new Date(b.verifiedAt) : undefined,
  };
}
