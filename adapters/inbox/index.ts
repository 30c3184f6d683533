import { z } from 'zod';
import { readChannelEnv, urlVariable } from '../env.ts';
import { escapeJsonText } from '../text.ts';
import type { ChannelAdapter, ChannelCapabilities, ChannelPlugin } from '../types.ts';
import { parseInbox, verifyInbox } from './inbound.ts';
import { renderInbox, sendInbox } from './outbound.ts';

export { inboxEventSchema, inboxSignatureMatches, signInboxBody, type InboxEvent } from './inbound.ts';
export { renderInbox, type InboxRequest } from './outbound.ts';

export interface InboxOptions {
  secret: string;
  callbackUrl: string;
  timeoutMs?: number;
}

/** The seller inbox: its own conversations, texts sent as JSON to a strict parser. */
export const inboxCapabilities: ChannelCapabilities = {
  label: 'the inbox',
  maxTextLength: 5000,
  escapeText: escapeJsonText,
  conversations: 'threads',
  broadcast: false,
};

export function createInboxAdapter(opts: InboxOptions): ChannelAdapter {
  return {
    name: 'inbox',
    delivery: { label: 'the inbox', retryForMs: 24 * 3_600_000 },
    capabilities: inboxCapabilities,
    verify: (req) => verifyInbox(opts.secret, req),
    parse: (body) => parseInbox(body),
    render: (message, to) => renderInbox(message, to),
    send: (delivery) => sendInbox(opts, delivery),
  };
}

export const inboxPlugin: ChannelPlugin<InboxOptions> = {
  name: 'inbox',
  capabilities: inboxCapabilities,
  secretHeaders: ['x-inbox-signature'],
  variables: {
    INBOX_WEBHOOK_SECRET: 'shared secret of the seller inbox (signs both ways); with INBOX_CALLBACK_URL turns the inbox on',
    INBOX_CALLBACK_URL: 'where messages to inbox conversations are posted',
  },
  configure(env) {
    const v = readChannelEnv(env, { INBOX_WEBHOOK_SECRET: z.string(), INBOX_CALLBACK_URL: urlVariable }, {});
    return v && { secret: v.INBOX_WEBHOOK_SECRET, callbackUrl: v.INBOX_CALLBACK_URL };
  },
  create: (options) => createInboxAdapter(options),
};
