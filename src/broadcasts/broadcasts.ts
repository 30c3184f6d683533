import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { ChannelName } from '../../adapters/types.ts';
import { audienceCondition, audienceSchema, checkAudienceRefs, type Audience } from '../audiences/audience.ts';
import type { AppContext } from '../context.ts';
import { findCampaign } from '../coupons/campaigns.ts';
import { releaseCoupons } from '../coupons/coupon-delivery.ts';
import { perSent, type Revenue } from '../coupons/records.ts';
import { campaignRefusal } from '../coupons/issue.ts';
import { parkBroadcastMessages, withdrawBroadcastMessages } from '../delivery/outbox.ts';
import { query, type Tx } from '../db/client.ts';
import { selectList, type RowOf } from '../db/rows.ts';
import { broadcasts } from '../db/schema.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { recordWebhookEvent } from '../webhooks/events.ts';

/**
 * LINE documents 2,000 push requests a second per channel. Half of that by default leaves room
 * for the replies to customers who are chatting meanwhile.
 */
export const DEFAULT_RATE_PER_SECOND = 1000;
export const MAX_RATE_PER_SECOND = 10_000;
const VARIANT_KEYS = ['a', 'b', 'c', 'd'] as const;

export type BroadcastStatus = RowOf<typeof broadcasts>['status'];
export interface Variant { key: string; campaignId: string; text: string | null; weight: number }

const text = z.string().trim().min(1).max(2000);

export const broadcastCreate = z.object({
  name: z.string().trim().min(1).max(100),
  audience: audienceSchema.default({}),
  campaignId: z.string().min(1).max(100).optional(),
  text: text.optional(),
  sendAt: z.iso.datetime({ offset: true }).optional(),
  ratePerSecond: z.number().int().min(1).max(MAX_RATE_PER_SECOND).optional(),
  quota: z.enum(['all-or-nothing', 'up-to-remaining']).default('all-or-nothing'),
  variants: z.array(z.object({
    campaignId: z.string().min(1).max(100),
    text: text.optional(),
    weight: z.number().int().min(1).max(100).default(1),
  }).strict()).min(1).max(4, 'at most 4 variants').optional(),
  holdoutPercent: z.number().int().min(0).max(50).default(0),
}).strict().superRefine((b, ctx) => {
  if (b.variants && (b.campaignId || b.text)) {
    ctx.addIssue({ code: 'custom', path: ['variants'], message: 'give either campaignId (and text) or variants, not both' });
  }
  if (!b.variants && !b.campaignId) ctx.addIssue({ code: 'custom', path: ['campaignId'], message: 'is required (or give variants)' });
});
export type BroadcastCreate = z.infer<typeof broadcastCreate>;

const broadcastRowKeys = [
  'id', 'name', 'status', 'reason', 'audience', 'variants', 'holdoutPercent', 'sendAt', 'ratePerSecond', 'quotaMode',
  'createdAt', 'startedAt', 'finishedAt', 'pacedAt',
] as const;

/** A broadcast as services read it: schema.ts's columns, with the audience and variants as parsed when it was created. */
export type BroadcastRow = Omit<Pick<RowOf<typeof broadcasts>, (typeof broadcastRowKeys)[number]>, 'audience' | 'variants'> & {
  audience: Audience;
  variants: Variant[];
};

export const broadcastColumns = selectList(broadcasts, broadcastRowKeys);

export async function findBroadcast(tx: Tx, id: string, lock = false): Promise<BroadcastRow | null> {
  const r = await query(tx, sql`SELECT ${broadcastColumns} FROM broadcasts WHERE id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`);
  return (r.rows[0] as unknown as BroadcastRow | undefined) ?? null;
}

async function getBroadcastRow(tx: Tx, id: string, lock = false): Promise<BroadcastRow> {
  const b = await findBroadcast(tx, id, lock);
  if (!b) throw new AppError('not_found', `broadcast ${id} does not exist`);
  return b;
}

