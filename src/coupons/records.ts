import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { parseOrThrow } from '../lib/errors.ts';
import { getCampaign, stockOf } from './campaigns.ts';
import type { CouponRow } from './coupon-row.ts';
import { couponPageUrl } from './issue.ts';
import { effectiveStatusSql } from './rules-sql.ts';
import { couponStatuses, effectiveStatus, type CouponStatus } from './rules.ts';

/** The coupon as the API shows it; the status is the effective one (past the deadline = expired). */
export function couponToJson(ctx: AppContext, c: CouponRow, now: Date) {
  return {
    id: c.id,
    campaignId: c.campaignId,
    contactId: c.contactId,
    status: effectiveStatus(c, now),
    deliveryStatus: c.deliveryStatus,
    deliveryError: c.deliveryError,
    source: c.source,
    pageUrl: couponPageUrl(ctx, c.token),
    issuedAt: c.issuedAt.toISOString(),
    sentAt: c.sentAt?.toISOString() ?? null,
    openedAt: c.openedAt?.toISOString() ?? null,
    redeemedAt: c.redeemedAt?.toISOString() ?? null,
    verifiedAt: c.verifiedAt?.toISOString() ?? null,
    verifiedReceivedAt: c.verifiedReceivedAt?.toISOString() ?? null,
    expiresAt: c.expiresAt?.toISOString() ?? null,
    serial: c.serialCode,
    amount: c.amount,
    currency: c.currency,
    storeId: c.storeId,
    /** A marketer's test send: not in records, stats or limits. */
    test: c.test,
  };
}

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' }).transform((s) => new Date(s));

export const recordsQuery = z.object({
  status: z.enum(couponStatuses).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  /** Keyset cursor: the last record's id of the previous page. */
  after: z.string().max(64).optional(),
});
export type RecordsQuery = z.infer<typeof recordsQuery>;

export function parseRecordsQuery(query: unknown): RecordsQuery {
  return parseOrThrow(recordsQuery, query, 'query');
}


/** A record: the coupon's own columns, with its contact's channel and name, and the effective status. */
export interface RedemptionRecord extends Pick<CouponRow, 'contactId' | 'deliveryStatus' | 'deliveryError' | 'source' | 'issuedAt'
  | 'sentAt' | 'openedAt' | 'redeemedAt' | 'verifiedAt' | 'verifiedReceivedAt' | 'expiresAt' | 'amount' | 'currency' | 'storeId'> {
  couponId: string;
  channel: string;
  userId: string;
  displayName: string | null;
  status: CouponStatus;
  serial: string | null;
  /** The agent's name for coupons an agent sent; otherwise the source (`flow`, `api`, …). */
  sentBy: string;
  /** The broadcast that issued the coupon, if one did. */
  broadcastId: string | null;
}

/** One page of a campaign's records, oldest issue first; `after` is the previous page's last coupon id. */
export async function recordsPage(tx: Tx, campaignId: string, q: RecordsQuery, now: Date, after?: string): Promise<RedemptionRecord[]> {
  // Test sends are the marketer's own, not redemptions.
  const where: SQL[] = [sql`c.campaign_id = ${campaignId}`, sql`NOT c.test`];
  if (q.status) where.push(sql`${effectiveStatusSql(now, 'c')} = ${q.status}`);
  if (q.from) where.push(sql`c.issued_at >= ${q.from}`);
  if (q.to) where.push(sql`c.issued_at < ${q.to}`);
  // Keyset on (issued_at, id), the cursor being the last record's id: exact whatever the timestamps' precision.
  if (after) where.push(sql`(c.issued_at, c.id) > (SELECT issued_at, id FROM coupons WHERE id = ${after} AND campaign_id = ${campaignId})`);
  const r = await query(tx, sql`
    SELECT c.id AS "couponId", c.contact_id AS "contactId", ct.channel, ct.platform_user_id AS "userId", ct.display_name AS "displayName",
      ${effectiveStatusSql(now, 'c')} AS status, c.delivery_status AS "deliveryStatus", c.delivery_error AS "deliveryError", c.source,
      c.issued_at AS "issuedAt", c.sent_at AS "sentAt", c.opened_at AS "openedAt", c.redeemed_at AS "redeemedAt",
      c.verified_at AS "verifiedAt", c.expires_at AS "expiresAt", c.serial_code AS serial, coalesce(c.sent_by_name, c.source) AS "sentBy", c.broadcast_id AS "broadcastId",
      c.verified_received_at AS "verifiedReceivedAt", c.amount::float8 AS amount, c.currency, c.store_id AS "storeId"
    FROM coupons c JOIN contacts ct ON ct.id = c.contact_id
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY c.issued_at, c.id LIMIT ${q.limit}`);
  return r.rows as unknown as RedemptionRecord[];
}

