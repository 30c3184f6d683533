import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { channelNames } from '../../adapters/index.ts';
import type { ChannelName } from '../../adapters/types.ts';
import type { AppContext } from '../context.ts';
import { defineJob } from '../jobs/define.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { newId, newToken } from '../lib/ids.ts';
import { query } from '../db/client.ts';

export interface SyncView { id: string; channel: string; status: 'running' | 'done' | 'failed'; read: number; created: number; error?: string }

/** Profiles are fetched at most this fast: far under LINE's limit, leaving room for everything else. */
export const PROFILE_FETCHES_PER_SECOND = 20;
/** Contacts whose profile is fetched per job run; the job queues itself again while some remain. */
const PROFILE_BATCH = 200;

export const syncRequest = z.object({ channel: z.enum(channelNames) }).strict();

/** Tries per page of followers before the sync fails. */
const PAGE_ATTEMPTS = 4;

/** Thrown by a page fetch that must fail the sync with words a marketer understands. */
class SyncRefused extends Error {}

function refusalText(status: number, message: string): string {
  const said = message ? ` (LINE said: "${message.slice(0, 200)}")` : '';
  if (status === 403) {
    return `LINE does not allow this account to list its friends: only verified or premium LINE Official Accounts may${said}. `
      + 'Friends are still added one by one when they write to you or add you again.';
  }
  if (status === 401) return `LINE refused the channel access token${said}: check LINE_CHANNEL_ACCESS_TOKEN.`;
  if (status === 0) return `LINE could not be reached${said}; try the sync again later.`;
  if (status === 429 || status >= 500) return `LINE was busy or unavailable while listing friends${said}; try the sync again later.`;
  return `LINE answered ${status} while listing friends${said}.`;
}

/** `POST /api/v1/contacts/sync`: registers the sync and queues it; poll it at `/api/v1/imports/:id`. */
export async function startFollowerSync(ctx: AppContext, body: unknown): Promise<SyncView> {
  const { channel } = parseOrThrow(syncRequest, body);
  const adapter = ctx.channels[channel];
  if (!adapter) throw new AppError('channel_off', `the ${channel} channel is not configured`);
  if (!adapter.listFollowers) throw new AppError('validation_error', `channel: ${channel} has no list of followers to sync; only LINE does`);
  const id = newId('imp');
  await query(ctx.db, sql`INSERT INTO contact_syncs (id, channel, status, created_at) VALUES (${id}, ${channel}, 'running', ${ctx.clock()})`);
  await ctx.jobs.send(followerSyncJob, { syncId: id }, { singletonKey: id });
  return (await findSync(ctx, id))!;
}

export async function findSync(ctx: AppContext, id: string): Promise<SyncView | null> {
  const r = await query(ctx.db, sql`SELECT id, channel, status, read, created, error FROM contact_syncs WHERE id = ${id}`);
  const row = r.rows[0] as { id: string; channel: string; status: SyncView['status']; read: number; created: number; error: string | null } | undefined;
  if (!row) return null;
  return { id: row.id, channel: row.channel, status: row.status, read: row.read, created: row.created, ...(row.error ? { error: row.error } : {}) };
}

/**
 * Pages through the platform's followers (1,000 at a time), reporting `read` as it goes, then
 * creates the missing contacts in one transaction: a refusal or an outage on any page fails the
 * sync and creates nothing. Idempotent: a finished sync is left alone, a re-run starts over.
 */
