import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { ChannelEvent, ChannelName } from '../../adapters/types.ts';
import { AppError, validationError } from '../lib/errors.ts';
import type { HttpDeps, RouteModule } from './app.ts';
import { publicRoute } from './auth.ts';

export const MAX_WEBHOOK_BYTES = 1024 * 1024;

// Keys end up in unique indexes; anything longer than a platform ever sends is not a real event,
// and PostgreSQL text cannot hold a NUL character.
const storableKey = z.string().min(1).max(256).refine((s) => !s.includes('\0'), 'must not contain a NUL character');
const storableEvent = z.looseObject({
  eventId: storableKey,
  userId: storableKey,
  conversationId: storableKey,
  timestamp: z.iso.datetime({ offset: true }),
});

/**
 * Platform webhooks: check the signature on the raw bytes, store every event, then answer 200.
 * Nothing is processed here; the inbound worker reads the events from the table.
 */
export const webhookRoutes: RouteModule = (deps) => {
  const router = express.Router();
  // Any content type: the signature covers the bytes exactly as sent.
  const raw = express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES });
  for (const { name: channel } of deps.ctx.channelPlugins) {
    router.post(`/webhooks/${channel}`, publicRoute('signed by the platform'), channelOn(deps, channel), raw, receive(deps, channel));
    // The channel's own GET route (e.g. a subscription handshake); without one, a GET is not found.
    router.get(`/webhooks/${channel}`, publicRoute('the platform\'s own route, e.g. a verify handshake'), channelOn(deps, channel), (req, res, next) => {
      const route = deps.ctx.channels[channel]?.routes?.find((r) => r.method === 'get');
      if (!route) {
        next();
        return;
      }
      const answer = route.handle({ query: req.query, headers: req.headers });
      if ('refused' in answer) throw new AppError(answer.refused, answer.message);
      res.status(answer.status).type(answer.contentType).send(answer.body);
    });
  }
  return router;
};

function channelOn({ ctx }: HttpDeps, channel: ChannelName) {
  return (_req: Request, _res: Response, next: NextFunction): void => {
    if (!ctx.channels[channel]) throw new AppError('channel_off', `the ${channel} channel is not configured`);
    next();
  };
}

function receive({ ctx }: HttpDeps, channel: ChannelName) {
  return async (req: Request, res: Response): Promise<void> => {
    // channelOn ran first.
    const adapter = ctx.channels[channel]!;
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let verified: boolean;
    try {
      verified = adapter.verify({ rawBody, headers: req.headers });
    } catch {
      verified = false;
    }
    if (!verified) throw new AppError('invalid_signature', `the ${channel} signature is missing or does not match the body`);

    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new AppError('invalid_json', 'the body is not valid JSON');
    }
    let events: ChannelEvent[];
    try {
      events = adapter.parse(body);
    } catch (err) {
      if (err instanceof z.ZodError) throw validationError(err, channel);
      throw new AppError('validation_error', `not a valid ${channel} webhook body: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const event of events) {
      const checked = storableEvent.safeParse(event);
      if (!checked.success) throw validationError(checked.error, 'event');
      if (event.channel !== channel) throw new AppError('validation_error', `a ${event.channel} event on the ${channel} webhook`);
    }
    await ctx.inboundEvents.store(events);
    res.status(200).json({ status: 'ok', stored: events.length });
  };
}
