import type { AppContext } from '../context.ts';
import { hasCouponFlow, onCouponRedeemed, onCouponsExpired } from './coupon-events.ts';
import { dispatchEvents } from './dispatch.ts';
import { onCouponReleased } from './jobs.ts';

/**
 * Plugs the flow engine into the hooks the domain offers (service.ts calls this once the
 * registry is on the context): inbound events are dispatched to flows, and coupon lifecycle
 * moments start `coupon:` flows or queue a flow coupon's resend.
 */
export function plugFlowEngine(ctx: AppContext): void {
  ctx.hooks.inbound = async (tx, items) => await dispatchEvents(ctx, tx, items);
  ctx.hooks.coupons = {
    listensToRedeemed: (slug) => hasCouponFlow(ctx, 'redeemed', slug),
    redeemed: (tx, coupon, campaign) => onCouponRedeemed(ctx, tx, coupon, campaign),
    expired: (tx, coupons) => onCouponsExpired(ctx, tx, coupons),
    released: (tx, couponId) => onCouponReleased(ctx, tx, couponId),
  };
}
