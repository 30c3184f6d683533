import type { ChannelEvent, RawRequest } from '../types.ts';

// Placeholder until the inbound side of the messenger channel is written: accepts nothing.
export function verifyMessenger(_secret: string, _req: RawRequest): boolean {
  return false;
}

export function parseMessenger(_body: unknown): ChannelEvent[] {
  throw new Error('the messenger webhook parser is not written yet');
}
