import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { webhookEventTypes } from './events.ts';
import { newWebhookSecret } from './signature.ts';
import { query } from '../db/client.ts';

export const endpointBody = z.object({
  url: z.string().trim().max(2000, 'must be at most 2000 characters')
    .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), { message: 'must be an http(s) URL' }),
  events: z.array(z.enum(webhookEventTypes, { error: `must be one of ${webhookEventTypes.join(', ')}` }))
    .min(1, 'give at least one event type').max(webhookEventTypes.length)
    .transform((e) => [...new Set(e)]),
}).strict();

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  createdAt: Date;
}

const endpointJson = (e: EndpointRow) => ({ id: e.id, url: e.url, events: e.events, createdAt: e.createdAt.toISOString() });

/** Adds an endpoint; its secret is in this answer only. */
export async function createEndpoint(ctx: AppContext, body: unknown) {
  const b = parseOrThrow(endpointBody, body);
  const secret = newWebhookSecret();
  const r = await query(ctx.db, sql`
    INSERT INTO webhook_endpoints (id, url, events, secret, created_at)
    VALUES (${newId('whk')}, ${b.url}, ${sql`ARRAY[${sql.join(b.events.map((e) => sql`${e}`), sql`, `)}]::text[]`}, ${secret}, ${ctx.clock()})
    RETURNING id, url, events, created_at AS "createdAt"`);
  return { ...endpointJson(r.rows[0] as unknown as EndpointRow), secret };
}

export async function listEndpoints(ctx: AppContext) {
  const r = await query(ctx.db, sql`SELECT id, url, events, created_at AS "createdAt" FROM webhook_endpoints ORDER BY created_at, id`);
  return { webhooks: (r.rows as unknown as EndpointRow[]).map(endpointJson) };
}

/** Removes an endpoint and what was still to be sent to it (its deliveries go with it). */
export async function deleteEndpoint(ctx: AppContext, id: string): Promise<void> {
  const r = await query(ctx.db, sql`DELETE FROM webhook_endpoints WHERE id = ${id} RETURNING id`);
  if (r.rows.length === 0) throw new AppError('not_found', `webhook ${id} does not exist`);
}

export const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  status: z.enum(['pending', 'sent', 'failed']).optional(),
}).strict();

/** An endpoint's deliveries, newest first, each with its attempts (time, HTTP status, error). */
export async function listDeliveries(ctx: AppContext, endpointId: string, input: unknown) {
  const q = parseOrThrow(deliveriesQuery, input, 'query');
  const exists = await query(ctx.db, sql`SELECT 1 FROM webhook_endpoints WHERE id = ${endpointId}`);
  if (exists.rows.length === 0) throw new AppError('not_found', `webhook ${endpointId} does not exist`);
  const r = await query(ctx.db, sql`
    SELECT d.id::text, d.event_id AS "eventId", ev.type, d.status, d.created_at AS "createdAt", d.next_attempt_at AS "nextAttemptAt",
      d.delivered_at AS "deliveredAt", d.last_error AS "lastError",
      COALESCE((SELECT jsonb_agg(jsonb_build_object('at', a.at, 'status', a.status_code, 'error', a.error, 'durationMs', a.duration_ms) ORDER BY a.id)
        FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb) AS attempts
    FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
    WHERE d.endpoint_id = ${endpointId} ${q.status ? sql`AND d.status = ${q.status}` : sql``}
    ORDER BY d.id DESC LIMIT ${q.limit}`);
  type Row = { id: string; eventId: string; type: string; status: string; createdAt: Date; nextAttemptAt: Date; deliveredAt: Date | null;
    lastError: string | null; attempts: Array<{ at: string; status: number | null; error: string | null; durationMs: number }> };
  return {
    deliveries: (r.rows as unknown as Row[]).map((d) => ({
      id: d.id, eventId: d.eventId, type: d.type, status: d.status, createdAt: d.createdAt.toISOString(),
      nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
      deliveredAt: d.deliveredAt?.toISOString() ?? null, lastError: d.lastError,
      attempts: d.attempts.map((a) => ({ ...a, at: new Date(a.at).toISOString() })),
    })),
  };
}

/**
 * Sends a delivery again now, with the same event id and body (a receiver that already has it
 * sees a duplicate it can recognise). A pending delivery is simply brought forward.
 */
export async function resendDelivery(ctx: AppContext, endpointId: string, deliveryId: string) {
  if (!/^\d{1,18}$/.test(deliveryId)) throw new AppError('not_found', `delivery ${deliveryId} does not exist`);
  const r = await query(ctx.db, sql`
    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${ctx.clock()}, first_attempt_at = NULL
    WHERE id = ${deliveryId}::bigint AND endpoint_id = ${endpointId} RETURNING id::text`);
  if (r.rows.length === 0) throw new AppError('not_found', `delivery ${deliveryId} of webhook ${endpointId} does not exist`);
  return { id: (r.rows[0] as { id: string }).id, status: 'pending' };
}
