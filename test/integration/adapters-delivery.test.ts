import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { inboxSignatureMatches } from '../../adapters/inbox/index.ts';
import type { ChannelName, OutboundMessage } from '../../adapters/types.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { enqueueMessage } from '../../src/delivery/outbox.ts';
import { validateLineRequest } from '../support/line-schema.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

/** The real outbox and delivery worker driving the real adapters; only the platforms are faked (nock). */
const LINE_API = 'https://line-api.test';
const GRAPH = 'https://graph.test/v21.0';
const INBOX = 'https://inbox.test';
const USER = `U${'a'.repeat(32)}`;

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({
    env: {
      LINE_CHANNEL_SECRET: 'line-secret', LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: LINE_API,
      MESSENGER_APP_SECRET: 'app-secret', MESSENGER_PAGE_ACCESS_TOKEN: 'page-token', MESSENGER_VERIFY_TOKEN: 'verify', GRAPH_API_BASE_URL: GRAPH,
      INBOX_WEBHOOK_SECRET: 'inbox-secret', INBOX_CALLBACK_URL: `${INBOX}/callback`,
    },
  });
  // PostgreSQL is raw TCP, which nock leaves alone; HTTP to anything but the fakes is refused.
  nock.disableNetConnect();
});
afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});
afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
  await svc.stop();
});

const card = {
  couponId: 'cpn_x', campaignName: 'Welcome gift', rewardText: 'Free drink', deadlineText: 'Use by 2026-12-31 23:59',
  pageUrl: 'http://coupons.test/c/tok', imageUrl: 'https://cdn.example/cmp.png',
  colors: { background: '#ffffff', button: '#06c755', buttonText: '#ffffff' }, buttonLabel: 'Open coupon', altText: 'Welcome gift: Free drink',
};
const coupon: OutboundMessage = { type: 'coupon', card };

