import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { sweepExpired } from '../../src/coupons/expiry.ts';
import { issueToUser } from '../../src/coupons/issue.ts';
import { recordOpen, redeemCoupon } from '../../src/coupons/redeem.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { recordWebhookEvent } from '../../src/webhooks/events.ts';
import { verifySignature } from '../../src/webhooks/signature.ts';
import { deliverWebhooksDue, postEvent, WebhookWorker } from '../../src/webhooks/webhook-worker.ts';
import { deliverAll, loadSerials, makeCampaign } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
}

/**
 * The shop's system: records every POST. A path's answer is its status (200 unless set); a path
 * marked held keeps the request open until released.
 */
class Receiver {
  readonly received: Received[] = [];
  readonly status = new Map<string, number>();
  readonly held = new Set<string>();
  private readonly waiting: Array<{ release: () => void }> = [];
  private readonly listeners: Array<() => void> = [];
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => { raw += c; });
      req.on('end', () => {
        const path = req.url ?? '/';
        const answer = () => {
          this.received.push({ path, headers: req.headers, raw, body: JSON.parse(raw) as Received['body'] });
          res.statusCode = this.status.get(path) ?? 200;
          res.end('ok');
          for (const l of this.listeners.splice(0)) l();
        };
        if (this.held.has(path)) {
          this.waiting.push({ release: answer });
          for (const l of this.listeners.splice(0)) l();
        } else {
          answer();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `n` requests to `path` were answered. */
  async until(path: string, n: number): Promise<void> {
    await this.waitFor(() => this.at(path).length >= n);
  }

  /** Resolves once `cond` holds, checked after every request that arrives. */
  async waitFor(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((resolve) => this.listeners.push(resolve));
  }

  heldCount(): number {
    return this.waiting.length;
  }

  release(): void {
    for (const w of this.waiting.splice(0)) w.release();
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let svc: TestService;
let receiver: Receiver;
let now = new Date('2026-11-20T10:00:00Z');
beforeAll(async () => {
  svc = await startTestService({ clock: () => now });
  receiver = new Receiver();
  await receiver.start();
});
afterAll(async () => {
  await receiver.stop();
  await svc.stop();
});

const at = (iso: string) => {
  now = new Date(iso);
};
const tokenOf = async (couponId: string) =>
  ((await query(svc.ctx.db, sql`SELECT token FROM coupons WHERE id = ${couponId}`)).rows[0] as { token: string }).token;

async function subscribe(path: string, events: string[]): Promise<{ id: string; secret: string }> {
  const r = await request(svc.url).post('/api/v1/webhooks').set(svc.admin).send({ url: `${receiver.url}${path}`, events });
  expect(r.status).toBe(201);
  return r.body as { id: string; secret: string };
}
async function unsubscribeAll(): Promise<void> {
  await query(svc.ctx.db, sql`DELETE FROM webhook_endpoints`);
}
async function drain(): Promise<void> {
  while ((await deliverWebhooksDue(svc.ctx)) > 0) { /* until nothing is due */ }
}

describe('webhook endpoints API', () => {
  it('creates with the secret shown once, lists without it, deletes', async () => {
    const created = await request(svc.url).post('/api/v1/webhooks').set(svc.admin)
      .send({ url: 'https://shop.example/hooks', events: ['coupon.verified', 'coupon.verified', 'campaign.sold_out'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: 'https://shop.example/hooks', events: ['coupon.verified', 'campaign.sold_out'] });
    expect(created.body.id).toMatch(/^whk_/);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    const list = await request(svc.url).get('/api/v1/webhooks').set(svc.admin);
    expect(list.body.webhooks).toEqual([{ id: created.body.id, url: 'https://shop.example/hooks', events: ['coupon.verified', 'campaign.sold_out'], createdAt: expect.any(String) }]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect((await request(svc.url).delete(`/api/v1/webhooks/${created.body.id}`).set(svc.admin)).status).toBe(204);
    expect((await request(svc.url).delete(`/api/v1/webhooks/${created.body.id}`).set(svc.admin)).status).toBe(404);
    expect((await request(svc.url).get(`/api/v1/webhooks/${created.body.id}/deliveries`).set(svc.admin)).status).toBe(404);
    expect((await request(svc.url).get('/api/v1/webhooks').set(svc.admin)).body.webhooks).toEqual([]);
  });

  it('refuses bad bodies and changes nothing', async () => {
    for (const body of [{ url: 'ftp://x.example', events: ['coupon.issued'] }, { url: 'not a url', events: ['coupon.issued'] },
      { url: 'https://x.example', events: [] }, { url: 'https://x.example', events: ['coupon.stolen'] }, { url: 'https://x.example' },
      { url: 'https://x.example', events: ['coupon.issued'], secret: 'mine' }]) {
      const r = await request(svc.url).post('/api/v1/webhooks').set(svc.admin).send(body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('validation_error');
    }
    expect((await request(svc.url).get('/api/v1/webhooks').set(svc.admin)).body.webhooks).toEqual([]);
  });

  it('is for the admin only: no token 401, the POS token 403', async () => {
    for (const [method, path] of [['post', '/api/v1/webhooks'], ['get', '/api/v1/webhooks'], ['delete', '/api/v1/webhooks/whk_x'],
      ['get', '/api/v1/webhooks/whk_x/deliveries'], ['post', '/api/v1/webhooks/whk_x/deliveries/1/resend']] as const) {
      expect((await request(svc.url)[method](path).send({})).status).toBe(401);
      expect((await request(svc.url)[method](path).set(svc.pos).send({})).status).toBe(403);
    }
  });
});

describe('events', () => {
  it('posts the subscribed coupon events, signed, with the event id as a header; the coupon as in records', async () => {
    at('2026-11-20T10:00:00Z');
    const hook = await subscribe('/till', ['coupon.redeemed', 'coupon.verified', 'coupon.voided']);
    const c = await makeCampaign(svc.ctx, { verification: true });
    await loadSerials(svc.ctx, c.id, ['WH-1']);
    const issued = await issueToUser(svc.ctx, c.id, 'line', 'U-wh-1');
    if (!issued.ok) throw new Error(issued.message);
    await deliverAll(svc.ctx);
    await redeemCoupon(svc.ctx, await tokenOf(issued.coupon.id));
    await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'WH-1', amount: 1280, currency: 'TWD', storeId: 'taipei-2' });
    await request(svc.url).post('/api/v1/verifications/void').set(svc.pos).send({ code: 'WH-1', reason: 'wrong order' });
    await drain();

    const got = receiver.at('/till');
    expect(got.map((r) => r.body.type).sort()).toEqual(['coupon.redeemed', 'coupon.verified', 'coupon.voided']);
    for (const r of got) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-chatcoupon-event-id']).toBe(r.body.id);
      expect(r.body.id).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(verifySignature(hook.secret, r.raw, r.headers['x-chatcoupon-signature'] as string, now)).toBe(true);
      expect(verifySignature('whsec_other', r.raw, r.headers['x-chatcoupon-signature'] as string, now)).toBe(false);
      expect(verifySignature(hook.secret, `${r.raw} `, r.headers['x-chatcoupon-signature'] as string, now)).toBe(false);
    }
    const verified = got.find((r) => r.body.type === 'coupon.verified')!.body.data;
    expect(verified).toMatchObject({ couponId: issued.coupon.id, campaignId: c.id, channel: 'line', userId: 'U-wh-1', status: 'verified',
      serial: 'WH-1', amount: 1280, currency: 'TWD', storeId: 'taipei-2', verifiedAt: '2026-11-20T10:00:00.000Z' });
    const voided = got.find((r) => r.body.type === 'coupon.voided')!.body.data;
    expect(voided).toMatchObject({ status: 'redeemed', amount: null, void: { by: 'pos', reason: 'wrong order', amount: 1280, currency: 'TWD' } });
    await unsubscribeAll();
  });

  it('covers issue, delivery failure, opening and expiry; nothing is written for refused or rolled-back changes', async () => {
    at('2026-11-20T10:00:00Z');
    await subscribe('/all', ['coupon.issued', 'coupon.opened', 'coupon.expired', 'coupon.delivery_failed', 'coupon.verified']);
    const c = await makeCampaign(svc.ctx, { verification: true, expiry: { mode: 'fromSend', hours: 1 }, perContactLimit: 3 });
    await loadSerials(svc.ctx, c.id, ['LC-1', 'LC-2']);
    const a = await issueToUser(svc.ctx, c.id, 'line', 'U-wh-2');
    const b = await issueToUser(svc.ctx, c.id, 'line', 'U-wh-3');
    if (!a.ok || !b.ok) throw new Error('not issued');
    await deliverDue(svc.ctx, async (d) => (d.to.userId === 'U-wh-3' ? { outcome: 'failed', error: 'blocked' } : { outcome: 'sent' }));
    await recordOpen(svc.ctx, await tokenOf(a.coupon.id));
    // Refused: not redeemed. Rolled back: a change that never commits.
    expect((await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ couponId: a.coupon.id })).status).toBe(422);
    await expect(svc.ctx.db.transaction(async (tx) => {
      await query(tx, sql`UPDATE coupons SET status = 'verified' WHERE id = ${a.coupon.id}`);
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    at('2026-11-20T11:30:00Z');
    await sweepExpired(svc.ctx);
    await drain();
    // Deliveries run concurrently: the order of arrival is not the order of events.
    const byCoupon = (id: string) => receiver.at('/all').filter((r) => r.body.data.couponId === id).map((r) => r.body.type).sort();
    expect(byCoupon(a.coupon.id)).toEqual(['coupon.expired', 'coupon.issued', 'coupon.opened']);
    expect(byCoupon(b.coupon.id)).toEqual(['coupon.delivery_failed', 'coupon.issued']);
    expect(receiver.at('/all').find((r) => r.body.type === 'coupon.delivery_failed')!.body.data).toMatchObject({ deliveryError: 'blocked', status: 'void' });
    await unsubscribeAll();
  });

  it('campaign.low_stock once at the threshold, campaign.sold_out at zero', async () => {
    at('2026-11-20T10:00:00Z');
    await subscribe('/stock', ['campaign.low_stock', 'campaign.sold_out']);
    const c = await makeCampaign(svc.ctx, { perContactLimit: 1, lowStockThreshold: 1 });
    await loadSerials(svc.ctx, c.id, ['ST-1', 'ST-2', 'ST-3']);
    const ids: string[] = [];
    for (const u of ['U-st-1', 'U-st-2', 'U-st-3']) {
      const r = await issueToUser(svc.ctx, c.id, 'line', u);
      if (!r.ok) throw new Error(r.message);
      ids.push(r.coupon.id);
    }
    await deliverAll(svc.ctx);
    await redeemCoupon(svc.ctx, await tokenOf(ids[0]!));
    await drain();
    expect(receiver.at('/stock')).toHaveLength(0);
    await redeemCoupon(svc.ctx, await tokenOf(ids[1]!));
    await drain();
    expect(receiver.at('/stock').map((r) => r.body.type)).toEqual(['campaign.low_stock']);
    expect(receiver.at('/stock')[0]!.body.data).toMatchObject({ campaignId: c.id, stock: { left: 1, total: 3 }, lowStockThreshold: 1 });
    await redeemCoupon(svc.ctx, await tokenOf(ids[2]!));
    await drain();
    expect(receiver.at('/stock').map((r) => r.body.type)).toEqual(['campaign.low_stock', 'campaign.sold_out']);
    await unsubscribeAll();
  });

  it('recordWebhookEvent writes other events (broadcast.finished) once per key, only when someone subscribes', async () => {
    expect(await svc.ctx.db.transaction((tx) => recordWebhookEvent(tx, 'broadcast.finished', { broadcastId: 'brd_1' }))).toBeNull();
    await subscribe('/broadcasts', ['broadcast.finished']);
    const first = await svc.ctx.db.transaction((tx) => recordWebhookEvent(tx, 'broadcast.finished', { broadcastId: 'brd_2' }, { dedupeKey: 'broadcast:brd_2:finished' }));
    const again = await svc.ctx.db.transaction((tx) => recordWebhookEvent(tx, 'broadcast.finished', { broadcastId: 'brd_2' }, { dedupeKey: 'broadcast:brd_2:finished' }));
    expect(first).toMatch(/^evt_/);
    expect(again).toBeNull();
    await drain();
    expect(receiver.at('/broadcasts').map((r) => [r.body.type, r.body.data])).toEqual([['broadcast.finished', { broadcastId: 'brd_2' }]]);
    await unsubscribeAll();
  });
});

describe('retries, failure and resend', () => {
  it('retries a non-2xx with the same event id, lists each attempt, and marks it failed after 24 hours; resend sends it again', async () => {
    at('2026-11-20T10:00:00Z');
    receiver.status.set('/flaky', 500);
    const hook = await subscribe('/flaky', ['broadcast.finished']);
    await svc.ctx.db.transaction((tx) => recordWebhookEvent(tx, 'broadcast.finished', { broadcastId: 'brd_r' }));
    expect(await deliverWebhooksDue(svc.ctx)).toBe(1);
    expect(await deliverWebhooksDue(svc.ctx)).toBe(0); // not due again before its backoff
    let list = await request(svc.url).get(`/api/v1/webhooks/${hook.id}/deliveries`).set(svc.admin);
    expect(list.body.deliveries).toHaveLength(1);
    expect(list.body.deliveries[0]).toMatchObject({ type: 'broadcast.finished', status: 'pending', lastError: 'the endpoint answered 500',
      attempts: [{ at: '2026-11-20T10:00:00.000Z', status: 500, error: 'the endpoint answered 500' }] });
    const next = new Date(list.body.deliveries[0].nextAttemptAt).getTime();
    expect(next - now.getTime()).toBeGreaterThanOrEqual(5_000);
    expect(next - now.getTime()).toBeLessThanOrEqual(10_000);

    // Keeps failing: retried until 24 hours after the first attempt, then failed.
    for (let i = 0; i < 60; i++) {
      const d = (await request(svc.url).get(`/api/v1/webhooks/${hook.id}/deliveries`).set(svc.admin)).body.deliveries[0];
      if (d.status !== 'pending') break;
      at(d.nextAttemptAt);
      await deliverWebhooksDue(svc.ctx);
    }
    list = await request(svc.url).get(`/api/v1/webhooks/${hook.id}/deliveries`).set(svc.admin);
    const failed = list.body.deliveries[0];
    expect(failed.status).toBe('failed');
    expect(failed.lastError).toMatch(/^gave up after \d+ attempts in 24 hours/);
    expect(new Date(failed.attempts.at(-1).at).getTime() - new Date('2026-11-20T10:00:00Z').getTime()).toBe(24 * 3600_000);
    const ids = new Set(receiver.at('/flaky').map((r) => r.headers['x-chatcoupon-event-id']));
    expect(ids.size).toBe(1);
    const bodies = new Set(receiver.at('/flaky').map((r) => r.raw));
    expect(bodies.size).toBe(1);

    receiver.status.set('/flaky', 204);
    const resent = await request(svc.url).post(`/api/v1/webhooks/${hook.id}/deliveries/${failed.id}/resend`).set(svc.admin);
    expect(resent.status).toBe(202);
    await drain();
    list = await request(svc.url).get(`/api/v1/webhooks/${hook.id}/deliveries`).set(svc.admin);
    expect(list.body.deliveries[0]).toMatchObject({ status: 'sent', lastError: null });
    expect(receiver.at('/flaky').at(-1)!.headers['x-chatcoupon-event-id']).toBe(failed.eventId);
    expect((await request(svc.url).post(`/api/v1/webhooks/${hook.id}/deliveries/999999/resend`).set(svc.admin)).status).toBe(404);
    expect((await request(svc.url).post(`/api/v1/webhooks/${hook.id}/deliveries/abc/resend`).set(svc.admin)).status).toBe(404);
    expect((await request(svc.url).get(`/api/v1/webhooks/${hook.id}/deliveries?limit=0`).set(svc.admin)).status).toBe(400);
    await unsubscribeAll();
  });

  it('an endpoint that does not answer in time or cannot be reached is an error to retry, not a crash', async () => {
    receiver.held.add('/silent');
    const out = await postEvent({ url: `${receiver.url}/silent`, secret: 's', eventId: 'evt_x' }, '{}', now, { timeoutMs: 50 });
    expect(out).toMatchObject({ ok: false, status: null, error: 'no answer within 50 ms' });
    receiver.release();
    receiver.held.delete('/silent');
    const closed = await postEvent({ url: 'http://127.0.0.1:1/x', secret: 's', eventId: 'evt_x' }, '{}', now, { timeoutMs: 1000 });
    expect(closed.ok).toBe(false);
    expect(closed.error).toMatch(/^could not reach the endpoint/);
  });
});

describe('the webhook worker', () => {
  it('a slow endpoint holds only its own places: another endpoint gets every event meanwhile', async () => {
    at('2026-11-20T10:00:00Z');
    receiver.held.add('/slow');
    await subscribe('/slow', ['broadcast.finished']);
    await subscribe('/fast', ['broadcast.finished']);
    await svc.ctx.db.transaction(async (tx) => {
      for (let i = 0; i < 10; i++) await recordWebhookEvent(tx, 'broadcast.finished', { broadcastId: `brd_w${i}` });
    });
    const worker = new WebhookWorker(svc.ctx, { perEndpoint: 4, maxInFlight: 8, pollMs: 10 });
    worker.start();
    try {
      await receiver.until('/fast', 10);
      await receiver.waitFor(() => receiver.heldCount() === 4);
      // The fast endpoint got every event while the slow one held its 4 places, and no more.
      expect(receiver.at('/fast')).toHaveLength(10);
      expect(receiver.heldCount()).toBe(4);
      receiver.held.delete('/slow');
      receiver.release();
      await receiver.until('/slow', 10);
    } finally {
      await worker.stop();
    }
    expect(new Set(receiver.at('/slow').map((r) => r.body.data.broadcastId)).size).toBe(10);
    await unsubscribeAll();
  });
});