export function recordToJson(r: RedemptionRecord) {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    ...r,
    issuedAt: r.issuedAt.toISOString(),
    sentAt: iso(r.sentAt), openedAt: iso(r.openedAt), redeemedAt: iso(r.redeemedAt),
    verifiedAt: iso(r.verifiedAt), verifiedReceivedAt: iso(r.verifiedReceivedAt), expiresAt: iso(r.expiresAt),
  };
}

export const csvColumns = ['couponId', 'contactId', 'channel', 'userId', 'displayName', 'status', 'deliveryStatus', 'deliveryError',
  'source', 'issuedAt', 'sentAt', 'openedAt', 'redeemedAt', 'verifiedAt', 'expiresAt', 'serial', 'sentBy', 'broadcastId',
  'verifiedReceivedAt', 'amount', 'currency', 'storeId'] as const;

/**
 * One CSV field, always quoted: a spreadsheet that splits on `;` (or tabs) would otherwise cut an
 * unquoted `;=1+1` into a cell starting with `=`. A value that starts a formula, at its start or
 * after any separator a spreadsheet might split on, is prefixed with a quote so it stays text.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '""';
  let s = v instanceof Date ? v.toISOString() : String(v);
  if (/(^|[,;\t|])\s*[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function csvLine(r: RedemptionRecord): string {
  return csvColumns.map((k) => csvField(r[k])).join(',') + '\r\n';
}

/** The funnel: each count is the coupons that reached at least that stage. */
export async function campaignStats(ctx: AppContext, campaignId: string) {
  const campaign = await getCampaign(ctx.db, campaignId);
  const now = ctx.clock();
  const r = await query(ctx.db, sql`
    SELECT count(*)::int AS issued,
      count(*) FILTER (WHERE c.sent_at IS NOT NULL)::int AS sent,
      count(*) FILTER (WHERE c.opened_at IS NOT NULL)::int AS opened,
      count(*) FILTER (WHERE c.redeemed_at IS NOT NULL)::int AS redeemed,
      count(*) FILTER (WHERE c.verified_at IS NOT NULL)::int AS verified,
      count(*) FILTER (WHERE ${effectiveStatusSql(now, 'c')} = 'expired')::int AS expired,
      count(*) FILTER (WHERE c.delivery_status = 'failed')::int AS "deliveryFailed",
      count(*) FILTER (WHERE c.delivery_status = 'pending' AND c.status <> 'void')::int AS "deliveryPending"
    FROM coupons c WHERE c.campaign_id = ${campaignId} AND NOT c.test`);
  const s = r.rows[0] as { issued: number; sent: number; opened: number; redeemed: number; verified: number; expired: number; deliveryFailed: number; deliveryPending: number };
  const stock = (await stockOf(ctx.db, [campaign.id])).get(campaign.id)!;
  const rate = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);
  const breakdown = await funnelBreakdown(ctx, campaignId);
  const revenue = breakdown.total.revenue;
  return {
    sent: s.sent, opened: s.opened, redeemed: s.redeemed, verified: s.verified, expired: s.expired,
    stockLeft: stock.left,
    revenue,
    revenuePerSent: perSent(revenue, s.sent),
    byFlow: breakdown.byFlow,
    byAgent: breakdown.byAgent,
    issued: s.issued, deliveryFailed: s.deliveryFailed, deliveryPending: s.deliveryPending,
    stock,
    rates: {
      opened: rate(s.opened, s.sent),
      redeemed: rate(s.redeemed, s.sent),
      verified: rate(s.verified, s.redeemed),
      redeemedOfOpened: rate(s.redeemed, s.opened),
    },
  };
}

