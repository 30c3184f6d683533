import express, { Router } from 'express';
import { createEndpoint, deleteEndpoint, listDeliveries, listEndpoints, resendDelivery } from '../webhooks/endpoints.ts';
import type { RouteModule } from './app.ts';
import { requireRole } from './auth.ts';

/** Webhooks out: the shop's own systems subscribe to events (admin only). */
export const webhooksOutRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.use('/api/v1/webhooks', requireRole(auth, 'admin'), express.json({ limit: '10kb' }));
  router.post('/api/v1/webhooks', async (req, res) => {
    res.status(201).json(await createEndpoint(ctx, req.body));
  });
  router.get('/api/v1/webhooks', async (_req, res) => {
    res.json(await listEndpoints(ctx));
  });
  router.delete('/api/v1/webhooks/:id', async (req, res) => {
    await deleteEndpoint(ctx, req.params.id as string);
    res.status(204).end();
  });
  router.get('/api/v1/webhooks/:id/deliveries', async (req, res) => {
    res.json(await listDeliveries(ctx, req.params.id as string, req.query));
  });
  router.post('/api/v1/webhooks/:id/deliveries/:deliveryId/resend', async (req, res) => {
    const resent = await resendDelivery(ctx, req.params.id as string, req.params.deliveryId as string);
    res.status(202).json(resent);
  });
  return router;
};
