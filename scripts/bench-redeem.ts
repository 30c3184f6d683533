/**
 * npm run bench:redeem — 64 concurrent clients redeeming over HTTP from a 100,000-serial pool.
 * Prints redeems per second for every second of the run (a claim whose plan walks past taken
 * serials shows up as a falling rate), p50/p99 latency, and checks that no serial went out twice.
 *
 * The service runs in this process on a fresh embedded PostgreSQL (or DATABASE_URL when set; the
 * bench then creates its rows in that database); the load runs in a worker thread so the two do
 * not share one event loop.
 * Then the same again on a second campaign with two webhook endpoints subscribed to
 * `coupon.redeemed` (one answering after 2 s) and the webhook worker running, and prints how much
 * the redemption rate dropped; then once more without endpoints, so drift on a busy machine shows.
 * A second run redeems through the customer's own path: the page's form post, answered with the
 * rendered page and its barcode.
 * Knobs: BENCH_SERIALS (default 100000, per run), BENCH_CLIENTS (default 64), BENCH_WEBHOOKS=0 skips the second run.
 */
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { benchCampaign, benchDir, cpuMeter, keepAlivePoster, knob, latencyPercentiles, runWorker, startBenchService } from './support/bench.ts';
import { query } from '../src/db/client.ts';

interface LoadInput { url: string; tokens: string[]; clients: number; form: boolean }
interface LoadOutput { perSecond: number[]; latencies: number[]; ok: number; failed: number; seconds: number }

async function runLoad({ url, tokens, clients, form }: LoadInput): Promise<LoadOutput> {
  const poster = keepAlivePoster(url, clients);
  const latencies: number[] = [];
  const perSecond: number[] = [];
  let ok = 0;
  let failed = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!;
      const t0 = performance.now();
      // The customer's own path is the page's form post, answered with the page and its barcode.
      const status = form
        ? await poster.post(`/c/${token}/redeem`, { Accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, '')
        : await poster.post(`/c/${token}/redeem`, { Accept: 'application/json' });
      const t1 = performance.now();
      latencies.push(t1 - t0);
      const second = Math.floor((t1 - start) / 1000);
      perSecond[second] = (perSecond[second] ?? 0) + 1;
      if (status === 200) ok++; else failed++;
    }
  }));
  poster.close();
  return { perSecond: Array.from(perSecond, (n) => n ?? 0), latencies, ok, failed, seconds: (performance.now() - start) / 1000 };
}