/** Revenue per currency, from verified coupons' order amounts. */
export type Revenue = Record<string, number>;

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Revenue divided by the coupons sent, per currency. */
export function perSent(revenue: Revenue, sent: number): Revenue {
  return Object.fromEntries(Object.entries(revenue).map(([cur, total]) => [cur, sent === 0 ? 0 : round2(total / sent)]));
}

export interface FunnelRow {
  sent: number;
  opened: number;
  redeemed: number;
  verified: number;
  revenue: Revenue;
  revenuePerSent: Revenue;
}

/**
 * The funnel with revenue, for the whole campaign and split by who issued the coupons: per flow
 * (coupons a flow issued) and per agent (coupons sent from the workbench). One grouped query.
 */
export async function funnelBreakdown(ctx: AppContext, campaignId: string) {
  const r = await query(ctx.db, sql`
    SELECT c.source, c.flow_id AS "flowId", c.issued_by AS "issuedBy", max(c.sent_by_name) AS "sentByName", c.currency,
      count(*) FILTER (WHERE c.sent_at IS NOT NULL)::int AS sent,
      count(*) FILTER (WHERE c.opened_at IS NOT NULL)::int AS opened,
      count(*) FILTER (WHERE c.redeemed_at IS NOT NULL)::int AS redeemed,
      count(*) FILTER (WHERE c.verified_at IS NOT NULL)::int AS verified,
      (sum(c.amount) FILTER (WHERE c.verified_at IS NOT NULL))::float8 AS revenue
    FROM coupons c WHERE c.campaign_id = ${campaignId} AND NOT c.test
    GROUP BY c.source, c.flow_id, c.issued_by, c.currency`);
  type Row = { source: string; flowId: string | null; issuedBy: string | null; sentByName: string | null; currency: string | null;
    sent: number; opened: number; redeemed: number; verified: number; revenue: number | null };
  const empty = (): FunnelRow => ({ sent: 0, opened: 0, redeemed: 0, verified: 0, revenue: {}, revenuePerSent: {} });
  const total = empty();
  const flows = new Map<string, FunnelRow>();
  const agents = new Map<string, FunnelRow>();
  /** The agent's name as recorded on the coupons they sent. */
  const agentNames = new Map<string, string>();
  const addTo = (f: FunnelRow, row: Row) => {
    f.sent += row.sent; f.opened += row.opened; f.redeemed += row.redeemed; f.verified += row.verified;
    if (row.currency && row.revenue !== null) f.revenue[row.currency] = round2((f.revenue[row.currency] ?? 0) + row.revenue);
  };
  for (const row of r.rows as unknown as Row[]) {
    addTo(total, row);
    if (row.source === 'flow' && row.flowId) {
      if (!flows.has(row.flowId)) flows.set(row.flowId, empty());
      addTo(flows.get(row.flowId)!, row);
    }
    if (row.source === 'agent') {
      const agent = row.issuedBy ?? 'unknown';
      if (row.sentByName) agentNames.set(agent, row.sentByName);
      if (!agents.has(agent)) agents.set(agent, empty());
      addTo(agents.get(agent)!, row);
    }
  }
  const finish = (f: FunnelRow) => ({ ...f, revenuePerSent: perSent(f.revenue, f.sent) });
  return {
    total: finish(total),
    byFlow: [...flows].sort(([a], [b]) => a.localeCompare(b)).map(([flowId, f]) => ({ flowId, ...finish(f) })),
    byAgent: [...agents].sort(([a], [b]) => a.localeCompare(b)).map(([agent, f]) => ({ agent, name: agentNames.get(agent) ?? null, ...finish(f) })),
  };
}
