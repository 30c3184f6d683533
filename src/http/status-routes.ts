import { Router } from 'express';

import { tableSizes } from '../maintenance/retention.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';
import { waitingByChannel } from '../delivery/outbox.ts';

/** The operator's view: how big the tables are and how long finished rows are kept. */
export const statusRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.get('/api/v1/status', requireRole(auth, 'admin'), async (_req, res) => {
    // Messages waiting for their platform, per channel: what the console's "platform down" banner shows.
    const byChannel = await waitingByChannel(ctx.db);
    const platforms = ctx.channelPlugins.map((p) => p.name).filter((c) => ctx.channels[c]).map((channel) => {
      const breaker = ctx.platforms.of(channel);
      const w = byChannel.get(channel);
      return {
        channel,
        label: ctx.channels[channel]!.delivery.label,
        down: breaker.open || w !== undefined,
        since: (breaker.troubleSince ?? w?.since ?? null),
        nextTry: (breaker.nextTryAt() ?? w?.nextTry ?? null),
        waiting: w?.waiting ?? 0,
      };
    });
    res.json({
      platforms,
      retention: { days: ctx.config.RETENTION_DAYS, failedDays: ctx.config.RETENTION_FAILED_DAYS },
      tables: await tableSizes(ctx),
    });
  });
  return router;
};
