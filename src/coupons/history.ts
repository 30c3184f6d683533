import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { query } from '../db/client.ts';

export type HistoryEvent = 'issued' | 'delivered' | 'delivery_failed' | 'opened' | 'redeemed' | 'verified' | 'voided' | 'expired';

/** One thing that happened to a coupon: what, when (our clock), who, and from where. */
export interface HistoryEntry {
  event: HistoryEvent;
  at: string;
  /** `api`, `flow`, `agent`, `customer`, `system`, or the role of the token at the till (`pos`, `admin`, `staff`). */
  by: string;
  from: { channel?: string; flowId?: string; agent?: string; storeId?: string; ip?: string; page?: string };
  /** Verifications: the POS's own time, as given. */
  posAt?: string;
  amount?: number;
  currency?: string;
  /** Voids: why; failed deliveries: the platform's reason. */
  reason?: string;
}

interface CouponTimes {
  id: string;
  source: string;
  channel: string;
  flowId: string | null;
  issuedBy: string | null;
  issuedAt: Date;
  sentAt: Date | null;
  openedAt: Date | null;
  redeemedAt: Date | null;
  expiredAt: Date | null;
  voidAt: Date | null;
  deliveryStatus: string;
  deliveryError: string | null;
}

interface TillRow {
  event: 'verified' | 'voided';
  at: Date;
  posAt: Date | null;
  actor: string;
  storeId: string | null;
  ip: string | null;
  reason: string | null;
  amount: number | null;
  currency: string | null;
}

const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as T;

/**
 * A coupon's history, oldest first, or null when there is no such coupon. Issue, delivery, opening,
 * redemption and expiry happen once each and come from the coupon's own columns; verifications
 * and voids may repeat and are kept one row each in `coupon_history`.
 */
export async function couponHistory(ctx: AppContext, couponId: string): Promise<{ couponId: string; events: HistoryEntry[] } | null> {
  const r = await query(ctx.db, sql`
    SELECT c.id, c.source, ct.channel, c.flow_id AS "flowId", c.issued_by AS "issuedBy", c.issued_at AS "issuedAt", c.sent_at AS "sentAt",
      c.opened_at AS "openedAt", c.redeemed_at AS "redeemedAt", c.expired_at AS "expiredAt", c.void_at AS "voidAt",
      c.delivery_status AS "deliveryStatus", c.delivery_error AS "deliveryError"
    FROM coupons c JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = ${couponId}`);
  const c = r.rows[0] as unknown as CouponTimes | undefined;
  if (!c) return null;
  const till = await query(ctx.db, sql`
    SELECT event, at, pos_at AS "posAt", actor, store_id AS "storeId", ip, reason, amount::float8 AS amount, currency
    FROM coupon_history WHERE coupon_id = ${couponId} ORDER BY id`);

  const entries: Array<HistoryEntry & { order: number }> = [];
  const add = (order: number, at: Date | null, e: Omit<HistoryEntry, 'at'>) => {
    if (at) entries.push({ order, ...e, at: at.toISOString(), from: clean(e.from) });
  };
  add(0, c.issuedAt, { event: 'issued', by: c.source, from: { channel: c.channel, flowId: c.flowId ?? undefined, agent: c.issuedBy ?? undefined } });
  add(1, c.sentAt, { event: 'delivered', by: 'system', from: { channel: c.channel } });
  if (c.deliveryStatus === 'failed') {
    add(1, c.voidAt, { event: 'delivery_failed', by: 'system', from: { channel: c.channel }, ...(c.deliveryError ? { reason: c.deliveryError } : {}) });
  }
  add(2, c.openedAt, { event: 'opened', by: 'customer', from: { page: 'coupon page' } });
  add(3, c.redeemedAt, { event: 'redeemed', by: 'customer', from: { page: 'coupon page' } });
  for (const [i, t] of (till.rows as unknown as TillRow[]).entries()) {
    add(4 + i, t.at, clean({
      event: t.event, by: t.actor, from: { storeId: t.storeId ?? undefined, ip: t.ip ?? undefined },
      posAt: t.posAt?.toISOString(), amount: t.amount ?? undefined, currency: t.currency ?? undefined, reason: t.reason ?? undefined,
    }) as Omit<HistoryEntry, 'at'>);
  }
  add(1_000_000, c.expiredAt, { event: 'expired', by: 'system', from: {} });
  // In time order; events at the same instant keep the lifecycle's order.
  entries.sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order);
  return { couponId: c.id, events: entries.map(({ order: _order, ...e }) => e) };
}
