import express, { type Express, type Router } from 'express';
import { sql } from 'drizzle-orm';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context.ts';
import type { Auth } from './auth.ts';
import { errorHandler, notFound, redactUrl } from './errors.ts';

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
    },
  }));

  app.get('/healthz', async (_req, res) => {
    try {
      await ctx.db.execute(sql`SELECT 1`);
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable' });
    }
  });

  for (const route of routes) app.use(route(deps));

  app.use(notFound);
  app.use(errorHandler(ctx.log));
  return app;
}
