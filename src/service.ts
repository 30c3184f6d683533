import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { channelPlugins, createAdapters } from '../adapters/index.ts';
import type { ChannelPlugin } from '../adapters/types.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { ChangeFeed } from './db/changes.ts';
import { createDb, migrateDb, type Db } from './db/client.ts';
import { startEmbedded, type EmbeddedDatabase, type SuperviseOptions } from './db/embedded.ts';
import { BroadcastWorker } from './broadcasts/broadcast-worker.ts';
import { pauseForQuota } from './broadcasts/quota-pause.ts';
import { InboundEventStore } from './contacts/inbound-events.ts';
import { ignoreInboundEvent } from './contacts/inbound-hooks.ts';
import { InboundWorker } from './contacts/inbound-worker.ts';
import { noCouponLifecycleHooks } from './coupons/lifecycle.ts';
import { DeliveryWorker, type SendFn } from './delivery/delivery-worker.ts';
import { plugFlowEngine } from './flows/hooks.ts';
import { FlowRegistry } from './flows/registry.ts';
import type { Express } from 'express';
import { PlatformHealth } from './delivery/platform-health.ts';
import { createApp } from './http/app.ts';
import { openPort } from './http/listen.ts';
import { loadAuth, type Auth } from './http/auth.ts';
import { routes } from './http/routes.ts';
import { jobCatalog } from './jobs/catalog.ts';
import { JobRunner } from './jobs/runner.ts';
import { RetentionWorker } from './maintenance/retention.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { withSafeErrors, type Logger } from './lib/logger.ts';
import { WebhookWorker } from './webhooks/webhook-worker.ts';

export interface ServiceOptions {
  log: Logger;
  clock?: Clock;
  /** Run background workers (jobs, delivery). Tests may turn them off and drive them by hand. */
  workers?: boolean;
  /** Replaces the channel adapters' send (tests). */
  send?: SendFn;
  /** How the embedded PostgreSQL is restarted after it died (tests hold the pause). */
  supervise?: Partial<SuperviseOptions>;
  /**
   * The embedded PostgreSQL died and could not be restarted: main.ts exits non-zero so a process
   * supervisor takes over. Without it the service keeps answering 503.
   */
  onDatabaseLost?: () => void;
  /** The channel plug-ins (default: adapters/index.ts); the config must have been loaded with the same list. */
  channels?: readonly ChannelPlugin[];
  /** How long a stop lets running jobs finish (default 20 s; tests that stop mid-job wait longer). */
  jobStopGraceMs?: number;
}

export interface Service {
  url: string;
  ctx: AppContext;
  auth: Auth;
  jobs: JobRunner;
  delivery: DeliveryWorker;
  inbound: InboundWorker;
  broadcasts: BroadcastWorker;
  /** Sends events to the shop's own systems (webhooks out), apart from chat deliveries. */
  webhooks: WebhookWorker;
  server: http.Server;
  /** Hears (and tells) the other instances on the database what changed. */
  changes: ChangeFeed;
  /** The embedded PostgreSQL when no DATABASE_URL was given. */
  database: EmbeddedDatabase | null;
  /** The express app (the route-roles test walks its router). */
  app: Express;
  stop(): Promise<void>;
}

