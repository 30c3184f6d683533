import { sql } from 'drizzle-orm';
import { type ChannelName, type Delivery, type DeliveryResult } from '../../adapters/types.ts';
import type { AppContext } from '../context.ts';
import { markCouponDelivered, markCouponsDelivered, markCouponWaiting, releaseCoupon } from '../coupons/coupon-delivery.ts';
import { retryDelayMs } from '../lib/backoff.ts';

/** Longest pause between two tries of a message, whatever the platform's Retry-After said. */
const RETRY_CAP_MS = 300_000;
import { safeErrorMessage } from '../lib/logger.ts';
import { PollingLoop } from '../lib/polling-loop.ts';
import { query, type Tx } from '../db/client.ts';
import { selectList, type RowOf } from '../db/rows.ts';
import { outbox } from '../db/schema.ts';
import { resumeWaiting } from './outbox.ts';

const outboxRowKeys = [
  'id', 'seq', 'replyUsed', 'lastError', 'channel', 'contactId', 'conversationId', 'couponId', 'message',
  'replyToken', 'replyTokenExpiresAt', 'retryKey', 'attempts', 'createdAt', 'broadcastId',
] as const;

/** A claimed message: its outbox columns (typed by schema.ts), and what is needed of its contact and chat. */
export type OutboxRow = Pick<RowOf<typeof outbox>, (typeof outboxRowKeys)[number]> & {
  userId: string;
  externalId: string | null;
  unreachable: boolean;
};

/** Sends one delivery; by default through the contact's channel adapter. */
export type SendFn = (delivery: Delivery, row: OutboxRow) => Promise<DeliveryResult>;

/** A claimed row is leased this long: if the process dies mid-send it is tried again after. */
const LEASE_MS = 60_000;
/** The transaction lock outbox claims take turns on (any fixed key, the same in every process). */
const CLAIM_LOCK = 7_281_036_402_518_378;
const BATCH = 50;
/** Without an adapter's word, a message is retried this long. */
const DEFAULT_RETRY_FOR_MS = 24 * 3_600_000;

export function adapterSend(ctx: AppContext): SendFn {
  return async (delivery, row) => {
    const adapter = ctx.channels[row.channel];
    if (!adapter) return { outcome: 'failed', error: `the ${row.channel} channel is not configured` };
    return await adapter.send(delivery);
  };
}

/**
 * Claims due outbox rows (of one channel, when given), sends them and records each outcome.
 * Returns how many were handled.
 */
export async function deliverDue(
  ctx: AppContext, send: SendFn = adapterSend(ctx), limit = BATCH, channel?: ChannelName, observe?: (result: DeliveryResult) => void,
): Promise<number> {
  const now = ctx.clock();
  // Due by the service's clock (tests move it ahead) or the database's (rows it wrote by default).
  const dueBy = sql`GREATEST(now(), ${now}::timestamptz)`;
  // Messages to customers chatting now go first; a broadcast's cards fill the rest of the batch,
  // so a reply never waits behind a broadcast's backlog. A message waits while an earlier one to
  // the same contact is in flight (leased): messages to one contact go out in order even when
  // several processes deliver. Claims take turns (a transaction lock held for the claim only,
  // never while sending), so each claim sees the leases of the one before it.
  const inFlightBefore = sql`NOT EXISTS (SELECT 1 FROM outbox p WHERE p.contact_id = o.contact_id AND p.status = 'pending'
    AND p.seq < o.seq AND p.leased_until > ${dueBy})`;
  const claimed = await ctx.db.transaction(async (tx) => {
    await query(tx, sql`SELECT pg_advisory_xact_lock(${CLAIM_LOCK})`);
    return await query(tx, sql`
    WITH live AS (
      SELECT id FROM outbox o WHERE status = 'pending' AND next_attempt_at <= ${dueBy} AND broadcast_id IS NULL
        ${channel ? sql`AND channel = ${channel}` : sql``} AND ${inFlightBefore}
      ORDER BY next_attempt_at, seq LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), bulk AS (
      SELECT id FROM outbox o WHERE status = 'pending' AND next_attempt_at <= ${dueBy} AND broadcast_id IS NOT NULL
        ${channel ? sql`AND channel = ${channel}` : sql``} AND ${inFlightBefore}
      ORDER BY next_attempt_at, seq LIMIT ${limit} - (SELECT count(*) FROM live) FOR UPDATE SKIP LOCKED
    ), due AS (SELECT id FROM live UNION ALL SELECT id FROM bulk)
    UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = ${dueBy} + make_interval(secs => ${LEASE_MS / 1000}),
      leased_until = ${dueBy} + make_interval(secs => ${LEASE_MS / 1000}),
      reply_used = o.reply_used OR (o.attempts = 0 AND o.reply_token IS NOT NULL AND o.reply_token_expires_at > ${ctx.clock()})
    FROM due, contacts ct
    WHERE o.id = due.id AND ct.id = o.contact_id
    RETURNING ${selectList(outbox, outboxRowKeys, 'o')}, ct.platform_user_id AS "userId", ct.unreachable_at IS NOT NULL AS unreachable,
      (SELECT external_id FROM conversations cv WHERE cv.id = o.conversation_id) AS "externalId"`);
  });
  const rows = claimed.rows as unknown as OutboxRow[];
  // Messages to one contact go out in order; different contacts in parallel.
  const byContact = new Map<string, OutboxRow[]>();
  for (const row of rows.sort((a, b) => a.seq - b.seq)) {
    const list = byContact.get(row.contactId) ?? [];
    list.push(row);
    byContact.set(row.contactId, list);
  }
  const outcomes: Outcome[] = [];
  await Promise.all([...byContact.values()].map(async (list) => {
    for (let i = 0; i < list.length;) {
      const riders = replyRiders(ctx, list, i);
      const delivered = await deliverOne(ctx, send, list[i]!, riders);
      i += 1 + riders.length;
      outcomes.push(...delivered);
      observe?.(delivered[0]!.result);
    }
  }));
  await recordOutcomes(ctx, outcomes);
  return rows.length;
}