/** A number in [0, 1) fixed for a (broadcast, contact) pair: the recipient's draw. */
function draw(broadcastId: string): SQL {
  return sql`((('x' || substr(md5(${broadcastId} || ':' || c.id), 1, 8))::bit(32)::bigint)::float8 / 4294967296.0)`;
}

/** The SQL that puts a contact in the holdout or a variant by its draw and the weights. */
function variantOf(b: Pick<BroadcastRow, 'id' | 'variants' | 'holdoutPercent'>): SQL {
  const h = b.holdoutPercent / 100;
  const total = b.variants.reduce((s, v) => s + v.weight, 0);
  const u = draw(b.id);
  const cases: SQL[] = [sql`WHEN ${u} < ${h}::float8 THEN 'holdout'`];
  let cum = 0;
  for (const v of b.variants.slice(0, -1)) {
    cum += v.weight;
    cases.push(sql`WHEN ${u} < ${h + (1 - h) * (cum / total)}::float8 THEN ${v.key}`);
  }
  return sql`CASE ${sql.join(cases, sql` `)} ELSE ${b.variants[b.variants.length - 1]!.key} END`;
}

/** Channels whose platform counts messages against a monthly quota (LINE). */
function quotaChannels(ctx: AppContext): ChannelName[] {
  return (Object.keys(ctx.channels) as ChannelName[]).filter((c) => ctx.channels[c]?.messageQuota);
}

export interface QuotaLine {
  /** Messages this broadcast would use (one per recipient on a quota channel, as LINE counts). */
  uses: number;
  /** What is left of this month's quota; null when no limit is set. */
  remaining: number | null;
}

/** This month's remaining quota over every quota channel (null: no limit). Throws when it cannot be read. */
async function remainingQuota(ctx: AppContext): Promise<number | null> {
  let remaining: number | null = null;
  for (const ch of quotaChannels(ctx)) {
    let q;
    try {
      q = await ctx.channels[ch]!.messageQuota!();
    } catch (err) {
      throw new AppError('unavailable', `${ctx.channels[ch]?.delivery.label ?? ch}'s message quota could not be read: ${(err as Error).message}`);
    }
    if (q.limit !== null) remaining = Math.max(0, q.limit - q.used) + (remaining ?? 0);
  }
  return remaining;
}

/** How many recipients on quota channels the broadcast would have now (the holdout gets nothing). */
async function countQuotaRecipients(ctx: AppContext, tx: Tx, b: Pick<BroadcastRow, 'id' | 'variants' | 'holdoutPercent' | 'audience'>): Promise<number> {
  const channels = quotaChannels(ctx);
  if (channels.length === 0) return 0;
  const r = await query(tx, sql`SELECT count(*)::int AS n FROM contacts c
    WHERE ${audienceCondition(b.audience, ctx.clock())} AND c.channel = ANY(${sql.param(channels)}::text[]) AND ${variantOf(b)} <> 'holdout'`);
  return (r.rows[0] as { n: number }).n;
}

function quotaExceeded(uses: number, remaining: number): AppError {
  return new AppError('quota_exceeded',
    `this broadcast needs ${uses.toLocaleString('en')} LINE messages but only ${remaining.toLocaleString('en')} remain in this month's quota; `
    + 'send to fewer contacts, or choose "up-to-remaining" to send to as many as fit', { uses, remaining });
}

/** The console's quota line for a draft: what it would use of what remains. */
export async function quotaPreview(ctx: AppContext, body: unknown): Promise<QuotaLine> {
  const input = parseOrThrow(broadcastCreate, { name: 'preview', ...(typeof body === 'object' && body ? body : {}) });
  const draft = { id: 'preview', audience: input.audience, variants: variantsOf(input), holdoutPercent: input.holdoutPercent };
  const uses = await countQuotaRecipients(ctx, ctx.db, draft);
  return { uses, remaining: uses > 0 || quotaChannels(ctx).length > 0 ? await remainingQuota(ctx) : null };
}

