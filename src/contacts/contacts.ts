import { sql } from 'drizzle-orm';
import type { ChannelName } from '../../adapters/types.ts';
import { query, type Tx } from '../db/client.ts';
import { selectList, type RowOf } from '../db/rows.ts';
import { contacts, conversations } from '../db/schema.ts';
import { newId, newToken } from '../lib/ids.ts';

const contactRowKeys = [
  'id', 'channel', 'platformUserId', 'displayName', 'language', 'meToken', 'tags', 'attributes', 'unreachableAt',
] as const;
const conversationRowKeys = ['id', 'contactId', 'channel', 'externalId', 'lastInboundAt', 'handoffAt'] as const;

/** A contact as services read it (the schema's columns and types). */
export type ContactRow = Pick<RowOf<typeof contacts>, (typeof contactRowKeys)[number]>;
export type ConversationRow = Pick<RowOf<typeof conversations>, (typeof conversationRowKeys)[number]>;

export const contactColumns = selectList(contacts, contactRowKeys);
const conversationColumns = selectList(conversations, conversationRowKeys);

/** What a sighting of a known contact refreshes (an upsert's `DO UPDATE SET`, the unfollow mark apart). */
const refreshContact = sql.raw(`last_seen_at = GREATEST(contacts.last_seen_at, EXCLUDED.last_seen_at),
      display_name = COALESCE(EXCLUDED.display_name, contacts.display_name),
      language = COALESCE(EXCLUDED.language, contacts.language),
      profile_fetched_at = COALESCE(EXCLUDED.profile_fetched_at, contacts.profile_fetched_at),
      followed_at = GREATEST(contacts.followed_at, EXCLUDED.followed_at),
      last_message_at = GREATEST(contacts.last_message_at, EXCLUDED.last_message_at)`);

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
  const result = await query(tx, sql`
    INSERT INTO contacts (id, channel, platform_user_id, display_name, me_token, first_seen_at, last_seen_at, profile_fetched_at, unreachable_at,
      language, followed_at, last_message_at)
    VALUES (${newId('ctc')}, ${channel}, ${platformUserId}, ${opts.displayName ?? null}, ${newToken()}, ${at}, ${at},
      ${opts.profileFetchedAt ?? null}, ${opts.unreachableAt ?? null}, ${opts.language ?? null}, ${opts.followedAt ?? null}, ${opts.messageAt ?? null})
    ON CONFLICT (channel, platform_user_id) DO UPDATE SET
      ${refreshContact},
      unreachable_at = ${opts.unreachableAt === undefined ? sql`contacts.unreachable_at` : sql`EXCLUDED.unreachable_at`}
    RETURNING ${contactColumns}`);
  return result.rows[0] as unknown as ContactRow;
}

/** What one inbound event tells about its contact (the batch form of `ensureContact`'s options). */
export interface ContactSighting {
  channel: ChannelName;
  platformUserId: string;
  at: Date;
  displayName?: string;
  language?: string;
  profileFetchedAt?: Date;
  /** A follow: records the date and clears the unfollow mark. */
  followedAt?: Date;
  /** An unfollow: marks the contact unreachable from this date. */
  unfollowedAt?: Date;
  messageAt?: Date;
}

const contactKey = (channel: string, platformUserId: string) => `${channel}\u0000${platformUserId}`;

/**
 * `ensureContact` for many contacts in one statement: creates the missing ones and refreshes the
 * others as `ensureContact` does. Each contact appears at most once (an upsert cannot touch a
 * row twice). Answers the rows in the order of `sightings`.
 */
