import { z } from 'zod';
import { headerValue, safeEqual, sha256SignatureMatches, signSha256Body } from '../signature.ts';
import type { ChannelEvent, RawRequest } from '../types.ts';

/** The `x-hub-signature-256` value Meta would send for `body`. */
export const signHubBody = signSha256Body;

export function verifyMessenger(appSecret: string, req: RawRequest): boolean {
  return sha256SignatureMatches(appSecret, req.rawBody, headerValue(req, 'x-hub-signature-256'));
}

/**
 * The GET handshake Meta makes when the webhook is set up. Accepts express's simple
 * (`{'hub.mode': …}`) and extended (`{hub: {mode: …}}`) query shapes.
 */
export function messengerHandshake(query: unknown, verifyToken: string): { ok: true; challenge: string } | { ok: false } {
  const q = (query ?? {}) as Record<string, unknown>;
  const nested = (typeof q.hub === 'object' && q.hub !== null ? q.hub : {}) as Record<string, unknown>;
  const mode = q['hub.mode'] ?? nested.mode;
  const token = q['hub.verify_token'] ?? nested.verify_token;
  const challenge = q['hub.challenge'] ?? nested.challenge;
  if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string' || challenge === '') return { ok: false };
  return safeEqual(token, verifyToken) ? { ok: true, challenge } : { ok: false };
}

const referralSchema = z.looseObject({ ref: z.string().optional(), source: z.string().optional(), type: z.string().optional() });

const messagingSchema = z.looseObject({
  sender: z.looseObject({ id: z.string().min(1) }),
  recipient: z.looseObject({ id: z.string() }).optional(),
  timestamp: z.number().int().nonnegative(),
  message: z.looseObject({
    mid: z.string().min(1),
    text: z.string().optional(),
    is_echo: z.boolean().optional(),
    sticker_id: z.number().optional(),
    quick_reply: z.looseObject({ payload: z.string() }).optional(),
    attachments: z.array(z.looseObject({ type: z.string() })).optional(),
  }).optional(),
  postback: z.looseObject({
    mid: z.string().optional(),
    payload: z.string().optional(),
    title: z.string().optional(),
    referral: referralSchema.optional(),
  }).optional(),
  referral: referralSchema.optional(),
  optin: z.looseObject({}).optional(),
  delivery: z.unknown().optional(),
  read: z.unknown().optional(),
});

const webhookSchema = z.object({
  object: z.string(),
  entry: z.array(z.looseObject({
    id: z.string().optional(),
    time: z.number().optional(),
    messaging: z.array(z.unknown()).optional(),
    standby: z.array(z.unknown()).optional(),
  })),
});

type Messaging = z.infer<typeof messagingSchema>;
type MessageKind = Extract<ChannelEvent, { type: 'message' }>['kind'];

function attachmentKind(message: NonNullable<Messaging['message']>): MessageKind {
  if (message.text !== undefined) return 'text';
  if (message.sticker_id !== undefined) return 'sticker';
  const type = message.attachments?.[0]?.type;
  return type === 'image' || type === 'video' || type === 'audio' || type === 'file' || type === 'location' ? type : 'other';
}

/** Other platform event names we store as 'other', in the order Meta documents them. */
const otherFields = ['optin', 'reaction', 'account_linking', 'game_play', 'pass_thread_control', 'take_thread_control', 'request_thread_control', 'app_roles', 'policy_enforcement', 'message_edit'];

function normalise(item: Messaging, standby: boolean): ChannelEvent | null {
  const sender = item.sender.id;
  const base = {
    channel: 'messenger' as const,
    userId: sender,
    conversationId: sender,
    timestamp: new Date(item.timestamp).toISOString(),
    ...(standby ? { standby: true } : {}),
  };
  if (item.message) {
    // Our own outgoing messages come back as echoes.
    if (item.message.is_echo) return null;
    const m = item.message;
    return {
      ...base,
      eventId: m.mid,
      type: 'message',
      kind: attachmentKind(m),
      messageId: m.mid,
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.quick_reply ? { quickReplyPayload: m.quick_reply.payload } : {}),
    };
  }
  if (item.postback) {
    const payload = item.postback.payload ?? item.postback.title ?? '';
    const ref = item.postback.referral?.ref;
    return {
      ...base,
      eventId: item.postback.mid ?? `${sender}:${item.timestamp}:postback:${payload}`,
      type: 'postback',
      payload,
      ...(ref ? { ref } : {}),
    };
  }
  if (item.referral) {
    const eventId = `${sender}:${item.timestamp}:referral`;
    return item.referral.ref
      ? { ...base, eventId, type: 'referral', ref: item.referral.ref }
      : { ...base, eventId, type: 'other', platformType: 'referral' };
  }
  // Receipts are noise: nothing in the product reacts to them.
  if (item.delivery !== undefined || item.read !== undefined) return null;
  const platformType = otherFields.find((f) => f in item) ?? Object.keys(item).find((k) => !['sender', 'recipient', 'timestamp'].includes(k)) ?? 'unknown';
  return { ...base, eventId: `${sender}:${item.timestamp}:${platformType}`, type: 'other', platformType };
}

/** Normalises a verified Messenger webhook body; throws on a body that is not Meta's shape. */
export function parseMessenger(body: unknown): ChannelEvent[] {
  const parsed = webhookSchema.parse(body);
  // Only Page events are ours (an app may also be subscribed to other objects).
  if (parsed.object !== 'page') return [];
  const out: ChannelEvent[] = [];
  for (const entry of parsed.entry) {
    for (const [items, standby] of [[entry.messaging ?? [], false], [entry.standby ?? [], true]] as const) {
      for (const raw of items) {
        const event = normalise(messagingSchema.parse(raw), standby);
        if (event) out.push(event);
      }
    }
  }
  return out;
}