function variantsOf(input: BroadcastCreate): Variant[] {
  if (input.variants) return input.variants.map((v, i) => ({ key: VARIANT_KEYS[i]!, campaignId: v.campaignId, text: v.text ?? null, weight: v.weight }));
  return [{ key: 'a', campaignId: input.campaignId!, text: input.text ?? null, weight: 1 }];
}

/**
 * `POST /api/v1/broadcasts`. A broadcast due now starts in the same transaction: with
 * `all-or-nothing`, one that does not fit the remaining quota is refused (409) and nothing is kept.
 */
export async function createBroadcast(ctx: AppContext, body: unknown): Promise<BroadcastRow> {
  const input = parseOrThrow(broadcastCreate, body);
  const now = ctx.clock();
  const sendAt = input.sendAt ? new Date(input.sendAt) : now;
  const variants = variantsOf(input);
  const id = newId('brd');
  const remaining = quotaChannels(ctx).length > 0 ? await remainingQuota(ctx) : null;
  return await ctx.db.transaction(async (tx) => {
    await checkAudienceRefs(tx, input.audience);
    for (const v of variants) {
      const campaign = await findCampaign(tx, v.campaignId);
      if (!campaign) throw new AppError('not_found', `campaign ${v.campaignId} does not exist`);
      const refused = campaignRefusal(campaign, 'broadcast', sendAt > now ? sendAt : now);
      if (refused && refused.code !== 'outside_sending_period') throw new AppError(refused.code, refused.message);
      if (campaign.sendEnd <= sendAt) throw new AppError('outside_sending_period', `"${campaign.name}" can only be sent until ${campaign.sendEnd.toISOString()}`);
    }
    await query(tx, sql`INSERT INTO broadcasts (id, name, status, audience, variants, holdout_percent, send_at, rate_per_second, quota_mode, created_at)
      VALUES (${id}, ${input.name}, 'scheduled', ${JSON.stringify(input.audience)}::jsonb, ${JSON.stringify(variants)}::jsonb, ${input.holdoutPercent},
        ${sendAt}, ${input.ratePerSecond ?? DEFAULT_RATE_PER_SECOND}, ${input.quota}, ${now})`);
    const b = await getBroadcastRow(tx, id, true);
    if (sendAt <= now) {
      await startLocked(ctx, tx, b, remaining);
    } else if (input.quota === 'all-or-nothing' && remaining !== null) {
      // Checked now as well as at the start, so the marketer hears of it while composing.
      const uses = await countQuotaRecipients(ctx, tx, b);
      if (uses > remaining) throw quotaExceeded(uses, remaining);
    }
    return await getBroadcastRow(tx, id);
  });
}

/**
 * Fixes the recipient list (each contact's variant or holdout drawn once) and applies the quota
 * rule; the broadcast is `running` after. Under the broadcast's row lock.
 */
async function startLocked(ctx: AppContext, tx: Tx, b: BroadcastRow, remaining: number | null): Promise<void> {
  const now = ctx.clock();
  await query(tx, sql`DELETE FROM broadcast_recipients WHERE broadcast_id = ${b.id}`);
  await query(tx, sql`INSERT INTO broadcast_recipients (broadcast_id, contact_id, seq, channel, variant, status)
    SELECT ${b.id}, id, row_number() OVER (ORDER BY id), channel, variant, CASE WHEN variant = 'holdout' THEN 'holdout' ELSE 'pending' END
    FROM (SELECT c.id, c.channel, ${variantOf(b)} AS variant FROM contacts c WHERE ${audienceCondition(b.audience, now)}) s`);
  // Thousands of rows just written: the planner learns of them now rather than at autovacuum's
  // next visit, so each slice's update finds its recipients by key instead of hashing them all.
  await query(tx, sql`ANALYZE broadcast_recipients`);
  const channels = quotaChannels(ctx);
  if (remaining !== null && channels.length > 0) {
    const r = await query(tx, sql`SELECT count(*)::int AS n FROM broadcast_recipients
      WHERE broadcast_id = ${b.id} AND status = 'pending' AND channel = ANY(${sql.param(channels)}::text[])`);
    const uses = (r.rows[0] as { n: number }).n;
    if (uses > remaining) {
      if (b.quotaMode === 'all-or-nothing') throw quotaExceeded(uses, remaining);
      await query(tx, sql`WITH over AS (
          SELECT contact_id FROM broadcast_recipients WHERE broadcast_id = ${b.id} AND status = 'pending'
            AND channel = ANY(${sql.param(channels)}::text[]) ORDER BY seq OFFSET ${remaining})
        UPDATE broadcast_recipients r SET status = 'skipped', reason = 'quota' FROM over
        WHERE r.broadcast_id = ${b.id} AND r.contact_id = over.contact_id`);
    }
  }
  await query(tx, sql`UPDATE broadcasts SET status = 'running', reason = NULL, started_at = ${now}, paced_at = ${now} WHERE id = ${b.id}`);
}

