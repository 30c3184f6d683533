import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { channelNames } from '../../adapters/index.ts';
import { query, type Tx } from '../db/client.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';

/** A tag as flows write them: trimmed, 1–50 characters. */
export const tagName = z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters')
  // eslint-disable-next-line no-control-regex
  .refine((t) => !/[\x00-\x1f\x7f|]/.test(t), 'must not contain "|", a line break or another control character');

/** A BCP 47 language tag as LINE reports it (`ja`, `zh-TW`, `zh-Hant`, `th`). */
export const languageTag = z.string().trim().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as "ja" or "zh-TW"').max(35);

export interface ContactJson {
  id: string;
  channel: string;
  userId: string;
  displayName: string | null;
  language: string | null;
  tags: string[];
  followedAt: string | null;
  lastMessageAt: string | null;
  unreachableAt: string | null;
}

const columns = sql`id, channel, platform_user_id AS "userId", display_name AS "displayName", language, tags,
  followed_at AS "followedAt", last_message_at AS "lastMessageAt", unreachable_at AS "unreachableAt"`;

interface Row {
  id: string; channel: string; userId: string; displayName: string | null; language: string | null; tags: string[];
  followedAt: Date | string | null; lastMessageAt: Date | string | null; unreachableAt: Date | string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function toJson(r: Row): ContactJson {
  return {
    id: r.id, channel: r.channel, userId: r.userId, displayName: r.displayName, language: r.language, tags: r.tags,
    followedAt: iso(r.followedAt), lastMessageAt: iso(r.lastMessageAt), unreachableAt: iso(r.unreachableAt),
  };
}

export const contactListQuery = z.object({
  channel: z.enum(channelNames).optional(),
  tag: tagName.optional(),
  q: z.string().trim().max(100).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^ctc_[A-Za-z0-9_-]+$/.test(id)) throw new AppError('validation_error', 'cursor: is not a cursor this API gave out', { fields: [{ field: 'cursor', message: 'unknown cursor' }] });
  return id;
}

/** `GET /api/v1/contacts`: filtered, in id order, a page at a time. */
export async function listContacts(tx: Tx, input: unknown): Promise<{ contacts: ContactJson[]; next: string | null }> {
  const q = parseOrThrow(contactListQuery, input);
  const where: SQL[] = [];
  if (q.channel) where.push(sql`channel = ${q.channel}`);
  if (q.tag) where.push(sql`tags @> ARRAY[${q.tag}]::text[]`);
  if (q.q) {
    const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(sql`(display_name ILIKE ${like} OR platform_user_id = ${q.q})`);
  }
  if (q.cursor) where.push(sql`id > ${decodeCursor(q.cursor)}`);
  const r = await query(tx, sql`SELECT ${columns} FROM contacts
    ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
    ORDER BY id LIMIT ${q.limit + 1}`);
  const rows = r.rows as unknown as Row[];
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  return { contacts: page.map(toJson), next: more ? encodeCursor(page[page.length - 1]!.id) : null };
}

export async function getContactJson(tx: Tx, id: string): Promise<ContactJson> {
  const r = await query(tx, sql`SELECT ${columns} FROM contacts WHERE id = ${id}`);
  const row = r.rows[0] as unknown as Row | undefined;
  if (!row) throw new AppError('not_found', `contact ${id} does not exist`);
  return toJson(row);
}

export const contactPatch = z.object({
  addTags: z.array(tagName).max(100).optional(),
  removeTags: z.array(tagName).max(100).optional(),
  language: languageTag.nullable().optional(),
}).strict();

/** `current` with `add` appended (each tag once, first place kept) and `remove` left out, as flows do. */
export function mergedTags(current: SQL, add: SQL, remove: SQL = sql`'{}'::text[]`): SQL {
  return sql`ARRAY(SELECT t FROM (SELECT t, min(o) AS o FROM unnest(${current} || ${add}) WITH ORDINALITY AS u(t, o) GROUP BY t) s
    WHERE NOT (t = ANY(${remove})) ORDER BY o)`;
}

/** `PATCH /api/v1/contacts/:id`: tags added and removed in one statement; the language set or cleared. */
export async function patchContact(tx: Tx, id: string, body: unknown): Promise<ContactJson> {
  const p = parseOrThrow(contactPatch, body);
  const add = [...new Set(p.addTags ?? [])];
  const remove = [...new Set(p.removeTags ?? [])];
  const both = add.filter((t) => remove.includes(t));
  if (both.length) throw new AppError('validation_error', `a tag cannot be both added and removed: ${both.join(', ')}`);
  const r = await query(tx, sql`UPDATE contacts SET
      tags = ${mergedTags(sql`tags`, sql`${sql.param(add)}::text[]`, sql`${sql.param(remove)}::text[]`)},
      language = ${p.language === undefined ? sql`language` : sql`${p.language}`}
    WHERE id = ${id} RETURNING ${columns}`);
  const row = r.rows[0] as unknown as Row | undefined;
  if (!row) throw new AppError('not_found', `contact ${id} does not exist`);
  return toJson(row);
}
