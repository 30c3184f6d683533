import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { channelTitle } from '../channels.ts';
import type { AppContext } from '../context.ts';
import { parseOrThrow, refuse, type Refusal } from '../lib/errors.ts';
import { campaignTimeZone, getCampaign } from './campaigns.ts';
import { couponColumns, type CouponRow } from './coupon-row.ts';
import { couponHistory, type HistoryEntry } from './history.ts';
import { describeReward, effectiveStatus, formatDeadline, verifyGate } from './rules.ts';
import { POS_VOID_WINDOW_MS, verifyRefusal } from './verify.ts';
import { query } from '../db/client.ts';

export const tillLookupQuery = z.object({
  code: z.string().trim().min(1).max(64).optional(),
  couponId: z.string().trim().min(1).max(64).optional(),
}).strict().refine((q) => (q.code === undefined) !== (q.couponId === undefined), { message: 'give exactly one of code or couponId' });

/** Whether the till asks for the order's amount before verifying (`STAFF_ORDER_AMOUNT`). */
export type OrderAmountMode = 'off' | 'optional' | 'required';

/** Who looks: the verifier id their verifications carry (`pos`, `admin` or a person id), and whether they may void any time. */
export interface TillCaller {
  actor: string;
  anyTime: boolean;
}

export type TillLookupRefusal = Refusal<'not_found' | 'bad_request'>;

/** One line of what was already done with the coupon, with the person's name in place of their id. */
export type TillHistoryEntry = HistoryEntry & { byName?: string; channelTitle?: string };

/**
 * A coupon as the till sees it before verifying: the campaign's name and reward, the status and
 * deadline, what was already done with it, whether it can be verified now (or why not, in the
 * words the POS gets), and until when the caller may undo their own verification.
 */
export async function tillLookup(ctx: AppContext, query: unknown, caller: TillCaller) {
  const q = parseOrThrow(tillLookupQuery, query, 'query');
  const found = q.couponId !== undefined ? await byId(ctx, q.couponId) : await byCode(ctx, q.code!);
  if ('ok' in found) return found;
  const coupon = found;
  const campaign = await getCampaign(ctx.db, coupon.campaignId);
  const now = ctx.clock();
  const timeZone = campaignTimeZone(ctx, campaign);
  const gate = verifyGate(coupon, campaign.verification, now);
  const refusal = gate === 'verify' ? null : verifyRefusal(gate, campaign, coupon, timeZone);
  const history = (await couponHistory(ctx, coupon.id))?.events ?? [];
  const names = await personNames(ctx, history);
  // Undo: the owner any time; the POS and staff their own verification, within the window.
  let undo: { possible: false } | { possible: true; until: string | null } = { possible: false };
  if (coupon.status === 'verified') {
    const received = coupon.verifiedReceivedAt ?? coupon.verifiedAt!;
    const until = new Date(received.getTime() + POS_VOID_WINDOW_MS);
    if (caller.anyTime) undo = { possible: true, until: null };
    else if (coupon.verifiedBy === caller.actor && now < until) undo = { possible: true, until: until.toISOString() };
  }
  const mode = ctx.config.STAFF_ORDER_AMOUNT;
  return {
    ok: true as const,
    coupon: {
      id: coupon.id,
      status: effectiveStatus(coupon, now),
      serial: coupon.serialCode,
      expiresAt: coupon.expiresAt?.toISOString() ?? null,
      deadlineText: coupon.expiresAt ? formatDeadline(coupon.expiresAt, timeZone) : null,
      redeemedAt: coupon.redeemedAt?.toISOString() ?? null,
      verifiedAt: coupon.verifiedAt?.toISOString() ?? null,
      amount: coupon.amount,
      currency: coupon.currency,
    },
    campaign: {
      id: campaign.id,
      name: campaign.name,
      rewardText: describeReward(campaign),
      verification: campaign.verification,
    },
    verify: refusal ? { possible: false, code: refusal.code, reason: refusal.message } : { possible: true },
    undo,
    orderAmount: { ask: mode, currency: campaign.rewardCurrency ?? ctx.config.TILL_CURRENCY ?? null },
    history: history.map((e): TillHistoryEntry => {
      const who = names.get(e.by) ?? (e.from.agent ? names.get(e.from.agent) : undefined);
      return { ...e, ...(who ? { byName: who } : {}), ...(e.from.channel ? { channelTitle: channelTitle(ctx, e.from.channel) } : {}) };
    }),
  };
}

async function byId(ctx: AppContext, id: string): Promise<CouponRow | Refusal<'not_found'>> {
  const r = await query(ctx.db, sql`SELECT ${couponColumns} FROM coupons WHERE id = ${id}`);
  return (r.rows[0] as unknown as CouponRow | undefined) ?? refuse('not_found', 'no coupon has this id');
}

/**
 * The coupon whose code the customer shows. A code is the serial taken at redemption; as typed by
 * hand it may differ in case only. A fixed serial is shown by every coupon of its campaign, so it
 * names one coupon only while one has been redeemed.
 */
async function byCode(ctx: AppContext, code: string): Promise<CouponRow | TillLookupRefusal> {
  const r = await query(ctx.db, sql`SELECT ${couponColumns}, serial_id IS NULL AS "fixedSerial" FROM coupons
    WHERE serial_code = ${code} OR serial_code = ${code.toUpperCase()} ORDER BY serial_code = ${code} DESC, redeemed_at DESC LIMIT 3`);
  const rows = r.rows as unknown as Array<CouponRow & { fixedSerial: boolean }>;
  const exact = rows.filter((c) => c.serialCode === code);
  const matches = exact.length > 0 ? exact : rows;
  if (matches.length === 0) {
    return refuse('not_found', `no redeemed coupon has the code ${code}: check it with the customer, who has to press Redeem on the coupon page first`);
  }
  if (matches.length > 1) {
    return refuse('bad_request', matches.some((c) => c.fixedSerial)
      ? `the code ${code} is shared by every coupon of its campaign: verify with the Verify button on the customer's coupon page`
      : `the code ${code} belongs to coupons of several campaigns: verify with the Verify button on the customer's coupon page`);
  }
  const { fixedSerial: _fixed, ...coupon } = matches[0]!;
  return coupon;
}

async function personNames(ctx: AppContext, history: HistoryEntry[]): Promise<Map<string, string>> {
  const ids = [...new Set(history.flatMap((e) => [e.by, e.from.agent ?? '']).filter((id) => id.startsWith('psn_')))];
  if (ids.length === 0) return new Map();
  const r = await query(ctx.db, sql`SELECT id, name FROM people WHERE id = ANY(${sql.param(ids)}::text[])`);
  return new Map((r.rows as Array<{ id: string; name: string }>).map((p) => [p.id, p.name]));
}
