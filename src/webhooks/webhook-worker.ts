import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { stockOf } from '../coupons/campaigns.ts';
import { PollingLoop } from '../lib/polling-loop.ts';
import { recordWebhookEvent } from './events.ts';
import { signatureHeader } from './signature.ts';
import { query } from '../db/client.ts';

/** A delivery claimed for one attempt, with what it needs to be sent. */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
  firstAttemptAt: Date;
  endpointId: string;
  url: string;
  secret: string;
  eventId: string;
  type: string;
  createdAt: Date;
  body: string | null;
  payload: Record<string, unknown>;
  couponId: string | null;
}

export interface WebhookWorkerOptions {
  /** Deliveries in flight at once, all endpoints together. */
  maxInFlight?: number;
  /** Deliveries in flight at once to one endpoint: a slow one holds only these. */
  perEndpoint?: number;
  /** An endpoint that has not answered after this long is retried later. */
  timeoutMs?: number;
  pollMs?: number;
}

/** Retries stop this long after the first attempt: the delivery is then marked failed. */
export const RETRY_WINDOW_MS = 24 * 3600_000;
/** A claimed delivery is leased this long: if the process dies mid-send it is tried again after. */
const LEASE_MS = 120_000;
const defaults = { maxInFlight: 32, perEndpoint: 4, timeoutMs: 10_000, pollMs: 1000 };

/** 10 s, 20 s, 40 s … capped at one hour, with jitter: about 30 attempts in 24 hours. */
export function webhookRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(3_600_000, 10_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (base / 2) * random());
}

/**
 * Claims due deliveries, at most `perEndpoint` per endpoint counting those already in flight
 * (`busy`), so one slow endpoint's backlog never takes the places of the others.
 */
export async function claimDueDeliveries(
  ctx: AppContext, limit: number, busy: ReadonlyMap<string, number> = new Map(), perEndpoint = defaults.perEndpoint,
): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const now = ctx.clock();
  const r = await query(ctx.db, sql`
    WITH pick AS (
      SELECT x.id FROM webhook_endpoints e, LATERAL (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= ${now}
        ORDER BY d.next_attempt_at, d.id
        LIMIT GREATEST(0, ${perEndpoint} - COALESCE((${JSON.stringify(Object.fromEntries(busy))}::jsonb ->> e.id)::int, 0))) x
      LIMIT ${limit}
    ), locked AS (
      SELECT d.id FROM webhook_deliveries d
      WHERE d.id IN (SELECT id FROM pick) AND d.status = 'pending' AND d.next_attempt_at <= ${now}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = ${new Date(now.getTime() + LEASE_MS)},
      first_attempt_at = COALESCE(d.first_attempt_at, ${now})
    FROM locked, webhook_endpoints e, webhook_events ev
    WHERE d.id = locked.id AND e.id = d.endpoint_id AND ev.id = d.event_id
    RETURNING d.id::text, d.attempts, d.first_attempt_at AS "firstAttemptAt", d.endpoint_id AS "endpointId", e.url, e.secret,
      ev.id AS "eventId", ev.type, ev.created_at AS "createdAt", ev.body, ev.payload, ev.coupon_id AS "couponId"`);
  return r.rows as unknown as ClaimedDelivery[];
}

const iso = (v: unknown) => (typeof v === 'string' ? new Date(v).toISOString() : null);

/** The coupon as records show it, from the row the trigger saved at the change (snake_case columns). */
async function couponData(ctx: AppContext, type: string, row: Record<string, unknown>): Promise<Record<string, unknown>> {
  const contact = await query(ctx.db, sql`SELECT channel, platform_user_id AS "userId", display_name AS "displayName"
    FROM contacts WHERE id = ${row.contact_id as string}`);
  const ct = (contact.rows[0] ?? { channel: null, userId: null, displayName: null }) as { channel: string | null; userId: string | null; displayName: string | null };
  const data: Record<string, unknown> = {
    couponId: row.id, campaignId: row.campaign_id, contactId: row.contact_id, channel: ct.channel, userId: ct.userId, displayName: ct.displayName,
    status: row.status, deliveryStatus: row.delivery_status, deliveryError: row.delivery_error ?? null, source: row.source,
    issuedAt: iso(row.issued_at), sentAt: iso(row.sent_at), openedAt: iso(row.opened_at), redeemedAt: iso(row.redeemed_at),
    verifiedAt: iso(row.verified_at), verifiedReceivedAt: iso(row.verified_received_at), expiresAt: iso(row.expires_at),
    serial: row.serial_code ?? null, amount: row.amount === null || row.amount === undefined ? null : Number(row.amount),
    currency: row.currency ?? null, storeId: row.store_id ?? null, flowId: row.flow_id ?? null,
  };
  if (type === 'coupon.voided') {
    const v = await query(ctx.db, sql`SELECT at, actor, reason, amount::float8 AS amount, currency FROM coupon_history
      WHERE coupon_id = ${row.id as string} AND event = 'voided' ORDER BY id DESC LIMIT 1`);
    const last = v.rows[0] as { at: Date; actor: string; reason: string; amount: number | null; currency: string | null } | undefined;
    if (last) data.void = { at: last.at.toISOString(), by: last.actor, reason: last.reason, amount: last.amount, currency: last.currency };
  }
  return data;
}

