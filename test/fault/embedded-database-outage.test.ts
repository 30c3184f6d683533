import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/config.ts';
import { startService, type Service } from '../../src/service.ts';
import { ADMIN_TOKEN } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const INBOX_SECRET = 'inbox-secret-for-outage-tests';
const sign = (body: string) => `sha256=${crypto.createHmac('sha256', INBOX_SECRET).update(body).digest('hex')}`;

/** A pause the test opens by hand: the restart waits on it, so "meanwhile" is not a race. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let waiting!: () => void;
  const reached = new Promise<void>((resolve) => (waiting = resolve));
  return {
    wait: async () => {
      waiting();
      await opened;
    },
    reached,
    open,
  };
}

function inboxEvent(id: string, text: string): string {
  return JSON.stringify({
    id, type: 'message.created', conversation: { id: `conv-${id}` }, contact: { id: `contact-${id}` },
    message: { id: `m-${id}`, text }, createdAt: new Date().toISOString(),
  });
}

let dataDir: string;
let svc: Service;
let restartGate = gate();
let lost = 0;
let maxRestarts = 3;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-outage-'));
  fs.chmodSync(dataDir, 0o755);
  const config = loadConfig({
    PORT: '0', DATA_DIR: dataDir, ADMIN_TOKEN, PUBLIC_BASE_URL: 'http://coupons.test',
    INBOX_WEBHOOK_SECRET: INBOX_SECRET, INBOX_CALLBACK_URL: 'http://127.0.0.1:9/inbox',
  });
  svc = await startService(config, {
    log: pino({ level: 'silent' }),
    workers: false,
    supervise: { maxRestarts: 3, delayMs: () => 0, wait: () => (maxRestarts-- > 0 ? restartGate.wait() : Promise.resolve()) },
    onDatabaseLost: () => lost++,
  });
});

afterAll(async () => {
  restartGate.open();
  await svc?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the embedded PostgreSQL is killed (kill -9)', () => {
  it('stores its superuser password per data directory, readable by the owner only', () => {
    const file = path.join(dataDir, 'pg-superuser-password');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const password = fs.readFileSync(file, 'utf8');
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(password).not.toBe('chatcoupon-local');
    expect(svc.database!.url).toContain(encodeURIComponent(password));
  });

  it('answers 503 with Retry-After meanwhile (never 500), stores nothing it acknowledged, and is healthy again without a hand', async () => {
    expect((await request(svc.url).get('/healthz')).status).toBe(200);
    const before = svc.database!.pid()!;
    const down = once(svc.database!, 'down');
    process.kill(before, 'SIGKILL');
    await down;
    await restartGate.reached;

    const refused = inboxEvent('during-outage', 'hello while down');
    const answers = [
      await request(svc.url).get('/healthz'),
      await request(svc.url).get('/api/v1/campaigns').set('Authorization', `Bearer ${ADMIN_TOKEN}`),
      await request(svc.url).post('/webhooks/inbox').set('content-type', 'application/json')
        .set('x-inbox-signature', sign(refused)).send(refused),
      await request(svc.url).get('/c/AbCdEfGh12345678').set('Accept', 'text/html'),
      await request(svc.url).get('/me/AbCdEfGh12345678').set('Accept', 'text/html'),
    ];
    for (const res of answers) {
      expect({ status: res.status, body: res.text.slice(0, 200) }).toMatchObject({ status: 503 });
      expect(res.headers['retry-after']).toBe('5');
    }
    expect(answers[1]!.body.error.code).toBe('unavailable');
    expect(answers[2]!.body.error.code).toBe('unavailable');

    const up = once(svc.database!, 'up');
    restartGate.open();
    await up;
    expect(svc.database!.pid()).not.toBe(before);
    expect((await request(svc.url).get('/healthz')).status).toBe(200);
    expect((await request(svc.url).get('/api/v1/campaigns').set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status).toBe(200);
    // The platform retries the webhook it was refused: now it is stored, once.
    const body = refused;
    expect((await request(svc.url).post('/webhooks/inbox').set('content-type', 'application/json').set('x-inbox-signature', sign(body)).send(body)).status).toBe(200);
    const stored = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events WHERE event_key = 'during-outage'`);
    expect(stored.rows[0]).toEqual({ n: 1 });
    expect(lost).toBe(0);
  });

  it('gives up after its restart limit when the server cannot start, and says so', async () => {
    restartGate = gate();
    restartGate.open();
    maxRestarts = 0;
    // A data directory PostgreSQL refuses: every restart fails.
    const versionFile = path.join(dataDir, 'pg', 'PG_VERSION');
    const version = fs.readFileSync(versionFile);
    const gaveUp = once(svc.database!, 'gave-up');
    const pid = svc.database!.pid()!;
    fs.rmSync(versionFile);
    process.kill(pid, 'SIGKILL');
    const [event] = await gaveUp as [{ attempts: number }];
    expect(event.attempts).toBe(3);
    expect(lost).toBe(1);
    expect((await request(svc.url).get('/healthz')).status).toBe(503);
    fs.writeFileSync(versionFile, version);
  });
});