/**
 * Starts a scheduled broadcast whose time has come (the worker calls it). The quota is read
 * again now: an all-or-nothing broadcast that no longer fits is paused with `quota_exceeded`.
 */
export async function startDue(ctx: AppContext, id: string): Promise<void> {
  const peek = await findBroadcast(ctx.db, id);
  if (!peek || peek.status !== 'scheduled' || peek.sendAt > ctx.clock()) return;
  let remaining: number | null;
  try {
    remaining = await remainingQuota(ctx);
  } catch (err) {
    ctx.log.warn({ broadcast: id, err }, 'quota could not be read; the broadcast starts at the next try');
    return;
  }
  try {
    await ctx.db.transaction(async (tx) => {
      const b = await getBroadcastRow(tx, id, true);
      if (b.status !== 'scheduled') return;
      await startLocked(ctx, tx, b, remaining);
    });
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'quota_exceeded')) throw err;
    await query(ctx.db, sql`UPDATE broadcasts SET status = 'paused', reason = 'quota_exceeded' WHERE id = ${id} AND status = 'scheduled'`);
    ctx.log.warn({ broadcast: id, message: err.message }, 'broadcast paused: it does not fit the remaining quota');
  }
}

/** Pauses a broadcast (the marketer, or the platform's monthly limit with `quota_exhausted`). */
export async function pauseBroadcast(ctx: AppContext, id: string, reason: string | null = null, tx?: Tx): Promise<BroadcastRow> {
  const run = async (t: Tx) => {
    const b = await getBroadcastRow(t, id, true);
    if (b.status !== 'running' && b.status !== 'scheduled') {
      if (b.status === 'paused') return b;
      throw new AppError('conflict', `the broadcast is ${b.status}; only a scheduled or running one can be paused`);
    }
    await query(t, sql`UPDATE broadcasts SET status = 'paused', reason = ${reason} WHERE id = ${id}`);
    await parkBroadcastMessages(t, id, true);
    return await getBroadcastRow(t, id);
  };
  return tx ? await run(tx) : await ctx.db.transaction(run);
}

/** Resumes a paused broadcast; one paused before it started starts now (the quota read again). */
export async function resumeBroadcast(ctx: AppContext, id: string): Promise<BroadcastRow> {
  const peek = await getBroadcastRow(ctx.db, id);
  if (peek.status === 'running' || peek.status === 'scheduled') return peek;
  if (peek.status !== 'paused') throw new AppError('conflict', `the broadcast is ${peek.status}; only a paused one can be resumed`);
  const remaining = peek.startedAt ? null : await remainingQuota(ctx);
  const b = await ctx.db.transaction(async (tx) => {
    const b = await getBroadcastRow(tx, id, true);
    if (b.status !== 'paused') return b;
    if (!b.startedAt) {
      if (b.sendAt > ctx.clock()) {
        await query(tx, sql`UPDATE broadcasts SET status = 'scheduled', reason = NULL WHERE id = ${id}`);
      } else {
        await startLocked(ctx, tx, b, remaining);
      }
    } else {
      await query(tx, sql`UPDATE broadcasts SET status = 'running', reason = NULL, paced_at = ${ctx.clock()} WHERE id = ${id}`);
      await parkBroadcastMessages(tx, id, false);
    }
    return await getBroadcastRow(tx, id);
  });
  ctx.notifyOutbox();
  return b;
}

