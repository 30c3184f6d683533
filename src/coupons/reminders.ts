import { sql } from 'drizzle-orm';
import { query, type Tx } from '../db/client.ts';
import { isRemindableSql } from './rules-sql.ts';

/**
 * Marks up to `limit` coupons whose campaign's reminder time has come as reminded, and returns
 * their ids, soonest deadline first. Rows another transaction holds are skipped, so two sweeps
 * never remind the same coupon.
 */
export async function markDueReminders(tx: Tx, now: Date, limit: number): Promise<string[]> {
  const r = await query(tx, sql`
    WITH due AS (
      SELECT c2.id FROM coupons c2 JOIN campaigns cm2 ON cm2.id = c2.campaign_id
      WHERE ${isRemindableSql('c2')} AND c2.reminded_at IS NULL AND cm2.remind_before_hours IS NOT NULL
        AND c2.expires_at > ${now} AND c2.expires_at <= ${now}::timestamptz + make_interval(hours => cm2.remind_before_hours)
      ORDER BY c2.expires_at LIMIT ${limit} FOR UPDATE OF c2 SKIP LOCKED)
    UPDATE coupons c SET reminded_at = ${now} FROM due WHERE c.id = due.id RETURNING c.id`);
  return (r.rows as Array<{ id: string }>).map((row) => row.id);
}
