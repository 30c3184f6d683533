import { Router } from 'express';
import { listHandoffs, releaseConversation, takeConversation } from '../contacts/contacts.ts';
import { channelLabels } from '../channels.ts';
import { inboundEventProgress } from '../contacts/inbound-events.ts';
import { flowsListing } from '../flows/stats.ts';
import { AppError } from '../lib/errors.ts';
import type { RouteModule } from './app.ts';
import { requireRole, type RequestActor } from './auth.ts';

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
    res.json({ ...(await flowsListing(ctx.db, registry())), channelLabels: channelLabels(ctx) });
  });

  /** Re-reads FLOWS_DIR now (e.g. after creating the campaign a refused file names). */
  router.post('/api/v1/flows/reload', admin, async (_req, res) => {
    const r = registry();
    await r.reload();
    res.json({ ...(await flowsListing(ctx.db, r)), channelLabels: channelLabels(ctx) });
  });

  /**
   * What became of one inbound event (by channel and the platform's event id): still `pending`,
   * `processed` with its outcome (`no-match` when no flow answered), or `failed`; and how many
   * messages to its contact still wait in the outbox. The chat simulator follows its messages with it.
   */
  router.get('/api/v1/inbound-events/:channel/:eventId', admin, async (req, res) => {
    const progress = await inboundEventProgress(ctx.db, req.params.channel as string, req.params.eventId as string);
    if (!progress) throw new AppError('not_found', 'no such event has reached us');
    res.json(progress);
  });

  /** Conversations a `handoff` step gave to an agent (the bot is silent there), oldest first. */
  router.get('/api/v1/handoffs', agents, async (_req, res) => {
    res.json({ conversations: await listHandoffs(ctx.db) });
  });

  /** An agent is done: the bot answers the contact again. */
  router.post('/api/v1/conversations/:id/release', agents, async (req, res) => {
    const released = await releaseConversation(ctx.db, req.params.id as string);
    if (!released) throw new AppError('not_found', `conversation ${req.params.id} does not exist`);
    res.json({ ...released, handoff: false });
  });

  /** An agent takes a handed-off chat from the queue (the others see who has it). */
  router.post('/api/v1/conversations/:id/take', agents, async (req, res) => {
    const actor = res.locals.actor as RequestActor;
    const r = await ctx.db.transaction((tx) => takeConversation(tx, req.params.id as string, actor.id, ctx.clock()));
    if (!r) throw new AppError('not_found', `conversation ${req.params.id} does not exist`);
    if (!r.taken) {
      throw new AppError('conflict', r.reason === 'not_handed_off'
        ? 'this chat is not waiting for an agent: no flow handed it off'
        : 'another agent has already taken this chat');
    }
    res.json({ id: r.id, taken: true, takenBy: { id: actor.id, name: actor.name } });
  });

  return router;
};