/**
 * Cancels a broadcast: recipients not yet issued are skipped (`cancelled`), and its parked or
 * waiting messages are withdrawn, their coupons released. Cards already sent stay sent.
 */
export async function cancelBroadcast(ctx: AppContext, id: string): Promise<BroadcastRow> {
  return await ctx.db.transaction(async (tx) => {
    const b = await getBroadcastRow(tx, id, true);
    if (b.status === 'cancelled') return b;
    if (b.status === 'done') throw new AppError('conflict', 'the broadcast is done; there is nothing left to cancel');
    const now = ctx.clock();
    await query(tx, sql`UPDATE broadcast_recipients SET status = 'skipped', reason = 'cancelled' WHERE broadcast_id = ${id} AND status = 'pending'`);
    const couponIds = await withdrawBroadcastMessages(tx, id, 'the broadcast was cancelled');
    await releaseCoupons(tx, couponIds, 'the broadcast was cancelled', now);
    await query(tx, sql`UPDATE broadcasts SET status = 'cancelled', finished_at = ${now} WHERE id = ${id}`);
    return await announceFinished(tx, id);
  });
}

/**
 * `broadcast.finished` for the shop's systems, written in the transaction that makes the
 * broadcast's status final (`done` or `cancelled`): the broadcast as `GET /api/v1/broadcasts/:id`
 * answers it, once per broadcast whatever runs twice. Answers the broadcast.
 */
export async function announceFinished(tx: Tx, id: string): Promise<BroadcastRow> {
  const b = await getBroadcastRow(tx, id);
  await recordWebhookEvent(tx, 'broadcast.finished', await broadcastJson(tx, b), { dedupeKey: `broadcast:${id}:finished` });
  return b;
}

export interface BroadcastCounts { recipients: number; sent: number; failed: number; skipped: number; pending: number; holdout: number }

/**
 * A broadcast's counts, cheap enough for a progress bar polled during a 100,000-card broadcast:
 * the recipients by status (one pass over the broadcast's recipients) and its messages not sent
 * (pending, failed: a short list while it runs, through their own index). Every issued recipient
 * has one message: the issued ones not among those were sent.
 */
export async function broadcastCounts(tx: Tx, id: string): Promise<{ counts: BroadcastCounts; skippedBy: Record<string, number> }> {
  const recipients = await query(tx, sql`SELECT status, reason, count(*)::int AS n FROM broadcast_recipients
    WHERE broadcast_id = ${id} GROUP BY 1, 2`);
  const unsent = await query(tx, sql`SELECT status, count(*)::int AS n FROM outbox
    WHERE broadcast_id = ${id} AND status <> 'sent' GROUP BY 1`);
  const counts: BroadcastCounts = { recipients: 0, sent: 0, failed: 0, skipped: 0, pending: 0, holdout: 0 };
  const skippedBy: Record<string, number> = {};
  let issued = 0;
  for (const row of recipients.rows as Array<{ status: string; reason: string | null; n: number }>) {
    counts.recipients += row.n;
    if (row.status === 'holdout') counts.holdout += row.n;
    else if (row.status === 'skipped') {
      counts.skipped += row.n;
      const reason = row.reason ?? 'unknown';
      skippedBy[reason] = (skippedBy[reason] ?? 0) + row.n;
    } else if (row.status === 'issued') issued += row.n;
    else counts.pending += row.n;
  }
  let notSent = 0;
  for (const row of unsent.rows as Array<{ status: string; n: number }>) {
    notSent += row.n;
    // Failed is final; any other state (waiting to be sent, parked) still counts as pending.
    if (row.status === 'failed') counts.failed += row.n;
    else counts.pending += row.n;
  }
  counts.sent = Math.max(0, issued - notSent);
  return { counts, skippedBy };
}