interface Outcome { row: OutboxRow; result: DeliveryResult; at: Date }

/**
 * Records a batch's outcomes in one transaction: the sent ones (nearly all) in two statements,
 * the rest one by one. Until it commits every row of the batch keeps its lease, as if the process
 * had stopped after sending: a push is sent again with its retry key (LINE answers that it already
 * has it), a reply is counted as sent unconfirmed. If the batch cannot be recorded together, each
 * outcome is recorded on its own, so one bad row holds back no other.
 */
async function recordOutcomes(ctx: AppContext, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  if (outcomes.length > 1) {
    try {
      await ctx.db.transaction(async (tx) => {
        const sent = outcomes.filter((o) => o.result.outcome === 'sent');
        if (sent.length > 0) {
          await query(tx, sql`UPDATE outbox o SET status = 'sent', sent_at = u.at, last_error = NULL, leased_until = NULL, platform_response = u.response
            FROM unnest(${sql.param(sent.map((o) => o.row.id))}::text[], ${sql.param(sent.map((o) => o.at.toISOString()))}::timestamptz[],
              ${sql.param(sent.map((o) => JSON.stringify((o.result as { response?: unknown }).response ?? null)))}::jsonb[]) AS u(id, at, response)
            WHERE o.id = u.id`);
          await markCouponsDelivered(tx, sent.filter((o) => o.row.couponId).map((o) => ({ couponId: o.row.couponId!, at: o.at })));
        }
        for (const o of outcomes) if (o.result.outcome !== 'sent') await applyOutcome(ctx, tx, o.row, o.result, o.at);
      });
      for (const o of outcomes) logUnsent(ctx, o.row, o.result);
      return;
    } catch (err) {
      ctx.log.warn({ err }, 'delivery outcomes could not be recorded together; recording them one by one');
    }
  }
  for (const o of outcomes) {
    try {
      await recordOutcome(ctx, o.row, o.result, o.at);
    } catch (err) {
      // Left leased: tried again when the lease runs out, as after a crash.
      ctx.log.error({ err, outbox: o.row.id }, 'could not record a delivery outcome');
    }
  }
}

/** Whether this claim sends the row as a reply with its own, unused reply token. */
const freshReply = (row: OutboxRow) => row.replyUsed && row.attempts === 1;

/**
 * The messages queued right behind `list[i]` that ride in its reply: first tries to the same
 * contact with no reply token of their own, as many as the channel's reply holds. A welcome text
 * and the coupon card after it then reach LINE in one reply, and the card costs no push.
 */
function replyRiders(ctx: AppContext, list: OutboxRow[], i: number): OutboxRow[] {
  const row = list[i]!;
  const capacity = ctx.channels[row.channel]?.delivery.replyCapacity;
  if (!capacity || row.unreachable || !freshReply(row)) return [];
  let used = capacity.size(row.message);
  const riders: OutboxRow[] = [];
  for (const next of list.slice(i + 1)) {
    if (next.attempts !== 1 || next.replyToken !== null || next.unreachable) break;
    const size = capacity.size(next.message);
    if (used + size > capacity.max) break;
    used += size;
    riders.push(next);
  }
  return riders;
}

