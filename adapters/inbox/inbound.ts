import { z } from 'zod';
import { headerValue, sha256SignatureMatches, signSha256Body } from '../signature.ts';
import type { ChannelEvent, RawRequest } from '../types.ts';

/** The `x-inbox-signature` value for `body`, both ways: the inbox signs its webhooks so, and we sign our callbacks so. */
export const signInboxBody = signSha256Body;

/** Constant-time check of an `x-inbox-signature` header against the raw bytes. */
export const inboxSignatureMatches = sha256SignatureMatches;

export function verifyInbox(secret: string, req: RawRequest): boolean {
  return sha256SignatureMatches(secret, req.rawBody, headerValue(req, 'x-inbox-signature'));
}

export const inboxEventSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1),
  conversation: z.object({ id: z.string().min(1).max(200) }),
  contact: z.object({ id: z.string().min(1).max(200), name: z.string().max(200).optional() }),
  message: z.object({ id: z.string().min(1).max(200), text: z.string() }).optional(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type InboxEvent = z.infer<typeof inboxEventSchema>;

const inboxBodySchema = z.union([inboxEventSchema, z.array(inboxEventSchema)]);

/** Normalises a verified inbox webhook body (one event or an array of them); throws on a malformed one. */
export function parseInbox(body: unknown): ChannelEvent[] {
  const parsed = inboxBodySchema.parse(body);
  return (Array.isArray(parsed) ? parsed : [parsed]).map((event): ChannelEvent => {
    const base = {
      channel: 'inbox' as const,
      eventId: event.id,
      userId: event.contact.id,
      conversationId: event.conversation.id,
      timestamp: new Date(event.createdAt).toISOString(),
      ...(event.contact.name ? { displayName: event.contact.name } : {}),
    };
    switch (event.type) {
      case 'conversation.created':
        return { ...base, type: 'conversation' };
      case 'message.created':
        if (!event.message) throw new Error(`inbox event ${event.id}: message.created without a message`);
        return { ...base, type: 'message', kind: 'text', messageId: event.message.id, text: event.message.text };
      default:
        return { ...base, type: 'other', platformType: event.type };
    }
  });
}
