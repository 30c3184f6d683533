/**
 * npm run bench:flows — 2,000 new LINE friends, each sending one signed follow webhook as fast as
 * the service acknowledges them (50 at a time). Every follow runs the shipped welcome flow (a text,
 * then a coupon issued from a fixed-serial pool and its card). Prints webhooks acknowledged per
 * second, flows completed per second, and the seconds until every coupon card reached the
 * stand-in LINE API.
 *
 * The service runs in this process with its workers on a fresh embedded PostgreSQL (temporary
 * DATA_DIR; FLOWS_DIR a temporary copy of flows/welcome.yaml); the load runs in a worker thread.
 * Then, in the same run, the floor (see below), and the same follows against `node src/main.ts`
 * as child processes with WORKERS=1 and WORKERS=N, each on a fresh embedded database.
 * Knobs: BENCH_CONTACTS (default 2000), BENCH_CLIENTS (default 50), BENCH_PROCESSES (N, default
 * the number of CPUs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  benchCampaign, benchDir, countStatements, cpuMeter, knob, lineWebhookPoster, runWorker, startBenchService, startFloor, startServiceProcesses,
} from './support/bench.ts';
import { followEvent, lineWebhookBody } from './support/line-webhook.ts';
import { query, type Db } from '../src/db/client.ts';

interface LoadInput { url: string; secret: string; clients: number; contacts: number }
interface LoadOutput { ok: number; failed: number; seconds: number; startedAt: number }

async function runLoad(input: LoadInput): Promise<LoadOutput> {
  const poster = lineWebhookPoster(input.url, input.secret, input.clients);
  let next = 0;
  let ok = 0;
  let failed = 0;
  const startedAt = Date.now();
  const start = performance.now();
  await Promise.all(Array.from({ length: input.clients }, async () => {
    while (next < input.contacts) {
      const n = next++;
      const user = `U${String(n).padStart(32, '0')}`;
      const status = await poster.post(lineWebhookBody([followEvent(user, { webhookEventId: `bench-follow-${n}` })]));
      if (status === 200) ok++; else failed++;
    }
  }));
  poster.close();
  return { ok, failed, seconds: (performance.now() - start) / 1000, startedAt };
}

/** What one run of the follows gave: acknowledgements, completed runs, coupons and cards. */
interface Served {
  load: LoadOutput;
  flowsPerSecond: number;
  runsDone: number;
  lastCardSeconds: number;
  coupons: { n: number; contacts: number; sent: number };
  cards: number;
  texts: number;
  replies: number;
}

