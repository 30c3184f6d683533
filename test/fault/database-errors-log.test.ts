import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import request from 'supertest';
import { lineSignature, lineWebhookBody, newLineUserId, textEvent } from '../../scripts/support/line-webhook.ts';
import { loadConfig } from '../../src/config.ts';
import { processInboundDue } from '../../src/contacts/inbound-worker.ts';
import { issueToUser } from '../../src/coupons/issue.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { loadSerials, makeCampaign } from '../support/campaigns.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { ADMIN_TOKEN, POS_TOKEN } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const LINE_SECRET = 'line-secret-for-log-tests';
const LINE_ACCESS_TOKEN = 'lineAccessToken0123456789abcdefXYZ';
const INBOX_SECRET = 'inbox-secret-for-log-tests';
const MESSAGE_TEXT = 'please send my birthday coupon to Hanako Yamada 090-1234-5678';
const REPLY_TOKEN = 'aa11bb22cc33dd44ee55ff6677889900';

const lines: string[] = [];
const stream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(chunk.toString());
    done();
  },
});

let database: TestDatabase;
let svc: Service;
let couponToken: string;
let meToken: string;

/** Every route the app serves, from express's own table. */
function routesOf(express: unknown): Array<{ method: string; path: string }> {
  const app = express as { router: { stack: Layer[] } };
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const out: Array<{ method: string; path: string }> = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) out.push({ method, path: layer.route.path });
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk(app.router.stack);
  return out;
}

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({
    PORT: '0', DATABASE_URL: database.url, ADMIN_TOKEN, POS_TOKEN, PUBLIC_BASE_URL: 'http://coupons.test',
    LINE_CHANNEL_SECRET: LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN: LINE_ACCESS_TOKEN, LINE_API_BASE_URL: 'http://127.0.0.1:9',
    INBOX_WEBHOOK_SECRET: INBOX_SECRET, INBOX_CALLBACK_URL: 'http://127.0.0.1:9/inbox',
  });
  svc = await startService(config, { log: createLogger('debug', stream), workers: false });
  const campaign = await makeCampaign(svc.ctx);
  await loadSerials(svc.ctx, campaign.id, ['SERIAL-0001']);
  const userId = newLineUserId();
  const issued = await issueToUser(svc.ctx, campaign.id, 'line', userId);
  expect(issued.ok).toBe(true);
  const row = await query(svc.ctx.db, sql`SELECT token FROM coupons LIMIT 1`);
  couponToken = (row.rows[0] as { token: string }).token;
  meToken = crypto.randomBytes(16).toString('base64url');
  // An event stored before the database breaks, holding a message text and a reply token.
  const body = lineWebhookBody([textEvent(userId, MESSAGE_TEXT, { replyToken: REPLY_TOKEN })]);
  expect((await request(svc.url).post('/webhooks/line').set('x-line-signature', lineSignature(LINE_SECRET, body)).set('content-type', 'application/json').send(body)).status).toBe(200);

  // Every statement now fails: the tables are not on the search path of any new connection.
  const admin = new pg.Client({ connectionString: process.env.CHATCOUPON_TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${database.name} SET search_path TO nowhere`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
  await admin.end();
});

afterAll(async () => {
  await svc?.stop();
  await database?.drop();
});

describe('database errors on every route', () => {
  it('are logged without parameters, bodies, tokens or message texts', async () => {
    const secrets = [couponToken, meToken, REPLY_TOKEN, MESSAGE_TEXT, 'Hanako', '090-1234-5678', ADMIN_TOKEN, POS_TOKEN, LINE_ACCESS_TOKEN];
    // The workers meet the broken database too.
    await processInboundDue(svc.ctx).catch(() => undefined);
    await deliverDue(svc.ctx, async () => ({ outcome: 'sent' })).catch(() => undefined);

    const routes = routesOf(svc.app);
    expect(routes.length).toBeGreaterThan(20);
    const statuses: string[] = [];
    for (const { method, path } of routes) {
      const token = path.startsWith('/me/') ? meToken : couponToken;
      const url = path.replace(/:token/g, token).replace(/:[a-zA-Z]+/g, 'cmp_0000000000');
      const body = JSON.stringify({ text: MESSAGE_TEXT, code: couponToken, token: couponToken, replyToken: REPLY_TOKEN, userId: 'Hanako', name: MESSAGE_TEXT, couponId: couponToken, confirm: 'yes' });
      let req = request(svc.url)[method as 'get'](url).set('Authorization', `Bearer ${ADMIN_TOKEN}`).set('Accept', 'application/json');
      if (path === '/webhooks/line') {
        const events = lineWebhookBody([textEvent(newLineUserId(), MESSAGE_TEXT, { replyToken: REPLY_TOKEN })]);
        req = req.set('x-line-signature', lineSignature(LINE_SECRET, events)).set('content-type', 'application/json').send(events);
      } else if (path === '/webhooks/inbox') {
        const events = JSON.stringify({ id: 'evt-1', type: 'message.created', conversation: { id: 'c1' }, contact: { id: 'Hanako', name: 'Hanako' },
          message: { id: 'm1', text: MESSAGE_TEXT }, createdAt: new Date().toISOString() });
        req = req.set('x-inbox-signature', `sha256=${crypto.createHmac('sha256', INBOX_SECRET).update(events).digest('hex')}`).set('content-type', 'application/json').send(events);
      } else if (method !== 'get') {
        req = req.set('content-type', 'application/json').send(body);
      }
      const res = await req;
      statuses.push(`${method.toUpperCase()} ${path} ${res.status}`);
    }
    // The failures were real and were logged.
    const errors = lines.filter((l) => /"level":(40|50)/.test(l));
    expect(errors.length).toBeGreaterThan(10);
    expect(lines.join('')).toMatch(/relation .* does not exist/);
    expect(statuses.filter((s) => / 5\d\d$/.test(s)).length).toBeGreaterThan(10);
    const log = lines.join('');
    for (const secret of secrets) if (log.includes(secret)) console.log(lines.filter((l) => l.includes(secret)).slice(0, 3).join('\n'));
    for (const secret of secrets) expect({ secret, found: log.includes(secret) }).toEqual({ secret, found: false });
  });
});
