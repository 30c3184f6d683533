/**
 * What the benchmarks share: the service in this process on a temporary DATA_DIR, the load in a
 * worker thread (so client and server do not share one event loop), keep-alive HTTP posts and
 * latency percentiles.
 *
 * A bench script is also its own worker's entry point, so this module loads nothing heavy at the
 * top: the service's modules are imported inside the functions that need them, on the main thread.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../../src/config.ts';
import type { CampaignRow, createCampaign } from '../../src/coupons/campaigns.ts';
import type { Service } from '../../src/service.ts';
import { lineSignature } from './line-webhook.ts';

/**
 * A whole-number knob above 0 from the environment (or `raw`), `fallback` when unset. Anything
 * else stops the bench with one line before it starts anything.
 */
export function knob(name: string, fallback: number, raw: string | undefined = process.env[name]): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    console.error(`${name} must be a whole number above 0, not "${raw}"`);
    process.exit(1);
  }
  return n;
}

export interface BenchDir {
  /** The run's DATA_DIR; the embedded PostgreSQL, when there is one, lives under it. */
  dir: string;
  /** An empty FLOWS_DIR inside `dir`, unless the bench copies flows into it. */
  flowsDir: string;
  remove(): void;
}

/** A temporary directory for one run, removed by `remove()` once everything using it stopped. */
export function benchDir(name: string): BenchDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `chatcoupon-bench-${name}-`));
  fs.chmodSync(dir, 0o755); // the embedded server may run as another user
  const flowsDir = path.join(dir, 'flows');
  fs.mkdirSync(flowsDir);
  return { dir, flowsDir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface BenchService extends Service {
  config: Config;
  /** Bearer header for the admin API (a random token: the service listens on every interface). */
  admin: { Authorization: string };
}

/**
 * The whole service in this process, on `dir` (embedded PostgreSQL unless `env` names a
 * DATABASE_URL), listening on a free port. Channels stay off unless `env` sets them.
 */
export async function startBenchService(dir: BenchDir, opts: {
  env?: Record<string, string | undefined>;
  workers: boolean;
  logLevel?: string;
}): Promise<BenchService> {
  const { pino } = await import('pino');
  const { loadConfig } = await import('../../src/config.ts');
  const { startService } = await import('../../src/service.ts');
  const adminToken = crypto.randomBytes(24).toString('base64url');
  const config = loadConfig({
    PORT: '0', DATA_DIR: dir.dir, FLOWS_DIR: dir.flowsDir, ADMIN_TOKEN: adminToken, ...opts.env,
  });
  const service = await startService(config, { log: pino({ level: opts.logLevel ?? 'silent' }), workers: opts.workers });
  return { ...service, config, admin: { Authorization: `Bearer ${adminToken}` } };
}

/** A campaign sending from an hour ago for a day: 10% off, coupons valid 30 days from sending. */
export async function benchCampaign(
  ctx: Parameters<typeof createCampaign>[0], fields: Record<string, unknown> & { name: string; slug: string },
): Promise<CampaignRow> {
  const { createCampaign } = await import('../../src/coupons/campaigns.ts');
  return await createCampaign(ctx, {
    sendStart: new Date(Date.now() - 3600_000).toISOString(),
    sendEnd: new Date(Date.now() + 86_400_000).toISOString(),
    expiry: { mode: 'fromSend', days: 30 },
    reward: { type: 'percent', value: 10 },
    ...fields,
  });
}

/** Runs `script` (a bench's own file) as a worker thread on `input` and resolves with its one message. */
export function runWorker<I, O>(script: URL, input: I): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    const worker = new Worker(script, { workerData: input });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

export interface Poster {
  /** POSTs `body` to `path` and resolves with the status code, 0 when the connection failed. */
  post(path: string, headers: Record<string, string>, body?: string): Promise<number>;
  close(): void;
}

/** Keep-alive POSTs to one server from up to `clients` connections. */
export function keepAlivePoster(baseUrl: string, clients: number): Poster {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const target = new URL(baseUrl);
  return {
    post: (requestPath, headers, body = '') => new Promise<number>((resolve) => {
      const req = http.request({
        host: target.hostname, port: target.port, path: requestPath, method: 'POST', agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end(body);
    }),
    close: () => agent.destroy(),
  };
}

/** Signed LINE webhook bodies POSTed to `url`, as LINE's platform sends them. */
export function lineWebhookPoster(url: string, secret: string, clients: number): { post(body: string): Promise<number>; close(): void } {
  const poster = keepAlivePoster(url, clients);
  const webhookPath = new URL(url).pathname;
  return {
    post: (body) => poster.post(webhookPath, { 'content-type': 'application/json', 'x-line-signature': lineSignature(secret, body) }, body),
    close: poster.close,
  };
}

/** The p50 and p99 of `latencies` in ms (sorts it in place; NaN when empty). */
export function latencyPercentiles(latencies: number[]): { p50: number; p99: number } {
  const sorted = latencies.sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
  return { p50: pct(0.5), p99: pct(0.99) };
}

/**
 * Counts the statements (round trips) this process sends to PostgreSQL, by their first word, for
 * statements-per-event figures. pg-boss's own statements are counted apart by their application.
 */
export interface StatementCounter {
  reset(): void;
  /** Statements since the last reset: total, per first word, and pg-boss's share. */
  read(): { total: number; byWord: Record<string, number>; jobs: number };
  /** The most frequent statements (their first 90 characters, spaces squeezed), most frequent first. */
  top(n: number): Array<[string, number]>;
}

export async function countStatements(): Promise<StatementCounter> {
  const pg = (await import('pg')).default;
  let byWord: Record<string, number> = {};
  let byText = new Map<string, number>();
  let total = 0;
  let jobs = 0;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown; connectionParameters?: { application_name?: string } };
  const original = proto.query;
  proto.query = function (this: { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string } | null)?.text ?? '';
    if (this.connectionParameters?.application_name === 'chatcoupon-jobs') jobs++;
    else {
      const word = (/^\s*([A-Za-z]+)/.exec(text)?.[1] ?? '?').toUpperCase();
      byWord[word] = (byWord[word] ?? 0) + 1;
      const key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
      byText.set(key, (byText.get(key) ?? 0) + 1);
      total++;
    }
    return original.apply(this, args);
  };
  return {
    reset() {
      byWord = {};
      byText = new Map();
      total = 0;
      jobs = 0;
    },
    read: () => ({ total, byWord: { ...byWord }, jobs }),
    top: (n) => [...byText].sort((a, b) => b[1] - a[1]).slice(0, n),
  };
}

/**
 * "The floor": a bare express app with @line/bot-sdk's `middleware` that stores each event with
 * one `INSERT … ON CONFLICT DO NOTHING` and answers 200 — what acknowledging a webhook costs at the
 * least. On `databaseUrl`, in its own table, with `poolSize` connections (the service's).
 */
export async function startFloor(databaseUrl: string, secret: string, poolSize: number): Promise<{ url: string; stored(): Promise<number>; close(): Promise<void> }> {
  const pg = (await import('pg')).default;
  const express = (await import('express')).default;
  const { middleware } = await import('@line/bot-sdk');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  const table = `floor_events_${crypto.randomBytes(4).toString('hex')}`;
  await pool.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, event_key text NOT NULL UNIQUE, event jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now())`);
  const app = express();
  app.post('/webhooks/line', middleware({ channelSecret: secret }), async (req, res) => {
    const events = (req.body as { events: Array<{ webhookEventId: string }> }).events;
    for (const event of events) {
      await pool.query(`INSERT INTO ${table} (event_key, event) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [event.webhookEventId, event]);
    }
    res.sendStatus(200);
  });
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return {
    url: `http://localhost:${(server.address() as { port: number }).port}/webhooks/line`,
    async stored() {
      return ((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0] as { n: number }).n;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.end();
    },
  };
}

