/**
 * npm run chaos — a bad day against the real service, with real waiting, and what it saw.
 *
 * Starts stand-ins for LINE's Messaging API and for the seller inbox's callback URL, and the
 * service as a child process (`node src/main.ts`, embedded PostgreSQL in a temporary DATA_DIR,
 * a flow that gives a coupon), then in turn:
 *   1. LINE hangs for CHAOS_HANG_SECONDS (30): how long an inbox event and a known LINE contact's
 *      event wait (target < 2 s) while new LINE contacts' profile fetches hang;
 *   2. LINE answers 500 for CHAOS_OUTAGE_SECONDS (60) while CHAOS_CUSTOMERS (10) LINE customers
 *      ask for a coupon: afterwards each coupon reached its customer exactly once, none is void,
 *      and how long the backlog took to drain;
 *   3. a reply LINE accepts but never answers (timeout): not sent again as a push;
 *   4. kill -9 of the embedded PostgreSQL while /healthz, a webhook and a coupon page are polled
 *      every 100 ms: 503 with Retry-After meanwhile, never a 500, healthy again by itself;
 *   5. the service's whole log scanned for coupon tokens, reply tokens, secrets and message texts.
 * Prints one PASS/FAIL line per check with its figure and exits 1 on any FAIL. Not part of
 * `npm test` (it waits for real); a quick try: CHAOS_HANG_SECONDS=5 CHAOS_OUTAGE_SECONDS=10.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../src/db/embedded.ts';
import { signInboxBody } from '../adapters/inbox/inbound.ts';
import {
  chaosSettings, couponCardsPerUser, couponToken, findLeaks, formatCheck, formatCounts, judgeOutagePolls, repeatedRetryKeys,
  seconds, startInboxStandin, type ChaosSettings, type Check, type InboxStandin, type PollSample,
} from './support/chaos.ts';
import { startLineStandin, type LineStandin } from './support/line-standin.ts';
import { followEvent, newLineUserId, postLineWebhook, textEvent, type LineWebhookEvent } from './support/line-webhook.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let settings: ChaosSettings;
try {
  settings = chaosSettings(process.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

/** Unique words, so what the customers and the bot said can be looked for in the log. */
const marker = () => crypto.randomBytes(6).toString('hex');
const giftKeyword = `gift-${marker()}`;
const mineKeyword = `mine-${marker()}`;
/** A flow that answers with the coupon card alone, so the card is the reply. */
const cardKeyword = `card-${marker()}`;
const botText = `Here is your chaos gift ${marker()}`;
const campaignName = `Chaos gift ${marker()}`;
const secrets = {
  admin: crypto.randomBytes(24).toString('base64url'),
  lineSecret: crypto.randomBytes(16).toString('hex'),
  lineToken: crypto.randomBytes(24).toString('base64url'),
  inboxSecret: crypto.randomBytes(16).toString('hex'),
};
/** Everything that must never be in the log, gathered as the run goes. */
const mustNotLog: Array<{ kind: string; value: string }> = [
  { kind: 'admin token', value: secrets.admin }, { kind: 'LINE channel secret', value: secrets.lineSecret },
  { kind: 'LINE access token', value: secrets.lineToken }, { kind: 'inbox secret', value: secrets.inboxSecret },
  { kind: 'message text', value: botText }, { kind: 'message text', value: giftKeyword }, { kind: 'message text', value: mineKeyword },
  { kind: 'message text', value: cardKeyword },
];
const replyTokenOwners = new Map<string, string>();

const checks: Check[] = [];
function check(c: Check): void {
  checks.push(c);
  console.log(formatCheck(c));
}

// --- processes, and stopping them (also on Ctrl-C) ------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-chaos-'));
fs.chmodSync(dir, 0o755); // the embedded server may run as another user
const dataDir = path.join(dir, 'data');
const flowsDir = path.join(dir, 'flows');
fs.mkdirSync(flowsDir);
const logFile = path.join(dir, 'service.log');
const logStream = fs.createWriteStream(logFile);
let child: ChildProcess | null = null;
let childExit: Promise<void> = Promise.resolve();
let line: LineStandin | null = null;
let inbox: InboxStandin | null = null;
let pool: pg.Pool | null = null;

