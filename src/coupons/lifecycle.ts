import type { Tx } from '../db/client.ts';
import type { CouponRow } from './coupon-row.ts';

/** A coupon the expiry sweep just marked expired. */
export interface ExpiredCoupon {
  id: string;
  campaignId: string;
  contactId: string;
}

/**
 * The coupon lifecycle port: what may follow a redemption, an expiry or a release, run inside
 * the transaction that made the change. The coupons module calls it and knows nothing of who
 * listens; the service wiring (service.ts) plugs the flow engine in. The default does nothing.
 */
export interface CouponLifecycleHooks {
  /**
   * Whether anything listens to redemptions (of this campaign, when given). When true, redemption
   * runs as statements in one transaction with `redeemed`; otherwise in one database round trip.
   */
  listensToRedeemed(slug?: string): boolean;
  redeemed(tx: Tx, coupon: CouponRow, campaign: { slug: string; name: string }): Promise<void>;
  expired(tx: Tx, coupons: ExpiredCoupon[]): Promise<void>;
  /** A coupon was released after its delivery failed for good. */
  released(tx: Tx, couponId: string): Promise<void>;
}

export function noCouponLifecycleHooks(): CouponLifecycleHooks {
  return {
    listensToRedeemed: () => false,
    redeemed: async () => undefined,
    expired: async () => undefined,
    released: async () => undefined,
  };
}
