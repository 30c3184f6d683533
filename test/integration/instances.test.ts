/**
 * Several instances on one database, as an operator runs them: instance A is `npm start` with
 * WORKERS=2 (two service processes sharing a port, one owner of the embedded PostgreSQL, whose
 * URL it writes to DATA_DIR/database-url); instance B is a plain process connecting with that URL.
 * Webhooks go to both; every event is processed once and in order per contact, every card is
 * delivered once, and a new campaign and a flow edit reach every process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import {
  followEvent, newLineUserId, postLineWebhook, textEvent, type LineWebhookEvent,
} from '../../scripts/support/line-webhook.ts';
import { createDb, query, type Db } from '../../src/db/client.ts';
import { campaignBody } from '../support/campaigns.ts';
import { PATIENCE_MS } from '../support/patience.ts';
import { spawnChildService, stopChildServices, type ChildService } from '../support/child-service.ts';

const SECRET = 'instances-test-line-secret';
const ADMIN_TOKEN = 'instances-test-admin-token-0123456789';
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

let standin: LineStandin;
let root: string;
let flowsDir: string;
let db: Db | null = null;

const welcomeFlow = `id: welcome
name: Welcome
trigger: { follow: true }
steps:
  - say: "Welcome aboard"
  - coupon: instances-welcome
`;
const hoursFlow = (text: string) => `id: hours
name: Opening hours (${text})
trigger: { keyword: [hours] }
steps:
  - say: "${text}"
`;

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'instances-line-token' });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-instances-'));
  // The embedded server runs as `postgres` when the tests run as root: it must reach DATA_DIR.
  fs.chmodSync(root, 0o755);
  flowsDir = path.join(root, 'flows');
  fs.mkdirSync(flowsDir);
  fs.writeFileSync(path.join(flowsDir, 'welcome.yaml'), welcomeFlow);
  fs.writeFileSync(path.join(flowsDir, 'hours.yaml'), hoursFlow('Open 9 to 5'));
});

afterAll(async () => {
  await db?.$client.end();
  await stopChildServices('SIGTERM');
  await standin?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Starts `node src/main.ts` and resolves once it printed where it listens (however long a loaded machine takes). */
