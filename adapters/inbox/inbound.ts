import type { ChannelEvent, RawRequest } from '../types.ts';

// Placeholder until the inbound side of the inbox channel is written: accepts nothing.
export function verifyInbox(_secret: string, _req: RawRequest): boolean {
  return false;
}

export function parseInbox(_body: unknown): ChannelEvent[] {
  throw new Error('the inbox webhook parser is not written yet');
}
