import { readChannelEnv, urlVariable } from '../env.ts';
import { escapePlainText } from '../text.ts';
import type { ChannelAdapter, ChannelCapabilities, ChannelPlugin } from '../types.ts';
import { z } from 'zod';
import { parseLine, verifyLine } from './inbound.ts';
import { fetchLineProfile, fetchLineQuota, LINE_MESSAGES_PER_REQUEST, listLineFollowers, renderLine, sendLine } from './outbound.ts';

export { signLineBody } from './inbound.ts';
export { lineRequest, renderLine } from './outbound.ts';

export interface LineOptions {
  channelSecret: string;
  accessToken: string;
  apiBaseUrl: string;
  timeoutMs?: number;
}

/** LINE's rules: reply tokens live about a minute (we stop using one 50 s after the event). */
export const lineCapabilities: ChannelCapabilities = {
  label: 'LINE',
  replyTokenLifetimeMs: 50_000,
  maxTextLength: 5000,
  escapeText: escapePlainText,
  conversations: 'per-user',
  broadcast: true,
  userId: { pattern: /^U[0-9a-f]{32}$/, description: 'a LINE user id ("U" and 32 hexadecimal digits)' },
};

export function createLineAdapter(opts: LineOptions): ChannelAdapter {
  return {
    name: 'line',
    delivery: { label: 'LINE', retryForMs: 24 * 3_600_000, replyCapacity: { max: LINE_MESSAGES_PER_REQUEST, size: (message) => renderLine(message).length } },
    capabilities: lineCapabilities,
    verify: (req) => verifyLine(opts.channelSecret, req),
    parse: (body) => parseLine(body),
    render: (message, to) => renderLine(message, to),
    send: (delivery) => sendLine(opts, delivery),
    fetchProfile: (userId) => fetchLineProfile(opts, userId),
    listFollowers: (start) => listLineFollowers(opts, start),
    messageQuota: () => fetchLineQuota(opts),
  };
}

export const linePlugin: ChannelPlugin<LineOptions> = {
  name: 'line',
  capabilities: lineCapabilities,
  secretHeaders: ['x-line-signature'],
  variables: {
    LINE_CHANNEL_SECRET: 'LINE channel secret (checks webhook signatures); with LINE_CHANNEL_ACCESS_TOKEN turns LINE on',
    LINE_CHANNEL_ACCESS_TOKEN: 'LINE channel access token (sends messages)',
    LINE_API_BASE_URL: 'LINE Messaging API base URL (default https://api.line.me)',
  },
  configure(env) {
    const v = readChannelEnv(env, { LINE_CHANNEL_SECRET: z.string(), LINE_CHANNEL_ACCESS_TOKEN: z.string() },
      { LINE_API_BASE_URL: urlVariable.default('https://api.line.me') });
    return v && { channelSecret: v.LINE_CHANNEL_SECRET, accessToken: v.LINE_CHANNEL_ACCESS_TOKEN, apiBaseUrl: v.LINE_API_BASE_URL };
  },
  create: (options) => createLineAdapter(options),
};