async function start(env: Record<string, string>): Promise<ChildService & { url: string }> {
  const child = spawnChildService({
    FLOWS_DIR: flowsDir,
    ADMIN_TOKEN,
    PUBLIC_BASE_URL: 'http://coupons.test',
    LINE_CHANNEL_SECRET: SECRET,
    LINE_CHANNEL_ACCESS_TOKEN: 'instances-line-token',
    LINE_API_BASE_URL: standin.url,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const url = (await child.waitForLine(/chatcoupon is running at (http:\/\/\S+)/))[1]!;
  return Object.assign(child, { url });
}

async function count(q: ReturnType<typeof sql>): Promise<number> {
  const r = await query(db!, q);
  return Number((r.rows[0] as { n: number | string }).n);
}

/** Polls until `check` holds: the instances work on their own schedule (PATIENCE_MS is only the hang guard). */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function flowLoaded(url: string, id: string): Promise<boolean> {
  const res = await fetch(`${url}/api/v1/flows`, { headers: admin });
  const body = (await res.json()) as { flows: Array<{ id: string; loaded: boolean }> };
  return body.flows.some((f) => f.id === id && f.loaded);
}

const pushesTo = (user: string) => standin.delivered.filter((r) => (r.body as { to?: string }).to === user);
const textsOf = (r: { body: unknown }) => ((r.body as { messages: Array<{ type: string; text?: string }> }).messages)
  .filter((m) => m.type === 'text').map((m) => m.text);
const isCard = (r: { body: unknown }) => JSON.stringify(r.body).includes('coupons.test/c/');

it('runs two instances (one of two processes) on one database: every event once, every card once, changes seen by all', async () => {
  const dataA = path.join(root, 'a');
  const a = await start({ WORKERS: '2', DATA_DIR: dataA });
  expect(a.lines.some((l) => /Processes: +2 \(WORKERS=2\)/.test(l))).toBe(true);

  // The embedded server's URL, readable only by its owner, lets a second instance in.
  const urlFile = path.join(dataA, 'database-url');
  expect(fs.statSync(urlFile).mode & 0o777).toBe(0o600);
  const databaseUrl = fs.readFileSync(urlFile, 'utf8').trim();
  expect(databaseUrl).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/chatcoupon$/);
  db = createDb(databaseUrl, 2);
  const b = await start({ DATABASE_URL: databaseUrl, DATA_DIR: path.join(root, 'b') });

  // The welcome flow names a campaign that does not exist yet: refused everywhere. Created on A,
  // it is loaded on B too (B hears of it from the database, not from its files).
  expect(await flowLoaded(b.url, 'welcome')).toBe(false);
  const created = await fetch(`${a.url}/api/v1/campaigns`, {
    method: 'POST', headers: admin, body: JSON.stringify(campaignBody({ slug: 'instances-welcome' })),
  });
  expect(created.status).toBe(201);
  const campaignId = ((await created.json()) as { id: string }).id;
  const loaded = await fetch(`${a.url}/api/v1/campaigns/${campaignId}/serials`, {
    method: 'POST', headers: admin, body: JSON.stringify({ fixed: { code: 'INST-10', quantity: 1000 } }),
  });
  expect(loaded.status).toBeLessThan(300);
  await eventually('B to load the welcome flow', () => flowLoaded(b.url, 'welcome'));
  // A's two processes answer in turn: ask a few times, every answer must have it.
  for (let i = 0; i < 4; i++) expect(await flowLoaded(a.url, 'welcome')).toBe(true);

  // Each user follows through one instance and asks for the hours through the other; some
  // webhooks are delivered again to the other instance (a platform's redelivery).
  const at = Date.now() - 120_000; // older than a reply token's life: every answer is a push
  const users = Array.from({ length: 40 }, () => newLineUserId());
  const follows = users.map((u, i) => followEvent(u, { timestamp: at + i }));
  const asks = users.map((u, i) => textEvent(u, 'hours', { timestamp: at + 100 + i }));
  const post = (url: string, events: LineWebhookEvent[]) => postLineWebhook(url, SECRET, events);
  const first = await Promise.all(users.map((_, i) => post(i % 2 === 0 ? a.url : b.url, [follows[i]!])));
  for (const res of first) expect(res.status).toBe(200);
  const second = await Promise.all(users.map((_, i) => post(i % 2 === 0 ? b.url : a.url, [asks[i]!])));
  for (const res of second) expect(res.status).toBe(200);
  const again = await Promise.all(users.slice(0, 10).map((_, i) => post(i % 2 === 0 ? b.url : a.url, [follows[i]!])));
  for (const res of again) expect(res.status).toBe(200);

  const eventCount = users.length * 2;
  const usersParam = sql.param(users);
  await eventually('every event processed', async () =>
    (await count(sql`SELECT count(*) AS n FROM inbound_events WHERE processed_at IS NOT NULL`)) === eventCount);
  await eventually('every message sent', async () =>
    (await count(sql`SELECT count(*) AS n FROM outbox WHERE status = 'pending'`)) === 0);

  // Every event stored once and processed once, without a retry.
  expect(await count(sql`SELECT count(*) AS n FROM inbound_events`)).toBe(eventCount);
  expect(await count(sql`SELECT count(*) AS n FROM inbound_events WHERE attempts <> 1 OR last_error IS NOT NULL`)).toBe(0);
  expect(await count(sql`SELECT count(*) AS n FROM contacts WHERE platform_user_id = ANY(${usersParam}::text[])`)).toBe(users.length);
  // One coupon per user, delivered once.
  expect(await count(sql`SELECT count(*) AS n FROM coupons c JOIN contacts ct ON ct.id = c.contact_id
    WHERE ct.platform_user_id = ANY(${usersParam}::text[]) AND c.delivery_status = 'sent'`)).toBe(users.length);
  for (const user of users) {
    const pushes = pushesTo(user);
    expect(pushes.filter(isCard)).toHaveLength(1);
    expect(pushes.flatMap(textsOf).filter((t) => t === 'Welcome aboard')).toHaveLength(1);
    expect(pushes.flatMap(textsOf).filter((t) => t === 'Open 9 to 5')).toHaveLength(1);
    expect(new Set(pushes.map((r) => r.retryKey)).size).toBe(pushes.length);
  }
  // In order per contact: the follow's messages were written before the answer to the later text.
  const outOfOrder = await count(sql`
    SELECT count(*) AS n FROM outbox later JOIN outbox earlier ON earlier.contact_id = later.contact_id
    WHERE later.message->>'type' = 'text' AND later.message->>'text' = 'Open 9 to 5'
      AND earlier.coupon_id IS NOT NULL AND earlier.seq > later.seq`);
  expect(outOfOrder).toBe(0);

  // A flow edit reaches every process: users asking through each answer with the new text.
  fs.writeFileSync(path.join(flowsDir, 'hours.yaml'), hoursFlow('Open 10 to 6'));
  const edited = async (url: string) => {
    const res = await fetch(`${url}/api/v1/flows`, { headers: admin });
    const body = (await res.json()) as { flows: Array<{ id: string; name: string | null }> };
    return body.flows.find((f) => f.id === 'hours')?.name === 'Opening hours (Open 10 to 6)';
  };
  await eventually('B to run the edited flow', () => edited(b.url));
  await eventually('A to run the edited flow', async () => {
    for (let i = 0; i < 4; i++) if (!(await edited(a.url))) return false;
    return true;
  });
  const late = Array.from({ length: 6 }, () => newLineUserId());
  const lateAsks = late.map((u, i) => post(i % 3 === 0 ? b.url : a.url, [textEvent(u, 'hours', { timestamp: at + 500 + i })]));
  for (const res of await Promise.all(lateAsks)) expect(res.status).toBe(200);
  await standin.waitFor(() => late.every((u) => pushesTo(u).length === 1), PATIENCE_MS, 'the answers to the late users');
  for (const user of late) expect(pushesTo(user).flatMap(textsOf)).toEqual(['Open 10 to 6']);

  // A clean stop of the database's owner removes the URL file (B is stopped first: it uses that server).
  b.process.kill('SIGTERM');
  expect(await b.exited).toBe(0);
  await db.$client.end();
  db = null;
  a.process.kill('SIGTERM');
  expect(await a.exited).toBe(0);
  expect(fs.existsSync(urlFile)).toBe(false);
}, 3 * PATIENCE_MS);
