import type { Delivery, DeliveryResult, OutboundMessage, Recipient } from '../types.ts';

// Placeholder until the outbound side of the line channel is written.
export function renderLine(_message: OutboundMessage, _to: Recipient): unknown {
  throw new Error('the line renderer is not written yet');
}

export async function sendLine(_opts: unknown, _delivery: Delivery): Promise<DeliveryResult> {
  return { outcome: 'failed', error: 'the line sender is not written yet' };
}
