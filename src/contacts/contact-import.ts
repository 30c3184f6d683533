import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { channelNames, channelPlugins } from '../../adapters/index.ts';
import type { AppContext } from '../context.ts';
import { copyText, CsvToCopy } from '../lib/csv.ts';
import { AppError } from '../lib/errors.ts';
import { newId, newToken } from '../lib/ids.ts';
import { languageTag, tagName } from './contact-directory.ts';

/** A contacts CSV must be under 50 MiB (about a million rows). */
export const MAX_CONTACTS_CSV_BYTES = 50 * 1024 * 1024;
/** Only the first rejected rows are listed; `rejectedCount` has the total. */
const MAX_REPORTED = 1000;
const HEADER = ['channel', 'userid', 'tags', 'language'];
const MAX_USER_ID = 128;
// eslint-disable-next-line no-control-regex
const controlChar = /[\x00-\x1f\x7f]/;

export interface Rejection { row: number; reason: string }
export interface ContactImportResult { created: number; updated: number; rejected: Rejection[]; rejectedCount: number }

interface CheckedRow { channel: string; userId: string; tags: string[]; language: string | null }

/** One data row of a contacts CSV: the row to load, or why it cannot be. */
export function checkContactRow(fields: string[]): CheckedRow | { reason: string } {
  if (fields.length === 1 && fields[0]!.trim() === '') return { reason: 'blank row' };
  if (fields.length !== 4) return { reason: `has ${fields.length} columns; expected 4 (channel,userId,tags,language)` };
  const [channelRaw, userIdRaw, tagsRaw, languageRaw] = fields.map((f) => f.trim()) as [string, string, string, string];
  const channel = channelRaw.toLowerCase();
  if (!(channelNames as readonly string[]).includes(channel)) return { reason: `unknown channel "${channelRaw.slice(0, 20)}"; use ${channelNames.join(', ')}` };
  if (userIdRaw === '') return { reason: 'userId is blank' };
  if (userIdRaw.length > MAX_USER_ID) return { reason: `userId is longer than ${MAX_USER_ID} characters` };
  if (controlChar.test(userIdRaw)) return { reason: 'userId contains a line break or another control character' };
  const idShape = channelPlugins.find((p) => p.name === channel)?.capabilities.userId;
  if (idShape && !idShape.pattern.test(userIdRaw)) return { reason: `userId is not ${idShape.description}` };
  const tags: string[] = [];
  for (const raw of tagsRaw.split('|')) {
    if (raw.trim() === '') continue;
    const t = tagName.safeParse(raw);
    if (!t.success) return { reason: `tag "${raw.trim().slice(0, 50)}" ${t.error.issues[0]!.message}` };
    if (!tags.includes(t.data)) tags.push(t.data);
  }
  let language: string | null = null;
  if (languageRaw !== '') {
    const l = languageTag.safeParse(languageRaw);
    if (!l.success) return { reason: `language "${languageRaw.slice(0, 20)}" ${l.error.issues[0]!.message}` };
    language = l.data;
  }
  return { channel, userId: userIdRaw, tags, language };
}

/** CSV text in, COPY rows out; rejected rows are kept aside (the first ones) and counted. */
class StagingRows extends CsvToCopy {
  rejected: Rejection[] = [];
  rejectedCount = 0;
  constructor() {
    super((row, fields) => {
      if (row === 1) {
        const header = fields.map((f) => f.trim().toLowerCase());
        if (header.length !== HEADER.length || header.some((h, i) => h !== HEADER[i])) {
          throw new AppError('validation_error', `the first row must be the header "channel,userId,tags,language"; nothing was imported`);
        }
        return '';
      }
      const r = checkContactRow(fields);
      if ('reason' in r) {
        this.rejectedCount++;
        if (this.rejected.length < MAX_REPORTED) this.rejected.push({ row, reason: r.reason });
        return '';
      }
      return `${row}\t${r.channel}\t${copyText(r.userId)}\t${copyText(r.tags.join('|'))}\t${r.language ?? '\\N'}\t${newId('ctc')}\t${newToken()}\n`;
    });
  }
}

/**
 * Imports a contacts CSV, all or nothing, in one transaction: rows are checked while the file
 * streams into a staging table by COPY, then one upsert creates the new contacts and adds the
 * tags of the known ones (tags are added, never removed; a language in the file replaces the
 * contact's). A bad file (wrong header, unreadable) changes nothing. A later row naming the same
 * contact as an earlier one is rejected as its duplicate.
 */
export async function importContacts(ctx: AppContext, file: Readable): Promise<ContactImportResult> {
  const client = await ctx.db.$client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE TEMP TABLE contact_stage (row_no int NOT NULL, channel text NOT NULL, user_id text NOT NULL,
      tags text NOT NULL, language text, id text NOT NULL, token text NOT NULL) ON COMMIT DROP`);
    const staging = new StagingRows();
    file.setEncoding('utf8');
    await pipeline(file, staging, client.query(copyFrom('COPY contact_stage FROM STDIN')));
    // busboy stops passing bytes on at the size limit and marks the stream truncated.
    if ((file as Readable & { truncated?: boolean }).truncated) {
      throw new AppError('payload_too_large', `the file is too large: a contacts CSV must be under ${MAX_CONTACTS_CSV_BYTES / (1024 * 1024)} MB; nothing was imported`);
    }
    await client.query('ANALYZE contact_stage');
    const dups = await client.query<{ row: number; first: number }>(`SELECT row_no AS row, first FROM (
        SELECT row_no, min(row_no) OVER (PARTITION BY channel, user_id) AS first FROM contact_stage) d
      WHERE row_no <> first ORDER BY row_no`);
    const counts = await client.query<{ created: string; updated: string }>(`WITH firsts AS (
        SELECT DISTINCT ON (channel, user_id) * FROM contact_stage ORDER BY channel, user_id, row_no),
      up AS (
        INSERT INTO contacts AS c (id, channel, platform_user_id, me_token, tags, language)
        SELECT id, channel, user_id, token, CASE WHEN tags = '' THEN '{}'::text[] ELSE string_to_array(tags, '|') END, language FROM firsts
        ON CONFLICT (channel, platform_user_id) DO UPDATE SET
          tags = ARRAY(SELECT t FROM (SELECT t, min(o) AS o FROM unnest(c.tags || EXCLUDED.tags) WITH ORDINALITY AS u(t, o) GROUP BY t) s ORDER BY o),
          language = COALESCE(EXCLUDED.language, c.language)
        RETURNING (xmax = 0) AS created)
      SELECT count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE NOT created) AS updated FROM up`);
    await client.query('COMMIT');
    const rejected = [...staging.rejected, ...dups.rows.slice(0, MAX_REPORTED).map((d) => ({ row: d.row, reason: `duplicate of row ${d.first}` }))]
      .sort((a, b) => a.row - b.row).slice(0, MAX_REPORTED);
    const result = {
      created: Number(counts.rows[0]!.created), updated: Number(counts.rows[0]!.updated),
      rejected, rejectedCount: staging.rejectedCount + dups.rows.length,
    };
    ctx.log.info({ created: result.created, updated: result.updated, rejectedCount: result.rejectedCount }, 'contacts imported');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    file.resume();
    throw err;
  } finally {
    client.release();
  }
}