export async function ensureContacts(tx: Tx, sightings: ContactSighting[]): Promise<ContactRow[]> {
  if (sightings.length === 0) return [];
  // A fixed order: two transactions upserting overlapping contacts lock them in the same order.
  const sorted = [...sightings].sort((a, b) => (contactKey(a.channel, a.platformUserId) < contactKey(b.channel, b.platformUserId) ? -1 : 1));
  const col = <T>(pick: (s: ContactSighting) => T) => sql.param(sorted.map(pick));
  const result = await query(tx, sql`
    INSERT INTO contacts (id, channel, platform_user_id, display_name, me_token, first_seen_at, last_seen_at, profile_fetched_at, unreachable_at,
      language, followed_at, last_message_at)
    SELECT * FROM unnest(${col(() => newId('ctc'))}::text[], ${col((s) => s.channel)}::text[], ${col((s) => s.platformUserId)}::text[],
      ${col((s) => s.displayName ?? null)}::text[], ${col(() => newToken())}::text[], ${col((s) => s.at)}::timestamptz[], ${col((s) => s.at)}::timestamptz[],
      ${col((s) => s.profileFetchedAt ?? null)}::timestamptz[], ${col((s) => s.unfollowedAt ?? null)}::timestamptz[], ${col((s) => s.language ?? null)}::text[],
      ${col((s) => s.followedAt ?? null)}::timestamptz[], ${col((s) => s.messageAt ?? null)}::timestamptz[])
    ON CONFLICT (channel, platform_user_id) DO UPDATE SET
      ${refreshContact},
      unreachable_at = CASE WHEN EXCLUDED.unreachable_at IS NOT NULL THEN EXCLUDED.unreachable_at
        WHEN EXCLUDED.followed_at IS NOT NULL THEN NULL ELSE contacts.unreachable_at END
    RETURNING ${contactColumns}`);
  const byKey = new Map((result.rows as unknown as ContactRow[]).map((c) => [contactKey(c.channel, c.platformUserId), c]));
  return sightings.map((s) => {
    const row = byKey.get(contactKey(s.channel, s.platformUserId));
    if (!row) throw new Error('a contact upsert returned no row');
    return row;
  });
}

/** The contact's stored language (BCP 47 as given), or null. */
export async function contactLanguage(tx: Tx, id: string): Promise<string | null> {
  const result = await query(tx, sql`SELECT language FROM contacts WHERE id = ${id}`);
  return (result.rows[0] as { language: string | null } | undefined)?.language ?? null;
}

export async function getContact(tx: Tx, id: string): Promise<ContactRow | null> {
  const result = await query(tx, sql`SELECT ${contactColumns} FROM contacts WHERE id = ${id}`);
  return (result.rows[0] as unknown as ContactRow | undefined) ?? null;
}

/**
 * Finds or creates a conversation. `inboundAt` records an inbound message (what makes a chat
 * "active"); leave it out for events that are not messages from the contact.
 */
export async function ensureConversation(
  tx: Tx, contact: { id: string; channel: ChannelName }, externalId: string, opts: { inboundAt?: Date } = {},
): Promise<ConversationRow> {
  const result = await query(tx, sql`
    INSERT INTO conversations (id, contact_id, channel, external_id, last_inbound_at)
    VALUES (${newId('cnv')}, ${contact.id}, ${contact.channel}, ${externalId}, ${opts.inboundAt ?? null})
    ON CONFLICT (channel, external_id) DO UPDATE SET
      last_inbound_at = GREATEST(conversations.last_inbound_at, EXCLUDED.last_inbound_at)
    RETURNING ${conversationColumns}`);
  return result.rows[0] as unknown as ConversationRow;
}

/**
 * `ensureConversation` for many conversations in one statement. Conversations named more than
 * once (a group chat with several speakers) are written once, with the latest inbound time.
 * Answers the rows in the order of `wanted`.
 */
export async function ensureConversations(
  tx: Tx, wanted: Array<{ contact: { id: string; channel: ChannelName }; externalId: string; inboundAt?: Date }>,
): Promise<ConversationRow[]> {
  if (wanted.length === 0) return [];
  const unique = new Map<string, { contactId: string; channel: ChannelName; externalId: string; inboundAt: Date | null }>();
  for (const w of wanted) {
    const key = contactKey(w.contact.channel, w.externalId);
    const seen = unique.get(key);
    const inboundAt = w.inboundAt ?? null;
    if (!seen) unique.set(key, { contactId: w.contact.id, channel: w.contact.channel, externalId: w.externalId, inboundAt });
    else if (inboundAt && (!seen.inboundAt || inboundAt > seen.inboundAt)) seen.inboundAt = inboundAt;
  }
  const rows = [...unique.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, r]) => r);
  const result = await query(tx, sql`
    INSERT INTO conversations (id, contact_id, channel, external_id, last_inbound_at)
    SELECT * FROM unnest(${sql.param(rows.map(() => newId('cnv')))}::text[], ${sql.param(rows.map((r) => r.contactId))}::text[],
      ${sql.param(rows.map((r) => r.channel))}::text[], ${sql.param(rows.map((r) => r.externalId))}::text[],
      ${sql.param(rows.map((r) => r.inboundAt))}::timestamptz[])
    ON CONFLICT (channel, external_id) DO UPDATE SET
      last_inbound_at = GREATEST(conversations.last_inbound_at, EXCLUDED.last_inbound_at)
    RETURNING ${conversationColumns}`);
  const byKey = new Map((result.rows as unknown as ConversationRow[]).map((c) => [contactKey(c.channel, c.externalId), c]));
  return wanted.map((w) => {
    const row = byKey.get(contactKey(w.contact.channel, w.externalId));
    if (!row) throw new Error('a conversation upsert returned no row');
    return row;
  });
}