/** User + system clock ticks of a process (with its reaped children when `children`), from /proc. */
function procTicks(pid: number | 'self', children = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return 0;
  }
}

/**
 * CPU time used since `reset()`: by this process (all its threads: the service, and the load and
 * stand-in when they run here) and by the embedded PostgreSQL server in `pgDir` (postmaster,
 * backends, and backends that have exited). Linux only; elsewhere the database reads 0.
 */
export function cpuMeter(pgDir: string | null): { reset(): void; read(): { processMs: number; databaseMs: number } } {
  const tickMs = 10; // USER_HZ is 100 on Linux
  const database = (): number => {
    if (!pgDir) return 0;
    let postmaster: number;
    try {
      postmaster = Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return 0;
    }
    let ticks = procTicks(postmaster, true);
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) ticks += procTicks(Number(entry));
      } catch { /* gone meanwhile */ }
    }
    return ticks * tickMs;
  };
  let start = { process: 0, database: 0 };
  const now = () => ({ process: procTicks('self') * tickMs, database: database() });
  start = now();
  return {
    reset: () => { start = now(); },
    read: () => {
      const end = now();
      return { processMs: end.process - start.process, databaseMs: end.database - start.database };
    },
  };
}

/** The Node flags `npm start` runs the service with (package.json). */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=16', '--max-old-space-size=256'];

export interface ServiceProcess {
  url: string;
  databaseUrl: string;
  /** The process `npm start` would be (the primary, with WORKERS > 1). */
  pid: number;
  admin: { Authorization: string };
  stop(): Promise<void>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `node src/main.ts` with WORKERS=`processes` on a fresh DATA_DIR (its own embedded PostgreSQL),
 * as `npm start` runs it; resolves once it listens, with its URL and the database's.
 */
export async function startServiceProcesses(
  processes: number, env: Record<string, string>, opts: { flows?: Record<string, string> } = {},
): Promise<ServiceProcess> {
  const dir = benchDir(`service-p${processes}`);
  for (const [name, text] of Object.entries(opts.flows ?? {})) fs.writeFileSync(path.join(dir.flowsDir, name), text);
  const adminToken = crypto.randomBytes(24).toString('base64url');
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), PORT: '0', DATA_DIR: dir.dir, FLOWS_DIR: dir.flowsDir,
      ADMIN_TOKEN: adminToken, LOG_LEVEL: 'warn', WORKERS: String(processes), ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onLine = (line: string) => {
      lines.push(line);
      const m = /chatcoupon is running at (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    };
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', onLine);
    void exited.then((code) => reject(new Error(`the service exited with ${code} before it listened:\n${lines.join('\n')}`)));
  });
  const databaseUrl = env.DATABASE_URL ?? fs.readFileSync(path.join(dir.dir, 'database-url'), 'utf8').trim();
  return {
    url,
    databaseUrl,
    pid: child.pid!,
    admin: { Authorization: `Bearer ${adminToken}` },
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) console.log(`  the service exited with ${code}:\n${lines.slice(-20).join('\n')}`);
      dir.remove();
    },
  };
}


/** A process's resident memory now and at its peak (VmRSS, VmHWM), in bytes, from /proc. */
export function processMemory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
