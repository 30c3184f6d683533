/**
 * npm run bench:webhook — signed single-event LINE webhooks from 100 keep-alive connections for
 * 20 s, against our service and against "the floor": a bare express app with @line/bot-sdk's
 * `middleware` that stores each event with one `INSERT … ON CONFLICT DO NOTHING` and answers 200.
 * Prints acknowledged requests per second and p50/p99 for both, then waits until every event our
 * service acknowledged has been processed by the inbound worker and checks the count.
 *
 * Both run in this process on one fresh embedded PostgreSQL (temporary DATA_DIR), with the same
 * pool size; the load runs in a worker thread so it does not share the servers' event loop.
 * LINE's API is a local stand-in (profile lookups, any pushes).
 *
 * Then the same flood against the service as an operator runs it, `node src/main.ts` as a child
 * process on its own fresh embedded PostgreSQL, once with WORKERS=1 and once with WORKERS=N (N
 * service processes sharing the port and the database): acknowledged req/s, p99, processed
 * events/s and backlog drain time side by side.
 * Knobs: BENCH_SECONDS (default 20), BENCH_CLIENTS (default 100), BENCH_USERS (default 1000),
 * BENCH_PROCESSES (N, default the number of CPUs).
 */
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { benchDir, knob, latencyPercentiles, lineWebhookPoster, runWorker, startBenchService, startFloor, startServiceProcesses } from './support/bench.ts';
import { followEvent, lineWebhookBody, textEvent } from './support/line-webhook.ts';
import { createDb, query, type Db } from '../src/db/client.ts';

interface LoadInput { url: string; secret: string; clients: number; seconds: number; users: number; prefix: string }
interface LoadOutput { latencies: number[]; ok: number; failed: number; seconds: number; statuses: Record<string, number> }

async function runLoad(input: LoadInput): Promise<LoadOutput> {
  const poster = lineWebhookPoster(input.url, input.secret, input.clients);
  const users = Array.from({ length: input.users }, (_, i) => `U${input.prefix}${String(i).padStart(32 - input.prefix.length, '0')}`);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let seq = 0;
  const start = performance.now();
  const end = start + input.seconds * 1000;
  await Promise.all(Array.from({ length: input.clients }, async () => {
    while (performance.now() < end) {
      const n = seq++;
      const user = users[n % users.length]!;
      const id = `${input.prefix}-${n}`;
      // Each user's first event is a follow, then text messages: what a new LINE friend sends.
      const event = n < users.length ? followEvent(user, { webhookEventId: id }) : textEvent(user, `hello ${n}`, { webhookEventId: id });
      const body = lineWebhookBody([event]);
      const t0 = performance.now();
      const status = await poster.post(body);
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200) ok++; else failed++;
    }
  }));
  poster.close();
  return { latencies, ok, failed, seconds: (performance.now() - start) / 1000, statuses };
}

interface Drained {
  drainSeconds: number;
  counts: { stored: number; processed: number; once: number; span: number };
  contacts: number;
}

