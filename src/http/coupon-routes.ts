import express, { Router, type Response } from 'express';
import { channelLabels } from '../channels.ts';
import { couponHistory } from '../coupons/history.ts';
import { couponToJson } from '../coupons/records.ts';
import { tillLookup } from '../coupons/till-lookup.ts';
import { parseVerification, parseVoid, verifyCoupon, voidVerification } from '../coupons/verify.ts';
import { AppError } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { requireRole, verifierOf, type RequestActor } from './auth.ts';
import { recordAudit } from '../people/audit.ts';

/**
 * The owner and marketers (the contract's "admin") may void any verification at any time, with a
 * reason; the POS and staff only their own, soon after.
 */
const voidsAnyTime = (res: Response) => ['owner', 'marketer'].includes((res.locals.actor as RequestActor | undefined)?.role ?? '');

/** Verification and void at the till: the POS token, staff and the owner. */
export const couponRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.post('/api/v1/verifications', requireRole(auth, 'pos', 'staff'), express.json({ limit: '10kb' }), async (req, res) => {
    const { by, ...fields } = parseVerification(req.body);
    if (fields.amount === undefined && ctx.config.STAFF_ORDER_AMOUNT === 'required' && (res.locals.actor as RequestActor).role === 'staff') {
      throw new AppError('validation_error', 'amount: the shop asks for the order\'s total with every verification at the till');
    }
    const result = await verifyCoupon(ctx, by, { ...fields, actor: verifierOf(res), ip: req.ip ?? null });
    if (!result.ok) throw new AppError(result.code, result.message);
    await recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'coupon.verified', { type: 'coupon', id: result.coupon.id }, { campaignId: result.coupon.campaignId });
    res.status(200).json({ status: 'verified', coupon: couponToJson(ctx, result.coupon, ctx.clock()) });
  });
  router.post('/api/v1/verifications/void', requireRole(auth, 'pos', 'staff', 'marketer'), express.json({ limit: '10kb' }), async (req, res) => {
    const { by, reason } = parseVoid(req.body);
    const result = await voidVerification(ctx, by, { actor: verifierOf(res), anyTime: voidsAnyTime(res), ip: req.ip ?? null, reason });
    if (!result.ok) throw new AppError(result.code, result.message);
    await recordAudit(ctx.db, ctx.clock, res.locals.actor as RequestActor, 'coupon.voided', { type: 'coupon', id: result.coupon.id }, { campaignId: result.coupon.campaignId, reason });
    res.status(200).json({ status: 'voided', coupon: couponToJson(ctx, result.coupon, ctx.clock()) });
  });
  // The scanner's look before verifying: the coupon a code names, its history, and what can be done now.
  router.get('/api/v1/verifications/lookup', requireRole(auth, 'pos', 'staff'), async (req, res) => {
    const found = await tillLookup(ctx, req.query, { actor: verifierOf(res), anyTime: voidsAnyTime(res) });
    if (!found.ok) throw new AppError(found.code, found.message);
    const { ok: _ok, ...body } = found;
    res.json(body);
  });
  router.get('/api/v1/coupons/:id/history', requireRole(auth, 'admin'), async (req, res) => {
    const history = await couponHistory(ctx, req.params.id as string);
    if (!history) throw new AppError('not_found', 'this coupon does not exist');
    res.json({ ...history, channelLabels: channelLabels(ctx) });
  });
  return router;
};
