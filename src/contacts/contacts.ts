import { sql } from 'drizzle-orm';
import type { ChannelName } from '../../adapters/types.ts';
import type { Tx } from '../db/client.ts';
import { newId, newToken } from '../lib/ids.ts';

export interface ContactRow {
  id: string;
  channel: ChannelName;
  platformUserId: string;
  displayName: string | null;
  /** BCP 47 language from the platform profile, an import or PATCH; null when unknown. */
  language: string | null;
  meToken: string;
  tags: string[];
  attributes: Record<string, unknown>;
  unreachableAt: Date | null;
}

export interface ConversationRow {
  id: string;
  contactId: string;
  channel: ChannelName;
  externalId: string;
  lastInboundAt: Date | null;
  handoffAt: Date | null;
}

export const contactColumns = sql`id, channel, platform_user_id AS "platformUserId", display_name AS "displayName", language,
  me_token AS "meToken", tags, attributes, unreachable_at AS "unreachableAt"`;

/**
 * Finds or creates the contact for a platform user in one statement; refreshes last seen.
 * `profileFetchedAt` records a profile lookup; `unreachableAt` sets (a date) or clears (null)
 * the unfollow mark, and leaves it as it is when absent. A profile's `language` refreshes the
 * contact's.
 */
export async function ensureContact(
  tx: Tx, channel: ChannelName, platformUserId: string,
  opts: {
    displayName?: string; at?: Date; profileFetchedAt?: Date; unreachableAt?: Date | null;
    /** From the platform profile: refreshes the contact's. */
    language?: string; followedAt?: Date; messageAt?: Date;
  } = {},
): Promise<ContactRow> {
  const at = opts.at ?? new Date();
  const result = await tx.execute(sql`
    INSERT INTO contacts (id, channel, platform_user_id, display_name, me_token, first_seen_at, last_seen_at, profile_fetched_at, unreachable_at,
      language, followed_at, last_message_at)
    VALUES (${newId('ctc')}, ${channel}, ${platformUserId}, ${opts.displayName ?? null}, ${newToken()}, ${at}, ${at},
      ${opts.profileFetchedAt ?? null}, ${opts.unreachableAt ?? null}, ${opts.language ?? null}, ${opts.followedAt ?? null}, ${opts.messageAt ?? null})
    ON CONFLICT (channel, platform_user_id) DO UPDATE SET
      last_seen_at = GREATEST(contacts.last_seen_at, EXCLUDED.last_seen_at),
      display_name = COALESCE(EXCLUDED.display_name, contacts.display_name),
      language = COALESCE(EXCLUDED.language, contacts.language),
      profile_fetched_at = COALESCE(EXCLUDED.profile_fetched_at, contacts.profile_fetched_at),
      followed_at = GREATEST(contacts.followed_at, EXCLUDED.followed_at),
      last_message_at = GREATEST(contacts.last_message_at, EXCLUDED.last_message_at),
      unreachable_at = ${opts.unreachableAt === undefined ? sql`contacts.unreachable_at` : sql`EXCLUDED.unreachable_at`}
    RETURNING ${contactColumns}`);
  return result.rows[0] as unknown as ContactRow;
}

/** The contact's stored language (BCP 47 as given), or null. */
export async function contactLanguage(tx: Tx, id: string): Promise<string | null> {
  const result = await tx.execute(sql`SELECT language FROM contacts WHERE id = ${id}`);
  return (result.rows[0] as { language: string | null } | undefined)?.language ?? null;
}

export async function getContact(tx: Tx, id: string): Promise<ContactRow | null> {
  const result = await tx.execute(sql`SELECT ${contactColumns} FROM contacts WHERE id = ${id}`);
  return (result.rows[0] as unknown as ContactRow | undefined) ?? null;
}

const conversationColumns = sql`id, contact_id AS "contactId", channel, external_id AS "externalId",
  last_inbound_at AS "lastInboundAt", handoff_at AS "handoffAt"`;

/**
 * Finds or creates a conversation. `inboundAt` records an inbound message (what makes a chat
 * "active"); leave it out for events that are not messages from the contact.
 */
export async function ensureConversation(
  tx: Tx, contact: { id: string; channel: ChannelName }, externalId: string, opts: { inboundAt?: Date } = {},
): Promise<ConversationRow> {
  const result = await tx.execute(sql`
    INSERT INTO conversations (id, contact_id, channel, external_id, last_inbound_at)
    VALUES (${newId('cnv')}, ${contact.id}, ${contact.channel}, ${externalId}, ${opts.inboundAt ?? null})
    ON CONFLICT (channel, external_id) DO UPDATE SET
      last_inbound_at = GREATEST(conversations.last_inbound_at, EXCLUDED.last_inbound_at)
    RETURNING ${conversationColumns}`);
  return result.rows[0] as unknown as ConversationRow;
}

/**
 * The chats with these contacts where the conversation's id is the user id (LINE, Messenger),
 * created when missing, in one statement. Keyed by contact id.
 */
export async function ensureDirectConversations(tx: Tx, contacts: Array<{ id: string; channel: ChannelName; platformUserId: string }>): Promise<Map<string, ConversationRow>> {
  if (contacts.length === 0) return new Map();
  const result = await tx.execute(sql`
    INSERT INTO conversations (id, contact_id, channel, external_id)
    SELECT * FROM unnest(${sql.param(contacts.map(() => newId('cnv')))}::text[], ${sql.param(contacts.map((c) => c.id))}::text[],
      ${sql.param(contacts.map((c) => c.channel))}::text[], ${sql.param(contacts.map((c) => c.platformUserId))}::text[])
    ON CONFLICT (channel, external_id) DO UPDATE SET last_inbound_at = conversations.last_inbound_at
    RETURNING ${conversationColumns}`);
  return new Map((result.rows as unknown as ConversationRow[]).map((c) => [c.contactId, c]));
}

export async function getConversation(tx: Tx, id: string): Promise<ConversationRow | null> {
  const result = await tx.execute(sql`SELECT ${conversationColumns} FROM conversations WHERE id = ${id}`);
  return (result.rows[0] as unknown as ConversationRow | undefined) ?? null;
}

export async function findConversation(tx: Tx, channel: ChannelName, externalId: string): Promise<ConversationRow | null> {
  const result = await tx.execute(sql`SELECT ${conversationColumns} FROM conversations WHERE channel = ${channel} AND external_id = ${externalId}`);
  return (result.rows[0] as unknown as ConversationRow | undefined) ?? null;
}
