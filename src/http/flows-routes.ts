import { Router } from 'express';
import { sql } from 'drizzle-orm';
import { flowsListing } from '../flows/stats.ts';
import { AppError } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';

/** Flows (listing with per-step counts, reload) and handed-off conversations (listing, release). */
export const flowsRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const admin = requireRole(auth, 'marketer');
  /** Handed-off chats are the agents' (and the marketers', who script the handoffs). */
  const agents = requireRole(auth, 'agent', 'marketer');

  const registry = () => {
    const r = ctx.flows;
    if (!r) throw new AppError('unavailable', 'flows are not running');
    return r;
  };

  router.get('/api/v1/flows', admin, async (_req, res) => {
    res.json(await flowsListing(ctx.db, registry()));
  });

  /** Re-reads FLOWS_DIR now (e.g. after creating the campaign a refused file names). */
  router.post('/api/v1/flows/reload', admin, async (_req, res) => {
    const r = registry();
    await r.reload();
    res.json(await flowsListing(ctx.db, r));
  });

  /** Conversations a `handoff` step gave to an agent (the bot is silent there), oldest first. */
  router.get('/api/v1/handoffs', agents, async (_req, res) => {
    const r = await ctx.db.execute(sql`
      SELECT cv.id, cv.channel, cv.external_id AS "externalId", cv.contact_id AS "contactId", ct.display_name AS "displayName",
        ct.tags, cv.handoff_at AS "handoffAt", cv.last_inbound_at AS "lastInboundAt"
      FROM conversations cv JOIN contacts ct ON ct.id = cv.contact_id
      WHERE cv.handoff_at IS NOT NULL ORDER BY cv.handoff_at, cv.id LIMIT 500`);
    res.json({ conversations: r.rows });
  });

  /** An agent is done: the bot answers the contact again. */
  router.post('/api/v1/conversations/:id/release', agents, async (req, res) => {
    const r = await ctx.db.execute(sql`
      WITH old AS (SELECT id, handoff_at FROM conversations WHERE id = ${req.params.id} FOR UPDATE)
      UPDATE conversations c SET handoff_at = NULL FROM old WHERE c.id = old.id
      RETURNING c.id, old.handoff_at AS "was"`);
    const row = r.rows[0] as { id: string; was: Date | null } | undefined;
    if (!row) throw new AppError('not_found', `conversation ${req.params.id} does not exist`);
    res.json({ id: row.id, released: row.was !== null, handoff: false });
  });

  return router;
};