/** Waits until every stored event is processed; answers how long that took and what was done. */
async function drain(db: Db): Promise<Drained> {
  const acknowledgedAt = Date.now();
  let open = Infinity;
  while (open > 0) {
    const r = await query(db, sql`SELECT count(*)::int AS n FROM inbound_events WHERE processed_at IS NULL`);
    open = (r.rows[0] as { n: number }).n;
    if (open > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const drainSeconds = (Date.now() - acknowledgedAt) / 1000;
  const counts = (await query(db, sql`SELECT count(*)::int AS stored, count(processed_at)::int AS processed,
    count(*) FILTER (WHERE attempts = 1 AND last_error IS NULL)::int AS once,
    extract(epoch FROM max(processed_at) - min(received_at))::float AS span FROM inbound_events`)).rows[0] as Drained['counts'];
  const contacts = (await query(db, sql`SELECT count(*)::int AS n FROM contacts`)).rows[0] as { n: number };
  return { drainSeconds, counts, contacts: contacts.n };
}

if (!isMainThread) {
  parentPort!.postMessage(await runLoad(workerData as LoadInput));
} else {
  const { startEmbedded } = await import('../src/db/embedded.ts');
  const { startLineStandin } = await import('./support/line-standin.ts');

  const seconds = knob('BENCH_SECONDS', 20);
  const clients = knob('BENCH_CLIENTS', 100);
  const users = knob('BENCH_USERS', 1000);
  const processCount = knob('BENCH_PROCESSES', os.cpus().length);
  const secret = 'bench-line-channel-secret';

  const dir = benchDir('webhook');
  const database = await startEmbedded({ dataDir: path.join(dir.dir, 'pg') });
  const standin = await startLineStandin({ accessToken: 'bench-line-token' });
  const stops: Array<() => unknown> = [() => database.stop(), dir.remove];

  const load = (url: string, prefix: string) =>
    runWorker<LoadInput, LoadOutput>(new URL(import.meta.url), { url, secret, clients, seconds, users, prefix });
  const summary = (r: LoadOutput) => ({ rps: r.ok / r.seconds, ...latencyPercentiles(r.latencies), ok: r.ok, failed: r.failed, statuses: r.statuses });

  try {
    console.log(`webhook benchmark: ${clients} connections, ${seconds} s each, ${users} users, ${os.cpus().length} CPU(s), Node ${process.version}`);

    // --- our service: verify, store (batched), acknowledge; the inbound worker processes alongside.
    const service = await startBenchService(dir, {
      env: {
        DATABASE_URL: database.url, LINE_CHANNEL_SECRET: secret, LINE_CHANNEL_ACCESS_TOKEN: 'bench-line-token', LINE_API_BASE_URL: standin.url,
        INBOUND_WORKER: process.env.BENCH_INBOUND ?? 'on',
      },
      workers: true,
    });
    stops.unshift(() => service.stop());
    console.log('\n[chatcoupon] POST /webhooks/line …');
    const ours = summary(await load(`${service.url}/webhooks/line`, 'c'));
    const db = service.ctx.db;
    if (service.config.INBOUND_WORKER === 'off') service.inbound.start();
    const { drainSeconds, counts, contacts } = await drain(db);
    console.log(`  acknowledged ${ours.ok} (${ours.failed} failed), stored ${counts.stored}, processed ${counts.processed} (each once: ${counts.once}), contacts ${contacts}`);
    console.log(`  backlog drained ${drainSeconds.toFixed(1)} s after the load; processing ${(counts.processed / counts.span).toFixed(0)} events/s overall`);

    // --- the floor: the SDK's middleware and one INSERT per event.
    const floorServer = await startFloor(database.url, secret, db.$client.options.max);
    stops.unshift(() => floorServer.close());
    console.log('\n[floor] express + @line/bot-sdk middleware + one INSERT per event …');
    const floor = summary(await load(floorServer.url, 'f'));
    console.log(`  acknowledged ${floor.ok} (${floor.failed} failed), stored ${await floorServer.stored()}`);

    const row = (name: string, s: ReturnType<typeof summary>) =>
      `${name.padEnd(12)} ${s.rps.toFixed(0).padStart(8)} ${s.p50.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)}`;
    console.log(`\n${'server'.padEnd(12)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
    console.log(row('chatcoupon', ours));
    console.log(row('floor', floor));
    const ratio = ours.rps / floor.rps;
    console.log(`\nratio: ${ratio.toFixed(2)}× the floor (target ≥ 0.80); chatcoupon p99 ${ours.p99.toFixed(1)} ms (target < 50)`);
    const processing = counts.processed / counts.span;
    console.log(`processing: ${processing.toFixed(0)} events/s = ${(processing / floor.rps).toFixed(2)}× the floor's requests/s (target ≥ 0.75); backlog drained ${drainSeconds.toFixed(1)} s after a ${seconds} s flood (target ≤ 10)`);
    let lost = counts.stored !== ours.ok || counts.processed !== ours.ok || counts.once !== ours.ok;
    if (lost) console.log(`MISMATCH: ${ours.ok} acknowledged, ${counts.stored} stored, ${counts.processed} processed, ${counts.once} processed once`);
    let failed = ours.failed;

    // --- 1 vs N service processes, each run as `npm start` runs it (child processes, own database).
    while (stops.length > 0) await stops.shift()!();
    const runs: Array<{ processes: number; load: ReturnType<typeof summary>; drained: Drained }> = [];
    for (const processes of processCount > 1 ? [1, processCount] : [1]) {
      const started = await startServiceProcesses(processes, {
        LINE_CHANNEL_SECRET: secret, LINE_CHANNEL_ACCESS_TOKEN: 'bench-line-token', LINE_API_BASE_URL: standin.url,
      });
      const childDb = createDb(started.databaseUrl, 2);
      try {
        console.log(`\n[node src/main.ts, WORKERS=${processes}] POST /webhooks/line …`);
        const flood = summary(await load(`${started.url}/webhooks/line`, `p${processes}`));
        const drained = await drain(childDb);
        const c = drained.counts;
        console.log(`  acknowledged ${flood.ok} (${flood.failed} failed), stored ${c.stored}, processed ${c.processed} (each once: ${c.once}), contacts ${drained.contacts}`);
        console.log(`  backlog drained ${drained.drainSeconds.toFixed(1)} s after the load; processing ${(c.processed / c.span).toFixed(0)} events/s overall`);
        if (c.stored !== flood.ok || c.processed !== flood.ok || c.once !== flood.ok) {
          lost = true;
          console.log(`MISMATCH: ${flood.ok} acknowledged, ${c.stored} stored, ${c.processed} processed, ${c.once} processed once`);
        }
        failed += flood.failed;
        runs.push({ processes, load: flood, drained });
      } finally {
        await childDb.$client.end();
        await started.stop();
      }
    }
    console.log(`\n${'processes'.padEnd(10)} ${'req/s'.padStart(8)} ${'p99 ms'.padStart(8)} ${'processed/s'.padStart(12)} ${'drain s'.padStart(8)}`);
    for (const r of runs) {
      const c = r.drained.counts;
      console.log(`${String(r.processes).padEnd(10)} ${r.load.rps.toFixed(0).padStart(8)} ${r.load.p99.toFixed(1).padStart(8)} ${(c.processed / c.span).toFixed(0).padStart(12)} ${r.drained.drainSeconds.toFixed(1).padStart(8)}`);
    }
    if (runs.length === 2) {
      const [one, n] = runs as [typeof runs[number], typeof runs[number]];
      const rate = (r: typeof one) => r.drained.counts.processed / r.drained.counts.span;
      console.log(`${n.processes} processes ÷ 1: acknowledged ${(n.load.rps / one.load.rps).toFixed(2)}×, processed ${(rate(n) / rate(one)).toFixed(2)}× (${os.cpus().length} CPU(s), the load generator and PostgreSQL on the same machine)`);
    }
    if (lost || failed > 0) process.exitCode = 1;
  } finally {
    for (const stop of stops) await stop();
    await standin.close();
  }
}
