import { sql } from 'drizzle-orm';
import type { ChannelEvent, OutboundMessage } from '../../adapters/types.ts';
import { query, type Tx } from '../db/client.ts';

/**
 * A chat's recent messages, for the agents' workbench (read-only). Nothing is stored twice: what
 * the customer wrote is the message events as stored when they arrived (`inbound_events`), what
 * we sent is the outbox. Both are pruned after `RETENTION_DAYS`, so a chat shows at most that far
 * back — far more than an active chat needs.
 */
export interface ChatMessage {
  direction: 'in' | 'out';
  at: Date;
  /** `text`, `coupon`, or what else the customer sent (`image`, `sticker`, …). */
  kind: string;
  /** The text, or for a coupon card its name and reward; null for a message without text. */
  text: string | null;
  /** Ours: whether the platform took it. */
  delivery?: 'pending' | 'sent' | 'failed';
  couponId?: string;
}

export interface ChatRef {
  /** Our conversation id. */
  id: string;
  channel: string;
  /** The platform's conversation id: message events carry it. */
  externalId: string;
  contactId: string;
}

interface InboundRow { cid: string; event: ChannelEvent; receivedAt: Date }
interface OutboundRow { cid: string; message: OutboundMessage; status: 'pending' | 'sent' | 'failed'; createdAt: Date; couponId: string | null }

function eventAt(event: ChannelEvent, received: Date): Date {
  const t = new Date(event.timestamp);
  return Number.isNaN(t.getTime()) || t > received ? received : t;
}

function outboundText(m: OutboundMessage): string {
  if (m.type === 'text') return m.text;
  return `${m.intro ? `${m.intro}\n` : ''}${m.card.campaignName} — ${m.card.rewardText}`;
}

/** The latest `perChat` messages of each chat, oldest first, keyed by our conversation id. */
export async function recentMessages(tx: Tx, chats: ChatRef[], perChat: number): Promise<Map<string, ChatMessage[]>> {
  const out = new Map<string, ChatMessage[]>(chats.map((c) => [c.id, []]));
  if (chats.length === 0) return out;
  const ids = sql.param(chats.map((c) => c.id));
  // Walks inbound_events_conversation_idx: one short index scan per chat.
  const inbound = await query(tx, sql`
    SELECT k.cid, e.event, e.received_at AS "receivedAt"
    FROM unnest(${ids}::text[], ${sql.param(chats.map((c) => c.channel))}::text[], ${sql.param(chats.map((c) => c.externalId))}::text[]) AS k(cid, channel, external)
    CROSS JOIN LATERAL (
      SELECT event, received_at FROM inbound_events
      WHERE channel = k.channel AND (event->>'conversationId') = k.external AND (event->>'type') = 'message'
      ORDER BY id DESC LIMIT ${perChat}) e`);
  // Messages to the chat, and those to the contact without a chat (pushes).
  const outbound = await query(tx, sql`
    SELECT k.cid, o.message, o.status, o.created_at AS "createdAt", o.coupon_id AS "couponId"
    FROM unnest(${ids}::text[], ${sql.param(chats.map((c) => c.contactId))}::text[]) AS k(cid, contact)
    CROSS JOIN LATERAL (
      SELECT message, status, created_at, coupon_id FROM outbox
      WHERE contact_id = k.contact AND (conversation_id = k.cid OR conversation_id IS NULL)
      ORDER BY created_at DESC LIMIT ${perChat}) o`);
  for (const r of inbound.rows as unknown as InboundRow[]) {
    const e = r.event;
    const text = e.type === 'message' ? e.text ?? null : null;
    out.get(r.cid)!.push({ direction: 'in', at: eventAt(e, r.receivedAt), kind: e.type === 'message' ? e.kind : e.type, text });
  }
  for (const r of outbound.rows as unknown as OutboundRow[]) {
    out.get(r.cid)!.push({
      direction: 'out', at: r.createdAt, kind: r.message.type, text: outboundText(r.message), delivery: r.status,
      ...(r.couponId ? { couponId: r.couponId } : {}),
    });
  }
  for (const [id, list] of out) {
    list.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.direction === b.direction ? 0 : a.direction === 'in' ? -1 : 1));
    out.set(id, list.slice(-perChat));
  }
  return out;
}
