import crypto from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { ChannelName, OutboundMessage } from '../../adapters/types.ts';
import { query, type Tx } from '../db/client.ts';
import { newId } from '../lib/ids.ts';

export interface NewOutboxMessage {
  channel: ChannelName;
  contactId: string;
  conversationId?: string | null;
  couponId?: string | null;
  message: OutboundMessage;
  replyToken?: string | null;
  replyTokenExpiresAt?: Date | null;
  /** Earliest send time (defaults to now). */
  notBefore?: Date;
  /** The broadcast the message belongs to. */
  broadcastId?: string | null;
}

/** A message with the id its writer chose (cards are named before they are written). */
export type IdentifiedOutboxMessage = NewOutboxMessage & { id: string };

/**
 * Writes many messages to the outbox in one statement, in the order given (their `seq`, the order
 * a contact's messages are delivered in), as `enqueueMessage` does one.
 */
export async function enqueueMessages(tx: Tx, messages: IdentifiedOutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await query(tx, outboxInsertMany(messages));
}

/**
 * `enqueueMessages` as a statement, for a caller that writes it with other changes in one round
 * trip (as a data-modifying `WITH`); `when` makes the whole write conditional.
 */
export function outboxInsertMany(messages: IdentifiedOutboxMessage[], opts: { when?: SQL } = {}): SQL {
  const column = <T>(pick: (m: IdentifiedOutboxMessage) => T) => sql.param(messages.map(pick));
  return sql`
    INSERT INTO outbox (id, channel, contact_id, conversation_id, coupon_id, message, reply_token, reply_token_expires_at, retry_key,
      next_attempt_at, broadcast_id)
    SELECT id, channel, contact_id, conversation_id, coupon_id, message, reply_token, reply_token_expires_at, retry_key,
      COALESCE(not_before, now()), broadcast_id
    FROM unnest(${column((m) => m.id)}::text[], ${column((m) => m.channel)}::text[], ${column((m) => m.contactId)}::text[],
      ${column((m) => m.conversationId ?? null)}::text[], ${column((m) => m.couponId ?? null)}::text[],
      ${column((m) => JSON.stringify(m.message))}::jsonb[], ${column((m) => m.replyToken ?? null)}::text[],
      ${column((m) => m.replyTokenExpiresAt?.toISOString() ?? null)}::timestamptz[], ${column(() => crypto.randomUUID())}::text[],
      ${column((m) => m.notBefore?.toISOString() ?? null)}::timestamptz[], ${column((m) => m.broadcastId ?? null)}::text[])
      WITH ORDINALITY AS u(id, channel, contact_id, conversation_id, coupon_id, message, reply_token, reply_token_expires_at, retry_key,
        not_before, broadcast_id, n)
    ${opts.when ? sql`WHERE ${opts.when}` : sql``}
    ORDER BY n`;
}

/**
 * Writes a message to the outbox. Call it inside the transaction of the change the message
 * reports, then `ctx.notifyOutbox()` after commit.
 */
export async function enqueueMessage(tx: Tx, m: NewOutboxMessage): Promise<string> {
  const id = newId('msg');
  await query(tx, outboxInsertMany([{ ...m, id }]));
  return id;
}

/** Messages waiting for their platform, per channel: how many, since when, and the next try. */
export async function waitingByChannel(tx: Tx): Promise<Map<string, { waiting: number; since: Date; nextTry: Date }>> {
  const r = await query(tx, sql`SELECT channel, count(*)::int AS waiting, min(waiting_since) AS since, min(next_attempt_at) AS "nextTry"
    FROM outbox WHERE status = 'pending' AND waiting_since IS NOT NULL GROUP BY channel`);
  return new Map((r.rows as Array<{ channel: string; waiting: number; since: Date; nextTry: Date }>).map((row) => [row.channel, row]));
}

/**
 * The platform is back: the channel's messages waiting out a retry backoff are due now, each as of
 * when it first waited, so the backlog goes in the order it was held up (chat messages still
 * before broadcast cards, by the claim). Parked messages stay parked, and a message being sent
 * now (leased, by any process) is left to its sender. Returns how many.
 */
export async function resumeWaiting(tx: Tx, channel: ChannelName, now: Date): Promise<number> {
  const at = sql`GREATEST(now(), ${now}::timestamptz)`;
  const r = await query(tx, sql`UPDATE outbox SET next_attempt_at = LEAST(waiting_since, ${at})
    WHERE channel = ${channel} AND status = 'pending' AND waiting_since IS NOT NULL
      AND next_attempt_at > ${at} AND next_attempt_at <> 'infinity' AND (leased_until IS NULL OR leased_until <= ${at})`);
  return r.rowCount ?? 0;
}

/** Parks a message: it stays pending but is never due, with the reason, until it is let go. */
export async function parkMessage(tx: Tx, id: string, reason: string): Promise<void> {
  await query(tx, sql`UPDATE outbox SET last_error = ${reason}, next_attempt_at = 'infinity', leased_until = NULL WHERE id = ${id} AND status = 'pending'`);
}

/** Parks a broadcast's pending messages (the delivery worker leaves them) or lets them go again. */
export async function parkBroadcastMessages(tx: Tx, broadcastId: string, park: boolean): Promise<void> {
  if (park) {
    await query(tx, sql`UPDATE outbox SET next_attempt_at = 'infinity' WHERE broadcast_id = ${broadcastId} AND status = 'pending'`);
  } else {
    await query(tx, sql`UPDATE outbox SET next_attempt_at = now() WHERE broadcast_id = ${broadcastId} AND status = 'pending' AND next_attempt_at = 'infinity'`);
  }
}

/**
 * Withdraws a broadcast's messages that are parked or not yet tried (failed with the reason);
 * returns the coupons they carried. A message being sent now is left to finish.
 */
export async function withdrawBroadcastMessages(tx: Tx, broadcastId: string, reason: string): Promise<string[]> {
  const withdrawn = await query(tx, sql`UPDATE outbox SET status = 'failed', last_error = ${reason}
    WHERE broadcast_id = ${broadcastId} AND status = 'pending' AND (next_attempt_at = 'infinity' OR attempts = 0) RETURNING coupon_id`);
  return (withdrawn.rows as Array<{ coupon_id: string | null }>).map((r) => r.coupon_id).filter((c): c is string => !!c);
}
