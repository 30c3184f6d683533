import express, { Router } from 'express';
import { couponToJson } from '../coupons/records.ts';
import { parseVerification, verifyCoupon } from '../coupons/verify.ts';
import { AppError } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { requireRole, verifierOf, type RequestActor } from './auth.ts';
import { recordAudit } from '../people/audit.ts';

/** Verification at the till: the POS token, staff and the owner. */
export const couponRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.post('/api/v1/verifications', requireRole(auth, 'pos', 'staff'), express.json({ limit: '10kb' }), async (req, res) => {
    const { by, verifiedAt } = parseVerification(req.body);
    const result = await verifyCoupon(ctx, by, { ...(verifiedAt ? { verifiedAt } : {}), verifiedBy: verifierOf(res) });
    if (!result.ok) throw new AppError(result.code, result.message);
    await recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'coupon.verified', { type: 'coupon', id: result.coupon.id }, { campaignId: result.coupon.campaignId });
    res.status(200).json({ status: 'verified', coupon: couponToJson(ctx, result.coupon, ctx.clock()) });
  });
  return router;
};
