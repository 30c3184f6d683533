import type { ChannelAdapter } from '../types.ts';
import { parseInbox, verifyInbox } from './inbound.ts';
import { renderInbox, sendInbox } from './outbound.ts';

export { inboxEventSchema, inboxSignatureMatches, signInboxBody, type InboxEvent } from './inbound.ts';
export { renderInbox, type InboxRequest } from './outbound.ts';

export interface InboxOptions {
  secret: string;
  callbackUrl: string;
  timeoutMs?: number;
}

export function createInboxAdapter(opts: InboxOptions): ChannelAdapter {
  return {
    name: 'inbox',
    delivery: { label: 'the inbox', retryForMs: 24 * 3_600_000 },
    verify: (req) => verifyInbox(opts.secret, req),
    parse: (body) => parseInbox(body),
    render: (message, to) => renderInbox(message, to),
    send: (delivery) => sendInbox(opts, delivery),
  };
}