if (!isMainThread) {
  parentPort!.postMessage(await runLoad(workerData as LoadInput));
} else {
  const { sql } = await import('drizzle-orm');
  const { WebhookWorker } = await import('../src/webhooks/webhook-worker.ts');
  const { createEndpoint, deleteEndpoint } = await import('../src/webhooks/endpoints.ts');
  const serialsCount = knob('BENCH_SERIALS', 100_000);
  const clients = knob('BENCH_CLIENTS', 64);
  const withWebhooks = process.env.BENCH_WEBHOOKS !== '0';
  const dir = benchDir('redeem');
  const service = await startBenchService(dir, { env: { DATABASE_URL: process.env.DATABASE_URL }, workers: false });
  const receivers = withWebhooks ? await startReceivers() : null;
  let webhooks: InstanceType<typeof WebhookWorker> | null = null;
  try {
    const db = service.ctx.db;

    /** One campaign with `serialsCount` serials and as many sent coupons, redeemed over HTTP; prints the figures. */
    const phase = async (label: string, prefix: string, form = false): Promise<number> => {
      const campaign = await benchCampaign(service.ctx, { name: `Bench ${prefix}`, slug: `bench-${prefix}-${Date.now()}` });
      console.log(`\n== ${label}\npreparing ${serialsCount} serials, contacts and sent coupons…`);
      // Sent coupons, one per contact, created in bulk: the bench measures redemption, not issuing.
      await query(db, sql`INSERT INTO serials (campaign_id, code) SELECT ${campaign.id}, ${prefix} || lpad(g::text, 9, '0') FROM generate_series(1, ${serialsCount}) g`);
      await query(db, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token) SELECT 'ctc_' || ${prefix} || g, 'line', 'U' || ${prefix} || g, 'me_' || ${prefix} || g FROM generate_series(1, ${serialsCount}) g`);
      await query(db, sql`INSERT INTO contact_campaign_counters (campaign_id, contact_id, held) SELECT ${campaign.id}, 'ctc_' || ${prefix} || g, 1 FROM generate_series(1, ${serialsCount}) g`);
      await query(db, sql`INSERT INTO coupons (id, campaign_id, contact_id, token, status, delivery_status, source, issued_at, sent_at, expires_at)
        SELECT 'cpn_' || ${prefix} || g, ${campaign.id}, 'ctc_' || ${prefix} || g, 'tok_' || md5(${prefix} || g::text), 'sent', 'sent', 'api', now(), now(), now() + interval '30 days'
        FROM generate_series(1, ${serialsCount}) g`);
      await query(db, sql`ANALYZE`);
      const plan = await query(db, sql`EXPLAIN SELECT id FROM serials WHERE campaign_id = ${campaign.id} AND coupon_id IS NULL AND id > 0 ORDER BY campaign_id, id LIMIT 1 FOR UPDATE SKIP LOCKED`);
      console.log(`claim plan: ${plan.rows.map((r) => Object.values(r)[0]).join(' | ')}`);
      const tokens = (await query(db, sql`SELECT token FROM coupons WHERE campaign_id = ${campaign.id} ORDER BY random()`)).rows.map((r) => (r as { token: string }).token);

      console.log(`redeeming over HTTP with ${clients} clients on ${os.cpus().length} CPU(s)…`);
      const rssBefore = process.memoryUsage().rss;
      const cpu = cpuMeter(service.database ? path.join(dir.dir, 'pg') : null);
      const result = await runWorker<LoadInput, LoadOutput>(new URL(import.meta.url), { url: service.url, tokens, clients, form });
      const { p50, p99 } = latencyPercentiles(result.latencies);
      console.log('redeems per second, second by second:');
      console.log(result.perSecond.map((n, i) => `  s${String(i + 1).padStart(3)}: ${n}`).join('\n'));
      const full = result.perSecond.slice(0, -1); // the last second is partial
      const firstHalf = full.slice(0, Math.floor(full.length / 2));
      const secondHalf = full.slice(Math.floor(full.length / 2));
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const dup = await query(db, sql`SELECT count(*)::int AS redeemed, count(DISTINCT serial_code)::int AS distinct_codes FROM coupons WHERE campaign_id = ${campaign.id} AND serial_code IS NOT NULL`);
      const d = dup.rows[0] as { redeemed: number; distinct_codes: number };
      const rate = result.ok / result.seconds;
      console.log(`\nredeemed: ${result.ok} ok, ${result.failed} failed in ${result.seconds.toFixed(1)} s`);
      console.log(`throughput: ${rate.toFixed(0)} redeems/s (first half avg ${avg(firstHalf).toFixed(0)}/s, second half avg ${avg(secondHalf).toFixed(0)}/s)`);
      console.log(`latency: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
      console.log(`duplicate serials: ${d.redeemed - d.distinct_codes} (${d.redeemed} coupons redeemed, ${d.distinct_codes} distinct serials)`);
      console.log(`service RSS: ${(rssBefore / 1e6).toFixed(0)} MB before the load, ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB after`);
      const used = cpu.read();
      console.log(`CPU per redeem: PostgreSQL ${(used.databaseMs / result.ok).toFixed(2)} ms, this process ${(used.processMs / result.ok).toFixed(2)} ms (service, load generator${webhooks ? ', webhook worker and the endpoints' : ''})`);
      if (d.redeemed !== d.distinct_codes || result.failed > 0) process.exitCode = 1;
      return rate;
    };

    const plain = await phase('no webhook endpoints', 'b');
    const formRate = await phase('the customer\'s own path: the coupon page\'s form post, answered with the page and its barcode', 'f', true);
    console.log(`\nform post (page + barcode) ${formRate.toFixed(0)} redeems/s against JSON ${plain.toFixed(0)}/s: ${(formRate / plain).toFixed(2)}×`);
    if (receivers) {
      // Two endpoints subscribed to coupon.redeemed, one answering after 2 s; the webhook worker
      // runs beside the service as it does in production.
      const fast = await createEndpoint(service.ctx, { url: `${receivers.url}/fast`, events: ['coupon.redeemed'] });
      const slow = await createEndpoint(service.ctx, { url: `${receivers.url}/slow`, events: ['coupon.redeemed'] });
      webhooks = new WebhookWorker(service.ctx);
      webhooks.start();
      const hooked = await phase('two webhook endpoints on coupon.redeemed (one answers after 2 s)', 'w');
      const counts = await receivers.counts();
      const states = await query(db, sql`SELECT e.url, count(*) FILTER (WHERE d.status = 'pending')::int AS pending, count(*) FILTER (WHERE d.status = 'sent')::int AS sent
        FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id GROUP BY e.url ORDER BY e.url`);
      console.log(`\nwebhook deliveries when the load ended: received fast ${counts.fast}, slow ${counts.slow}; ${states.rows.map((r) => JSON.stringify(r)).join(', ')}`);
      await webhooks.stop();
      webhooks = null;
      await deleteEndpoint(service.ctx, fast.id);
      await deleteEndpoint(service.ctx, slow.id);
      // Again without endpoints, so drift on a shared machine shows: the comparison is against both.
      const plainAgain = await phase('no webhook endpoints, again', 'c');
      const base = (plain + plainAgain) / 2;
      const drop = (1 - hooked / base) * 100;
      console.log(`\nredemption rate with webhooks: ${hooked.toFixed(0)}/s against ${plain.toFixed(0)}/s and ${plainAgain.toFixed(0)}/s without (mean ${base.toFixed(0)}/s): `
        + `${drop >= 0 ? `${drop.toFixed(1)} % lower` : `${(-drop).toFixed(1)} % higher`}; goal: at most 10 % lower`);
    }
  } finally {
    await webhooks?.stop();
    await receivers?.stop();
    await service.stop();
    dir.remove();
  }
}

/** The shop's systems, in their own thread: `/fast` answers at once, `/slow` after 2 s. */
async function startReceivers(): Promise<{ url: string; counts(): Promise<{ fast: number; slow: number }>; stop(): Promise<void> }> {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(`
    const http = require('node:http');
    const { parentPort } = require('node:worker_threads');
    const counts = { fast: 0, slow: 0 };
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/slow') setTimeout(() => { counts.slow++; res.end('ok'); }, 2000);
        else { counts.fast++; res.end('ok'); }
      });
    });
    server.keepAliveTimeout = 65000;
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
    parentPort.on('message', (m) => {
      if (m === 'counts') parentPort.postMessage(counts);
      if (m === 'stop') { server.closeAllConnections(); server.close(() => process.exit(0)); }
    });`, { eval: true });
  const port = await new Promise<number>((resolve) => worker.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => new Promise((resolve) => {
      worker.once('message', resolve);
      worker.postMessage('counts');
    }),
    stop: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      await exited;
    },
  };
}
