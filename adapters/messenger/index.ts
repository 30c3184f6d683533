import type { ChannelAdapter } from '../types.ts';
import { parseMessenger, verifyMessenger } from './inbound.ts';
import { renderMessenger, sendMessenger } from './outbound.ts';

export interface MessengerOptions {
  appSecret: string;
  pageAccessToken: string;
  verifyToken: string;
  graphBaseUrl: string;
}

export function createMessengerAdapter(opts: MessengerOptions): ChannelAdapter {
  return {
    name: 'messenger',
    verify: (req) => verifyMessenger(opts.appSecret, req),
    parse: (body) => parseMessenger(body),
    render: (message, to) => renderMessenger(message, to),
    send: (delivery) => sendMessenger(opts, delivery),
  };
}
