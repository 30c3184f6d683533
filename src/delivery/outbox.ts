import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { ChannelName, OutboundMessage } from '../../adapters/types.ts';
import type { Tx } from '../db/client.ts';
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
}

/**
 * Writes a message to the outbox. Call it inside the transaction of the change the message
 * reports, then `ctx.notifyOutbox()` after commit.
 */
export async function enqueueMessage(tx: Tx, m: NewOutboxMessage): Promise<string> {
  const id = newId('msg');
  await tx.execute(sql`
    INSERT INTO outbox (id, channel, contact_id, conversation_id, coupon_id, message, reply_token, reply_token_expires_at, retry_key, next_attempt_at)
    VALUES (${id}, ${m.channel}, ${m.contactId}, ${m.conversationId ?? null}, ${m.couponId ?? null}, ${JSON.stringify(m.message)}::jsonb,
            ${m.replyToken ?? null}, ${m.replyTokenExpiresAt ?? null}, ${crypto.randomUUID()}, ${m.notBefore ?? sql`now()`})`);
  return id;
}
