import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import {
  followEvent, lineSignature, lineWebhookBody, newLineUserId, newWebhookEventId, postLineWebhook, textEvent,
} from '../../scripts/support/line-webhook.ts';
import { processInboundDue } from '../../src/contacts/inbound-worker.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const LINE_SECRET = 'line-channel-secret-for-tests';
const APP_SECRET = 'messenger-app-secret-for-tests';
const VERIFY_TOKEN = 'messenger-verify-token';
const INBOX_SECRET = 'inbox-secret-for-tests';

const hex = (secret: string, body: string) => `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;

let standin: LineStandin;
let svc: TestService;
let off: TestService;
let flowsDir: string;

beforeAll(async () => {
  standin = await startLineStandin();
  flowsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-flows-'));
  svc = await startTestService({
    env: {
      LINE_CHANNEL_SECRET: LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url,
      MESSENGER_APP_SECRET: APP_SECRET, MESSENGER_PAGE_ACCESS_TOKEN: 'page-token', MESSENGER_VERIFY_TOKEN: VERIFY_TOKEN,
      GRAPH_API_BASE_URL: `${standin.url}/graph`,
      INBOX_WEBHOOK_SECRET: INBOX_SECRET, INBOX_CALLBACK_URL: `${standin.url}/inbox`,
      FLOWS_DIR: flowsDir,
    },
  });
  off = await startTestService({ env: { FLOWS_DIR: flowsDir } });
});

afterAll(async () => {
  await svc?.stop();
  await off?.stop();
  await standin?.close();
  fs.rmSync(flowsDir, { recursive: true, force: true });
});

async function storedKeys(s: TestService, channel: string): Promise<string[]> {
  const r = await query(s.ctx.db, sql`SELECT event_key FROM inbound_events WHERE channel = ${channel} ORDER BY id`);
  return (r.rows as Array<{ event_key: string }>).map((row) => row.event_key);
}

async function countEvents(s: TestService): Promise<number> {
  const r = await query(s.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events`);
  return (r.rows[0] as { n: number }).n;
}