async function stopChild(): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const stopped = await Promise.race([childExit.then(() => true), sleep(30_000).then(() => false)]);
  if (!stopped && child.pid) {
    // It did not stop: end its whole group (the embedded PostgreSQL runs in it too).
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch { /* already gone */ }
    await childExit;
  }
}

let cleaning: Promise<void> | null = null;
function cleanup(keepLog: boolean): Promise<void> {
  cleaning ??= (async () => {
    await pool?.end().catch(() => undefined);
    await stopChild();
    await line?.close();
    await inbox?.close();
    await new Promise<void>((resolve) => logStream.end(() => resolve()));
    if (keepLog) {
      const kept = path.join(os.tmpdir(), `chatcoupon-chaos-${Date.now()}.log`);
      fs.copyFileSync(logFile, kept);
      console.log(`the service's log is kept in ${kept}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the service and the stand-ins …`);
    void cleanup(false).then(() => process.exit(130));
  });
}

// --- talking to the service ---------------------------------------------------------------------

let baseUrl = '';

async function api(method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${secrets.admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return true;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      console.log(`  (gave up waiting for ${what} after ${seconds(timeoutMs)})`);
      return false;
    }
    await sleep(50);
  }
}

async function lineWebhook(events: LineWebhookEvent[]): Promise<number> {
  try {
    return (await postLineWebhook(baseUrl, secrets.lineSecret, events)).status;
  } catch {
    return 0;
  }
}

/** A LINE text message from `userId`; its reply token is remembered as that user's. */
function lineText(userId: string, text: string): LineWebhookEvent {
  const replyToken = crypto.randomBytes(16).toString('hex');
  replyTokenOwners.set(replyToken, userId);
  mustNotLog.push({ kind: 'reply token', value: replyToken });
  return textEvent(userId, text, { replyToken });
}

function inboxEvent(contactId: string, text: string): { id: string; body: string } {
  const id = `evt-${crypto.randomUUID()}`;
  const body = JSON.stringify({
    id, type: 'message.created', conversation: { id: `conv-${contactId}` }, contact: { id: contactId, name: 'Chaos Customer' },
    message: { id: `m-${id}`, text }, createdAt: new Date().toISOString(),
  });
  return { id, body };
}