export async function runFollowerSync(ctx: AppContext, syncId: string, opts: { retryDelayMs?: number } = {}): Promise<SyncView> {
  const sync = await findSync(ctx, syncId);
  if (!sync) throw new AppError('not_found', `sync ${syncId} does not exist`);
  if (sync.status !== 'running') return sync;
  const channel = sync.channel as ChannelName;
  const adapter = ctx.channels[channel];
  try {
    if (!adapter?.listFollowers) throw new SyncRefused(`the ${channel} channel is not configured, or has no list of followers`);
    const userIds: string[] = [];
    let start: string | undefined;
    for (;;) {
      let page = await adapter.listFollowers(start);
      // Throttled, down or unreachable: tried again a few times, then the sync fails saying so.
      for (let attempt = 1; !page.ok && (page.status === 429 || page.status >= 500 || page.status === 0) && attempt < PAGE_ATTEMPTS; attempt++) {
        await delay((opts.retryDelayMs ?? 1000) * 2 ** (attempt - 1));
        page = await adapter.listFollowers(start);
      }
      if (!page.ok) throw new SyncRefused(refusalText(page.status, page.message));
      userIds.push(...page.userIds);
      await query(ctx.db, sql`UPDATE contact_syncs SET read = ${userIds.length} WHERE id = ${syncId} AND status = 'running'`);
      if (!page.next) break;
      start = page.next;
    }
    const created = await ctx.db.transaction(async (tx) => {
      let n = 0;
      for (let i = 0; i < userIds.length; i += 5000) {
        const chunk = userIds.slice(i, i + 5000);
        const r = await query(tx, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token, first_seen_at, last_seen_at)
          SELECT * FROM unnest(${sql.param(chunk.map(() => newId('ctc')))}::text[], ${sql.param(chunk.map(() => channel))}::text[],
            ${sql.param(chunk)}::text[], ${sql.param(chunk.map(() => newToken()))}::text[]), LATERAL (SELECT ${ctx.clock()}::timestamptz, ${ctx.clock()}::timestamptz) t
          ON CONFLICT (channel, platform_user_id) DO NOTHING`);
        n += r.rowCount ?? 0;
      }
      await query(tx, sql`UPDATE contact_syncs SET status = 'done', read = ${userIds.length}, created = ${n}, finished_at = ${ctx.clock()}
        WHERE id = ${syncId}`);
      return n;
    });
    ctx.log.info({ syncId, channel, read: userIds.length, created }, 'followers synced');
    if (created > 0) await ctx.jobs.send(profileFetchJob, {}, { singletonKey: 'contacts-profiles' });
  } catch (err) {
    if (!(err instanceof SyncRefused)) throw err;
    await query(ctx.db, sql`UPDATE contact_syncs SET status = 'failed', error = ${err.message}, finished_at = ${ctx.clock()}
      WHERE id = ${syncId} AND status = 'running'`);
    ctx.log.warn({ syncId, channel, error: err.message }, 'follower sync refused');
  }
  return (await findSync(ctx, syncId))!;
}

export const followerSyncJob = defineJob({
  name: 'contacts-sync',
  payload: z.object({ syncId: z.string().min(1) }),
  retryLimit: 3,
  retryDelaySeconds: 30,
  retryBackoff: true,
  expireInSeconds: 1800,
  batchSize: 1,
  async handler({ syncId }, ctx) {
    await runFollowerSync(ctx, syncId);
  },
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fetches the profiles (name, language) of contacts that have none yet, a batch at a time and
 * no faster than `ratePerSecond`. Contacts whose profile cannot be read are marked as fetched, so
 * they are not asked for again. Answers how many were looked up and whether some remain.
 */
export async function fetchMissingProfiles(
  ctx: AppContext, opts: { limit?: number; ratePerSecond?: number } = {},
): Promise<{ fetched: number; more: boolean }> {
  const limit = opts.limit ?? PROFILE_BATCH;
  const gap = 1000 / (opts.ratePerSecond ?? PROFILE_FETCHES_PER_SECOND);
  const channels = (Object.keys(ctx.channels) as ChannelName[]).filter((c) => ctx.channels[c]?.fetchProfile);
  if (channels.length === 0) return { fetched: 0, more: false };
  const r = await query(ctx.db, sql`SELECT id, channel, platform_user_id AS "userId" FROM contacts
    WHERE profile_fetched_at IS NULL AND display_name IS NULL AND unreachable_at IS NULL AND channel = ANY(${sql.param(channels)}::text[])
    ORDER BY channel, id LIMIT ${limit + 1}`);
  const rows = r.rows as Array<{ id: string; channel: ChannelName; userId: string }>;
  const batch = rows.slice(0, limit);
  for (const [i, row] of batch.entries()) {
    if (i > 0 && Number.isFinite(gap) && gap > 0) await delay(gap);
    let profile = null;
    try {
      profile = (await ctx.channels[row.channel]!.fetchProfile!(row.userId)) ?? null;
    } catch (err) {
      ctx.log.warn({ err, contact: row.id }, 'profile fetch failed');
    }
    await query(ctx.db, sql`UPDATE contacts SET profile_fetched_at = ${ctx.clock()},
        display_name = COALESCE(display_name, ${profile?.displayName ?? null}), language = COALESCE(language, ${profile?.language ?? null})
      WHERE id = ${row.id}`);
  }
  return { fetched: batch.length, more: rows.length > limit };
}

export const profileFetchJob = defineJob({
  name: 'contacts-profiles',
  payload: z.object({}),
  retryLimit: 3,
  retryDelaySeconds: 30,
  retryBackoff: true,
  expireInSeconds: 600,
  batchSize: 1,
  async handler(_payload, ctx) {
    const { more } = await fetchMissingProfiles(ctx);
    if (more) await ctx.jobs.send(profileFetchJob, {}, { singletonKey: 'contacts-profiles', startAfter: new Date(Date.now() + 1000) });
  },
});
