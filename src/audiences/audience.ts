import { sql, type SQL } from 'drizzle-orm';
import { channelPlugins } from '../../adapters/index.ts';
import type { ChannelName } from '../../adapters/types.ts';
import { z } from 'zod';
import { languageTag, tagName } from '../contacts/contact-directory.ts';
import { query, type Tx } from '../db/client.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';

/**
 * Channels a broadcast can reach. Inbox conversations belong to the shop's agents: an inbox
 * contact is never in an audience.
 */
export const audienceChannels = channelPlugins.filter((p) => p.capabilities.broadcast).map((p) => p.name) as [ChannelName, ...ChannelName[]];
const notBroadcast = channelPlugins.filter((p) => !p.capabilities.broadcast).map((p) => p.name);

const tagList = z.array(tagName).max(50, 'at most 50 tags');

/** The audience object of the contract: every key optional, all ANDed. */
export const audienceSchema = z.object({
  channels: z.array(z.enum(audienceChannels, {
    message: `must be ${audienceChannels.map((c) => `"${c}"`).join(' or ')}${notBroadcast.length ? ` (${notBroadcast.join(', ')} contacts are never broadcast to)` : ''}`,
  })).min(1).optional(),
  tagsAll: tagList.optional(),
  tagsAny: tagList.min(1).optional(),
  tagsNone: tagList.optional(),
  languages: z.array(languageTag).min(1).max(20).optional(),
  followedAfter: z.iso.datetime({ offset: true }).optional(),
  activeWithinDays: z.number().int().min(1).max(3650).optional(),
  campaign: z.object({ id: z.string().min(1).max(100), has: z.enum(['none', 'unredeemed', 'redeemed']) }).strict().optional(),
}).strict();
export type Audience = z.infer<typeof audienceSchema>;

export function parseAudience(value: unknown, prefix = 'audience'): Audience {
  return parseOrThrow(audienceSchema, value ?? {}, prefix);
}

/**
 * The SQL condition on `contacts c` for an audience. Contacts that unfollowed or blocked the
 * account, and inbox contacts, are always left out. `now` anchors `activeWithinDays`.
 */
export function audienceCondition(a: Audience, now: Date): SQL {
  const parts: SQL[] = [sql`c.unreachable_at IS NULL`];
  parts.push(sql`c.channel = ANY(${sql.param(a.channels ?? [...audienceChannels])}::text[])`);
  if (a.tagsAll?.length) parts.push(sql`c.tags @> ${sql.param(a.tagsAll)}::text[]`);
  if (a.tagsAny?.length) parts.push(sql`c.tags && ${sql.param(a.tagsAny)}::text[]`);
  if (a.tagsNone?.length) parts.push(sql`NOT (c.tags && ${sql.param(a.tagsNone)}::text[])`);
  if (a.languages?.length) {
    // "zh" takes "zh-TW" too; a full tag matches only itself (case aside).
    const langs = a.languages.map((l) => l.toLowerCase());
    parts.push(sql`(lower(c.language) = ANY(${sql.param(langs)}::text[]) OR lower(split_part(c.language, '-', 1)) = ANY(${sql.param(langs)}::text[]))`);
  }
  if (a.followedAfter) parts.push(sql`c.followed_at > ${new Date(a.followedAfter)}`);
  if (a.activeWithinDays) parts.push(sql`c.last_message_at >= ${new Date(now.getTime() - a.activeWithinDays * 86_400_000)}`);
  if (a.campaign) {
    // A marketer's test send is not a coupon the contact holds.
    const held = (statuses: string[]) => sql`EXISTS (SELECT 1 FROM coupons cp WHERE cp.campaign_id = ${a.campaign!.id} AND cp.contact_id = c.id
      AND cp.status = ANY(${sql.param(statuses)}::text[]) AND NOT cp.test)`;
    if (a.campaign.has === 'none') parts.push(sql`NOT ${held(['pending', 'sent', 'opened', 'redeemed', 'verified', 'expired'])}`);
    else if (a.campaign.has === 'unredeemed') parts.push(held(['pending', 'sent', 'opened']));
    else parts.push(held(['redeemed', 'verified']));
  }
  return sql.join(parts, sql` AND `);
}

export interface Estimate { contacts: number; byChannel: Record<string, number> }

/** Checks what the audience names (its campaign) exists. */
export async function checkAudienceRefs(tx: Tx, a: Audience): Promise<void> {
  if (!a.campaign) return;
  const r = await query(tx, sql`SELECT 1 FROM campaigns WHERE id = ${a.campaign.id}`);
  if (r.rows.length === 0) throw new AppError('not_found', `audience.campaign: campaign ${a.campaign.id} does not exist`);
}

/** How many contacts an audience holds now, per channel (every channel of the audience listed). */
export async function estimateAudience(tx: Tx, a: Audience, now: Date): Promise<Estimate> {
  await checkAudienceRefs(tx, a);
  const r = await query(tx, sql`SELECT c.channel, count(*)::int AS n FROM contacts c WHERE ${audienceCondition(a, now)} GROUP BY c.channel`);
  const byChannel: Record<string, number> = {};
  for (const ch of a.channels ?? audienceChannels) byChannel[ch] = 0;
  let contacts = 0;
  for (const row of r.rows as Array<{ channel: string; n: number }>) {
    byChannel[row.channel] = row.n;
    contacts += row.n;
  }
  return { contacts, byChannel };
}
