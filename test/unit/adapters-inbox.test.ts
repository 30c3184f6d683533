import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { createInboxAdapter, inboxSignatureMatches, renderInbox, signInboxBody } from '../../adapters/inbox/index.ts';
import type { ChannelAdapter, CouponCard, Delivery, OutboundMessage } from '../../adapters/types.ts';
import { neverAnswered } from '../support/nock.ts';

const SECRET = 'inbox-webhook-secret';
const CALLBACK = 'https://inbox.test/hooks/chatcoupon';

// A generous timeout: a loaded machine must not turn a stubbed answer into a timeout.
const inbox: ChannelAdapter = createInboxAdapter({ secret: SECRET, callbackUrl: CALLBACK, timeoutMs: 10_000 });

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

const conversationCreated = {
  id: 'evt-1', type: 'conversation.created', conversation: { id: 'conv-9' }, contact: { id: 'buyer-7', name: 'Mei' }, createdAt: '2026-07-01T08:00:00+08:00',
};
const messageCreated = {
  id: 'evt-2', type: 'message.created', conversation: { id: 'conv-9' }, contact: { id: 'buyer-7' }, message: { id: 'msg-3', text: 'any coupons?' }, createdAt: '2026-07-01T00:00:05Z',
};

describe('inbox verify', () => {
  const raw = Buffer.from(JSON.stringify(conversationCreated));

  it('accepts sha256=<hex HMAC> of the raw body', () => {
    expect(inbox.verify({ rawBody: raw, headers: { 'x-inbox-signature': signInboxBody(SECRET, raw) } })).toBe(true);
    expect(inbox.verify({ rawBody: raw, headers: { 'X-Inbox-Signature': signInboxBody(SECRET, raw).toUpperCase().replace('SHA256', 'sha256') } })).toBe(true);
  });

  it('rejects a wrong secret, changed bytes, a bare hex digest and a missing header', () => {
    expect(inbox.verify({ rawBody: raw, headers: { 'x-inbox-signature': signInboxBody('nope', raw) } })).toBe(false);
    expect(inbox.verify({ rawBody: Buffer.from(raw.toString().replace('Mei', 'Max')), headers: { 'x-inbox-signature': signInboxBody(SECRET, raw) } })).toBe(false);
    expect(inbox.verify({ rawBody: raw, headers: { 'x-inbox-signature': signInboxBody(SECRET, raw).slice('sha256='.length) } })).toBe(false);
    expect(inbox.verify({ rawBody: raw, headers: {} })).toBe(false);
  });
});

describe('inbox parse', () => {
  it('normalises conversation.created with the contact name', () => {
    expect(inbox.parse(conversationCreated)).toEqual([{
      channel: 'inbox', type: 'conversation', eventId: 'evt-1', userId: 'buyer-7', conversationId: 'conv-9', displayName: 'Mei', timestamp: '2026-07-01T00:00:00.000Z',
    }]);
  });

  it('normalises message.created as a text message', () => {
    expect(inbox.parse(messageCreated)).toEqual([{
      channel: 'inbox', type: 'message', kind: 'text', eventId: 'evt-2', messageId: 'msg-3', text: 'any coupons?', userId: 'buyer-7', conversationId: 'conv-9', timestamp: '2026-07-01T00:00:05.000Z',
    }]);
  });

  it('accepts an array of events and keeps unknown types as other', () => {
    const events = inbox.parse([conversationCreated, messageCreated, { ...conversationCreated, id: 'evt-3', type: 'conversation.closed' }]);
    expect(events.map((e) => [e.eventId, e.type])).toEqual([['evt-1', 'conversation'], ['evt-2', 'message'], ['evt-3', 'other']]);
    expect(events[2]).toMatchObject({ platformType: 'conversation.closed' });
  });

  it('throws on malformed events', () => {
    expect(() => inbox.parse('x')).toThrow();
    expect(() => inbox.parse({ ...messageCreated, contact: undefined })).toThrow();
    expect(() => inbox.parse({ ...messageCreated, createdAt: 'yesterday' })).toThrow();
    expect(() => inbox.parse({ ...messageCreated, message: undefined })).toThrow(/without a message/);
    expect(() => inbox.parse([conversationCreated, { id: '' }])).toThrow();
  });
});