/**
 * The chats with these contacts where the conversation's id is the user id (LINE, Messenger),
 * created when missing, in one statement. Keyed by contact id.
 */
export async function ensureDirectConversations(tx: Tx, contacts: Array<{ id: string; channel: ChannelName; platformUserId: string }>): Promise<Map<string, ConversationRow>> {
  if (contacts.length === 0) return new Map();
  const result = await query(tx, sql`
    INSERT INTO conversations (id, contact_id, channel, external_id)
    SELECT * FROM unnest(${sql.param(contacts.map(() => newId('cnv')))}::text[], ${sql.param(contacts.map((c) => c.id))}::text[],
      ${sql.param(contacts.map((c) => c.channel))}::text[], ${sql.param(contacts.map((c) => c.platformUserId))}::text[])
    ON CONFLICT (channel, external_id) DO UPDATE SET last_inbound_at = conversations.last_inbound_at
    RETURNING ${conversationColumns}`);
  return new Map((result.rows as unknown as ConversationRow[]).map((c) => [c.contactId, c]));
}

export async function getConversation(tx: Tx, id: string): Promise<ConversationRow | null> {
  const result = await query(tx, sql`SELECT ${conversationColumns} FROM conversations WHERE id = ${id}`);
  return (result.rows[0] as unknown as ConversationRow | undefined) ?? null;
}

export async function findConversation(tx: Tx, channel: ChannelName, externalId: string): Promise<ConversationRow | null> {
  const result = await query(tx, sql`SELECT ${conversationColumns} FROM conversations WHERE channel = ${channel} AND external_id = ${externalId}`);
  return (result.rows[0] as unknown as ConversationRow | undefined) ?? null;
}

/**
 * Locks a contact and reads it (flows change a contact's runs, tags and attributes under this
 * lock). With `skipLocked`, a contact held by another transaction reads as null instead of being
 * waited for.
 */
export async function lockContact(tx: Tx, contactId: string, opts: { skipLocked?: boolean } = {}): Promise<ContactRow | null> {
  const r = await query(tx, sql`SELECT ${contactColumns} FROM contacts WHERE id = ${contactId} FOR UPDATE ${opts.skipLocked ? sql`SKIP LOCKED` : sql``}`);
  return (r.rows[0] as unknown as ContactRow | undefined) ?? null;
}

/** Sets one attribute of a contact (a JSON value). */
export async function setContactAttribute(tx: Tx, contactId: string, name: string, value: unknown): Promise<void> {
  await query(tx, sql`UPDATE contacts SET attributes = attributes || jsonb_build_object(${name}::text, ${JSON.stringify(value)}::jsonb)
    WHERE id = ${contactId}`);
}

/** Adds tags a contact does not have yet, keeping the order they were first added in; returns the tags. */
export async function addContactTags(tx: Tx, contactId: string, tags: string[]): Promise<string[]> {
  const r = await query(tx, sql`
    UPDATE contacts SET tags = ARRAY(
      SELECT t FROM (SELECT t, min(o) AS o FROM unnest(tags || ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(tags)}::jsonb)))
        WITH ORDINALITY AS u(t, o) GROUP BY t) s ORDER BY o)
    WHERE id = ${contactId} RETURNING tags`);
  return (r.rows[0] as { tags: string[] }).tags;
}

/** Removes tags from a contact; returns the tags left. */
export async function removeContactTags(tx: Tx, contactId: string, tags: string[]): Promise<string[]> {
  const r = await query(tx, sql`
    UPDATE contacts SET tags = ARRAY(SELECT t FROM unnest(tags) WITH ORDINALITY AS u(t, o)
      WHERE t NOT IN (SELECT jsonb_array_elements_text(${JSON.stringify(tags)}::jsonb)) ORDER BY o)
    WHERE id = ${contactId} RETURNING tags`);
  return (r.rows[0] as { tags: string[] }).tags;
}

