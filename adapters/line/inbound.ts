import type { ChannelEvent, RawRequest } from '../types.ts';

// Placeholder until the inbound side of the line channel is written: accepts nothing.
export function verifyLine(_secret: string, _req: RawRequest): boolean {
  return false;
}

export function parseLine(_body: unknown): ChannelEvent[] {
  throw new Error('the line webhook parser is not written yet');
}
