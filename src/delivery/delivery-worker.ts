import { sql } from 'drizzle-orm';
import type { ChannelName, Delivery, DeliveryResult, OutboundMessage } from '../../adapters/types.ts';
import type { AppContext } from '../context.ts';
import { markCouponDelivered, releaseCoupon } from '../coupons/coupon-delivery.ts';
import { retryDelayMs } from '../lib/backoff.ts';
import { safeErrorMessage } from '../lib/logger.ts';
import { PollingLoop } from '../lib/polling-loop.ts';

export interface OutboxRow {
  id: string;
  /** Write order: messages to one contact go out in this order. */
  seq: number;
  /** The first attempt answered with the reply token. */
  replyUsed: boolean;
  /** The last recorded failure; null after an attempt whose outcome was never recorded. */
  lastError: string | null;
  channel: ChannelName;
  contactId: string;
  conversationId: string | null;
  couponId: string | null;
  message: OutboundMessage;
  replyToken: string | null;
  replyTokenExpiresAt: Date | null;
  retryKey: string;
  attempts: number;
  userId: string;
  externalId: string | null;
  unreachable: boolean;
}

/** Sends one delivery; by default through the contact's channel adapter. */
export type SendFn = (delivery: Delivery, row: OutboxRow) => Promise<DeliveryResult>;

/** A claimed row is leased this long: if the process dies mid-send it is tried again after. */
const LEASE_SECONDS = 60;
export const MAX_ATTEMPTS = 8;
const BATCH = 50;

export function adapterSend(ctx: AppContext): SendFn {
  return async (delivery, row) => {
    const adapter = ctx.channels[row.channel];
    if (!adapter) return { outcome: 'failed', error: `the ${row.channel} channel is not configured` };
    return await adapter.send(delivery);
  };
}

/** Claims due outbox rows, sends them and records each outcome. Returns how many were handled. */
export async function deliverDue(ctx: AppContext, send: SendFn = adapterSend(ctx), limit = BATCH): Promise<number> {
  const claimed = await ctx.db.execute(sql`
    WITH due AS (
      SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= now()
      ORDER BY next_attempt_at, seq LIMIT ${limit} FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => ${LEASE_SECONDS}),
      reply_used = o.reply_used OR (o.attempts = 0 AND o.reply_token IS NOT NULL AND o.reply_token_expires_at > ${ctx.clock()})
    FROM due, contacts ct
    WHERE o.id = due.id AND ct.id = o.contact_id
    RETURNING o.id, o.seq, o.reply_used AS "replyUsed", o.last_error AS "lastError", o.channel, o.contact_id AS "contactId", o.conversation_id AS "conversationId", o.coupon_id AS "couponId",
      o.message, o.reply_token AS "replyToken", o.reply_token_expires_at AS "replyTokenExpiresAt", o.retry_key AS "retryKey",
      o.attempts, ct.platform_user_id AS "userId", ct.unreachable_at IS NOT NULL AS unreachable,
      (SELECT external_id FROM conversations cv WHERE cv.id = o.conversation_id) AS "externalId"`);
  const rows = claimed.rows as unknown as OutboxRow[];
  // Messages to one contact go out in order; different contacts in parallel.
  const byContact = new Map<string, OutboxRow[]>();
  for (const row of rows.sort((a, b) => a.seq - b.seq)) {
    const list = byContact.get(row.contactId) ?? [];
    list.push(row);
    byContact.set(row.contactId, list);
  }
  await Promise.all([...byContact.values()].map(async (list) => {
    for (const row of list) await deliverOne(ctx, send, row);
  }));
  return rows.length;
}

async function deliverOne(ctx: AppContext, send: SendFn, row: OutboxRow): Promise<void> {
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
    const fresh = row.replyUsed && row.attempts === 1;
    const delivery: Delivery = {
      id: row.id,
      to: { userId: row.userId, conversationId: row.externalId ?? row.userId },
      message: row.message,
      retryKey: row.retryKey,
      attempt: row.attempts - 1,
      ...(fresh ? { replyToken: row.replyToken! } : {}),
    };
    try {
      result = await send(delivery, row);
    } catch (err) {
      result = { outcome: 'retry', error: safeErrorMessage(err) };
    }
  }
  if (result.outcome === 'retry' && row.attempts >= MAX_ATTEMPTS) {
    result = { outcome: 'failed', error: `gave up after ${row.attempts} attempts: ${result.error}` };
  }
  await recordOutcome(ctx, row, result, ctx.clock());
}

export async function recordOutcome(ctx: AppContext, row: Pick<OutboxRow, 'id' | 'couponId' | 'attempts' | 'channel'>, result: DeliveryResult, at: Date): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    switch (result.outcome) {
      case 'sent':
        await tx.execute(sql`UPDATE outbox SET status = 'sent', sent_at = ${at}, last_error = NULL,
          platform_response = ${JSON.stringify(result.response ?? null)}::jsonb WHERE id = ${row.id}`);
        if (row.couponId) await markCouponDelivered(tx, row.couponId, at);
        break;
      case 'retry': {
        const delay = Math.max(result.retryAfterMs ?? 0, retryDelayMs(row.attempts));
        await tx.execute(sql`UPDATE outbox SET last_error = ${result.error},
          next_attempt_at = ${new Date(at.getTime() + delay)} WHERE id = ${row.id}`);
        break;
      }
      case 'failed':
        await tx.execute(sql`UPDATE outbox SET status = 'failed', last_error = ${result.error} WHERE id = ${row.id}`);
        if (row.couponId) {
          await releaseCoupon(tx, row.couponId, result.error, at);
          await ctx.hooks.coupons.released(tx, row.couponId);
        }
        break;
    }
  });
  if (result.outcome !== 'sent') ctx.log.warn({ outbox: row.id, channel: row.channel, outcome: result.outcome, error: result.error }, 'delivery not sent');
}

/**
 * Runs `deliverDue` whenever woken (after a commit that wrote outbox rows) and at least every
 * `pollMs` (retries that came due, rows left by a crashed process).
 */
export class DeliveryWorker {
  private readonly loop: PollingLoop;

  constructor(ctx: AppContext, opts: { send?: SendFn; pollMs?: number } = {}) {
    this.loop = new PollingLoop(async (isStopped) => {
      // Keep going while full batches come back.
      while (!isStopped() && (await deliverDue(ctx, opts.send)) >= BATCH) { /* next batch */ }
    }, { name: 'delivery worker', log: ctx.log, pollMs: opts.pollMs ?? 1000 });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
