import { sql } from 'drizzle-orm';
import { query } from '../db/client.ts';
import type { QuotaExhaustedHandler } from '../delivery/delivery-hooks.ts';
import { parkBroadcastMessages, parkMessage } from '../delivery/outbox.ts';

/**
 * The platform's monthly message limit is reached: the broadcast pauses with `quota_exhausted`,
 * and its waiting messages, this one included, are parked (never due) until it is resumed.
 */
export const pauseForQuota: QuotaExhaustedHandler = async (tx, { broadcastId, outboxId, error }) => {
  await parkMessage(tx, outboxId, error);
  await query(tx, sql`UPDATE broadcasts SET status = 'paused', reason = 'quota_exhausted' WHERE id = ${broadcastId} AND status = 'running'`);
  await parkBroadcastMessages(tx, broadcastId, true);
  return true;
};