/**
 * The body sent for an event: built on its first attempt and kept, so every retry and resend
 * carries the same bytes and the same event id.
 */
async function eventBody(ctx: AppContext, d: ClaimedDelivery): Promise<string> {
  if (d.body) return d.body;
  const data = d.type.startsWith('coupon.') ? await couponData(ctx, d.type, d.payload) : d.payload;
  const body = JSON.stringify({ id: d.eventId, type: d.type, createdAt: d.createdAt.toISOString(), data });
  const r = await query(ctx.db, sql`UPDATE webhook_events SET body = COALESCE(body, ${body}) WHERE id = ${d.eventId} RETURNING body`);
  return (r.rows[0] as { body: string } | undefined)?.body ?? body;
}

export interface AttemptOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** One POST to the endpoint: 2xx is delivered; anything else, a timeout or a network error is retried. */
export async function postEvent(
  d: Pick<ClaimedDelivery, 'url' | 'secret' | 'eventId'>, body: string, at: Date, opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<AttemptOutcome> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'chatcoupon-webhooks',
        'x-chatcoupon-event-id': d.eventId,
        'x-chatcoupon-signature': signatureHeader(d.secret, body, at),
      },
    });
    await res.body?.cancel().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    return { ok, status: res.status, error: ok ? null : `the endpoint answered ${res.status}`, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    const error = timeout.aborted ? `no answer within ${opts.timeoutMs} ms`
      : opts.signal?.aborted ? 'the service stopped during the attempt'
        : `could not reach the endpoint: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;
    return { ok: false, status: null, error, durationMs: Math.round(performance.now() - started) };
  }
}

/** Records an attempt: delivered, retried later with backoff, or failed once 24 hours have passed. */
export async function recordAttempt(ctx: AppContext, d: Pick<ClaimedDelivery, 'id' | 'attempts' | 'firstAttemptAt'>, out: AttemptOutcome): Promise<void> {
  const at = ctx.clock();
  const deadline = d.firstAttemptAt.getTime() + RETRY_WINDOW_MS;
  let update;
  if (out.ok) {
    update = sql`status = 'sent', delivered_at = ${at}, last_error = NULL`;
  } else if (at.getTime() >= deadline) {
    update = sql`status = 'failed', last_error = ${`gave up after ${d.attempts} attempts in 24 hours: ${out.error}`}`;
  } else {
    update = sql`next_attempt_at = ${new Date(Math.min(deadline, at.getTime() + webhookRetryDelayMs(d.attempts)))}, last_error = ${out.error}`;
  }
  // One statement (one round trip, atomic): the attempt and the delivery's new state.
  await query(ctx.db, sql`
    WITH attempt AS (
      INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms)
      VALUES (${d.id}::bigint, ${at}, ${out.status}, ${out.error}, ${out.durationMs})
    )
    UPDATE webhook_deliveries SET ${update} WHERE id = ${d.id}::bigint`);
}

/** Builds, sends and records one claimed delivery. */
export async function attemptDelivery(ctx: AppContext, d: ClaimedDelivery, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const body = await eventBody(ctx, d);
  const out = await postEvent(d, body, ctx.clock(), opts);
  await recordAttempt(ctx, d, out);
  if (!out.ok) ctx.log.warn({ webhook: d.endpointId, delivery: d.id, event: d.eventId, error: out.error }, 'webhook delivery not accepted');
}

/**
 * Turns stock checks (written by the redemption's transaction when an endpoint listens to stock
 * events) into `campaign.low_stock` and `campaign.sold_out`, once per crossing: an alert is
 * re-armed when the stock is back above the threshold (more serials loaded).
 */
export async function processStockChecks(ctx: AppContext): Promise<number> {
  const any = await query(ctx.db, sql`SELECT EXISTS (SELECT 1 FROM webhook_stock_checks) AS any`);
  if (!(any.rows[0] as { any: boolean }).any) return 0;
  return await ctx.db.transaction(async (tx) => {
    const r = await query(tx, sql`DELETE FROM webhook_stock_checks WHERE id IN (
      SELECT id FROM webhook_stock_checks ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING campaign_id AS "campaignId"`);
    const ids = [...new Set((r.rows as Array<{ campaignId: string }>).map((x) => x.campaignId))].sort();
    if (ids.length === 0) return 0;
    const camps = await query(tx, sql`SELECT id, slug, name, low_stock_threshold AS "threshold", low_stock_alerted_at AS "lowAt",
        sold_out_alerted_at AS "soldAt"
      FROM campaigns WHERE id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) ORDER BY id FOR UPDATE`);
    const stock = await stockOf(tx, ids);
    for (const c of camps.rows as Array<{ id: string; slug: string; name: string; threshold: number | null; lowAt: Date | null; soldAt: Date | null }>) {
      const s = stock.get(c.id)!;
      const data = { campaignId: c.id, slug: c.slug, name: c.name, stock: { kind: s.kind, total: s.total, left: s.left }, lowStockThreshold: c.threshold };
      const now = ctx.clock();
      const low = c.threshold !== null && s.left <= c.threshold;
      if (low && !c.lowAt) {
        await recordWebhookEvent(tx, 'campaign.low_stock', data, { campaignId: c.id });
        await query(tx, sql`UPDATE campaigns SET low_stock_alerted_at = ${now} WHERE id = ${c.id}`);
      } else if (!low && c.lowAt) {
        await query(tx, sql`UPDATE campaigns SET low_stock_alerted_at = NULL WHERE id = ${c.id}`);
      }
      if (s.left <= 0 && !c.soldAt) {
        await recordWebhookEvent(tx, 'campaign.sold_out', data, { campaignId: c.id });
        await query(tx, sql`UPDATE campaigns SET sold_out_alerted_at = ${now} WHERE id = ${c.id}`);
      } else if (s.left > 0 && c.soldAt) {
        await query(tx, sql`UPDATE campaigns SET sold_out_alerted_at = NULL WHERE id = ${c.id}`);
      }
    }
    return ids.length;
  });
}

/** Claims what is due and sends it, waiting for every attempt (tests and scripts drive it by hand). */
export async function deliverWebhooksDue(ctx: AppContext, opts: WebhookWorkerOptions = {}): Promise<number> {
  const o = { ...defaults, ...opts };
  await processStockChecks(ctx);
  const claimed = await claimDueDeliveries(ctx, o.maxInFlight, new Map(), o.perEndpoint);
  await Promise.all(claimed.map((d) => attemptDelivery(ctx, d, { timeoutMs: o.timeoutMs })));
  return claimed.length;
}

/**
 * Sends webhook deliveries apart from chat deliveries (its own loop, its own in-flight budget):
 * attempts run concurrently and a finished one makes room for the next, so a slow or dead
 * endpoint holds at most `perEndpoint` places and never delays another endpoint or a chat card.
 */
export class WebhookWorker {
  private readonly loop: PollingLoop;
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(ctx: AppContext, opts: WebhookWorkerOptions = {}) {
    const o = { ...defaults, ...opts };
    this.loop = new PollingLoop(async (isStopped) => {
      await processStockChecks(ctx);
      if (isStopped()) return;
      const claimed = await claimDueDeliveries(ctx, o.maxInFlight - this.running.size, this.inFlight, o.perEndpoint);
      for (const d of claimed) {
        this.inFlight.set(d.endpointId, (this.inFlight.get(d.endpointId) ?? 0) + 1);
        const p: Promise<void> = attemptDelivery(ctx, d, { timeoutMs: o.timeoutMs, signal: this.abort.signal })
          .catch((err: unknown) => ctx.log.error({ err, delivery: d.id }, 'webhook delivery error'))
          .finally(() => {
            const n = (this.inFlight.get(d.endpointId) ?? 1) - 1;
            if (n > 0) this.inFlight.set(d.endpointId, n);
            else this.inFlight.delete(d.endpointId);
            this.running.delete(p);
            this.loop.wake();
          });
        this.running.add(p);
      }
    }, { name: 'webhook worker', log: ctx.log, pollMs: o.pollMs });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Stops claiming; attempts in flight are cut short and recorded for a retry. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.abort.abort();
    await Promise.allSettled([...this.running]);
  }
}
