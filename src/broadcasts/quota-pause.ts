import { sql } from 'drizzle-orm';
import { query, type Tx } from '../db/client.ts';

/**
 * The platform's monthly message limit is reached: the broadcast pauses with `quota_exhausted`,
 * and its waiting messages, this one included, are parked (never due) until it is resumed.
 */
export async function pauseForQuota(tx: Tx, broadcastId: string, outboxId: string, error: string): Promise<void> {
  await query(tx, sql`UPDATE outbox SET last_error = ${error}, next_attempt_at = 'infinity' WHERE id = ${outboxId} AND status = 'pending'`);
  await query(tx, sql`UPDATE broadcasts SET status = 'paused', reason = 'quota_exhausted' WHERE id = ${broadcastId} AND status = 'running'`);
  await query(tx, sql`UPDATE outbox SET next_attempt_at = 'infinity' WHERE broadcast_id = ${broadcastId} AND status = 'pending'`);
}