export async function broadcastJson(tx: Tx, b: BroadcastRow) {
  const { counts, skippedBy } = await broadcastCounts(tx, b.id);
  return {
    id: b.id,
    name: b.name,
    status: b.status,
    reason: b.reason,
    sendAt: new Date(b.sendAt).toISOString(),
    audience: b.audience,
    variants: b.variants.map((v) => ({ key: v.key, campaignId: v.campaignId, text: v.text, weight: v.weight })),
    holdoutPercent: b.holdoutPercent,
    ratePerSecond: b.ratePerSecond,
    quota: b.quotaMode,
    createdAt: new Date(b.createdAt).toISOString(),
    startedAt: b.startedAt ? new Date(b.startedAt).toISOString() : null,
    finishedAt: b.finishedAt ? new Date(b.finishedAt).toISOString() : null,
    counts,
    skippedBy,
  };
}

export async function getBroadcastJson(ctx: AppContext, id: string) {
  return await broadcastJson(ctx.db, await getBroadcastRow(ctx.db, id));
}

export async function listBroadcasts(ctx: AppContext) {
  const r = await query(ctx.db, sql`SELECT ${broadcastColumns} FROM broadcasts ORDER BY created_at DESC, id LIMIT 200`);
  const rows = r.rows as unknown as BroadcastRow[];
  return { broadcasts: await Promise.all(rows.map((b) => broadcastJson(ctx.db, b))) };
}

export const recipientListQuery = z.object({
  status: z.enum(['pending', 'issued', 'skipped', 'holdout']).optional(),
  reason: z.string().trim().min(1).max(64).optional(),
  cursor: z.string().regex(/^[1-9][0-9]{0,9}$/, 'is not a cursor this API gave out').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
}).strict();

export interface RecipientJson {
  contactId: string;
  channel: string;
  userId: string | null;
  displayName: string | null;
  /** The variant key, or `holdout`. */
  variant: string;
  /** `pending` (not issued yet), `issued`, `skipped` (with `reason`) or `holdout`. */
  status: string;
  reason: string | null;
  couponId: string | null;
  /** The card's delivery: `pending`, `sent` or `failed` (with `deliveryError`); null before it is issued. */
  deliveryStatus: string | null;
  deliveryError: string | null;
}

/**
 * `GET /api/v1/broadcasts/:id/recipients?status=&reason=&cursor=&limit=`: each recipient's outcome
 * (who was skipped and why, whose card failed), in the order they are issued, a page at a time.
 */
export async function listRecipients(ctx: AppContext, id: string, rawQuery: unknown): Promise<{ recipients: RecipientJson[]; next: string | null }> {
  const q = parseOrThrow(recipientListQuery, rawQuery);
  await getBroadcastRow(ctx.db, id);
  const where: SQL[] = [sql`r.broadcast_id = ${id}`];
  if (q.status) where.push(sql`r.status = ${q.status}`);
  if (q.reason) where.push(sql`r.reason = ${q.reason}`);
  if (q.cursor) where.push(sql`r.seq > ${Number(q.cursor)}`);
  const r = await query(ctx.db, sql`SELECT r.seq, r.contact_id AS "contactId", r.channel, c.platform_user_id AS "userId", c.display_name AS "displayName",
      r.variant, r.status, r.reason, r.coupon_id AS "couponId", cp.delivery_status AS "deliveryStatus", cp.delivery_error AS "deliveryError"
    FROM broadcast_recipients r LEFT JOIN contacts c ON c.id = r.contact_id LEFT JOIN coupons cp ON cp.id = r.coupon_id
    WHERE ${sql.join(where, sql` AND `)} ORDER BY r.seq LIMIT ${q.limit + 1}`);
  const rows = r.rows as unknown as Array<RecipientJson & { seq: number }>;
  const page = rows.slice(0, q.limit);
  return {
    recipients: page.map(({ seq: _seq, ...rest }) => rest),
    next: rows.length > q.limit ? String(page[page.length - 1]!.seq) : null,
  };
}

