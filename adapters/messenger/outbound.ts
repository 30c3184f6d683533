import type { Delivery, DeliveryResult, OutboundMessage, Recipient } from '../types.ts';

// Placeholder until the outbound side of the messenger channel is written.
export function renderMessenger(_message: OutboundMessage, _to: Recipient): unknown {
  throw new Error('the messenger renderer is not written yet');
}

export async function sendMessenger(_opts: unknown, _delivery: Delivery): Promise<DeliveryResult> {
  return { outcome: 'failed', error: 'the messenger sender is not written yet' };
}
