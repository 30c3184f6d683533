import { sql } from 'drizzle-orm';
import { query, type Tx } from '../db/client.ts';

/** Every event type an endpoint may subscribe to (the contract's list). */
export const webhookEventTypes = [
  'coupon.issued', 'coupon.opened', 'coupon.redeemed', 'coupon.verified', 'coupon.voided', 'coupon.expired',
  'coupon.delivery_failed', 'campaign.low_stock', 'campaign.sold_out', 'broadcast.finished',
] as const;
export type WebhookEventType = typeof webhookEventTypes[number];

/**
 * Writes an event for every endpoint that subscribes to its type, inside the caller's transaction
 * (the change it reports commits with it, or neither does). Coupon events are written by the
 * database trigger on `coupons` (drizzle/*_webhook_events.sql); this is for the others, e.g.
 * `broadcast.finished` from the broadcast worker:
 *
 *   await recordWebhookEvent(tx, 'broadcast.finished', { broadcast }, { dedupeKey: `broadcast:${id}:finished` });
 *
 * With a `dedupeKey`, an event already written under that key is not written again (a job that
 * runs twice reports once). Returns the event id, or null when nobody subscribes or it was a duplicate.
 */
export async function recordWebhookEvent(
  tx: Tx, type: WebhookEventType, data: Record<string, unknown>, opts: { dedupeKey?: string; campaignId?: string } = {},
): Promise<string | null> {
  const r = await query(tx, sql`
    WITH ev AS (
      INSERT INTO webhook_events (id, type, campaign_id, payload, dedupe_key)
      SELECT 'evt_' || replace(gen_random_uuid()::text, '-', ''), ${type}, ${opts.campaignId ?? null}, ${JSON.stringify(data)}::jsonb, ${opts.dedupeKey ?? null}
      WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE ${type} = ANY(events))
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id
    ), d AS (
      INSERT INTO webhook_deliveries (event_id, endpoint_id)
      SELECT ev.id, e.id FROM ev, webhook_endpoints e WHERE ${type} = ANY(e.events)
    )
    SELECT id FROM ev`);
  return (r.rows[0] as { id: string } | undefined)?.id ?? null;
}
