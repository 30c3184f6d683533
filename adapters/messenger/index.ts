import { z } from 'zod';
import { readChannelEnv, urlVariable } from '../env.ts';
import { escapePlainText } from '../text.ts';
import type { ChannelAdapter, ChannelCapabilities, ChannelPlugin } from '../types.ts';
import { messengerHandshake, parseMessenger, verifyMessenger } from './inbound.ts';
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

/** Messenger's rules: promotional messages only within 24 hours of the customer's last message. */
export const messengerCapabilities: ChannelCapabilities = {
  label: 'Messenger',
  messagingWindow: { hours: 24, name: "Messenger's 24-hour window" },
  maxTextLength: 2000,
  escapeText: escapePlainText,
  conversations: 'per-user',
  broadcast: true,
};

export function createMessengerAdapter(opts: MessengerOptions): ChannelAdapter {
  return {
    name: 'messenger',
    delivery: { label: 'Messenger', retryForMs: 24 * 3_600_000 },
    capabilities: messengerCapabilities,
    // Meta's subscription handshake: GET /webhooks/messenger?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…
    routes: [{
      method: 'get',
      handle: (req) => {
        const handshake = messengerHandshake(req.query, opts.verifyToken);
        return handshake.ok
          ? { status: 200, contentType: 'text/plain', body: handshake.challenge }
          : { refused: 'forbidden', message: 'the verify token does not match' };
      },
    }],
    verify: (req) => verifyMessenger(opts.appSecret, req),
    parse: (body) => parseMessenger(body),
    render: (message, to) => renderMessenger(message, to),
    send: (delivery) => sendMessenger(opts, delivery),
    fetchProfile: (psid) => fetchMessengerProfile(opts, psid),
  };
}

export const messengerPlugin: ChannelPlugin<MessengerOptions> = {
  name: 'messenger',
  capabilities: messengerCapabilities,
  secretHeaders: ['x-hub-signature-256'],
  variables: {
    MESSENGER_APP_SECRET: 'Meta app secret (checks webhook signatures); with the two below turns Messenger on',
    MESSENGER_PAGE_ACCESS_TOKEN: 'Page access token (sends messages)',
    MESSENGER_VERIFY_TOKEN: 'the token Meta sends in the subscription handshake',
    GRAPH_API_BASE_URL: 'Graph API base URL (default https://graph.facebook.com/v21.0)',
  },
  configure(env) {
    const v = readChannelEnv(env, {
      MESSENGER_APP_SECRET: z.string(), MESSENGER_PAGE_ACCESS_TOKEN: z.string(), MESSENGER_VERIFY_TOKEN: z.string(),
    }, { GRAPH_API_BASE_URL: urlVariable.default('https://graph.facebook.com/v21.0') });
    return v && {
      appSecret: v.MESSENGER_APP_SECRET, pageAccessToken: v.MESSENGER_PAGE_ACCESS_TOKEN, verifyToken: v.MESSENGER_VERIFY_TOKEN,
      graphBaseUrl: v.GRAPH_API_BASE_URL,
    };
  },
  create: (options) => createMessengerAdapter(options),
};