/** Config → database → services → HTTP + workers. Used by main.ts and by tests. */
export async function startService(config: Config, opts: ServiceOptions): Promise<Service> {
  const log = withSafeErrors(opts.log);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
    }
  };
  // The port first: a port in use is told before the database starts.
  const opened = await openPort(config.PORT);
  let serverStopped = false;
  try {
    let url = config.DATABASE_URL;
    let embedded: EmbeddedDatabase | null = null;
    if (!url) {
      embedded = await startEmbedded({
        dataDir: config.dataDir,
        log: (l) => log.debug({ pg: l }, 'postgres'),
        ...(opts.supervise ? { supervise: opts.supervise } : {}),
      });
      const db = embedded;
      stops.push(() => db.stop());
      url = embedded.url;
      log.info({ dataDir: config.dataDir }, 'embedded PostgreSQL started');
      embedded.on('down', (e: { code: number | null; signal: string | null }) => log.error(e, 'embedded PostgreSQL stopped unexpectedly; restarting it (answering 503 meanwhile)'));
      embedded.on('up', (e: { attempt: number }) => log.warn(e, 'embedded PostgreSQL restarted'));
      embedded.on('gave-up', (e: { attempts: number }) => {
        log.fatal(e, 'embedded PostgreSQL could not be restarted');
        opts.onDatabaseLost?.();
      });
    }
    const db: Db = createDb(url, config.DB_POOL_SIZE);
    stops.push(() => db.$client.end());
    await migrateDb(db);
    // Other instances on this database tell us when something we keep in memory changed.
    const changes = new ChangeFeed(url, db.$client, log);
    stops.push(() => changes.stop());
    await changes.start();

    const jobs = new JobRunner(url, jobCatalog, log, { stopGraceMs: opts.jobStopGraceMs });
    let delivery: DeliveryWorker | null = null;
    const ctx: AppContext = {
      config,
      db,
      log,
      clock: opts.clock ?? systemClock,
      jobs,
      channelPlugins: opts.channels ?? channelPlugins,
      channels: createAdapters(opts.channels ?? channelPlugins, config.channels),
      platforms: new PlatformHealth(opts.clock ?? systemClock),
      notifyOutbox: () => delivery?.wake(),
      inboundEvents: new InboundEventStore(db),
      flows: null,
      hooks: { coupons: noCouponLifecycleHooks(), inbound: ignoreInboundEvent, quotaExhausted: pauseForQuota },
    };
    // The flow engine: its registry on the context, and plugged into the domain's hooks.
    const flows = new FlowRegistry(config.FLOWS_DIR, db, log, { channels: ctx.channelPlugins.map((p) => p.name) });
    stops.push(() => flows.stop());
    flows.announce = () => changes.publish('flows');
    changes.on('flows', () => {
      flows.refresh().catch((err: unknown) => log.error({ err }, 'flow reload failed'));
    });
    await flows.start();
    ctx.flows = flows;
    plugFlowEngine(ctx);
    const workers = opts.workers ?? true;
    stops.push(() => jobs.stop());
    await jobs.start(ctx, { work: workers });
    delivery = new DeliveryWorker(ctx, opts.send ? { send: opts.send } : {});
    stops.push(() => delivery!.stop());
    if (workers) delivery.start();
    const retention = new RetentionWorker(ctx);
    stops.push(() => retention.stop());
    if (workers) retention.start();
    const inbound = new InboundWorker(ctx);
    stops.push(() => inbound.stop());
    if (workers && config.INBOUND_WORKER === 'on') inbound.start();
    const broadcasts = new BroadcastWorker(ctx);
    stops.push(() => broadcasts.stop());
    if (workers) broadcasts.start();
    const webhooks = new WebhookWorker(ctx);
    stops.push(() => webhooks.stop());
    if (workers) webhooks.start();

    const auth = await loadAuth(ctx, { changes });
    const app = createApp({ ctx, auth }, routes);
    const server = opened.server;
    opened.serve(app);
    // Stop accepting and let in-flight requests finish. close() only drops the sockets idle at that
    // moment: a keep-alive socket whose request finishes later would hold the shutdown for the
    // whole keep-alive timeout, so idle sockets are closed as they appear, and all after 20 s.
    serverStopped = true;
    stops.push(() => new Promise<void>((resolve) => {
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const cap = setTimeout(() => server.closeAllConnections(), 20_000);
      server.close(() => {
        clearInterval(sweep);
        clearTimeout(cap);
        resolve();
      });
      server.closeIdleConnections();
    }));
    const port = (server.address() as AddressInfo).port;
    // PORT=0 picks a free port: links default to the port actually taken.
    if (config.PORT === 0 && config.PUBLIC_BASE_URL === 'http://localhost:0') config.PUBLIC_BASE_URL = `http://localhost:${port}`;
    return {
      url: `http://localhost:${port}`,
      ctx, auth, jobs, delivery, inbound, broadcasts, webhooks, server, app, database: embedded, changes,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    if (!serverStopped) await new Promise((resolve) => opened.server.close(resolve));
    throw err;
  }
}
