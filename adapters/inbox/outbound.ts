import type { Delivery, DeliveryResult, OutboundMessage, Recipient } from '../types.ts';

// Placeholder until the outbound side of the inbox channel is written.
export function renderInbox(_message: OutboundMessage, _to: Recipient): unknown {
  throw new Error('the inbox renderer is not written yet');
}

export async function sendInbox(_opts: unknown, _delivery: Delivery): Promise<DeliveryResult> {
  return { outcome: 'failed', error: 'the inbox sender is not written yet' };
}