if (!isMainThread) {
  parentPort!.postMessage(await runLoad(workerData as LoadInput));
} else {
  const { sql } = await import('drizzle-orm');
  const { startLineStandin } = await import('./support/line-standin.ts');
  const { createDb, migrateDb } = await import('../src/db/client.ts');
  const { startEmbedded } = await import('../src/db/embedded.ts');

  const contacts = knob('BENCH_CONTACTS', 2000);
  const clients = knob('BENCH_CLIENTS', 50);
  const processCount = knob('BENCH_PROCESSES', os.cpus().length);
  const secret = 'bench-flows-line-secret';
  const token = 'bench-flows-line-token';
  const welcome = fs.readFileSync(path.resolve('flows/welcome.yaml'), 'utf8');
  const lineEnv = { PUBLIC_BASE_URL: 'https://coupons.example.com', LINE_CHANNEL_SECRET: secret, LINE_CHANNEL_ACCESS_TOKEN: token };

  const dir = benchDir('flows');
  fs.writeFileSync(path.join(dir.flowsDir, 'welcome.yaml'), welcome);

  const standin = await startLineStandin({ accessToken: token });
  let cardTimes: number[] = [];
  let texts = 0;
  let replies = 0;
  standin.onDelivered((req) => {
    const messages = (req.body as { messages?: Array<{ type: string }> }).messages ?? [];
    if (messages.some((m) => m.type === 'flex')) cardTimes.push(Date.now());
    if (messages.some((m) => m.type === 'text')) texts++;
    if (req.kind === 'reply') replies++;
  });

  /** The welcome flow's campaign, with a pool: a fixed serial × N is a counter, one row whatever N is. */
  const prepareCampaign = async (ctx: Parameters<typeof benchCampaign>[0]) => {
    const campaign = await benchCampaign(ctx, { name: 'Welcome 10%', slug: 'welcome-10' });
    await query(ctx.db, sql`INSERT INTO fixed_serials (campaign_id, code, quantity) VALUES (${campaign.id}, 'WELCOME10', ${contacts + 1000})`);
  };

  /** Sends the follows to `url`, waits for every card at the stand-in, and reads what the database holds. */
  const serve = async (url: string, db: Db): Promise<Served> => {
    cardTimes = [];
    texts = 0;
    replies = 0;
    const load = await runWorker<LoadInput, LoadOutput>(new URL(import.meta.url), { url, secret, clients, contacts });
    await standin.waitFor(() => cardTimes.length >= load.ok, 300_000, 'every coupon card');
    await standin.waitFor(() => texts >= load.ok, 60_000, 'every welcome text');
    const lastCard = Math.max(...cardTimes);
    const runs = (await query(db, sql`SELECT count(*)::int AS done,
        extract(epoch FROM max(r.ended_at) - (SELECT min(received_at) FROM inbound_events))::float AS span
      FROM flow_runs r WHERE r.status = 'done' AND r.start_flow_id = 'welcome'`)).rows[0] as { done: number; span: number };
    const countCoupons = async () => (await query(db, sql`SELECT count(*)::int AS n, count(DISTINCT contact_id)::int AS contacts,
      count(*) FILTER (WHERE status = 'sent')::int AS sent FROM coupons`)).rows[0] as Served['coupons'];
    // The stand-in has the last cards a moment before their outcomes commit.
    let coupons = await countCoupons();
    for (let i = 0; i < 100 && coupons.sent < load.ok; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      coupons = await countCoupons();
    }
    return {
      load, flowsPerSecond: runs.done / runs.span, runsDone: runs.done, lastCardSeconds: (lastCard - load.startedAt) / 1000,
      coupons, cards: cardTimes.length, texts, replies,
    };
  };
  const mismatch = (r: Served) => r.load.failed > 0 || r.texts !== r.load.ok || r.coupons.sent !== r.load.ok || r.runsDone !== r.load.ok
    || r.coupons.n !== r.load.ok || r.coupons.contacts !== r.load.ok || r.cards !== r.load.ok;

  const stops: Array<() => unknown> = [dir.remove, () => standin.close()];
  const statements = await countStatements();
  try {
    const service = await startBenchService(dir, {
      env: { ...lineEnv, LINE_API_BASE_URL: standin.url },
      workers: true,
      logLevel: process.env.BENCH_LOG_LEVEL ?? 'silent',
    });
    stops.unshift(() => service.stop());
    const db = service.ctx.db;
    await prepareCampaign(service.ctx);
    const registry = service.ctx.flows!;
    await registry.reload();
    if (!registry.get('welcome')) throw new Error('the welcome flow did not load');

    console.log(`flows benchmark: ${contacts} follows from ${clients} connections, ${os.cpus().length} CPU(s), Node ${process.version}`);
    const cpu = cpuMeter(service.database ? path.join(dir.dir, 'pg') : null);
    statements.reset();
    const ours = await serve(`${service.url}/webhooks/line`, db);
    const { load } = ours;
    console.log(`  webhooks: ${load.ok} acknowledged (${load.failed} failed) in ${load.seconds.toFixed(2)} s = ${(load.ok / load.seconds).toFixed(0)} webhooks/s`);
    console.log(`  flows: ${ours.runsDone} welcome runs completed in ${(ours.runsDone / ours.flowsPerSecond).toFixed(2)} s from the first stored webhook = ${ours.flowsPerSecond.toFixed(0)} flows/s`);
    console.log(`  delivery: ${ours.cards} coupon cards and ${ours.texts} welcome texts (${ours.replies} as replies) reached the stand-in; last card ${ours.lastCardSeconds.toFixed(2)} s after the first webhook was sent`);
    const st = statements.read();
    const words = Object.entries(st.byWord).sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w} ${(n / load.ok).toFixed(1)}`).join(', ');
    console.log(`  statements (round trips) per follow: ${(st.total / load.ok).toFixed(1)} (${words}); pg-boss ${(st.jobs / load.ok).toFixed(1)}`);
    if (process.env.BENCH_STATEMENTS) for (const [text, n] of statements.top(40)) console.log(`    ${(n / load.ok).toFixed(2).padStart(6)}  ${text}`);
    const used = cpu.read();
    console.log(`  CPU per follow: PostgreSQL ${(used.databaseMs / load.ok).toFixed(2)} ms, this process ${(used.processMs / load.ok).toFixed(2)} ms (service, stand-in LINE and load generator)`);
    console.log(`  coupons: ${ours.coupons.n} issued to ${ours.coupons.contacts} contacts, ${ours.coupons.sent} marked sent`);

    // The floor, on the same database with the same pool size, with the same follow webhooks.
    const floorServer = await startFloor(service.database!.url, secret, db.$client.options.max ?? 20);
    stops.unshift(() => floorServer.close());
    const floor = await runWorker<LoadInput, LoadOutput>(new URL(import.meta.url), { url: floorServer.url, secret, clients, contacts });
    const floorRps = floor.ok / floor.seconds;
    console.log(`  floor (express + @line/bot-sdk middleware + one INSERT per event): ${floorRps.toFixed(0)} req/s (${await floorServer.stored()} stored)`);
    console.log(`  ratios: webhooks acknowledged ${(load.ok / load.seconds / floorRps).toFixed(2)}× the floor; welcome flows completed ${(ours.flowsPerSecond / floorRps).toFixed(2)}× the floor (target ≥ 0.25)`);
    // A run's end is stamped when its transaction starts; its commit comes a batch later. The
    // customer's side has no such slack: the first webhook sent to the last card at "LINE".
    const endToEnd = load.ok / ours.lastCardSeconds;
    console.log(`  end to end (first webhook sent → last card at the stand-in LINE): ${endToEnd.toFixed(0)} follows/s = ${(endToEnd / floorRps).toFixed(2)}× the floor`);
    let bad = mismatch(ours);

    // --- 1 vs N service processes, each run as `npm start` runs it (child processes), on a fresh
    // embedded database prepared (migrated, the campaign in) before the service starts.
    while (stops.length > 2) await stops.shift()!();
    const runs: Array<{ processes: number; served: Served }> = [];
    for (const processes of processCount > 1 ? [1, processCount] : [1]) {
      const pgDir = benchDir(`flows-pg${processes}`);
      const database = await startEmbedded({ dataDir: pgDir.dir });
      const childDb = createDb(database.url, 4);
      try {
        await migrateDb(childDb);
        await prepareCampaign({ db: childDb, clock: () => new Date(), config: { DEFAULT_LOCALE: 'en', TZ_DEFAULT: 'UTC' } });
        const started = await startServiceProcesses(processes, { ...lineEnv, LINE_API_BASE_URL: standin.url, DATABASE_URL: database.url },
          { flows: { 'welcome.yaml': welcome } });
        try {
          console.log(`\n[node src/main.ts, WORKERS=${processes}] ${contacts} follows …`);
          const served = await serve(`${started.url}/webhooks/line`, childDb);
          console.log(`  ${served.load.ok} acknowledged at ${(served.load.ok / served.load.seconds).toFixed(0)}/s; ${served.flowsPerSecond.toFixed(0)} flows/s; last card ${served.lastCardSeconds.toFixed(2)} s; ${served.coupons.n} coupons to ${served.coupons.contacts} contacts, ${served.cards} cards`);
          if (mismatch(served)) bad = true;
          runs.push({ processes, served });
        } finally {
          await started.stop();
        }
      } finally {
        await childDb.$client.end();
        await database.stop();
        pgDir.remove();
      }
    }
    console.log(`\n${'processes'.padEnd(10)} ${'webhooks/s'.padStart(11)} ${'flows/s'.padStart(8)} ${'last card s'.padStart(12)} ${'flows ÷ floor'.padStart(14)}`);
    for (const r of runs) {
      const x = r.served;
      console.log(`${String(r.processes).padEnd(10)} ${(x.load.ok / x.load.seconds).toFixed(0).padStart(11)} ${x.flowsPerSecond.toFixed(0).padStart(8)} ${x.lastCardSeconds.toFixed(2).padStart(12)} ${(x.flowsPerSecond / floorRps).toFixed(2).padStart(14)}`);
    }
    if (runs.length === 2) {
      const [one, n] = runs as [typeof runs[number], typeof runs[number]];
      console.log(`${n.processes} processes ÷ 1: flows ${(n.served.flowsPerSecond / one.served.flowsPerSecond).toFixed(2)}× (${os.cpus().length} CPU(s), the load generator, the stand-in LINE and PostgreSQL on the same machine)`);
    }
    if (bad) {
      console.log('MISMATCH: every acknowledged follow should give exactly one completed run, one coupon and one card');
      process.exitCode = 1;
    }
  } finally {
    for (const stop of stops) await stop();
  }
}
