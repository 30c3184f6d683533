import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { pruneFinished } from '../../src/maintenance/retention.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const now = new Date('2026-06-01T00:00:00Z');
let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ clock: () => now, env: { RETENTION_DAYS: '30', RETENTION_FAILED_DAYS: '90' } });
});
afterAll(async () => {
  await svc.stop();
});

const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

async function seed(): Promise<void> {
  const events: Array<[string, Date | null, string | null]> = [
    ['done-31', daysAgo(31), null], ['done-29', daysAgo(29), null],
    ['failed-91', daysAgo(91), 'boom'], ['failed-89', daysAgo(89), 'boom'],
    ['open-200', null, null],
  ];
  for (const [key, processed, error] of events) {
    await query(svc.ctx.db, sql`INSERT INTO inbound_events (channel, event_key, event, processed_at, last_error)
      VALUES ('inbox', ${key}, '{}'::jsonb, ${processed}, ${error})`);
  }
  const messages: Array<[string, string, Date]> = [
    ['sent-31', 'sent', daysAgo(31)], ['sent-29', 'sent', daysAgo(29)],
    ['failed-91', 'failed', daysAgo(91)], ['failed-89', 'failed', daysAgo(89)],
    ['pending-200', 'pending', daysAgo(200)],
  ];
  for (const [id, status, created] of messages) {
    await query(svc.ctx.db, sql`INSERT INTO outbox (id, channel, contact_id, message, retry_key, status, created_at)
      VALUES (${id}, 'inbox', 'ctc_x', '{}'::jsonb, ${id}, ${status}, ${created})`);
  }
}

describe('retention', () => {
  it('prunes processed events and delivered messages after RETENTION_DAYS, failures after RETENTION_FAILED_DAYS, never open work', async () => {
    await seed();
    // Batches of 1 show the work is done in small statements until nothing is left.
    const deleted = await pruneFinished(svc.ctx, { batch: 1 });
    expect(deleted).toEqual({ inbound_events: 2, outbox: 2, webhook_deliveries: 0, webhook_events: 0 });
    const events = await query(svc.ctx.db, sql`SELECT event_key FROM inbound_events ORDER BY event_key`);
    expect(events.rows.map((r) => (r as { event_key: string }).event_key)).toEqual(['done-29', 'failed-89', 'open-200']);
    const outbox = await query(svc.ctx.db, sql`SELECT id FROM outbox ORDER BY id`);
    expect(outbox.rows.map((r) => (r as { id: string }).id)).toEqual(['failed-89', 'pending-200', 'sent-29']);
    expect(await pruneFinished(svc.ctx)).toEqual({ inbound_events: 0, outbox: 0, webhook_deliveries: 0, webhook_events: 0 });
  });

  it('prunes webhook deliveries (with their attempts) like the outbox, then events with no delivery left', async () => {
    await query(svc.ctx.db, sql`INSERT INTO webhook_endpoints (id, url, events, secret) VALUES ('whk_r', 'https://x.example', '{coupon.issued}', 's')`);
    const rows: Array<[string, string, Date]> = [['evt_sent31', 'sent', daysAgo(31)], ['evt_sent29', 'sent', daysAgo(29)],
      ['evt_failed91', 'failed', daysAgo(91)], ['evt_failed89', 'failed', daysAgo(89)], ['evt_pending200', 'pending', daysAgo(200)]];
    for (const [id, status, created] of rows) {
      await query(svc.ctx.db, sql`INSERT INTO webhook_events (id, type, payload, created_at) VALUES (${id}, 'coupon.issued', '{}'::jsonb, ${created})`);
      const d = await query(svc.ctx.db, sql`INSERT INTO webhook_deliveries (event_id, endpoint_id, status, created_at)
        VALUES (${id}, 'whk_r', ${status}, ${created}) RETURNING id`);
      await query(svc.ctx.db, sql`INSERT INTO webhook_attempts (delivery_id, at, status_code, duration_ms) VALUES (${(d.rows[0] as { id: number }).id}, ${created}, 500, 1)`);
    }
    expect(await pruneFinished(svc.ctx)).toMatchObject({ webhook_deliveries: 2, webhook_events: 2 });
    const left = await query(svc.ctx.db, sql`SELECT id FROM webhook_events ORDER BY id`);
    expect(left.rows.map((r) => (r as { id: string }).id)).toEqual(['evt_failed89', 'evt_pending200', 'evt_sent29']);
    const attempts = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM webhook_attempts`);
    expect(attempts.rows).toEqual([{ n: 3 }]);
  });

  it('skips rows another transaction holds instead of waiting for them', async () => {
    await query(svc.ctx.db, sql`INSERT INTO outbox (id, channel, contact_id, message, retry_key, status, created_at)
      VALUES ('held', 'inbox', 'ctc_x', '{}'::jsonb, 'held', 'sent', ${daysAgo(100)})`);
    const client = await svc.ctx.db.$client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT id FROM outbox WHERE id = 'held' FOR UPDATE`);
      expect(await pruneFinished(svc.ctx)).toMatchObject({ outbox: 0 });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await pruneFinished(svc.ctx)).toMatchObject({ outbox: 1 });
  });

  it('the status API shows table sizes and the retention settings to the operator', async () => {
    await query(svc.ctx.db, sql`ANALYZE inbound_events`);
    const res = await request(svc.url).get('/api/v1/status').set(svc.admin);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.retention).toEqual({ days: 30, failedDays: 90 });
    const names = res.body.tables.map((t: { table: string }) => t.table);
    expect(names).toEqual(expect.arrayContaining(['inbound_events', 'outbox', 'coupons', 'pgboss.job']));
    for (const t of res.body.tables) {
      expect(Number.isInteger(t.rows)).toBe(true);
      expect(t.bytes).toBeGreaterThanOrEqual(0);
    }
    const inbound = res.body.tables.find((t: { table: string }) => t.table === 'inbound_events');
    expect(inbound.rows).toBe(3);
    expect(inbound.bytes).toBeGreaterThan(0);
    expect((await request(svc.url).get('/api/v1/status')).status).toBe(401);
  });
});
