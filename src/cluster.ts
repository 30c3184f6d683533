import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.ts';
import { createDb, migrateDb } from './db/client.ts';
import { startEmbedded, type EmbeddedDatabase } from './db/embedded.ts';
import type { Logger } from './lib/logger.ts';

/** What a service process tells the primary once it serves: the lines `npm start` prints. */
export interface ReadyMessage {
  type: 'chatcoupon:ready';
  url: string;
  banner: string[];
  /** It generated the admin token on this start: its banner is the one that shows it. */
  generatedAdminToken: boolean;
}

export function isReadyMessage(m: unknown): m is ReadyMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'chatcoupon:ready';
}

/** Restarts of service processes that died after start-up, within a minute, before giving up. */
const MAX_RESTARTS_PER_MINUTE = 5;

/**
 * `WORKERS` > 1: this process owns the embedded PostgreSQL (when no DATABASE_URL is given),
 * applies the migrations once, and runs `config.workers` service processes (node:cluster) that
 * share the HTTP port and the database; each takes webhooks and runs every worker, as separate
 * instances would. A service process that dies is started again; SIGINT/SIGTERM stop them all
 * gracefully, then the database. Resolves when everything has stopped, with the exit status.
 */
export async function runPrimary(config: Config, log: Logger): Promise<number> {
  let embedded: EmbeddedDatabase | null = null;
  let url = config.DATABASE_URL;
  let stopping = false;
  let exitCode = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const workers = new Set<Worker>();

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    const exits = [...workers].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) resolve();
      else w.once('exit', () => resolve());
    }));
    for (const w of workers) if (!w.isDead()) w.process.kill('SIGTERM');
    await Promise.all(exits);
    try {
      await embedded?.stop();
    } catch (err) {
      log.error({ err }, 'embedded PostgreSQL did not stop cleanly');
    }
    resolveDone(exitCode);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  if (!url) {
    embedded = await startEmbedded({ dataDir: config.dataDir, log: (l) => log.debug({ pg: l }, 'postgres') });
    url = embedded.url;
    log.info({ dataDir: config.dataDir }, 'embedded PostgreSQL started');
    embedded.on('down', (e: { code: number | null; signal: string | null }) => log.error(e, 'embedded PostgreSQL stopped unexpectedly; restarting it'));
    embedded.on('up', (e: { attempt: number }) => log.warn(e, 'embedded PostgreSQL restarted'));
    embedded.on('gave-up', (e: { attempts: number }) => {
      log.fatal(e, 'embedded PostgreSQL could not be restarted');
      console.error('The embedded PostgreSQL stopped and could not be restarted; exiting.');
      void stopAll(1);
    });
  }
  // Once, here, rather than N processes queueing on the migration lock.
  const db = createDb(url, 1);
  try {
    await migrateDb(db);
  } finally {
    await db.$client.end();
  }

  const env = { DATABASE_URL: url };
  const ready: ReadyMessage[] = [];
  const restarts: number[] = [];
  let started = false;
  const fork = () => {
    const worker = cluster.fork(env);
    workers.add(worker);
    worker.on('message', (m: unknown) => {
      if (!isReadyMessage(m)) return;
      if (started) {
        log.info({ pid: worker.process.pid }, 'service process started again');
        return;
      }
      ready.push(m);
      if (ready.length < config.workers) return;
      started = true;
      // One banner for all: the one that shows a freshly generated admin token, if any.
      const shown = ready.find((r) => r.generatedAdminToken) ?? ready[0]!;
      const [first, ...rest] = shown.banner;
      console.log([first, `  Processes:      ${config.workers} (WORKERS=${config.WORKERS}), sharing the port and the database`, ...rest].join('\n'));
    });
    worker.once('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      if (!started) {
        // A start-up refusal (port in use, bad flow directory…) is the same for every process: stop.
        log.error({ pid: worker.process.pid, code, signal }, 'a service process could not start');
        void stopAll(1);
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
        log.fatal({ restarts: restarts.length }, 'service processes keep dying; stopping');
        void stopAll(1);
        return;
      }
      log.error({ pid: worker.process.pid, code, signal }, 'a service process died; starting another');
      fork();
    });
  };
  for (let i = 0; i < config.workers; i++) fork();
  return await done;
}
