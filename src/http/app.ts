import express, { type Express, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context.ts';
import { RETRY_AFTER_SECONDS } from '../db/availability.ts';
import { safeError } from '../lib/logger.ts';
import { publicRoute, type Auth } from './auth.ts';
import { findCampaignIdBySlug } from '../coupons/campaigns.ts';
import { errorHandler, notFound, redactUrl } from './errors.ts';
import { ping } from '../db/client.ts';

export interface HttpDeps {
  ctx: AppContext;
  auth: Auth;
}

/** A feature's routes: each feature module exports one of these and is listed below. */
export type RouteModule = (deps: HttpDeps) => Router;

export function createApp(deps: HttpDeps, routes: RouteModule[]): Express {
  const { ctx } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(pinoHttp({
    logger: ctx.log,
    autoLogging: { ignore: (req) => req.url === '/healthz' },
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: redactUrl(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: (err: unknown) => safeError(err),
    },
  }));

  app.use((req, res, next) => {
    // Records and settings hold personal data: no admin answer is kept by a browser or a proxy.
    if (req.path.startsWith('/api/')) res.set('Cache-Control', 'no-store');
    // Pages carry tokens in their links and the console keeps one: over https, stay on https.
    if (req.secure) res.set('Strict-Transport-Security', 'max-age=31536000');
    next();
  });

  app.get('/healthz', publicRoute('load balancers and monitors'), async (_req, res) => {
    try {
      await ping(ctx.db);
      res.json({ status: 'ok' });
    } catch {
      res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).json({ status: 'unavailable' });
    }
  });

  // The address `npm start` prints leads to the admin console.
  app.get('/', publicRoute('leads to the admin console, which asks to sign in'), (_req, res) => res.redirect(302, '/admin'));

  app.use(campaignSlugsAsIds(ctx));
  for (const route of routes) app.use(route(deps));

  app.use(notFound);
  app.use(errorHandler(ctx.log));
  return app;
}

const campaignPath = /^\/api\/v1\/campaigns\/([^/?#]+)(.*)$/s;
/** Slugs are lowercase letters, digits and dashes; ids are `cmp_…`, never a slug. */
const slugShape = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Every `/api/v1/campaigns/:id…` route takes the campaign's slug in place of its id: the path is
 * rewritten to the id before any route sees it. An unknown slug is left as it is, so the route
 * answers that the campaign does not exist.
 */
function campaignSlugsAsIds(ctx: AppContext) {
  return async (req: express.Request, _res: express.Response, next: express.NextFunction) => {
    const m = campaignPath.exec(req.url);
    if (!m) return next();
    let ref: string;
    try {
      ref = decodeURIComponent(m[1]!);
    } catch {
      return next();
    }
    if (!slugShape.test(ref)) return next();
    try {
      const id = await findCampaignIdBySlug(ctx.db, ref);
      if (id) req.url = `/api/v1/campaigns/${encodeURIComponent(id)}${m[2]}`;
      next();
    } catch (err) {
      next(err);
    }
  };
}
