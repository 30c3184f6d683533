import { validateSignature } from '@line/bot-sdk';
import { z } from 'zod';
import { headerValue, hmacSha256 } from '../signature.ts';
import type { ChannelEvent, RawRequest } from '../types.ts';

/** The `x-line-signature` value LINE would send for `body` (tests and the simulator sign with it). */
export function signLineBody(secret: string, body: string | Buffer): string {
  return hmacSha256(secret, body, 'base64');
}

export function verifyLine(secret: string, req: RawRequest): boolean {
  const signature = headerValue(req, 'x-line-signature');
  if (!signature) return false;
  return validateSignature(req.rawBody, secret, signature);
}

const callbackSchema = z.object({
  destination: z.string().optional(),
  events: z.array(z.unknown()),
});

// Only what we read: LINE adds fields freely, so every object is loose.
const eventSchema = z.looseObject({
  type: z.string().min(1),
  webhookEventId: z.string().min(1),
  timestamp: z.number().int().nonnegative(),
  mode: z.string().optional(),
  replyToken: z.string().optional(),
  source: z.looseObject({ type: z.string(), userId: z.string().optional() }).optional(),
});

const messageEventSchema = z.looseObject({
  message: z.looseObject({ type: z.string(), id: z.string(), text: z.string().optional() }),
});

const postbackEventSchema = z.looseObject({
  postback: z.looseObject({ data: z.string() }),
});

const followEventSchema = z.looseObject({
  follow: z.looseObject({ isUnblocked: z.boolean() }).optional(),
});

const messageKinds = ['text', 'image', 'video', 'audio', 'file', 'location', 'sticker'] as const;
type MessageKind = Extract<ChannelEvent, { type: 'message' }>['kind'];

function messageKind(type: string): MessageKind {
  return (messageKinds as readonly string[]).includes(type) ? (type as MessageKind) : 'other';
}

/** Normalises a verified LINE webhook body; throws on a body that is not LINE's shape. */
export function parseLine(body: unknown): ChannelEvent[] {
  const { events } = callbackSchema.parse(body);
  const out: ChannelEvent[] = [];
  for (const raw of events) {
    const event = eventSchema.parse(raw);
    const userId = event.source?.userId;
    // Group and room events without a user (join, leave, …) have nobody to hand a coupon to.
    if (!userId) continue;
    const base = {
      channel: 'line' as const,
      eventId: event.webhookEventId,
      userId,
      conversationId: userId,
      timestamp: new Date(event.timestamp).toISOString(),
      ...(event.replyToken ? { replyToken: event.replyToken } : {}),
      ...(event.mode === 'standby' ? { standby: true } : {}),
    };
    switch (event.type) {
      case 'follow': {
        const { follow } = followEventSchema.parse(raw);
        out.push({ ...base, type: 'follow', ...(follow?.isUnblocked ? { unblocked: true } : {}) });
        break;
      }
      case 'unfollow':
        out.push({ ...base, type: 'unfollow' });
        break;
      case 'message': {
        const { message } = messageEventSchema.parse(raw);
        out.push({
          ...base,
          type: 'message',
          kind: messageKind(message.type),
          messageId: message.id,
          ...(message.type === 'text' && message.text !== undefined ? { text: message.text } : {}),
        });
        break;
      }
      case 'postback': {
        const { postback } = postbackEventSchema.parse(raw);
        out.push({ ...base, type: 'postback', payload: postback.data });
        break;
      }
      default:
        out.push({ ...base, type: 'other', platformType: event.type });
    }
  }
  return out;
}
