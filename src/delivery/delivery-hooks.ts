import type { Tx } from '../db/client.ts';

/**
 * A platform's monthly message limit was reached for a message of a broadcast. The broadcasts
 * module pauses the broadcast and parks its messages, inside the transaction that records the
 * outcome; by default (nothing plugged in) the message fails like any other.
 */
export type QuotaExhaustedHandler = (tx: Tx, message: { outboxId: string; broadcastId: string; error: string }) => Promise<boolean>;

export const failOnQuotaExhausted: QuotaExhaustedHandler = async () => false;