async function postRaw(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('POST /webhooks/line', () => {
  it('stores every event of a signed webhook before answering 200, and processes nothing itself', async () => {
    const user = newLineUserId();
    const follow = followEvent(user);
    const text = textEvent(user, 'hello');
    const res = await postLineWebhook(svc.url, LINE_SECRET, [follow, text]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', stored: 2 });
    const rows = await query(svc.ctx.db, sql`SELECT event_key, event, processed_at FROM inbound_events
      WHERE event_key IN (${follow.webhookEventId}, ${text.webhookEventId}) ORDER BY id`);
    expect(rows.rows).toEqual([
      expect.objectContaining({ event_key: follow.webhookEventId, processed_at: null, event: expect.objectContaining({ type: 'follow', userId: user }) }),
      expect.objectContaining({ event_key: text.webhookEventId, processed_at: null, event: expect.objectContaining({ type: 'message', text: 'hello' }) }),
    ]);
  });

  it('refuses a bad signature with 401 and stores nothing', async () => {
    const before = await countEvents(svc);
    const body = lineWebhookBody([textEvent(newLineUserId(), 'hi')]);
    const res = await postRaw(`${svc.url}/webhooks/line`, body, { 'x-line-signature': lineSignature('another-secret', body) });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('invalid_signature');
    // A signature of other bytes (the body altered in transit) fails too.
    const tampered = await postRaw(`${svc.url}/webhooks/line`, body.replace('hi', 'ho'), { 'x-line-signature': lineSignature(LINE_SECRET, body) });
    expect(tampered.status).toBe(401);
    expect(await countEvents(svc)).toBe(before);
  });

  it('refuses a missing signature with 401 and stores nothing', async () => {
    const before = await countEvents(svc);
    const res = await postRaw(`${svc.url}/webhooks/line`, lineWebhookBody([textEvent(newLineUserId(), 'hi')]), {});
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('invalid_signature');
    expect(await countEvents(svc)).toBe(before);
  });

  it('answers 400 to a signed body that is not JSON or not a LINE webhook', async () => {
    const before = await countEvents(svc);
    const notJson = '{"events": [';
    const r1 = await postRaw(`${svc.url}/webhooks/line`, notJson, { 'x-line-signature': lineSignature(LINE_SECRET, notJson) });
    expect(r1.status).toBe(400);
    expect(await errorCode(r1)).toBe('invalid_json');
    const wrongShape = JSON.stringify({ events: [{ type: 'message', source: { type: 'user', userId: 'U1' } }] });
    const r2 = await postRaw(`${svc.url}/webhooks/line`, wrongShape, { 'x-line-signature': lineSignature(LINE_SECRET, wrongShape) });
    expect(r2.status).toBe(400);
    expect(await errorCode(r2)).toBe('validation_error');
    const notObject = '"events"';
    const r3 = await postRaw(`${svc.url}/webhooks/line`, notObject, { 'x-line-signature': lineSignature(LINE_SECRET, notObject) });
    expect(r3.status).toBe(400);
    expect(await countEvents(svc)).toBe(before);
  });

  it('answers 200 to an empty events list (LINE\'s "Verify" button)', async () => {
    const res = await postLineWebhook(svc.url, LINE_SECRET, []);
    expect(res.status).toBe(200);
  });

  it('refuses a body over 1 MB with 413 and stores nothing', async () => {
    const before = await countEvents(svc);
    const body = lineWebhookBody([textEvent(newLineUserId(), 'x'.repeat(1024 * 1024 + 10))]);
    const res = await postRaw(`${svc.url}/webhooks/line`, body, { 'x-line-signature': lineSignature(LINE_SECRET, body) });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('payload_too_large');
    expect(await countEvents(svc)).toBe(before);
  });

  it('stores a redelivered event once', async () => {
    const user = newLineUserId();
    const id = newWebhookEventId();
    const first = await postLineWebhook(svc.url, LINE_SECRET, [textEvent(user, 'once', { webhookEventId: id })]);
    const again = await postLineWebhook(svc.url, LINE_SECRET, [textEvent(user, 'once', { webhookEventId: id, redelivery: true })]);
    expect([first.status, again.status]).toEqual([200, 200]);
    const r = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events WHERE channel = 'line' AND event_key = ${id}`);
    expect((r.rows[0] as { n: number }).n).toBe(1);
  });

  it('stores every event of many concurrent webhooks (batched inserts), duplicates once', async () => {
    const user = newLineUserId();
    const events = Array.from({ length: 60 }, (_, i) => textEvent(user, `m${i}`));
    // Every event twice, concurrently: the batches overlap on keys.
    const responses = await Promise.all([...events, ...events].map((e) => postLineWebhook(svc.url, LINE_SECRET, [e])));
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    const keys = await storedKeys(svc, 'line');
    for (const e of events) expect(keys.filter((k) => k === e.webhookEventId)).toHaveLength(1);
  });

  it('never crashes on odd input: no content type, a NUL character, a huge event id', async () => {
    const nul = lineWebhookBody([textEvent(newLineUserId(), 'a\u0000b')]);
    const r1 = await fetch(`${svc.url}/webhooks/line`, { method: 'POST', headers: { 'x-line-signature': lineSignature(LINE_SECRET, nul) }, body: nul });
    expect(r1.status).toBe(200);
    const huge = lineWebhookBody([textEvent(newLineUserId(), 'x', { webhookEventId: 'E'.repeat(5000) })]);
    const r2 = await postRaw(`${svc.url}/webhooks/line`, huge, { 'x-line-signature': lineSignature(LINE_SECRET, huge) });
    expect(r2.status).toBe(400);
    const health = await fetch(`${svc.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('answers 400 to a NUL character in an event id or user id, and stores a lone surrogate without failing its batch', async () => {
    const nulId = lineWebhookBody([textEvent(newLineUserId(), 'x', { webhookEventId: 'E\u0000E' })]);
    const r1 = await postRaw(`${svc.url}/webhooks/line`, nulId, { 'x-line-signature': lineSignature(LINE_SECRET, nulId) });
    expect(r1.status).toBe(400);
    expect(await errorCode(r1)).toBe('validation_error');
    const nulUser = lineWebhookBody([textEvent('U\u0000', 'x')]);
    const r2 = await postRaw(`${svc.url}/webhooks/line`, nulUser, { 'x-line-signature': lineSignature(LINE_SECRET, nulUser) });
    expect(r2.status).toBe(400);

    // JSON.stringify keeps a lone surrogate as `\ud800`, which jsonb refuses.
    const user = newLineUserId();
    const odd = textEvent(user, 'a\ud800b');
    const plain = textEvent(newLineUserId(), 'plain');
    const [r3, r4] = await Promise.all([postLineWebhook(svc.url, LINE_SECRET, [odd]), postLineWebhook(svc.url, LINE_SECRET, [plain])]);
    expect([r3.status, r4.status]).toEqual([200, 200]);
    const rows = await query(svc.ctx.db, sql`SELECT event->>'text' AS text FROM inbound_events
      WHERE event_key IN (${odd.webhookEventId}, ${plain.webhookEventId}) ORDER BY event->>'text'`);
    expect(rows.rows).toEqual([{ text: 'a\ufffdb' }, { text: 'plain' }]);
  });
});

describe('Messenger webhooks', () => {
  const handshake = (params: Record<string, string>) => fetch(`${svc.url}/webhooks/messenger?${new URLSearchParams(params)}`);

  it('answers the verify handshake with the challenge', async () => {
    const res = await handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1158201444');
  });

  it('refuses a wrong verify token or mode with 403', async () => {
    const wrong = await handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': 'guess', 'hub.challenge': '1' });
    expect(wrong.status).toBe(403);
    const mode = await handshake({ 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' });
    expect(mode.status).toBe(403);
    const none = await handshake({});
    expect(none.status).toBe(403);
  });

  it('goes through the adapter\'s handshake check: an empty challenge or a repeated token is refused', async () => {
    const empty = await handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '' });
    expect(empty.status).toBe(403);
    expect(await errorCode(empty)).toBe('forbidden');
    const twice = await fetch(`${svc.url}/webhooks/messenger?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=7`);
    expect(twice.status).toBe(403);
  });

  const messengerBody = (mid: string, psid: string) => JSON.stringify({
    object: 'page',
    entry: [{ id: 'PAGE1', time: Date.now(), messaging: [{ sender: { id: psid }, recipient: { id: 'PAGE1' }, timestamp: Date.now(), message: { mid, text: 'hi' } }] }],
  });

  it('stores a signed event once and refuses a bad signature', async () => {
    const mid = `m_${crypto.randomUUID()}`;
    const body = messengerBody(mid, '7001');
    const ok = await postRaw(`${svc.url}/webhooks/messenger`, body, { 'x-hub-signature-256': hex(APP_SECRET, body) });
    expect(ok.status).toBe(200);
    const again = await postRaw(`${svc.url}/webhooks/messenger`, body, { 'x-hub-signature-256': hex(APP_SECRET, body) });
    expect(again.status).toBe(200);
    expect((await storedKeys(svc, 'messenger')).filter((k) => k === mid)).toHaveLength(1);

    const other = messengerBody(`m_${crypto.randomUUID()}`, '7001');
    const bad = await postRaw(`${svc.url}/webhooks/messenger`, other, { 'x-hub-signature-256': hex('wrong', other) });
    expect(bad.status).toBe(401);
    const missing = await postRaw(`${svc.url}/webhooks/messenger`, other, {});
    expect(missing.status).toBe(401);
    expect(await storedKeys(svc, 'messenger')).toEqual([mid]);
  });

  it('answers 400 to a signed body that is not JSON or not a Messenger webhook, and stores nothing', async () => {
    const before = await countEvents(svc);
    const body = JSON.stringify({ object: 'page', entry: 'nope' });
    const res = await postRaw(`${svc.url}/webhooks/messenger`, body, { 'x-hub-signature-256': hex(APP_SECRET, body) });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('validation_error');
    const notJson = '{"object":"page","entry":[';
    const r2 = await postRaw(`${svc.url}/webhooks/messenger`, notJson, { 'x-hub-signature-256': hex(APP_SECRET, notJson) });
    expect(r2.status).toBe(400);
    expect(await errorCode(r2)).toBe('invalid_json');
    // One bad item spoils the whole batch: the good event beside it is not stored either.
    const mixed = JSON.stringify({
      object: 'page',
      entry: [{ id: 'PAGE1', time: Date.now(), messaging: [
        { sender: { id: '7002' }, recipient: { id: 'PAGE1' }, timestamp: Date.now(), message: { mid: `m_${crypto.randomUUID()}`, text: 'ok' } },
        { sender: { id: '7002' }, recipient: { id: 'PAGE1' }, timestamp: Date.now(), message: { text: 'no mid' } },
      ] }],
    });
    const r3 = await postRaw(`${svc.url}/webhooks/messenger`, mixed, { 'x-hub-signature-256': hex(APP_SECRET, mixed) });
    expect(r3.status).toBe(400);
    expect(await countEvents(svc)).toBe(before);
  });

  it('refuses a body over 1 MB with 413 and stores nothing', async () => {
    const before = await countEvents(svc);
    const body = messengerBody(`m_${crypto.randomUUID()}`, '7003').replace('"hi"', JSON.stringify('x'.repeat(1024 * 1024 + 10)));
    const res = await postRaw(`${svc.url}/webhooks/messenger`, body, { 'x-hub-signature-256': hex(APP_SECRET, body) });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('payload_too_large');
    expect(await countEvents(svc)).toBe(before);
  });

  it('stores a redelivered batch of several entries and events once, skipping echoes, and processes each once', async () => {
    const psidA = `71${crypto.randomInt(1e9)}`;
    const psidB = `72${crypto.randomInt(1e9)}`;
    const t = Date.now() - 5000;
    const mids = [`m_${crypto.randomUUID()}`, `m_${crypto.randomUUID()}`];
    const body = JSON.stringify({
      object: 'page',
      entry: [
        { id: 'PAGE1', time: t, messaging: [
          { sender: { id: psidA }, recipient: { id: 'PAGE1' }, timestamp: t, message: { mid: mids[0], text: 'Red', quick_reply: { payload: 'COLOR_RED' } } },
          { sender: { id: psidA }, recipient: { id: 'PAGE1' }, timestamp: t + 1, postback: { title: 'Get coupon', payload: 'GET_COUPON' } },
          { sender: { id: 'PAGE1' }, recipient: { id: psidA }, timestamp: t + 2, message: { mid: `m_echo_${crypto.randomUUID()}`, is_echo: true, text: 'our reply' } },
        ] },
        { id: 'PAGE1', time: t + 3, messaging: [
          { sender: { id: psidB }, recipient: { id: 'PAGE1' }, timestamp: t + 3, referral: { ref: 'store-42', source: 'SHORTLINK', type: 'OPEN_THREAD' } },
          { sender: { id: psidB }, recipient: { id: 'PAGE1' }, timestamp: t + 4, message: { mid: mids[1], text: 'hello' } },
        ] },
      ],
    });
    const keys = [mids[0], `${psidA}:${t + 1}:postback:GET_COUPON`, `${psidB}:${t + 3}:referral`, mids[1]];
    for (let i = 0; i < 2; i++) {
      const res = await postRaw(`${svc.url}/webhooks/messenger`, body, { 'x-hub-signature-256': hex(APP_SECRET, body) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', stored: 4 });
    }
    const stored = await query(svc.ctx.db, sql`SELECT event_key, event->>'type' AS type FROM inbound_events
      WHERE channel = 'messenger' AND event->>'userId' IN (${psidA}, ${psidB}) ORDER BY event_key`);
    expect(stored.rows).toEqual(expect.arrayContaining(keys.map((k) => expect.objectContaining({ event_key: k }))));
    expect(stored.rows).toHaveLength(4);
    expect((stored.rows as Array<{ type: string }>).map((r) => r.type).sort()).toEqual(['message', 'message', 'postback', 'referral']);

    while ((await processInboundDue(svc.ctx)).fetched > 0) { /* drain */ }
    const processed = await query(svc.ctx.db, sql`SELECT DISTINCT attempts FROM inbound_events
      WHERE channel = 'messenger' AND event->>'userId' IN (${psidA}, ${psidB}) AND processed_at IS NOT NULL`);
    expect(processed.rows).toEqual([{ attempts: 1 }]);
    // One contact per sender; the echo (sent by the page) made none.
    const contacts = await query(svc.ctx.db, sql`SELECT platform_user_id FROM contacts WHERE channel = 'messenger'
      AND platform_user_id IN (${psidA}, ${psidB}, 'PAGE1')`);
    expect((contacts.rows as Array<{ platform_user_id: string }>).map((r) => r.platform_user_id).sort()).toEqual([psidA, psidB].sort());
  });
});

describe('POST /webhooks/inbox', () => {
  const inboxBody = (id: string) => JSON.stringify({
    id, type: 'message.created', conversation: { id: 'conv-1' }, contact: { id: 'buyer-1', name: 'Mei' },
    message: { id: `msg-${id}`, text: 'Any coupons?' }, createdAt: new Date().toISOString(),
  });

  it('stores a signed event and refuses a bad or missing signature', async () => {
    const id = `evt-${crypto.randomUUID()}`;
    const body = inboxBody(id);
    const ok = await postRaw(`${svc.url}/webhooks/inbox`, body, { 'x-inbox-signature': hex(INBOX_SECRET, body) });
    expect(ok.status).toBe(200);
    const bad = await postRaw(`${svc.url}/webhooks/inbox`, inboxBody('evt-x'), { 'x-inbox-signature': hex('wrong', inboxBody('evt-x')) });
    expect(bad.status).toBe(401);
    const missing = await postRaw(`${svc.url}/webhooks/inbox`, inboxBody('evt-y'), {});
    expect(missing.status).toBe(401);
    expect(await storedKeys(svc, 'inbox')).toEqual([id]);
  });

  it('answers 400 to a signed event missing its fields or a body that is not JSON, and stores nothing', async () => {
    const before = await countEvents(svc);
    const body = JSON.stringify({ id: 'evt-z', type: 'message.created' });
    const res = await postRaw(`${svc.url}/webhooks/inbox`, body, { 'x-inbox-signature': hex(INBOX_SECRET, body) });
    expect(res.status).toBe(400);
    expect(await storedKeys(svc, 'inbox')).not.toContain('evt-z');
    const notJson = inboxBody('evt-cut').slice(0, 40);
    const r2 = await postRaw(`${svc.url}/webhooks/inbox`, notJson, { 'x-inbox-signature': hex(INBOX_SECRET, notJson) });
    expect(r2.status).toBe(400);
    expect(await errorCode(r2)).toBe('invalid_json');
    expect(await countEvents(svc)).toBe(before);
  });

  it('refuses a body over 1 MB with 413 and stores nothing', async () => {
    const before = await countEvents(svc);
    const body = inboxBody(`evt-${crypto.randomUUID()}`).replace('Any coupons?', 'x'.repeat(1024 * 1024 + 10));
    const res = await postRaw(`${svc.url}/webhooks/inbox`, body, { 'x-inbox-signature': hex(INBOX_SECRET, body) });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('payload_too_large');
    expect(await countEvents(svc)).toBe(before);
  });

  it('stores an event sent again with the same id once', async () => {
    const id = `evt-${crypto.randomUUID()}`;
    const body = inboxBody(id);
    for (let i = 0; i < 2; i++) {
      const res = await postRaw(`${svc.url}/webhooks/inbox`, body, { 'x-inbox-signature': hex(INBOX_SECRET, body) });
      expect(res.status).toBe(200);
    }
    expect((await storedKeys(svc, 'inbox')).filter((k) => k === id)).toHaveLength(1);
  });
});

describe('a channel that is off', () => {
  it('answers 404 channel_off on every webhook route and stores nothing', async () => {
    const body = lineWebhookBody([textEvent(newLineUserId(), 'hi')]);
    const line = await postRaw(`${off.url}/webhooks/line`, body, { 'x-line-signature': lineSignature(LINE_SECRET, body) });
    expect(line.status).toBe(404);
    expect(await errorCode(line)).toBe('channel_off');
    const messengerGet = await fetch(`${off.url}/webhooks/messenger?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1`);
    expect(messengerGet.status).toBe(404);
    const messengerPost = await postRaw(`${off.url}/webhooks/messenger`, '{}', {});
    expect(messengerPost.status).toBe(404);
    const inbox = await postRaw(`${off.url}/webhooks/inbox`, '{}', {});
    expect(await errorCode(inbox)).toBe('channel_off');
    expect(await countEvents(off)).toBe(0);
  });
});

describe('processing stored webhooks', () => {
  it('processes each stored event once, however often the worker runs', async () => {
    const user = newLineUserId();
    await postLineWebhook(svc.url, LINE_SECRET, [followEvent(user), textEvent(user, 'one'), textEvent(user, 'two')]);
    let processed = 0;
    for (;;) {
      const round = await processInboundDue(svc.ctx);
      processed += round.done;
      if (round.fetched === 0) break;
    }
    expect(processed).toBeGreaterThanOrEqual(3);
    expect((await processInboundDue(svc.ctx)).fetched).toBe(0);
    const r = await query(svc.ctx.db, sql`SELECT attempts, processed_at FROM inbound_events WHERE event->>'userId' = ${user}`);
    expect(r.rows).toHaveLength(3);
    for (const row of r.rows as Array<{ attempts: number; processed_at: Date | null }>) {
      expect(row.attempts).toBe(1);
      expect(row.processed_at).toBeInstanceOf(Date);
    }
  });
});