/** Gives a conversation to an agent (the bot stays silent there); an earlier handoff time stays. */
export async function handOffConversation(tx: Tx, conversationId: string, at: Date): Promise<void> {
  await query(tx, sql`UPDATE conversations SET handoff_at = ${at} WHERE id = ${conversationId} AND handoff_at IS NULL`);
}

/** The contact's conversation with the latest inbound message (any, when none has one). */
export async function latestConversation(tx: Tx, contactId: string): Promise<ConversationRow | null> {
  const result = await query(tx, sql`SELECT ${conversationColumns} FROM conversations WHERE contact_id = ${contactId}
    ORDER BY last_inbound_at DESC NULLS LAST LIMIT 1`);
  return (result.rows[0] as unknown as ConversationRow | undefined) ?? null;
}

/** A conversation handed off to an agent, with its contact's name and tags. */
export interface HandoffRow {
  id: string;
  channel: ChannelName;
  externalId: string;
  contactId: string;
  displayName: string | null;
  tags: string[];
  handoffAt: Date;
  lastInboundAt: Date | null;
  /** The person who took it from the queue, and when; null while nobody has. */
  takenBy: { id: string; name: string } | null;
  takenAt: Date | null;
}

/** Conversations a `handoff` gave to an agent, oldest handoff first (at most 500). */
export async function listHandoffs(tx: Tx): Promise<HandoffRow[]> {
  const r = await query(tx, sql`
    SELECT cv.id, cv.channel, cv.external_id AS "externalId", cv.contact_id AS "contactId", ct.display_name AS "displayName",
      ct.tags, cv.handoff_at AS "handoffAt", cv.last_inbound_at AS "lastInboundAt",
      CASE WHEN p.id IS NULL THEN NULL ELSE json_build_object('id', p.id, 'name', p.name) END AS "takenBy", cv.handoff_taken_at AS "takenAt"
    FROM conversations cv JOIN contacts ct ON ct.id = cv.contact_id LEFT JOIN people p ON p.id = cv.handoff_taken_by
    WHERE cv.handoff_at IS NOT NULL ORDER BY cv.handoff_at, cv.id LIMIT 500`);
  return r.rows as unknown as HandoffRow[];
}

/**
 * Gives a conversation back to the bot (and clears who took it). Null when it does not exist; `released` says whether it
 * was handed off.
 */
export async function releaseConversation(tx: Tx, conversationId: string): Promise<{ id: string; released: boolean } | null> {
  const r = await query(tx, sql`
    WITH old AS (SELECT id, handoff_at FROM conversations WHERE id = ${conversationId} FOR UPDATE)
    UPDATE conversations c SET handoff_at = NULL, handoff_taken_by = NULL, handoff_taken_at = NULL FROM old WHERE c.id = old.id
    RETURNING c.id, old.handoff_at AS "was"`);
  const row = r.rows[0] as { id: string; was: Date | null } | undefined;
  return row ? { id: row.id, released: row.was !== null } : null;
}

/**
 * An agent takes a handed-off conversation from the queue. Refused (null) when it is not handed
 * off; `takenBy` names whoever holds it when another agent took it first.
 */
export async function takeConversation(tx: Tx, conversationId: string, personId: string, at: Date): Promise<
  { id: string; taken: true } | { id: string; taken: false; reason: 'not_handed_off' | 'taken'; takenBy: string | null } | null
> {
  const r = await query(tx, sql`
    WITH old AS (SELECT id, handoff_at, handoff_taken_by FROM conversations WHERE id = ${conversationId} FOR UPDATE),
    upd AS (UPDATE conversations c SET handoff_taken_by = ${personId}, handoff_taken_at = ${at} FROM old
      WHERE c.id = old.id AND old.handoff_at IS NOT NULL AND (old.handoff_taken_by IS NULL OR old.handoff_taken_by = ${personId}) RETURNING c.id)
    SELECT old.id, old.handoff_at IS NOT NULL AS "handedOff", old.handoff_taken_by AS "takenBy", EXISTS (SELECT 1 FROM upd) AS taken FROM old`);
  const row = r.rows[0] as { id: string; handedOff: boolean; takenBy: string | null; taken: boolean } | undefined;
  if (!row) return null;
  if (row.taken) return { id: row.id, taken: true };
  return { id: row.id, taken: false, reason: row.handedOff ? 'taken' : 'not_handed_off', takenBy: row.takenBy };
}
