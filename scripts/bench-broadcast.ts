/**
 * npm run bench:broadcast — a coupon broadcast to 100,000 LINE contacts through a stand-in LINE
 * that answers at once. Prints cards per second, time to done, duplicates (must be 0), the
 * service's peak RSS, and how long a customer chatting during the broadcast waits for a reply
 * (p50/p99 from webhook to LINE receiving the reply).
 *
 * In the same run, the floor: the same stand-in receiving 100,000 pre-built pushes from a plain
 * loop with the delivery worker's concurrency and one UPDATE per push; then the ratio.
 *
 * The service runs as `npm start` runs it (`node src/main.ts`, one process) on a fresh embedded
 * PostgreSQL (or DATABASE_URL); its peak RSS is the kernel's (VmHWM). The stand-in LINE runs in
 * another child process, the chatting customer, the progress polling and the floor in this one:
 * none of them counts in the service's memory or event loop.
 * Knobs: BENCH_CONTACTS (default 100000), BENCH_RATE (cards/s asked of the broadcast, default
 * 10000: the most the API allows, to measure capacity), BENCH_CONCURRENCY (floor, default 50).
 */
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import { query } from '../src/db/client.ts';

interface StandinStats { pushes: number; perUserMax: number; duplicates: number; users: number; replies: Array<[string, number]> }

if (process.argv[2] === '--standin') {
  const { startLineStandin } = await import('./support/line-standin.ts');
  const standin = await startLineStandin({ accessToken: 'bench-line-token' });
  const replies = new Map<string, number>();
  standin.onDelivered((req) => {
    if (req.kind === 'reply') replies.set(String((req.body as { replyToken?: string }).replyToken), Date.now());
  });
  process.on('message', (msg: string) => {
    if (msg === 'reset') {
      standin.requests.length = 0;
      standin.delivered.length = 0;
      replies.clear();
      process.send!('reset-done');
    } else if (msg === 'stats') {
      const perUser = new Map<string, number>();
      let pushes = 0;
      for (const r of standin.delivered) {
        if (r.kind !== 'push') continue;
        pushes++;
        const to = (r.body as { to: string }).to;
        perUser.set(to, (perUser.get(to) ?? 0) + 1);
      }
      let duplicates = 0;
      let perUserMax = 0;
      for (const n of perUser.values()) {
        duplicates += n - 1;
        perUserMax = Math.max(perUserMax, n);
      }
      const stats: StandinStats = { pushes, perUserMax, duplicates, users: perUser.size, replies: [...replies.entries()] };
      process.send!(stats);
    } else if (msg === 'stop') {
      void standin.close().then(() => process.exit(0));
    }
  });
  process.send!({ url: standin.url });
} else {
  await main();
}

