import { Router } from 'express';
import { serviceStatus } from '../maintenance/status.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';

/** The operator's view: platforms down and what waits for them, table sizes, how long rows are kept. */
export const statusRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.get('/api/v1/status', requireRole(auth, 'admin'), async (_req, res) => {
    res.json(await serviceStatus(ctx));
  });
  return router;
};
