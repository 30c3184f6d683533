import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { query } from '../db/client.ts';
import { isPastDeadlineSql } from './rules-sql.ts';

const SWEEP_BATCH = 5000;

/**
 * Persists what every read already shows: coupons past their deadline become `expired`.
 * Works in batches so a large backlog never holds one long transaction. Returns how many expired.
 */
export async function sweepExpired(ctx: AppContext): Promise<number> {
  const now = ctx.clock();
  let total = 0;
  for (;;) {
    const expired = await ctx.db.transaction(async (tx) => {
      const r = await query(tx, sql`
        UPDATE coupons SET status = 'expired', expired_at = expires_at
        WHERE id IN (
          SELECT id FROM coupons
          WHERE ${isPastDeadlineSql(now)}
          LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)
        RETURNING id, campaign_id AS "campaignId", contact_id AS "contactId"`);
      const rows = r.rows as Array<{ id: string; campaignId: string; contactId: string }>;
      // What follows an expiry (flows with a `coupon: expired` trigger) runs in the sweep's transaction.
      if (rows.length > 0) await ctx.hooks.coupons.expired(tx, rows);
      return rows.length;
    });
    total += expired;
    if (expired < SWEEP_BATCH) break;
  }
  if (total > 0) ctx.log.info({ expired: total }, 'expiry sweep');
  return total;
}
