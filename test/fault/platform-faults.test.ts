import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { createLineAdapter } from '../../adapters/line/index.ts';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import { followEvent, newLineUserId, postLineWebhook, textEvent } from '../../scripts/support/line-webhook.ts';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import { issueToUser } from '../../src/coupons/issue.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { CircuitBreaker } from '../../src/lib/circuit-breaker.ts';
import { loadSerials, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';
import { PATIENCE_MS } from '../support/patience.ts';

const LINE_SECRET = 'line-secret-for-fault-tests';
const INBOX_SECRET = 'inbox-secret-for-fault-tests';

let standin: LineStandin;
let flowsDir: string;
beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'line-token' });
  flowsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-fault-flows-'));
});
afterAll(async () => {
  await standin?.close();
  fs.rmSync(flowsDir, { recursive: true, force: true });
});

const lineEnv = () => ({
  LINE_CHANNEL_SECRET: LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url,
  INBOX_WEBHOOK_SECRET: INBOX_SECRET, INBOX_CALLBACK_URL: `${standin.url}/inbox`, FLOWS_DIR: flowsDir,
});

/** Checks `condition` after each of the service's own steps; fails with `what` after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('LINE hangs', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ workers: true, env: lineEnv() });
  });
  afterAll(async () => {
    standin.outage(null);
    await svc?.stop();
  });

  it('an inbox event and a known LINE contact\'s event are processed while new LINE contacts wait for their profiles', async () => {
    const known = newLineUserId();
    await svc.ctx.db.transaction(async (tx) => {
      const contact = await ensureContact(tx, 'line', known, { displayName: 'Known Hana', profileFetchedAt: new Date() });
      await ensureConversation(tx, contact, known);
    });
    standin.outage('hang');
    const newcomers = Array.from({ length: 30 }, () => newLineUserId());
    expect((await postLineWebhook(svc.url, LINE_SECRET, newcomers.map((u) => followEvent(u)))).status).toBe(200);
    expect((await postLineWebhook(svc.url, LINE_SECRET, [textEvent(known, 'hello from a known contact')])).status).toBe(200);
    const inbox = JSON.stringify({ id: `inbox-${crypto.randomUUID()}`, type: 'message.created', conversation: { id: 'c-fault' }, contact: { id: 'inbox-fault' },
      message: { id: 'm1', text: 'my coupons' }, createdAt: new Date().toISOString() });
    const signature = `sha256=${crypto.createHmac('sha256', INBOX_SECRET).update(inbox).digest('hex')}`;
    expect((await fetch(`${svc.url}/webhooks/inbox`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-inbox-signature': signature }, body: inbox })).status).toBe(200);

    const processed = async (channel: string, userId: string) => {
      const r = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events
        WHERE channel = ${channel} AND event->>'userId' = ${userId} AND processed_at IS NOT NULL`);
      return (r.rows[0] as { n: number }).n > 0;
    };
    const started = Date.now();
    await until(async () => (await processed('line', known)) && (await processed('inbox', 'inbox-fault')), 'the known contact\'s and the inbox events');
    const elapsed = Date.now() - started;
    // LINE still hangs: the newcomers wait for their profiles, and held nobody else up.
    const waiting = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events WHERE channel = 'line' AND processed_at IS NULL`);
    expect((waiting.rows[0] as { n: number }).n).toBe(30);
    expect(standin.outageRequests).toBeGreaterThan(0);
    console.log(`known LINE contact and inbox events processed ${elapsed} ms after their webhooks while LINE hung`);

    standin.outage(null);
    await until(async () => {
      const r = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events WHERE processed_at IS NULL`);
      return (r.rows[0] as { n: number }).n === 0;
    }, 'the newcomers once LINE answers again');
  });
});

describe('LINE answers 500 for ten minutes (clock injected)', () => {
  let svc: TestService;
  let now = new Date();
  beforeAll(async () => {
    svc = await startTestService({ clock: () => now, env: lineEnv() });
  });
  afterAll(async () => {
    standin.outage(null);
    await svc?.stop();
  });

  it('every coupon is delivered once afterwards, none is voided, and records say what they wait for', async () => {
    const campaign = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, campaign.id, ['F-1', 'F-2', 'F-3']);
    const users = [newLineUserId(), newLineUserId(), newLineUserId()];
    for (const u of users) expect((await issueToUser(svc.ctx, campaign.id, 'line', u)).ok).toBe(true);
    const start = now.getTime();
    const deliveredBefore = standin.delivered.length;
    standin.outage('error');
    let sawWaiting = false;
    for (let t = 0; t <= 10 * 60_000; t += 15_000) {
      now = new Date(start + t);
      await deliverDue(svc.ctx);
      const records = await query(svc.ctx.db, sql`SELECT status, delivery_status, delivery_error FROM coupons WHERE campaign_id = ${campaign.id}`);
      for (const r of records.rows as Array<{ status: string; delivery_status: string; delivery_error: string | null }>) {
        expect(r).toMatchObject({ status: 'pending', delivery_status: 'pending' });
        if (r.delivery_error && /^waiting for LINE \(since \d{4}-.+Z, next try \d{4}-.+Z\)$/.test(r.delivery_error)) sawWaiting = true;
      }
    }
    expect(sawWaiting).toBe(true);
    const failedTries = standin.outageRequests;
    expect(failedTries).toBeGreaterThan(3 * 5);

    standin.outage(null);
    // The backoff is capped at 5 minutes: within 5 more minutes everything has gone.
    for (let t = 10 * 60_000; t <= 15 * 60_000 + 15_000; t += 15_000) {
      now = new Date(start + t);
      await deliverDue(svc.ctx);
    }
    const coupons = await query(svc.ctx.db, sql`SELECT status, delivery_status, delivery_error FROM coupons WHERE campaign_id = ${campaign.id}`);
    expect(coupons.rows).toEqual(users.map(() => ({ status: 'sent', delivery_status: 'sent', delivery_error: null })));
    const delivered = standin.delivered.slice(deliveredBefore);
    expect(delivered).toHaveLength(3);
    expect(new Set(delivered.map((d) => d.retryKey)).size).toBe(3);
  });

  it('gives up only after the platform\'s own retry window (24 hours for LINE)', async () => {
    const campaign = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, campaign.id, ['G-1']);
    now = new Date();
    expect((await issueToUser(svc.ctx, campaign.id, 'line', newLineUserId())).ok).toBe(true);
    standin.outage('error');
    const start = now.getTime();
    for (let t = 0; t <= 24 * 3_600_000 + 600_000; t += 300_000) {
      now = new Date(start + t);
      await deliverDue(svc.ctx);
      const row = await query(svc.ctx.db, sql`SELECT status FROM coupons WHERE campaign_id = ${campaign.id}`);
      const status = (row.rows[0] as { status: string }).status;
      if (t < 24 * 3_600_000) expect(status).toBe('pending');
    }
    const row = await query(svc.ctx.db, sql`SELECT status, delivery_error FROM coupons WHERE campaign_id = ${campaign.id}`);
    expect(row.rows[0]).toMatchObject({ status: 'void', delivery_error: expect.stringMatching(/^gave up after \d+ attempts over 24 hours: LINE 500/) });
    standin.outage(null);
  });
});

describe('a reply that times out', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ env: lineEnv() });
  });
  afterAll(async () => {
    standin.outage(null);
    await svc?.stop();
  });

  it('is never sent again: recorded as sent, unconfirmed, and its coupon stays the customer\'s', async () => {
    const userId = newLineUserId();
    const campaign = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, campaign.id, ['R-1']);
    expect((await issueToUser(svc.ctx, campaign.id, 'line', userId)).ok).toBe(true);
    // The card goes as a reply: give its outbox row a fresh reply token.
    await query(svc.ctx.db, sql`UPDATE outbox SET reply_token = 'reply-token-timeout', reply_token_expires_at = now() + interval '50 seconds'
      WHERE coupon_id IS NOT NULL AND contact_id = (SELECT id FROM contacts WHERE platform_user_id = ${userId})`);
    const line = createLineAdapter({ channelSecret: LINE_SECRET, accessToken: 'line-token', apiBaseUrl: standin.url, timeoutMs: 1500 });
    const send = (d: Parameters<typeof line.send>[0]) => line.send(d);
    const before = standin.outageRequests;
    standin.outage('hang');
    expect(await deliverDue(svc.ctx, send)).toBe(1);
    expect(standin.outageRequests).toBe(before + 1);
    standin.outage(null);
    await query(svc.ctx.db, sql`UPDATE outbox SET next_attempt_at = now()`);
    const requestsBefore = standin.requests.length;
    await deliverDue(svc.ctx, send);
    expect(standin.requests.length).toBe(requestsBefore); // no push of the same message
    const row = await query(svc.ctx.db, sql`SELECT o.status, o.platform_response, c.status AS coupon, c.delivery_status
      FROM outbox o JOIN coupons c ON c.id = o.coupon_id WHERE c.campaign_id = ${campaign.id}`);
    expect(row.rows[0]).toMatchObject({ status: 'sent', platform_response: { unconfirmed: 'LINE did not answer in time' }, coupon: 'sent', delivery_status: 'sent' });
    // Still in the customer's "my coupons".
    const me = await query(svc.ctx.db, sql`SELECT me_token FROM contacts WHERE platform_user_id = ${userId}`);
    const page = await fetch(`${svc.url}/me/${(me.rows[0] as { me_token: string }).me_token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(campaign.name);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, lets one probe through after the cool-down, closes on success', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const breaker = new CircuitBreaker(() => now, { threshold: 3, coolDownMs: 30_000 });
    for (let i = 0; i < 3; i++) {
      expect(breaker.allow()).toBe(true);
      breaker.failed();
    }
    expect(breaker.open).toBe(true);
    expect(breaker.allow()).toBe(false);
    now = new Date(now.getTime() + 30_000);
    expect(breaker.allow()).toBe(true); // the probe
    expect(breaker.allow()).toBe(false); // only one
    breaker.failed();
    expect(breaker.allow()).toBe(false);
    now = new Date(now.getTime() + 30_000);
    expect(breaker.allow()).toBe(true);
    breaker.succeeded();
    expect(breaker.open).toBe(false);
    expect(breaker.allow()).toBe(true);
  });
});