let seq = 0;
async function enqueue(channel: ChannelName, platformUserId: string, opts: { replyToken?: string; externalId?: string } = {}) {
  seq += 1;
  const contactId = `ctc_adapters_${seq}`;
  return await svc.ctx.db.transaction(async (tx) => {
    await query(tx, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token) VALUES (${contactId}, ${channel}, ${platformUserId}, ${`me-${seq}`})`);
    let conversationId: string | null = null;
    if (opts.externalId) {
      conversationId = `cnv_adapters_${seq}`;
      await query(tx, sql`INSERT INTO conversations (id, contact_id, channel, external_id) VALUES (${conversationId}, ${contactId}, ${channel}, ${opts.externalId})`);
    }
    return await enqueueMessage(tx, {
      channel, contactId, conversationId, message: coupon,
      ...(opts.replyToken ? { replyToken: opts.replyToken, replyTokenExpiresAt: new Date(Date.now() + 50_000) } : {}),
    });
  });
}

async function outbox(id: string) {
  const { rows } = await query(svc.ctx.db, sql`SELECT status, attempts, retry_key AS "retryKey", last_error AS "lastError", platform_response AS "platformResponse" FROM outbox WHERE id = ${id}`);
  return rows[0] as { status: string; attempts: number; retryKey: string; lastError: string | null; platformResponse: unknown };
}

/** Makes a retried row due now instead of after its backoff. */
async function dueNow(id: string) {
  await query(svc.ctx.db, sql`UPDATE outbox SET next_attempt_at = now() WHERE id = ${id}`);
}

describe('delivery through the channel adapters', () => {
  it('LINE: a stale reply token falls back to a push carrying the row\'s retry key', async () => {
    const id = await enqueue('line', USER, { replyToken: 'rt-stale' });
    const calls: Array<{ path: string; retryKey: unknown; body: { to?: string; replyToken?: string } }> = [];
    nock(LINE_API).post('/v2/bot/message/reply').reply(function (_uri, body) {
      calls.push({ path: 'reply', retryKey: this.req.headers['x-line-retry-key'], body: body as { replyToken: string } });
      return [400, { message: 'Invalid reply token' }];
    });
    nock(LINE_API).post('/v2/bot/message/push').reply(function (_uri, body) {
      calls.push({ path: 'push', retryKey: this.req.headers['x-line-retry-key'], body: body as { to: string } });
      return [200, { sentMessages: [{ id: '1' }] }, { 'x-line-request-id': 'req-push' }];
    });

    await deliverDue(svc.ctx);
    expect(await outbox(id)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'LINE 400: Invalid reply token' });
    await dueNow(id);
    await deliverDue(svc.ctx);

    const row = await outbox(id);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, platformResponse: { requestId: 'req-push' } });
    expect(calls.map((c) => c.path)).toEqual(['reply', 'push']);
    expect(calls[0]!.body.replyToken).toBe('rt-stale');
    expect(calls[1]!.body.to).toBe(USER);
    expect(calls[1]!.retryKey).toBe(row.retryKey);
    expect(validateLineRequest('ReplyMessageRequest', calls[0]!.body).errors).toEqual([]);
    expect(validateLineRequest('PushMessageRequest', calls[1]!.body).errors).toEqual([]);
  });

  it('LINE: a push that timed out after LINE took it is not delivered twice (409 + accepted id = sent)', async () => {
    const id = await enqueue('line', `U${'b'.repeat(32)}`);
    const keys: unknown[] = [];
    nock(LINE_API).post('/v2/bot/message/push').times(2).reply(function () {
      keys.push(this.req.headers['x-line-retry-key']);
      return keys.length === 1
        ? [500, { message: 'Internal server error' }]
        : [409, { message: 'The retry key is already accepted' }, { 'x-line-accepted-request-id': 'req-first' }];
    });
    await deliverDue(svc.ctx);
    await dueNow(id);
    await deliverDue(svc.ctx);
    const row = await outbox(id);
    expect(row).toMatchObject({ status: 'sent', platformResponse: { requestId: 'req-first', duplicate: true } });
    expect(keys).toEqual([row.retryKey, row.retryKey]);
  });

  it('Messenger: outside the 24-hour window fails for good with Graph\'s reason', async () => {
    const id = await enqueue('messenger', '6945412345678901');
    nock(GRAPH).post('/me/messages').query({ access_token: 'page-token' })
      .reply(400, { error: { message: 'This message is sent outside of allowed window.', type: 'OAuthException', code: 10, error_subcode: 2018278 } });
    await deliverDue(svc.ctx);
    const row = await outbox(id);
    expect(row.status).toBe('failed');
    expect(row.lastError).toMatch(/code 10, subcode 2018278.*outside of allowed window/);
    expect(row.lastError).not.toContain('page-token');
  });

  it('inbox: the card goes to the inbox\'s own conversation id, signed, with the delivery id', async () => {
    const id = await enqueue('inbox', 'buyer-1', { externalId: 'inbox-conv-77' });
    let seen: { signed: boolean; deliveryId: unknown; body: unknown } | undefined;
    nock(INBOX).post('/callback').reply(function (_uri, body) {
      const raw = JSON.stringify(body);
      const sig = this.req.headers['x-inbox-signature'];
      seen = { signed: inboxSignatureMatches('inbox-secret', raw, Array.isArray(sig) ? sig[0] : sig), deliveryId: this.req.headers['x-inbox-delivery-id'], body };
      return [200, { ok: true }];
    });
    await deliverDue(svc.ctx);
    const row = await outbox(id);
    expect(row.status).toBe('sent');
    expect(seen).toMatchObject({ signed: true, deliveryId: row.retryKey });
    expect(seen!.body).toMatchObject({ conversationId: 'inbox-conv-77', message: { type: 'coupon', title: 'Welcome gift', reward: 'Free drink', pageUrl: card.pageUrl } });
  });
});
