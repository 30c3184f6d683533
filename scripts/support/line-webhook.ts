/**
 * LINE webhook bodies as LINE sends them (webhook.yml's CallbackRequest), signed with the
 * channel secret: for the simulator, the benchmark and the tests.
 */
import crypto from 'node:crypto';
import { signLineBody } from '../../adapters/line/index.ts';

export type LineWebhookEvent = Record<string, unknown> & { type: string; webhookEventId: string };

let counter = 0;

/** A ULID-like id, unique per call, as LINE's `webhookEventId` looks. */
export function newWebhookEventId(): string {
  counter = (counter + 1) % 0xffffff;
  return `01${Date.now().toString(36).toUpperCase()}${counter.toString(36).toUpperCase().padStart(5, '0')}${crypto.randomBytes(6).toString('hex').toUpperCase()}`;
}

/** A LINE user id: "U" and 32 hex digits. */
export function newLineUserId(): string {
  return `U${crypto.randomBytes(16).toString('hex')}`;
}

interface EventOptions {
  webhookEventId?: string;
  timestamp?: number;
  replyToken?: string | null;
  redelivery?: boolean;
  mode?: 'active' | 'standby';
}

function base(type: string, userId: string, o: EventOptions): LineWebhookEvent {
  const replyToken = o.replyToken === undefined ? crypto.randomBytes(16).toString('hex') : o.replyToken;
  return {
    type,
    mode: o.mode ?? 'active',
    timestamp: o.timestamp ?? Date.now(),
    source: { type: 'user', userId },
    webhookEventId: o.webhookEventId ?? newWebhookEventId(),
    deliveryContext: { isRedelivery: o.redelivery ?? false },
    ...(replyToken && type !== 'unfollow' ? { replyToken } : {}),
  };
}

export function followEvent(userId: string, o: EventOptions & { unblocked?: boolean } = {}): LineWebhookEvent {
  return { ...base('follow', userId, o), follow: { isUnblocked: o.unblocked ?? false } };
}

export function unfollowEvent(userId: string, o: EventOptions = {}): LineWebhookEvent {
  return base('unfollow', userId, { ...o, replyToken: null });
}

export function textEvent(userId: string, text: string, o: EventOptions = {}): LineWebhookEvent {
  return {
    ...base('message', userId, o),
    message: { type: 'text', id: String(Date.now()) + String(counter), quoteToken: crypto.randomBytes(8).toString('hex'), text },
  };
}

export function postbackEvent(userId: string, data: string, o: EventOptions = {}): LineWebhookEvent {
  return { ...base('postback', userId, o), postback: { data } };
}

export function lineWebhookBody(events: LineWebhookEvent[], destination = 'U0000000000000000000000000000bot0'): string {
  return JSON.stringify({ destination, events });
}

export const lineSignature = signLineBody;

/** Posts a signed LINE webhook to a running service. */
export async function postLineWebhook(baseUrl: string, secret: string, events: LineWebhookEvent[]): Promise<Response> {
  const body = lineWebhookBody(events);
  return await fetch(`${baseUrl.replace(/\/+$/, '')}/webhooks/line`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-line-signature': lineSignature(secret, body) },
    body,
  });
}
