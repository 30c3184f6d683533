import { sql } from 'drizzle-orm';
import { query, type Tx } from '../db/client.ts';

/**
 * What a coupon's delivery outcome does to the coupon. A confirmed delivery makes it `sent`
 * (and starts a from-sending deadline at the real send time); a delivery that failed for good
 * voids it, keeps the reason visible and releases the contact's claim.
 */
export async function markCouponDelivered(tx: Tx, couponId: string, at: Date): Promise<void> {
  await markCouponsDelivered(tx, [{ couponId, at }]);
}

/** As `markCouponDelivered`, for the coupons of a delivery batch at once (one statement), each with its own send time. */
export async function markCouponsDelivered(tx: Tx, delivered: Array<{ couponId: string; at: Date }>): Promise<void> {
  if (delivered.length === 0) return;
  await query(tx, sql`
    UPDATE coupons c SET
      status = CASE WHEN c.status = 'pending' THEN 'sent' ELSE c.status END,
      delivery_status = 'sent', delivery_error = NULL,
      sent_at = COALESCE(c.sent_at, d.at),
      expires_at = CASE WHEN cm.expiry_mode = 'fromSend' AND c.sent_at IS NULL
        THEN d.at + make_interval(mins => cm.expiry_minutes) ELSE c.expires_at END
    FROM campaigns cm, unnest(${sql.param(delivered.map((d) => d.couponId))}::text[], ${sql.param(delivered.map((d) => d.at.toISOString()))}::timestamptz[]) AS d(id, at)
    WHERE c.id = d.id AND cm.id = c.campaign_id AND c.status <> 'void'`);
}

export async function releaseCoupon(tx: Tx, couponId: string, reason: string, at: Date): Promise<void> {
  const released = await query(tx, sql`
    UPDATE coupons SET status = 'void', void_at = ${at}, delivery_status = 'failed', delivery_error = ${reason}
    WHERE id = ${couponId} AND status = 'pending'
    RETURNING campaign_id, contact_id`);
  const row = released.rows[0] as { campaign_id: string; contact_id: string } | undefined;
  if (!row) return; // already delivered, redeemed or released: nothing to give back
  await query(tx, sql`
    UPDATE contact_campaign_counters SET held = held - 1
    WHERE campaign_id = ${row.campaign_id} AND contact_id = ${row.contact_id} AND held > 0`);
}

/** Releases several pending coupons at once (e.g. a cancelled broadcast's), like releaseCoupon. */
export async function releaseCoupons(tx: Tx, couponIds: string[], reason: string, at: Date): Promise<void> {
  if (couponIds.length === 0) return;
  await query(tx, sql`
    WITH released AS (
      UPDATE coupons SET status = 'void', void_at = ${at}, delivery_status = 'failed', delivery_error = ${reason}
      WHERE id = ANY(${sql.param(couponIds)}::text[]) AND status = 'pending'
      RETURNING campaign_id, contact_id),
    per AS (SELECT campaign_id, contact_id, count(*)::int AS n FROM released GROUP BY campaign_id, contact_id)
    UPDATE contact_campaign_counters k SET held = GREATEST(k.held - per.n, 0)
    FROM per WHERE k.campaign_id = per.campaign_id AND k.contact_id = per.contact_id AND k.held > 0`);
}

/** What a record shows while its card waits for the platform (only while delivery is pending). */
export async function markCouponWaiting(tx: Tx, couponId: string, text: string): Promise<void> {
  await query(tx, sql`UPDATE coupons SET delivery_error = ${text} WHERE id = ${couponId} AND delivery_status = 'pending'`);
}
