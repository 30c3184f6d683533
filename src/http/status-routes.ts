import { Router } from 'express';
import { tableSizes } from '../maintenance/retention.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';

/** The operator's view: how big the tables are and how long finished rows are kept. */
export const statusRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.get('/api/v1/status', requireRole(auth, 'admin'), async (_req, res) => {
    res.json({
      retention: { days: ctx.config.RETENTION_DAYS, failedDays: ctx.config.RETENTION_FAILED_DAYS },
      tables: await tableSizes(ctx),
    });
  });
  return router;
};