function ask<T>(child: ChildProcess, msg: string, match: (m: unknown) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (!match(m)) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function main(): Promise<void> {
  const { sql } = await import('drizzle-orm');
  const { knob, latencyPercentiles, lineWebhookPoster, processMemory, startServiceProcesses } = await import('./support/bench.ts');
  const { createDb } = await import('../src/db/client.ts');
  const { lineWebhookBody, textEvent } = await import('./support/line-webhook.ts');
  const { renderLine } = await import('../adapters/line/index.ts');
  const contacts = knob('BENCH_CONTACTS', 100_000);
  const rate = knob('BENCH_RATE', 10_000);
  const concurrency = knob('BENCH_CONCURRENCY', 50);
  const secret = 'bench-line-secret';

  const standinProcess = fork(new URL(import.meta.url), ['--standin'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url: standinUrl } = await new Promise<{ url: string }>((resolve) => standinProcess.once('message', (m) => resolve(m as { url: string })));
  // The service as `npm start` runs it, in its own process: its memory and CPU are its own.
  const service = await startServiceProcesses(1, {
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    LINE_CHANNEL_SECRET: secret, LINE_CHANNEL_ACCESS_TOKEN: 'bench-line-token', LINE_API_BASE_URL: standinUrl,
    PUBLIC_BASE_URL: 'https://coupons.example',
  });
  const db = createDb(service.databaseUrl, 20);
  try {
    console.log(`preparing ${contacts.toLocaleString('en')} LINE contacts on ${os.cpus().length} CPU(s) (load average ${os.loadavg()[0]!.toFixed(1)})…`);
    await query(db, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token, tags)
      SELECT 'ctc_b' || g, 'line', 'U' || md5('bench' || g), md5('me' || g), ARRAY['bench'] FROM generate_series(1, ${contacts}) g`);
    await query(db, sql`VACUUM ANALYZE contacts`);
    const campaignRes = await fetch(`${service.url}/api/v1/campaigns`, {
      method: 'POST', headers: { ...service.admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Broadcast bench', slug: `broadcast-bench-${Date.now()}`, reward: { type: 'percent', value: 10 }, expiry: { mode: 'fromSend', days: 30 },
        sendStart: new Date(Date.now() - 3600_000).toISOString(), sendEnd: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    });
    if (campaignRes.status !== 201) throw new Error(`campaign not created: ${campaignRes.status} ${await campaignRes.text()}`);
    const campaign = (await campaignRes.json()) as { id: string };
    await query(db, sql`INSERT INTO fixed_serials (campaign_id, code, quantity) VALUES (${campaign.id}, 'BENCH10', ${contacts * 2})`);

    // --- The broadcast, with a customer chatting meanwhile.
    const startRss = processMemory(service.pid).rss;
    const poster = lineWebhookPoster(`${service.url}/webhooks/line`, secret, 4);
    const chatSent = new Map<string, number>();
    let chatting = true;
    const chat = (async () => {
      let n = 0;
      while (chatting) {
        const user = `U${crypto.createHash('md5').update(`chat${n++ % 20}`).digest('hex')}`;
        const replyToken = crypto.randomBytes(16).toString('hex');
        chatSent.set(replyToken, Date.now());
        await poster.post(lineWebhookBody([textEvent(user, 'my coupons', { replyToken })]));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    console.log(`broadcast: ${contacts.toLocaleString('en')} recipients, ratePerSecond ${rate}…`);
    const start = performance.now();
    const created = await fetch(`${service.url}/api/v1/broadcasts`, {
      method: 'POST', headers: { ...service.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', audience: { tagsAll: ['bench'] }, campaignId: campaign.id, text: 'A gift for you', ratePerSecond: rate }),
    });
    if (created.status !== 201) throw new Error(`broadcast not created: ${created.status} ${await created.text()}`);
    const id = ((await created.json()) as { id: string }).id;
    let view: { status: string; counts: Record<string, number> } = { status: 'running', counts: {} };
    let lastPrint = 0;
    while (view.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const res = await fetch(`${service.url}/api/v1/broadcasts/${id}`, { headers: service.admin });
      view = (await res.json()) as typeof view;
      const elapsed = (performance.now() - start) / 1000;
      if (elapsed - lastPrint >= 5) {
        lastPrint = elapsed;
        console.log(`  ${elapsed.toFixed(0).padStart(4)} s: sent ${view.counts.sent}, pending ${view.counts.pending}`);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    chatting = false;
    await chat;
    // Replies still on their way get a moment.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const memory = processMemory(service.pid);
    poster.close();
    const stats = await ask<StandinStats>(standinProcess, 'stats', (m) => typeof m === 'object' && m !== null && 'pushes' in m);
    const replyAt = new Map(stats.replies);
    const waits: number[] = [];
    let unanswered = 0;
    for (const [token, sentAt] of chatSent) {
      const at = replyAt.get(token);
      if (at === undefined) unanswered++;
      else waits.push(at - sentAt);
    }
    const { p50, p99 } = latencyPercentiles(waits);
    const cardsPerSecond = view.counts.sent! / seconds;
    const dupCoupons = await query(db, sql`SELECT count(*) - count(DISTINCT contact_id) AS n FROM coupons WHERE broadcast_id = ${id}`);
    // --- The floor, after the broadcast (its 100,000 pre-built bodies must not count in the
    // service's peak RSS): pre-built pushes, a plain loop, one UPDATE per push.
    await query(db, sql`CREATE TABLE bench_floor (id int PRIMARY KEY, status text NOT NULL)`);
    await query(db, sql`INSERT INTO bench_floor SELECT g, 'pending' FROM generate_series(1, ${contacts}) g`);
    const card = renderLine({
      type: 'coupon', intro: 'A gift for you',
      card: {
        couponId: 'cpn_x', campaignName: 'Broadcast bench', rewardText: '10% off', deadlineText: 'Use by 2027-01-01 00:00', pageUrl: 'https://coupons.example/c/token',
        colors: { background: '#ffffff', button: '#06c755', buttonText: '#ffffff' }, buttonLabel: 'Open coupon', altText: 'Coupon: Broadcast bench - 10% off',
      },
    });
    const bodies = Array.from({ length: contacts }, (_, i) => JSON.stringify({ to: `U${crypto.createHash('md5').update(`floor${i}`).digest('hex')}`, messages: card }));
    console.log(`floor: ${contacts.toLocaleString('en')} pre-built pushes, ${concurrency} at a time, one UPDATE each…`);
    let next = 0;
    const floorStart = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const res = await fetch(`${standinUrl}/v2/bot/message/push`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer bench-line-token', 'x-line-retry-key': crypto.randomUUID() },
          body: bodies[i]!,
        });
        await res.arrayBuffer();
        await db.$client.query(`UPDATE bench_floor SET status = 'sent' WHERE id = $1`, [i + 1]);
      }
    }));
    const floorSeconds = (performance.now() - floorStart) / 1000;
    const floorRate = contacts / floorSeconds;
    bodies.length = 0;
    await query(db, sql`DROP TABLE bench_floor`);
    console.log(`floor: ${floorRate.toFixed(0)} pushes/s (${floorSeconds.toFixed(1)} s)`);
    await ask(standinProcess, 'reset', (m) => m === 'reset-done');

    console.log(`\nbroadcast ${view.status}: ${JSON.stringify(view.counts)}`);
    console.log(`time to done: ${seconds.toFixed(1)} s; cards per second: ${cardsPerSecond.toFixed(0)}`);
    console.log(`duplicates: ${stats.duplicates} at LINE (most pushes to one user: ${stats.perUserMax}), ${Number((dupCoupons.rows[0] as { n: number | string }).n)} extra coupons`);
    console.log(`LINE received ${stats.pushes} pushes for ${stats.users} users`);
    console.log(`peak RSS of the service process: ${(memory.peak / 1e6).toFixed(0)} MB (${(startRss / 1e6).toFixed(0)} MB before the broadcast, ${(memory.rss / 1e6).toFixed(0)} MB after it)`);
    console.log(`chatting customer's reply during the broadcast: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms over ${waits.length} replies (${unanswered} unanswered)`);
    console.log(`floor: ${floorRate.toFixed(0)} pushes/s; ratio ${(cardsPerSecond / floorRate).toFixed(2)}× (aim ≥ 0.5×)`);
    console.log('The machine is shared with other work: figures are noisy.');
    if (stats.duplicates > 0 || view.status !== 'done') process.exitCode = 1;
  } finally {
    await db.$client.end();
    await service.stop();
    standinProcess.send('stop');
  }
}
