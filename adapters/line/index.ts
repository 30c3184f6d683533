import type { ChannelAdapter } from '../types.ts';
import { parseLine, verifyLine } from './inbound.ts';
import { fetchLineProfile, fetchLineQuota, listLineFollowers, renderLine, sendLine } from './outbound.ts';

export { signLineBody } from './inbound.ts';
export { lineRequest, renderLine } from './outbound.ts';

export interface LineOptions {
  channelSecret: string;
  accessToken: string;
  apiBaseUrl: string;
  timeoutMs?: number;
}

export function createLineAdapter(opts: LineOptions): ChannelAdapter {
  return {
    name: 'line',
    delivery: { label: 'LINE', retryForMs: 24 * 3_600_000 },
    verify: (req) => verifyLine(opts.channelSecret, req),
    parse: (body) => parseLine(body),
    render: (message, to) => renderLine(message, to),
    send: (delivery) => sendLine(opts, delivery),
    fetchProfile: (userId) => fetchLineProfile(opts, userId),
    listFollowers: (start) => listLineFollowers(opts, start),
    messageQuota: () => fetchLineQuota(opts),
  };
}