/**
 * Sends one row (with the rows riding in its reply, if any) and answers each row's outcome. The
 * riders share the reply's fate when it went (or may have gone) out; when it was refused they are
 * due again at once and go on their own.
 */
async function deliverOne(ctx: AppContext, send: SendFn, row: OutboxRow, riders: OutboxRow[] = []): Promise<Outcome[]> {
  let result: DeliveryResult;
  if (row.unreachable) {
    result = { outcome: 'failed', error: 'the contact unfollowed or blocked the account' };
  } else if (row.replyUsed && row.attempts > 1 && row.lastError === null) {
    // The reply attempt was claimed but its outcome never recorded (the process stopped while
    // sending). LINE may have delivered it, and a reply has no retry key: sending again could
    // deliver it twice, so it counts as sent, marked unconfirmed.
    ctx.log.warn({ outbox: row.id }, 'reply outcome unknown after a restart; not sent again');
    result = { outcome: 'sent', response: { unconfirmed: 'the process stopped while the reply was being sent' } };
  } else {
    const fresh = freshReply(row);
    const delivery: Delivery = {
      id: row.id,
      to: { userId: row.userId, conversationId: row.externalId ?? row.userId },
      message: row.message,
      retryKey: row.retryKey,
      attempt: row.attempts - 1,
      ...(fresh ? { replyToken: row.replyToken! } : {}),
      ...(fresh && riders.length > 0 ? { more: riders.map((r) => r.message) } : {}),
    };
    try {
      result = await send(delivery, row);
    } catch (err) {
      result = { outcome: 'retry', error: safeErrorMessage(err) };
    }
    // A reply that may have arrived (timeout, reset) is never sent again: a reply has no retry
    // key, and a push of the same message could reach the customer twice.
    if (fresh && result.outcome === 'retry' && result.maybeDelivered) {
      ctx.log.warn({ outbox: row.id, error: result.error }, 'reply outcome unknown; not sent again');
      result = { outcome: 'sent', response: { unconfirmed: result.error } };
    }
  }
  const at = ctx.clock();
  const outcomes = [settle(ctx, row, result, at)];
  for (const rider of riders) {
    const own: DeliveryResult = result.outcome === 'sent' ? result
      : { outcome: 'retry', error: `the reply it was to ride in was not sent (${result.error}); it goes on its own`, retryAfterMs: 0 };
    outcomes.push(settle(ctx, rider, own, at));
  }
  return outcomes;
}

/** A retry past the platform's own guarantee (how long a retry stays safe and useful) fails. */
function settle(ctx: AppContext, row: OutboxRow, result: DeliveryResult, at: Date): Outcome {
  const retryForMs = ctx.channels[row.channel]?.delivery.retryForMs ?? DEFAULT_RETRY_FOR_MS;
  if (result.outcome === 'retry' && at.getTime() - new Date(row.createdAt).getTime() >= retryForMs) {
    return { row, at, result: { outcome: 'failed', error: `gave up after ${row.attempts} attempts over ${Math.round(retryForMs / 3_600_000)} hours: ${result.error}` } };
  }
  return { row, result, at };
}

/** What a record shows while a message waits for its platform. */
export function waitingText(label: string, since: Date, nextTry: Date): string {
  return `waiting for ${label} (since ${since.toISOString()}, next try ${nextTry.toISOString()})`;
}

type OutcomeRow = Pick<OutboxRow, 'id' | 'couponId' | 'attempts' | 'channel'> & { broadcastId?: string | null };

export async function recordOutcome(ctx: AppContext, row: OutcomeRow, result: DeliveryResult, at: Date): Promise<void> {
  await ctx.db.transaction((tx) => applyOutcome(ctx, tx, row, result, at));
  logUnsent(ctx, row, result);
}

function logUnsent(ctx: AppContext, row: OutcomeRow, result: DeliveryResult): void {
  if (result.outcome !== 'sent') ctx.log.warn({ outbox: row.id, channel: row.channel, outcome: result.outcome, error: result.error }, 'delivery not sent');
}