/**
 * `GET /api/v1/broadcasts/:id/stats`: each variant's funnel from its coupons, with the revenue of
 * its verified coupons per currency (and per card sent). The holdout got nothing from the
 * broadcast; its `redeemed`, `verified` and `revenue` count holdout contacts who redeemed a coupon
 * of the broadcast's campaigns some other way since it started, the baseline to beat.
 */
export async function broadcastStats(ctx: AppContext, id: string) {
  const b = await getBroadcastRow(ctx.db, id);
  const campaignIds = [...new Set(b.variants.map((v) => v.campaignId))];
  const r = await query(ctx.db, sql`SELECT r.variant AS key, cp.currency, count(*)::int AS recipients,
      count(cp.sent_at)::int AS sent, count(cp.opened_at)::int AS opened, count(cp.redeemed_at)::int AS redeemed, count(cp.verified_at)::int AS verified,
      (sum(cp.amount) FILTER (WHERE cp.verified_at IS NOT NULL))::float8 AS revenue
    FROM broadcast_recipients r LEFT JOIN coupons cp ON cp.id = r.coupon_id
    WHERE r.broadcast_id = ${id} AND r.variant <> 'holdout' GROUP BY r.variant, cp.currency`);
  type Funnel = { key: string; recipients: number; sent: number; opened: number; redeemed: number; verified: number; revenue: Revenue };
  const empty = (key: string): Funnel => ({ key, recipients: 0, sent: 0, opened: 0, redeemed: 0, verified: 0, revenue: {} });
  const byKey = new Map<string, Funnel>();
  for (const row of r.rows as Array<Omit<Funnel, 'revenue'> & { currency: string | null; revenue: number | null }>) {
    const f = byKey.get(row.key) ?? empty(row.key);
    f.recipients += row.recipients; f.sent += row.sent; f.opened += row.opened; f.redeemed += row.redeemed; f.verified += row.verified;
    if (row.currency && row.revenue !== null) f.revenue[row.currency] = Math.round(((f.revenue[row.currency] ?? 0) + row.revenue) * 100) / 100;
    byKey.set(row.key, f);
  }
  const variants = b.variants.map((v) => byKey.get(v.key) ?? empty(v.key));
  if (b.holdoutPercent > 0) {
    const since = b.startedAt ?? b.sendAt;
    const h = await query(ctx.db, sql`SELECT count(*)::int AS recipients,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM coupons cp WHERE cp.contact_id = r.contact_id AND cp.campaign_id = ANY(${sql.param(campaignIds)}::text[])
          AND cp.redeemed_at >= ${since} AND NOT cp.test))::int AS redeemed,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM coupons cp WHERE cp.contact_id = r.contact_id AND cp.campaign_id = ANY(${sql.param(campaignIds)}::text[])
          AND cp.verified_at >= ${since} AND NOT cp.test))::int AS verified
      FROM broadcast_recipients r WHERE r.broadcast_id = ${id} AND r.variant = 'holdout'`);
    const money = await query(ctx.db, sql`SELECT cp.currency, sum(cp.amount)::float8 AS revenue
      FROM broadcast_recipients r JOIN coupons cp ON cp.contact_id = r.contact_id
      WHERE r.broadcast_id = ${id} AND r.variant = 'holdout' AND cp.campaign_id = ANY(${sql.param(campaignIds)}::text[])
        AND cp.verified_at >= ${since} AND NOT cp.test AND cp.currency IS NOT NULL AND cp.amount IS NOT NULL
      GROUP BY cp.currency`);
    const row = h.rows[0] as { recipients: number; redeemed: number; verified: number };
    const revenue: Revenue = {};
    for (const m of money.rows as Array<{ currency: string; revenue: number }>) revenue[m.currency] = Math.round(m.revenue * 100) / 100;
    variants.push({ key: 'holdout', recipients: row.recipients, sent: 0, opened: 0, redeemed: row.redeemed, verified: row.verified, revenue });
  }
  return { variants: variants.map((v) => ({ ...v, revenuePerSent: perSent(v.revenue, v.sent) })) };
}
