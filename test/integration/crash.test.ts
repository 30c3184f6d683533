/**
 * Exactly once across a crash: the service runs as a child process (`node src/main.ts`) and is
 * killed with SIGKILL at the worst moments: after acknowledging webhooks it had not processed,
 * after LINE accepted a push whose answer it never recorded, and in the middle of processing.
 */
import { expect, it } from '@jest/globals';
import { sql, type SQL } from 'drizzle-orm';
import {
  followEvent, newLineUserId, postLineWebhook, textEvent, type LineWebhookEvent,
} from '../../scripts/support/line-webhook.ts';
import { query } from '../../src/db/client.ts';
import { campaignBody } from '../support/campaigns.ts';
import { crashHarness } from '../support/crash-harness.ts';
import { PATIENCE_MS } from '../support/patience.ts';

const h = crashHarness('crash');
const { admin, startChild, kill, count } = h;

/** Polls the database until `statement` counts what `done` wants; answers the count. */
async function waitForCount(statement: SQL, done: (n: number) => boolean, what: string): Promise<number> {
  let n = 0;
  await h.waitFor(what, async () => done(n = await count(statement)));
  return n;
}

/** A dead process's claimed outbox rows are retried once their lease runs out: let it run out now. */
async function expireLeases(): Promise<void> {
  await query(h.db, sql`UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'`);
}

it('processes every acknowledged event once and delivers every message once, across SIGKILLs', async () => {
  // --- Run 1: webhooks are acknowledged, not processed; a coupon push reaches LINE, then the process dies.
  let child = await startChild({ INBOUND_WORKER: 'off' });
  const created = await fetch(`${child.url}/api/v1/campaigns`, { method: 'POST', headers: admin, body: JSON.stringify(campaignBody({ slug: 'crash-test' })) });
  expect(created.status).toBe(201);
  const campaignId = ((await created.json()) as { id: string }).id;
  const loaded = await fetch(`${child.url}/api/v1/campaigns/${campaignId}/serials`, {
    method: 'POST', headers: admin, body: JSON.stringify({ fixed: { code: 'FNA@5841', quantity: 100 } }),
  });
  expect(loaded.status).toBeLessThan(300);

  // Older than a reply token's life: every answer is a push, carrying its retry key.
  const at = Date.now() - 120_000;
  const users = Array.from({ length: 60 }, () => newLineUserId());
  const batches: LineWebhookEvent[][] = users.map((u, i) => [
    followEvent(u, { timestamp: at + i }),
    textEvent(u, 'my coupons', { timestamp: at + i + 1 }),
    textEvent(u, 'hello', { timestamp: at + i + 2 }),
  ]);
  const redelivered = batches[0]![1]!;
  for (const res of await Promise.all(batches.map((events) => postLineWebhook(child.url, h.lineSecret, events)))) expect(res.status).toBe(200);
  const again = await postLineWebhook(child.url, h.lineSecret, [{ ...redelivered, deliveryContext: { isRedelivery: true } }]);
  expect(again.status).toBe(200);
  const eventCount = users.length * 3;

  const release = h.standin.hold();
  const couponUser = newLineUserId();
  const issued = await fetch(`${child.url}/api/v1/campaigns/${campaignId}/coupons`, {
    method: 'POST', headers: admin, body: JSON.stringify({ channel: 'line', userId: couponUser }),
  });
  expect(issued.status).toBe(201);
  const couponId = ((await issued.json()) as { coupon: { id: string } }).coupon.id;
  await h.standin.waitFor((s) => s.requests.some((r) => r.kind === 'push' && (r.body as { to?: string }).to === couponUser), PATIENCE_MS, 'the coupon push');
  await kill(child);
  release();

  expect(await count(sql`SELECT count(*) AS n FROM inbound_events`)).toBe(eventCount);
  expect(await count(sql`SELECT count(*) AS n FROM inbound_events WHERE processed_at IS NOT NULL`)).toBe(0);
  expect(await count(sql`SELECT count(*) AS n FROM outbox WHERE coupon_id = ${couponId} AND status = 'pending' AND attempts = 1`)).toBe(1);

  // --- Run 2: the worker is on; the process dies again part-way through the backlog.
  await expireLeases();
  child = await startChild({});
  const processedQuery = sql`SELECT count(*) AS n FROM inbound_events WHERE processed_at IS NOT NULL`;
  const partial = await waitForCount(processedQuery, (n) => n > 0, 'the first processed events');
  await kill(child);
  const afterKill = await count(processedQuery);

  // --- Run 3: everything left is finished.
  await expireLeases();
  child = await startChild({});
  await waitForCount(processedQuery, (n) => n === eventCount, 'every event processed');
  const couponSent = sql`SELECT count(*) AS n FROM coupons WHERE id = ${couponId} AND status = 'sent'`;
  await waitForCount(couponSent, (n) => n === 1, 'the coupon marked sent');
  await waitForCount(sql`SELECT count(*) AS n FROM outbox WHERE status = 'pending'`, (n) => n === 0, 'every message sent');

  // Each event's effects committed once: one attempt each, one contact per user.
  expect(await count(sql`SELECT count(*) AS n FROM inbound_events WHERE attempts <> 1 OR last_error IS NOT NULL`)).toBe(0);
  expect(await count(sql`SELECT count(*) AS n FROM contacts WHERE platform_user_id = ANY(${sql.param(users)}::text[])`)).toBe(users.length);
  expect(await count(sql`SELECT count(DISTINCT platform_user_id) AS n FROM contacts`)).toBe(await count(sql`SELECT count(*) AS n FROM contacts`));

  // The coupon push: tried twice with one retry key, delivered once.
  const couponPushes = h.standin.requests.filter((r) => (r.body as { to?: string }).to === couponUser);
  expect(couponPushes.length).toBe(2);
  expect(new Set(couponPushes.map((r) => r.retryKey)).size).toBe(1);
  expect(couponPushes.map((r) => r.status)).toEqual([0, 409]);
  expect(h.standin.delivered.filter((r) => (r.body as { to?: string }).to === couponUser)).toHaveLength(1);

  // Every answer the bot gave reached each user once ("my coupons" is answered with a link).
  for (const user of users) {
    const toUser = h.standin.delivered.filter((r) => (r.body as { to?: string }).to === user);
    const links = toUser.filter((r) => JSON.stringify(r.body).includes('/me/'));
    expect(links).toHaveLength(1);
    expect(new Set(toUser.map((r) => r.retryKey)).size).toBe(toUser.length);
  }
  const outboxRows = await count(sql`SELECT count(*) AS n FROM outbox o JOIN contacts c ON c.id = o.contact_id WHERE c.platform_user_id = ANY(${sql.param(users)}::text[])`);
  expect(h.standin.delivered.filter((r) => users.includes((r.body as { to?: string }).to ?? '')).length).toBe(outboxRows);
  // The second kill really landed part-way through the backlog.
  expect(partial).toBeGreaterThan(0);
  expect(afterKill).toBeLessThan(eventCount);

  child.process.kill('SIGTERM');
  expect(await child.exited).toBe(0);
}, 4 * PATIENCE_MS);