async function postInbox(body: string): Promise<number> {
  try {
    const res = await fetch(`${baseUrl}/webhooks/inbox`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-inbox-signature': signInboxBody(secrets.inboxSecret, body) }, body,
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** The embedded database, read to see which events were processed (port from its postmaster.pid). */
function database(): pg.Pool {
  if (pool) return pool;
  const pid = fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
  const password = fs.readFileSync(path.join(dataDir, 'pg-superuser-password'), 'utf8').trim();
  pool = new pg.Pool({ host: '127.0.0.1', port: Number(pid[3]), user: 'postgres', password, database: 'chatcoupon', max: 2 });
  pool.on('error', () => undefined); // connections the kill -9 breaks
  return pool;
}

async function processedCount(channel: string, eventKeys: string[]): Promise<number> {
  const r = await database().query('SELECT count(*)::int AS n FROM inbound_events WHERE channel = $1 AND event_key = ANY($2) AND processed_at IS NOT NULL',
    [channel, eventKeys]);
  return (r.rows[0] as { n: number }).n;
}

async function storedCount(channel: string, eventKeys: string[]): Promise<number> {
  const r = await database().query('SELECT count(*)::int AS n FROM inbound_events WHERE channel = $1 AND event_key = ANY($2)', [channel, eventKeys]);
  return (r.rows[0] as { n: number }).n;
}

async function pendingLineMessages(): Promise<number> {
  const r = await database().query(`SELECT count(*)::int AS n FROM outbox WHERE channel = 'line' AND status = 'pending'`);
  return (r.rows[0] as { n: number }).n;
}

interface RecordJson { userId: string; status: string; deliveryStatus: string; deliveryError: string | null }
async function records(campaignId: string): Promise<RecordJson[]> {
  return ((await api('GET', `/api/v1/campaigns/${campaignId}/records?limit=1000`)) as { records: RecordJson[] }).records;
}

interface PlatformStatus { channel: string; down: boolean; since: string | null; waiting: number }
async function lineStatus(): Promise<PlatformStatus | undefined> {
  return ((await api('GET', '/api/v1/status')) as { platforms: PlatformStatus[] }).platforms.find((p) => p.channel === 'line');
}

function cardsTo(users: string[]): Map<string, number> {
  const counts = couponCardsPerUser(line!.delivered, replyTokenOwners);
  return new Map(users.map((u) => [u, counts.get(u) ?? 0]));
}

// --- the run --------------------------------------------------------------------------------------

async function start(): Promise<string> {
  line = await startLineStandin({ accessToken: secrets.lineToken });
  inbox = await startInboxStandin();
  fs.writeFileSync(path.join(flowsDir, 'chaos-gift.yaml'), [
    'id: chaos-gift', 'name: Chaos gift', 'trigger:', `  keyword: [${giftKeyword}]`, 'steps:', `  - say: "${botText}"`, '  - coupon: chaos-gift', '',
  ].join('\n'));
  fs.writeFileSync(path.join(flowsDir, 'chaos-card.yaml'), [
    'id: chaos-card', 'name: Chaos card alone', 'trigger:', `  keyword: [${cardKeyword}]`, 'steps:', '  - coupon: chaos-gift', '',
  ].join('\n'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, TMPDIR: os.tmpdir(),
    PORT: String(port), PUBLIC_BASE_URL: baseUrl, DATA_DIR: dataDir, FLOWS_DIR: flowsDir, ADMIN_TOKEN: secrets.admin,
    LINE_CHANNEL_SECRET: secrets.lineSecret, LINE_CHANNEL_ACCESS_TOKEN: secrets.lineToken, LINE_API_BASE_URL: line.url,
    INBOX_WEBHOOK_SECRET: secrets.inboxSecret, INBOX_CALLBACK_URL: inbox.url,
    MY_COUPONS_KEYWORDS: mineKeyword, LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'info',
  };
  // Its own working directory (no .env read from here) and process group (Ctrl-C reaches us, and we stop it).
  child = spawn(process.execPath, ['--max-semi-space-size=16', '--max-old-space-size=256', path.join(root, 'src', 'main.ts')], {
    cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(logStream, { end: false });
  child.stderr!.pipe(logStream, { end: false });
  childExit = new Promise((resolve) => child!.once('exit', () => resolve()));
  const up = await until(async () => (await fetch(`${baseUrl}/healthz`)).status === 200, 'the service to start', 120_000);
  if (!up) throw new Error(`the service did not start; its log: ${logFile}`);

  const campaign = await api('POST', '/api/v1/campaigns', {
    name: campaignName, slug: 'chaos-gift', sendStart: new Date(Date.now() - 3_600_000).toISOString(),
    sendEnd: new Date(Date.now() + 86_400_000).toISOString(), expiry: { mode: 'fromSend', days: 30 }, reward: { type: 'percent', value: 10 },
    perContactLimit: 1,
  }) as { id: string };
  await api('POST', `/api/v1/campaigns/${campaign.id}/serials`, { fixed: { code: 'CHAOS2026', quantity: 100_000 } });
  await api('POST', '/api/v1/flows/reload');
  console.log(`service pid ${child.pid} at ${baseUrl}; LINE stand-in ${line.url}; inbox stand-in ${inbox.url}`);
  return campaign.id;
}

async function lineHangs(known: string, inboxContact: string): Promise<void> {
  console.log(`\n[1] LINE hangs for ${settings.hangSeconds} s`);
  const hangStart = Date.now();
  line!.outage('hang');
  const newcomers = Array.from({ length: settings.newcomers }, () => newLineUserId());
  const follows = newcomers.map((u) => followEvent(u));
  await lineWebhook(follows);
  const fromKnown = lineText(known, `hello while LINE hangs ${marker()}`);
  mustNotLog.push({ kind: 'message text', value: (fromKnown.message as { text: string }).text });
  const mine = inboxEvent(inboxContact, mineKeyword);
  const sent = performance.now();
  const statuses = [await lineWebhook([fromKnown]), await postInbox(mine.body)];
  const both = await until(async () => (await processedCount('line', [fromKnown.webhookEventId])) === 1
    && (await processedCount('inbox', [mine.id])) === 1, 'the known contact\'s and the inbox events', settings.hangSeconds * 1000 + 60_000);
  const took = performance.now() - sent;
  check({
    name: 'LINE hangs: inbox event and known LINE contact\'s event processed',
    pass: both && took < 2000 && statuses.every((s) => s === 200),
    figure: both ? `${seconds(took)} after their webhooks (target < 2 s); ${settings.newcomers} new contacts' profile fetches hanging` : `not processed (webhooks answered ${statuses.join(', ')})`,
  });
  await sleep(Math.max(0, hangStart + settings.hangSeconds * 1000 - Date.now()));
  line!.outage(null);
  const ended = performance.now();
  const drained = await until(async () => (await processedCount('line', follows.map((f) => f.webhookEventId))) === follows.length,
    'the new contacts\' events', 300_000);
  check({
    name: 'after the hang: the new contacts\' events processed',
    pass: drained,
    figure: drained ? `${follows.length} of ${follows.length}, ${seconds(performance.now() - ended)} after LINE answered again` : 'not all',
  });
}

async function lineAnswers500(campaignId: string): Promise<void> {
  console.log(`\n[2] LINE answers 500 for ${settings.outageSeconds} s`);
  const outageStart = Date.now();
  line!.outage('error');
  const customers = Array.from({ length: settings.outageCustomers }, () => newLineUserId());
  const events = customers.flatMap((u) => [followEvent(u), lineText(u, giftKeyword)]);
  const status = await lineWebhook(events);
  // The inbox goes on meanwhile.
  const inboxCustomer = `inbox-${marker()}`;
  const gift = inboxEvent(inboxCustomer, giftKeyword);
  const before = inbox!.requests.length;
  const sent = performance.now();
  await postInbox(gift.body);
  const inboxCard = await until(() => inbox!.requests.slice(before).some((r) => couponToken(r.body) !== null), 'the inbox card', 60_000);
  check({
    name: 'LINE answers 500: an inbox customer\'s coupon card still goes out',
    pass: inboxCard && performance.now() - sent < 2000,
    figure: inboxCard ? `${seconds(performance.now() - sent)} after the webhook (target < 2 s)` : 'not sent',
  });
  const issued = await until(async () => (await processedCount('line', events.map((e) => e.webhookEventId))) === events.length,
    'the customers\' events', 120_000);
  await sleep(Math.max(0, outageStart + settings.outageSeconds * 1000 - Date.now()));
  const waiting = (await records(campaignId)).filter((r) => customers.includes(r.userId));
  const waitingTexts = waiting.filter((r) => /^waiting for LINE \(since .+, next try .+\)$/.test(r.deliveryError ?? '')).length;
  check({
    name: 'during the outage: records say what they wait for',
    pass: issued && status === 200 && waiting.length === customers.length && waiting.every((r) => r.status !== 'void') && waitingTexts > 0,
    figure: `${waiting.length} of ${customers.length} coupons issued, ${waitingTexts} "waiting for LINE (since …, next try …)", `
      + `${line!.outageRequests} LINE requests answered 500 or left hanging so far`,
  });

  const during = await lineStatus();
  check({
    name: 'during the outage: GET /api/v1/status shows LINE down',
    pass: during?.down === true && during.waiting > 0,
    figure: during ? `down ${String(during.down)}, since ${during.since ?? '-'}, ${during.waiting} messages waiting` : 'LINE not listed',
  });

  line!.outage(null);
  const recovered = performance.now();
  const allDelivered = await until(() => [...cardsTo(customers).values()].every((n) => n >= 1), 'every coupon card', 330_000 + 60_000);
  const drainMs = performance.now() - recovered;
  await until(async () => (await pendingLineMessages()) === 0, 'the LINE outbox to empty', 330_000);
  const cards = [...cardsTo(customers).values()];
  const repeated = repeatedRetryKeys(line!.delivered);
  check({
    name: 'after the outage: every coupon delivered exactly once',
    pass: cards.every((n) => n === 1) && repeated.length === 0,
    figure: `${cards.filter((n) => n === 1).length} of ${customers.length} once, ${cards.filter((n) => n > 1).length} more than once, `
      + `${cards.filter((n) => n === 0).length} never; ${repeated.length} retry keys accepted twice`,
  });
  const after = (await records(campaignId)).filter((r) => customers.includes(r.userId));
  check({
    name: 'after the outage: no coupon voided',
    pass: after.length === customers.length && after.every((r) => r.status !== 'void' && r.deliveryStatus === 'sent'),
    figure: `${after.filter((r) => r.status === 'void').length} void, ${after.filter((r) => r.deliveryStatus === 'sent').length} of ${customers.length} sent`,
  });
  const afterStatus = await lineStatus();
  check({
    name: 'after the outage: backlog drained',
    pass: allDelivered && drainMs < 60_000 && afterStatus?.down === false,
    figure: (allDelivered ? `${seconds(drainMs)} after LINE answered again` : 'not drained')
      + ' (target < 60 s: the breaker\'s 30-s cool-down, then every waiting message is due at once); '
      + `status: down ${String(afterStatus?.down)}, ${afterStatus?.waiting ?? '?'} waiting`,
  });
}

async function replyTimesOut(): Promise<void> {
  console.log('\n[3] LINE takes a reply but never answers (timeout)');
  const user = newLineUserId();
  const release = line!.hold();
  const gift = lineText(user, cardKeyword);
  await lineWebhook([followEvent(user), gift]);
  const replyToken = (gift as unknown as { replyToken: string }).replyToken;
  const held = await until(() => line!.requests.some((r) => r.kind === 'reply' && (r.body as { replyToken?: string }).replyToken === replyToken),
    'the reply to reach LINE', 60_000);
  // The adapter gives up after its timeout; then the outcome is recorded and nothing may follow.
  const settled = await until(async () => (await pendingLineMessages()) === 0, 'the reply\'s outcome', 120_000);
  release();
  await sleep(3000);
  const cards = cardsTo([user]).get(user) ?? 0;
  const requests = couponCardsPerUser(line!.requests, replyTokenOwners).get(user) ?? 0;
  check({
    name: 'a reply that timed out is not sent again',
    pass: held && settled && cards === 1 && requests === 1,
    figure: `requests carrying the coupon card (reply + push): ${requests}, delivered ${cards} (target 1 each)`,
  });
}

async function databaseKilled(known: string, pageToken: string): Promise<void> {
  console.log('\n[4] kill -9 of the embedded PostgreSQL');
  const pid = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const samples: PollSample[] = [];
  const acknowledged: string[] = [];
  let killedAt = 0;
  let done = false;
  const poll = async (target: string, request: () => Promise<Response>) => {
    while (!done) {
      const started = performance.now();
      let status = 0;
      let retryAfter: string | null = null;
      try {
        const res = await request();
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        await res.arrayBuffer();
      } catch { /* no answer: status 0 */ }
      samples.push({ target, at: started - killedAt, status, retryAfter });
      await sleep(Math.max(0, 100 - (performance.now() - started)));
    }
  };
  const webhook = async () => {
    const event = lineText(known, `hello during the database outage ${marker()}`);
    mustNotLog.push({ kind: 'message text', value: (event.message as { text: string }).text });
    const res = await postLineWebhook(baseUrl, secrets.lineSecret, [event]);
    if (res.status === 200) acknowledged.push(event.webhookEventId);
    return res;
  };
  killedAt = performance.now();
  process.kill(pid, 'SIGKILL');
  const timeout = AbortSignal.timeout;
  const pollers = [
    poll('healthz', () => fetch(`${baseUrl}/healthz`, { signal: timeout(10_000) })),
    poll('webhook', webhook),
    poll('coupon page', () => fetch(`${baseUrl}/c/${pageToken}`, { headers: { accept: 'text/html' }, signal: timeout(10_000) })),
  ];
  // Until /healthz has answered 200 for 2 s after having noticed the outage (or 2 minutes).
  await until(() => {
    const v = judgeOutagePolls(samples);
    return v.noticed && v.recoveredAt !== null && performance.now() - killedAt - v.recoveredAt > 2000;
  }, 'the service to be healthy again', 120_000);
  done = true;
  await Promise.all(pollers);
  const v = judgeOutagePolls(samples);
  const alive = child!.exitCode === null && child!.signalCode === null;
  check({
    name: 'database killed: 503 with Retry-After meanwhile, no 500',
    pass: v.noticed && v.serverErrors === 0 && v.missingRetryAfter === 0 && v.otherFailures === 0,
    figure: Object.entries(v.counts).map(([target, counts]) => `${target} ${formatCounts(counts)}`).join('; ')
      + `; ${v.missingRetryAfter} 503 without Retry-After`,
  });
  check({
    name: 'database killed: healthy again without a restart by hand',
    pass: alive && v.recoveredAt !== null,
    figure: v.recoveredAt !== null ? `/healthz 200 again ${seconds(v.recoveredAt)} after the kill; same service process ${alive ? 'running' : 'gone'}`
      : `not healthy after 2 minutes; service process ${alive ? 'running' : 'gone'}`,
  });
  const stored = acknowledged.length ? await storedCount('line', acknowledged) : 0;
  check({
    name: 'database killed: every acknowledged webhook stored',
    pass: stored === acknowledged.length,
    figure: `${stored} of ${acknowledged.length} acknowledged events stored`,
  });
}

function scanLog(): void {
  console.log('\n[5] the service\'s log');
  const log = fs.readFileSync(logFile, 'utf8');
  const leaks = findLeaks(log, mustNotLog);
  const tokens = mustNotLog.filter((s) => s.kind.endsWith('token')).length;
  check({
    name: 'log holds no token, secret or message text',
    pass: leaks.length === 0,
    figure: leaks.length === 0
      ? `${log.split('\n').length - 1} lines, ${mustNotLog.length} values looked for (${tokens} tokens) — none found`
      : leaks.map((l) => `${l.kind} ${l.value.slice(0, 6)}… ×${l.count}`).join(', '),
  });
}

let failed = false;
try {
  console.log(`chaos: LINE hangs ${settings.hangSeconds} s, answers 500 for ${settings.outageSeconds} s; `
    + `${settings.newcomers} new contacts, ${settings.outageCustomers} customers in the outage; ${os.cpus().length} CPU(s), Node ${process.version}`);
  const campaignId = await start();

  // Before anything goes wrong: a known LINE contact and an inbox contact, each with a coupon.
  const known = newLineUserId();
  await lineWebhook([followEvent(known), lineText(known, giftKeyword)]);
  const inboxContact = `inbox-${marker()}`;
  await postInbox(inboxEvent(inboxContact, giftKeyword).body);
  const ready = await until(() => (cardsTo([known]).get(known) ?? 0) === 1 && inbox!.requests.some((r) => couponToken(r.body)),
    'the first coupon cards', 60_000);
  if (!ready) throw new Error('the first coupons were not delivered while nothing was wrong');
  const pageToken = couponToken(line!.delivered.find((r) => couponToken(r.body))!.body)!;

  await lineHangs(known, inboxContact);
  await lineAnswers500(campaignId);
  await replyTimesOut();
  await databaseKilled(known, pageToken);

  // Every coupon and "my coupons" link handed out must stay out of the log.
  for (const req of [...line!.delivered, ...inbox!.requests]) {
    const json = JSON.stringify(req.body ?? null);
    for (const m of json.matchAll(/\/(c|me)\/([A-Za-z0-9_-]{8,})/g)) mustNotLog.push({ kind: m[1] === 'c' ? 'coupon token' : 'my-coupons token', value: m[2]! });
  }
  await stopChild();
  scanLog();
} catch (err) {
  failed = true;
  console.error(`chaos stopped: ${err instanceof Error ? err.message : String(err)}`);
}
const failures = checks.filter((c) => !c.pass).length;
console.log(`\n${checks.length} checks, ${failures} failed`);
await cleanup(failed || failures > 0);
process.exit(failed || failures > 0 ? 1 : 0);
