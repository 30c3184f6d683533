import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { getCampaign, stockOf, type Stock } from './campaigns.ts';
import { unencodableReason } from './rules.ts';
import { lockSerialPool } from './serial-import.ts';
import { query } from '../db/client.ts';

export const MAX_FIXED_CODE_LENGTH = 16;
/**
 * The most one request may add. Top-ups of the same code add up: the limit is per request, as
 * in the seed's form, so a pool can be refilled after it sold out; the total only has to fit
 * the counter column.
 */
export const MAX_FIXED_QUANTITY = 1_000_000;
const MAX_FIXED_TOTAL = 2_147_483_647;

export const fixedSerialBody = z.object({
  fixed: z.object({
    code: z.string().trim()
      .min(1, 'is required')
      .refine((c) => [...c].length <= MAX_FIXED_CODE_LENGTH, `must be at most ${MAX_FIXED_CODE_LENGTH} characters`),
    quantity: z.number().int('must be a whole number').min(1, 'must be at least 1')
      .max(MAX_FIXED_QUANTITY, `must be at most ${MAX_FIXED_QUANTITY.toLocaleString('en')}`),
  }).strict(),
}).strict();

export interface FixedSerialResult {
  loaded: number;
  rejected: [];
  stock: Stock;
}

/**
 * One code shown to every redeemer; the quantity is a counter, never a row per coupon.
 * Loading the same code again tops the counter up; a different code is refused.
 */
export async function loadFixedSerial(ctx: AppContext, campaignId: string, body: unknown): Promise<FixedSerialResult> {
  const campaign = await getCampaign(ctx.db, campaignId);
  const { fixed } = parseOrThrow(fixedSerialBody, body);
  const unencodable = unencodableReason(campaign.barcode, fixed.code);
  if (unencodable) {
    throw new AppError('validation_error', `fixed.code: ${unencodable}`, { fields: [{ field: 'fixed.code', message: unencodable }] });
  }
  return await ctx.db.transaction(async (tx) => {
    await lockSerialPool(tx, campaignId);
    const oneTime = await query(tx, sql`SELECT 1 FROM serials WHERE campaign_id = ${campaignId} LIMIT 1`);
    if (oneTime.rows.length > 0) {
      throw new AppError('pool_kind_conflict', 'this campaign has one-time serials from a CSV pack; a fixed serial cannot be added to it');
    }
    const current = await query(tx, sql`SELECT code, quantity FROM fixed_serials WHERE campaign_id = ${campaignId}`);
    const existing = current.rows[0] as { code: string; quantity: number } | undefined;
    if (existing && existing.code !== fixed.code) {
      throw new AppError('conflict', `this campaign's fixed serial is "${existing.code}"; top it up with the same code (a fixed pool has one code)`);
    }
    if (existing && existing.quantity + fixed.quantity > MAX_FIXED_TOTAL) {
      throw new AppError('conflict', `the fixed serial's total quantity would exceed ${MAX_FIXED_TOTAL}`);
    }
    await query(tx, sql`INSERT INTO fixed_serials (campaign_id, code, quantity) VALUES (${campaignId}, ${fixed.code}, ${fixed.quantity})
      ON CONFLICT (campaign_id) DO UPDATE SET quantity = fixed_serials.quantity + EXCLUDED.quantity`);
    const stock = (await stockOf(tx, [campaignId])).get(campaignId)!;
    return { loaded: fixed.quantity, rejected: [] as [], stock };
  });
}