const card: CouponCard = {
  couponId: 'cpn_1',
  campaignName: 'Shop voucher',
  rewardText: 'TWD 100 off',
  deadlineText: 'Use by 2026-12-31 23:59',
  pageUrl: 'https://coupons.example/c/tok123',
  imageUrl: 'https://coupons.example/images/cmp_1.png',
  colors: { background: '#ffffff', button: '#ee4d2d', buttonText: '#ffffff' },
  buttonLabel: 'Use coupon',
  altText: 'Shop voucher: TWD 100 off',
};
const to = { userId: 'buyer-7', conversationId: 'conv-9' };

function delivery(message: OutboundMessage): Delivery {
  return { id: 'obx_1', to, message, retryKey: 'rk-inbox-1', attempt: 0 };
}

describe('inbox render', () => {
  it('renders the coupon card for the inbox conversation', () => {
    expect(renderInbox({ type: 'coupon', card }, to)).toEqual({
      conversationId: 'conv-9',
      message: {
        type: 'coupon', couponId: 'cpn_1', title: 'Shop voucher', reward: 'TWD 100 off', deadline: 'Use by 2026-12-31 23:59',
        pageUrl: card.pageUrl, imageUrl: card.imageUrl, buttonLabel: 'Use coupon', colors: card.colors, altText: card.altText,
      },
    });
  });

  it('renders text with quick replies', () => {
    expect(renderInbox({ type: 'text', text: 'Hi', quickReplies: [{ label: 'Yes', payload: 'Y' }] }, to)).toEqual({
      conversationId: 'conv-9', message: { type: 'text', text: 'Hi', quickReplies: [{ label: 'Yes', payload: 'Y' }] },
    });
  });
});

describe('inbox send', () => {
  const coupon: OutboundMessage = { type: 'coupon', card };

  it('posts the card signed over the exact bytes, with the delivery id as idempotency key', async () => {
    const seen: Array<{ ok: boolean; id: unknown; body: unknown }> = [];
    nock('https://inbox.test').post('/hooks/chatcoupon').times(2).reply(function (_uri, body) {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const signature = this.req.headers['x-inbox-signature'];
      seen.push({ ok: inboxSignatureMatches(SECRET, raw, Array.isArray(signature) ? signature[0] : signature), id: this.req.headers['x-inbox-delivery-id'], body: JSON.parse(raw) });
      return seen.length === 1 ? [503, 'busy'] : [202, { id: 'inbox-msg-1' }];
    });
    expect(await inbox.send(delivery(coupon))).toMatchObject({ outcome: 'retry', error: 'inbox 503: busy' });
    expect(await inbox.send({ ...delivery(coupon), attempt: 1 })).toEqual({ outcome: 'sent', response: { id: 'inbox-msg-1' } });
    expect(seen.map((s) => s.ok)).toEqual([true, true]);
    expect(seen.map((s) => s.id)).toEqual(['rk-inbox-1', 'rk-inbox-1']);
    expect(seen[0]!.body).toEqual(renderInbox(coupon, to));
  });

  it('retries a 429 (honouring Retry-After), network errors and timeouts', async () => {
    nock('https://inbox.test').post('/hooks/chatcoupon').reply(429, 'slow down', { 'retry-after': '5' });
    expect(await inbox.send(delivery(coupon))).toEqual({ outcome: 'retry', error: 'inbox 429: slow down', retryAfterMs: 5000 });
    nock('https://inbox.test').post('/hooks/chatcoupon').replyWithError('socket hang up');
    expect(await inbox.send(delivery(coupon))).toMatchObject({ outcome: 'retry', error: expect.stringContaining('unreachable') });
    // Never answered (no timer left behind): an adapter with a short timeout gives up.
    nock('https://inbox.test').post('/hooks/chatcoupon').reply(neverAnswered);
    expect(await createInboxAdapter({ secret: SECRET, callbackUrl: CALLBACK, timeoutMs: 50 }).send(delivery(coupon))).toEqual({ outcome: 'retry', error: 'the inbox did not answer in time', maybeDelivered: true });
  });

  it('fails for good on other 4xx and on a redirect', async () => {
    nock('https://inbox.test').post('/hooks/chatcoupon').reply(400, { error: 'conversation closed' });
    expect(await inbox.send(delivery(coupon))).toEqual({ outcome: 'failed', error: 'inbox 400: {"error":"conversation closed"}' });
    nock('https://inbox.test').post('/hooks/chatcoupon').reply(301, '', { location: 'https://elsewhere.test/' });
    expect((await inbox.send(delivery(coupon))).outcome).toBe('failed');
  });
});

// nock patches Node's http for the whole worker: give it back for the next test file.
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
