import express, { Router, type Response } from 'express';
import { z } from 'zod';
import { estimateAudience, parseAudience } from '../audiences/audience.ts';
import {
  broadcastStats, cancelBroadcast, createBroadcast, getBroadcastJson, listBroadcasts, listRecipients, pauseBroadcast, quotaPreview, resumeBroadcast,
} from '../broadcasts/broadcasts.ts';
import { parseOrThrow } from '../lib/errors.ts';
import { recordAudit, type AuditAction } from '../people/audit.ts';
import type { RouteModule } from './app.ts';
import { requireRole, type RequestActor } from './auth.ts';

const estimateBody = z.object({ audience: z.unknown().optional() }).strict();

/** Audiences (estimates) and broadcasts. */
export const broadcastRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  const admin = requireRole(auth, 'marketer');
  const json = express.json({ limit: '64kb' });
  /** Who started, paused, resumed or cancelled a broadcast goes in the audit log. */
  const audit = async (res: Response, action: AuditAction, b: { id: string; name: string; status: string }) => {
    const actor = res.locals.actor as RequestActor | null | undefined;
    if (actor) await recordAudit(ctx.db, ctx.clock, actor, action, { type: 'broadcast', id: b.id, name: b.name }, { status: b.status });
  };

  router.post('/api/v1/audiences/estimate', admin, json, async (req, res) => {
    const body = parseOrThrow(estimateBody, req.body ?? {});
    res.json(await estimateAudience(ctx.db, parseAudience(body.audience), ctx.clock()));
  });

  router.get('/api/v1/broadcasts', admin, async (_req, res) => {
    res.json(await listBroadcasts(ctx));
  });

  router.post('/api/v1/broadcasts', admin, json, async (req, res) => {
    const b = await createBroadcast(ctx, req.body);
    await audit(res, 'broadcast.started', b);
    res.status(201).location(`/api/v1/broadcasts/${b.id}`).json(await getBroadcastJson(ctx, b.id));
  });

  // The compose form's quota line: "this uses N of your M remaining messages this month".
  router.post('/api/v1/broadcasts/preview', admin, json, async (req, res) => {
    res.json(await quotaPreview(ctx, req.body));
  });

  router.get('/api/v1/broadcasts/:id', admin, async (req, res) => {
    res.json(await getBroadcastJson(ctx, req.params.id as string));
  });

  router.get('/api/v1/broadcasts/:id/stats', admin, async (req, res) => {
    res.json(await broadcastStats(ctx, req.params.id as string));
  });

  router.get('/api/v1/broadcasts/:id/recipients', admin, async (req, res) => {
    res.json(await listRecipients(ctx, req.params.id as string, req.query));
  });

  router.post('/api/v1/broadcasts/:id/pause', admin, async (req, res) => {
    const b = await pauseBroadcast(ctx, req.params.id as string);
    await audit(res, 'broadcast.paused', b);
    res.json(await getBroadcastJson(ctx, b.id));
  });

  router.post('/api/v1/broadcasts/:id/resume', admin, async (req, res) => {
    const b = await resumeBroadcast(ctx, req.params.id as string);
    await audit(res, 'broadcast.resumed', b);
    res.json(await getBroadcastJson(ctx, b.id));
  });

  router.post('/api/v1/broadcasts/:id/cancel', admin, async (req, res) => {
    const b = await cancelBroadcast(ctx, req.params.id as string);
    await audit(res, 'broadcast.cancelled', b);
    res.json(await getBroadcastJson(ctx, b.id));
  });

  return router;
};
