import express, { Router } from 'express';
import { couponToJson } from '../coupons/records.ts';
import { workbenchCoupons, workbenchSend } from '../coupons/workbench.ts';
import { AppError } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';

/** The agents' workbench API (the chat coupon). */
export const workbenchRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.use('/api/v1/workbench', requireRole(auth, 'agent'), express.json({ limit: '10kb' }));
  router.get('/api/v1/workbench/coupons', async (req, res) => {
    res.json(await workbenchCoupons(ctx, req.query));
  });
  router.post('/api/v1/workbench/send', async (req, res) => {
    const result = await workbenchSend(ctx, req.body);
    if (!result.ok) throw new AppError(result.code, result.message);
    res.status(201).json({ coupon: couponToJson(ctx, result.coupon, ctx.clock()) });
  });
  return router;
};
