import express, { Router } from 'express';
import { couponToJson } from '../coupons/records.ts';
import { workbenchCoupons, workbenchSend } from '../coupons/workbench.ts';
import { workbenchChat, workbenchChats, workbenchDelivery } from '../coupons/workbench-chats.ts';
import { AppError } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { requireRole, type RequestActor } from './auth.ts';
import { getCampaign } from '../coupons/campaigns.ts';
import { agentLimitOf, setAgentLimit } from '../people/agent-limits.ts';
import { recordAudit } from '../people/audit.ts';

/** The agents' workbench API (the chat coupon). */
export const workbenchRoutes: RouteModule = ({ ctx, auth }) => {
  const router = Router();
  router.use('/api/v1/workbench', requireRole(auth, 'agent'), express.json({ limit: '10kb' }));
  router.get('/api/v1/workbench/coupons', async (req, res) => {
    res.json(await workbenchCoupons(ctx, req.query, res.locals.actor as RequestActor));
  });
  // The agent's inbox: chats active now, one chat with its recent messages, a sent card's delivery.
  router.get('/api/v1/workbench/chats', async (req, res) => {
    res.json(await workbenchChats(ctx, req.query, res.locals.actor as RequestActor));
  });
  router.get('/api/v1/workbench/chat', async (req, res) => {
    res.json(await workbenchChat(ctx, req.query, res.locals.actor as RequestActor));
  });
  router.get('/api/v1/workbench/deliveries/:couponId', async (req, res) => {
    res.json(await workbenchDelivery(ctx, req.params.couponId));
  });
  router.post('/api/v1/workbench/send', async (req, res) => {
    const result = await workbenchSend(ctx, req.body, res.locals.actor as RequestActor);
    if (!result.ok) throw new AppError(result.code, result.message);
    res.status(201).json({ coupon: couponToJson(ctx, result.coupon, ctx.clock()) });
  });
  // Per-agent limits are the marketers' setting (at most N coupons of a campaign per agent per day).
  const marketer = requireRole(auth, 'marketer');
  router.get('/api/v1/campaigns/:id/agent-limit', marketer, async (req, res) => {
    const campaign = await getCampaign(ctx.db, req.params.id as string);
    res.json({ campaignId: campaign.id, perAgentPerDay: await agentLimitOf(ctx.db, campaign.id) });
  });
  router.put('/api/v1/campaigns/:id/agent-limit', marketer, express.json({ limit: '1kb' }), async (req, res) => {
    const campaign = await getCampaign(ctx.db, req.params.id as string);
    const perAgentPerDay = await ctx.db.transaction(async (tx) => {
      const value = await setAgentLimit(tx, campaign.id, req.body);
      await recordAudit(tx, ctx.clock, res.locals.actor as RequestActor, 'campaign.updated', { type: 'campaign', id: campaign.id, name: campaign.name }, { perAgentPerDay: value });
      return value;
    });
    res.json({ campaignId: campaign.id, perAgentPerDay });
  });
  return router;
};
