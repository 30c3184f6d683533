import { Router } from 'express';
import { z } from 'zod';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';

const deadLettersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** The last id of the previous page (its `next`). */
  after: z.uuid().optional(),
});

/** Background jobs: the dead-letter queue (refused payloads, jobs that failed all retries). */
export const jobsRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const admin = requireRole(auth, 'admin');

  router.get('/api/v1/jobs/dead-letters', admin, async (req, res) => {
    const q = parseOrThrow(deadLettersQuery, req.query, 'query');
    if (q.after && !(await ctx.jobs.hasDeadLetter(q.after))) throw new AppError('not_found', `no dead letter has the id ${q.after}`);
    res.json(await ctx.jobs.listDeadLetters({ limit: q.limit, ...(q.after ? { after: q.after } : {}) }));
  });

  return router;
};
