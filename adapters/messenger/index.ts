import type { ChannelAdapter } from '../types.ts';
import { parseMessenger, verifyMessenger } from './inbound.ts';
import { fetchMessengerProfile, renderMessenger, sendMessenger } from './outbound.ts';

export { messengerHandshake, signHubBody } from './inbound.ts';
export { renderMessenger } from './outbound.ts';

export interface MessengerOptions {
  appSecret: string;
  pageAccessToken: string;
  verifyToken: string;
  graphBaseUrl: string;
  timeoutMs?: number;
}

export function createMessengerAdapter(opts: MessengerOptions): ChannelAdapter {
  return {
    name: 'messenger',
    delivery: { label: 'Messenger', retryForMs: 24 * 3_600_000 },
    verify: (req) => verifyMessenger(opts.appSecret, req),
    parse: (body) => parseMessenger(body),
    render: (message, to) => renderMessenger(message, to),
    send: (delivery) => sendMessenger(opts, delivery),
    fetchProfile: (psid) => fetchMessengerProfile(opts, psid),
  };
}