async function applyOutcome(ctx: AppContext, tx: Tx, row: OutcomeRow, result: DeliveryResult, at: Date): Promise<void> {
  // The monthly quota is used up: a broadcast's message waits (parked) and the broadcast pauses,
  // with nothing retried until it is resumed. Any other message fails as usual.
  if (result.outcome === 'failed' && result.quotaExhausted && row.broadcastId
    && await ctx.hooks.quotaExhausted(tx, { outboxId: row.id, broadcastId: row.broadcastId, error: result.error })) {
    return;
  }
  switch (result.outcome) {
    case 'sent':
      await query(tx, sql`UPDATE outbox SET status = 'sent', sent_at = ${at}, last_error = NULL, leased_until = NULL,
        platform_response = ${JSON.stringify(result.response ?? null)}::jsonb WHERE id = ${row.id}`);
      if (row.couponId) await markCouponDelivered(tx, row.couponId, at);
      break;
    case 'retry': {
      // Capped at 5 minutes whatever the platform asked, so a recovered platform gets its backlog soon.
      const delay = Math.min(RETRY_CAP_MS, Math.max(result.retryAfterMs ?? 0, retryDelayMs(row.attempts)));
      const nextTry = new Date(at.getTime() + delay);
      const waiting = await query(tx, sql`UPDATE outbox SET last_error = ${result.error}, leased_until = NULL,
        waiting_since = COALESCE(waiting_since, ${at}), next_attempt_at = ${nextTry} WHERE id = ${row.id}
        RETURNING waiting_since AS "since"`);
      const since = (waiting.rows[0] as { since: Date } | undefined)?.since ?? at;
      if (row.couponId) {
        const label = ctx.channels[row.channel]?.delivery.label ?? row.channel;
        await markCouponWaiting(tx, row.couponId, waitingText(label, since, nextTry));
      }
      break;
    }
    case 'failed':
      await query(tx, sql`UPDATE outbox SET status = 'failed', last_error = ${result.error}, leased_until = NULL WHERE id = ${row.id}`);
      if (row.couponId) {
        await releaseCoupon(tx, row.couponId, result.error, at);
        await ctx.hooks.coupons.released(tx, row.couponId);
      }
      break;
  }
}

/** Batches of one channel in flight at once: one is claimed and recorded while others are sent. */
const LANES = 3;

/**
 * One pass of a channel's delivery loop: claims and sends batches while full batches come back
 * and the platform answers, several batches at once (a contact's messages still go out in order:
 * a claim skips a message while an earlier one to the same contact is in flight). While the
 * platform's circuit is open its messages wait; once the cool-down passed one message goes as a
 * probe. When the probe goes through the platform is back: the messages waiting out their backoff
 * are due at once (`resumeWaiting`), so the claims that follow take customers' chat messages first
 * and everything else in order, instead of leaving a chat reply tried during the outage to wait
 * minutes behind a broadcast's cards that never were.
 */
export async function deliverChannel(ctx: AppContext, channel: ChannelName, send?: SendFn, isStopped: () => boolean = () => false): Promise<void> {
  const breaker = ctx.platforms.of(channel);
  // An answer, even a refusal, shows the platform is up; no answer or a 5xx/429 counts against it.
  const observe = (result: DeliveryResult) => (result.outcome === 'retry' ? breaker.failed() : breaker.succeeded());
  const lane = async (): Promise<void> => {
    while (!isStopped() && breaker.allow()) {
      const probing = breaker.open;
      const limit = probing ? 1 : BATCH;
      const handled = await deliverDue(ctx, send, limit, channel, observe);
      if (handled === 0) breaker.unusedProbe();
      if (probing && handled > 0 && !breaker.open) await resumeWaiting(ctx.db, channel, ctx.clock());
      if (probing || handled < limit || breaker.open) return;
    }
  };
  // A probe goes alone; the other lanes join once the platform answers again.
  if (breaker.open) await lane();
  if (!breaker.open) await Promise.all(Array.from({ length: LANES }, lane));
}

/**
 * One loop per channel runs `deliverChannel` whenever woken (after a commit that wrote outbox
 * rows) and at least every `pollMs` (retries that came due, rows left by a crashed process): a
 * platform that hangs holds up only its own messages.
 */
export class DeliveryWorker {
  private readonly loops: PollingLoop[];

  constructor(ctx: AppContext, opts: { send?: SendFn; pollMs?: number } = {}) {
    this.loops = ctx.channelPlugins.map(({ name: channel }) => new PollingLoop(
      (isStopped) => deliverChannel(ctx, channel, opts.send, isStopped),
      { name: `${channel} delivery`, log: ctx.log, pollMs: opts.pollMs ?? 1000 },
    ));
  }

  start(): void {
    for (const loop of this.loops) loop.start();
  }

  wake(): void {
    for (const loop of this.loops) loop.wake();
  }

  async stop(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
  }
}
