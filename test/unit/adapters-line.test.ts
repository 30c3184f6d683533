import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { createLineAdapter, lineRequest, renderLine, signLineBody } from '../../adapters/line/index.ts';
import type { ChannelAdapter, CouponCard, Delivery, OutboundMessage } from '../../adapters/types.ts';
import { neverAnswered } from '../support/nock.ts';
import { lineOpenApiAvailable, type LineSchemaSource, validateLineRequest, validateLineWebhook } from '../support/line-schema.ts';

const SECRET = 'line-channel-secret';
const TOKEN = 'line-access-token';
const API = 'https://line-api.test';
const BOT = `U${'f'.repeat(32)}`;
const USER = `U${'4af4980629'.padEnd(32, '0')}`;

/** The parts of LINE's message objects these tests read. */
interface LineAction { type: string; label: string; data?: string; text?: string; displayText?: string; uri?: string }
interface FlexNode { type: string; layout?: string; text?: string; weight?: string; color?: string; url?: string; style?: string; action?: LineAction; contents: FlexNode[] }
interface LineMessage {
  type: string;
  altText: string;
  contents: { hero?: FlexNode; body: FlexNode; footer: FlexNode; styles: { body: { backgroundColor: string } } };
  quickReply?: { items: Array<{ action: LineAction }> };
}
interface LineBody { to?: string; replyToken?: string; messages: LineMessage[] }
const asLine = (messages: unknown) => messages as LineMessage[];

// A generous timeout: a loaded machine must not turn a stubbed answer into a timeout. The
// timeout test uses its own adapter with a short one, against an answer that never comes.
const line: ChannelAdapter = createLineAdapter({ channelSecret: SECRET, accessToken: TOKEN, apiBaseUrl: API, timeoutMs: 10_000 });

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

/** An event as webhook.yml describes it; `extra` carries the type-specific fields. */
function event(type: string, extra: Record<string, unknown> = {}, id = '01FZ74A0TDDPYRVKNK77XKC3ZR'): Record<string, unknown> {
  return {
    type,
    mode: 'active',
    timestamp: 1625665242211,
    source: { type: 'user', userId: USER },
    webhookEventId: id,
    deliveryContext: { isRedelivery: false },
    ...extra,
  };
}

function callback(...events: Record<string, unknown>[]): Record<string, unknown> {
  const body = { destination: BOT, events };
  const check = validateLineWebhook(body);
  // Every body we feed the parser is one LINE could really send.
  expect(check.errors).toEqual([]);
  return body;
}

describe('LINE verify', () => {
  const raw = Buffer.from(JSON.stringify(callback(event('unfollow'))));

  it('accepts the signature LINE computes over the raw bytes', () => {
    expect(line.verify({ rawBody: raw, headers: { 'x-line-signature': signLineBody(SECRET, raw) } })).toBe(true);
  });

  it('rejects a signature made with another secret, over other bytes, or garbage', () => {
    expect(line.verify({ rawBody: raw, headers: { 'x-line-signature': signLineBody('other', raw) } })).toBe(false);
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(raw.toString()), null, 2));
    expect(line.verify({ rawBody: reformatted, headers: { 'x-line-signature': signLineBody(SECRET, raw) } })).toBe(false);
    expect(line.verify({ rawBody: raw, headers: { 'x-line-signature': 'not base64 at all' } })).toBe(false);
  });

  it('rejects a missing header', () => {
    expect(line.verify({ rawBody: raw, headers: {} })).toBe(false);
    expect(line.verify({ rawBody: raw, headers: { 'x-line-signature': '' } })).toBe(false);
  });
});

describe('LINE parse', () => {
  it('normalises follow, including a re-follow after a block', () => {
    const [first, again] = line.parse(callback(
      event('follow', { replyToken: 'rt-1', follow: { isUnblocked: false } }, 'e-follow'),
      event('follow', { replyToken: 'rt-2', follow: { isUnblocked: true } }, 'e-unblock'),
    ));
    expect(first).toEqual({
      channel: 'line', type: 'follow', eventId: 'e-follow', userId: USER, conversationId: USER,
      timestamp: '2021-07-07T13:40:42.211Z', replyToken: 'rt-1',
    });
    expect(first).not.toHaveProperty('ref');
    expect(again).toMatchObject({ type: 'follow', eventId: 'e-unblock', unblocked: true });
  });

  it('normalises unfollow without a reply token', () => {
    expect(line.parse(callback(event('unfollow')))).toEqual([{
      channel: 'line', type: 'unfollow', eventId: '01FZ74A0TDDPYRVKNK77XKC3ZR', userId: USER, conversationId: USER, timestamp: '2021-07-07T13:40:42.211Z',
    }]);
  });

  it('normalises a text message with its reply token and text', () => {
    const [e] = line.parse(callback(event('message', {
      replyToken: 'nHuyWiB7yP5Zw52FIkcQobQuGDXCTA',
      message: { type: 'text', id: '444573844083572737', quoteToken: 'q3Plxr4AgKd...', text: 'my coupons', markAsReadToken: 'm' },
    })));
    expect(e).toMatchObject({ type: 'message', kind: 'text', text: 'my coupons', messageId: '444573844083572737', replyToken: 'nHuyWiB7yP5Zw52FIkcQobQuGDXCTA' });
  });

  it('records the kind of every non-text message without text', () => {
    const provider = { type: 'line' };
    const bodies = callback(
      event('message', { replyToken: 'r', message: { type: 'image', id: '1', contentProvider: provider, quoteToken: 'q' } }, 'e1'),
      event('message', { replyToken: 'r', message: { type: 'video', id: '2', duration: 60000, contentProvider: provider, quoteToken: 'q' } }, 'e2'),
      event('message', { replyToken: 'r', message: { type: 'audio', id: '3', duration: 60000, contentProvider: provider } }, 'e3'),
      event('message', { replyToken: 'r', message: { type: 'file', id: '4', fileName: 'file.txt', fileSize: 2138 } }, 'e4'),
      event('message', { replyToken: 'r', message: { type: 'location', id: '5', title: 'my location', address: 'Tokyo', latitude: 35.65910807942215, longitude: 139.70372892916203 } }, 'e5'),
      event('message', { replyToken: 'r', message: { type: 'sticker', id: '6', packageId: '446', stickerId: '1988', stickerResourceType: 'ANIMATION', keywords: ['happy'], quoteToken: 'q' } }, 'e6'),
    );
    const events = line.parse(bodies);
    expect(events.map((e) => (e.type === 'message' ? e.kind : e.type))).toEqual(['image', 'video', 'audio', 'file', 'location', 'sticker']);
    expect(events.every((e) => e.type === 'message' && e.text === undefined)).toBe(true);
  });

  it('normalises a postback to its data', () => {
    const [e] = line.parse(callback(event('postback', {
      replyToken: 'b60d432864f44d079f6d8efe86cf404b',
      postback: { data: 'action=buy&itemid=111', params: { datetime: '2017-12-25T01:00' } },
    })));
    expect(e).toMatchObject({ type: 'postback', payload: 'action=buy&itemid=111', replyToken: 'b60d432864f44d079f6d8efe86cf404b' });
  });

  it('marks standby events and keeps unknown types as other', () => {
    const [standby, other] = line.parse(callback(
      event('message', { mode: 'standby', message: { type: 'text', id: '1', text: 'hi', quoteToken: 'q' } }, 'e-standby'),
      event('unsend', { unsend: { messageId: '325708' } }, 'e-unsend'),
    ));
    expect(standby).toMatchObject({ type: 'message', standby: true });
    expect(standby).not.toHaveProperty('replyToken');
    expect(other).toMatchObject({ type: 'other', platformType: 'unsend', eventId: 'e-unsend' });
  });

  it('skips group events that name no user, keeps group messages that do', () => {
    const events = line.parse(callback(
      event('join', { replyToken: 'r', source: { type: 'group', groupId: 'Ca56f94637c' } }, 'e-join'),
      event('message', { replyToken: 'r', source: { type: 'group', groupId: 'Ca56f94637c', userId: USER }, message: { type: 'text', id: '1', text: 'hello', quoteToken: 'q' } }, 'e-msg'),
    ));
    expect(events.map((e) => e.eventId)).toEqual(['e-msg']);
  });

  it('accepts the empty verification body LINE sends when the webhook is set', () => {
    expect(line.parse(callback())).toEqual([]);
  });

  it('throws on a malformed body', () => {
    expect(() => line.parse('nope')).toThrow();
    expect(() => line.parse({ destination: BOT, events: 'x' })).toThrow();
    expect(() => line.parse({ destination: BOT })).toThrow();
    expect(() => line.parse({ events: [{ type: 'follow', source: { type: 'user', userId: USER } }] })).toThrow();
    expect(() => line.parse({ events: [event('postback', { postback: {} })] })).toThrow();
  });
});

const card: CouponCard = {
  couponId: 'cpn_1',
  campaignName: 'Summer sale',
  rewardText: '10% off',
  deadlineText: 'Use by 2026-12-31 23:59',
  pageUrl: 'https://coupons.example/c/tok123',
  imageUrl: 'https://coupons.example/images/cmp_1.png',
  colors: { background: '#fff8e1', button: '#e65100', buttonText: '#ffffff' },
  buttonLabel: 'Open my coupon now, please!',
  altText: 'Summer sale: 10% off',
};
const to = { userId: USER, conversationId: USER };

function delivery(message: OutboundMessage, extra: Partial<Delivery> = {}): Delivery {
  return { id: 'obx_1', to, message, retryKey: '5b0c5c2e-2d5e-4c63-9f3c-7f8b9f0f3a11', attempt: 0, ...extra };
}

function expectValid(schema: 'ReplyMessageRequest' | 'PushMessageRequest', body: unknown): void {
  expect(validateLineRequest(schema, body).errors).toEqual([]);
}

describe('LINE render', () => {
  it('renders a coupon card as a Flex bubble that LINE accepts, as a reply and as a push', () => {
    const messages = renderLine({ type: 'coupon', card });
    expect(messages).toHaveLength(1);
    const [flex] = asLine(messages);
    expect(flex!.altText).toBe('Summer sale: 10% off');
    const bubble = flex!.contents;
    expect(bubble.hero).toMatchObject({ type: 'image', url: card.imageUrl, aspectRatio: '1:1', aspectMode: 'cover' });
    expect(bubble.body.contents.map((c) => c.text)).toEqual(['Summer sale', '10% off', 'Use by 2026-12-31 23:59']);
    expect(bubble.body.contents[0].weight).toBe('bold');
    const button = bubble.footer.contents[0];
    expect(button).toMatchObject({ type: 'button', style: 'primary', color: '#e65100', action: { type: 'uri', uri: card.pageUrl } });
    expect(button.action!.label.length).toBeLessThanOrEqual(20);
    expect(bubble.styles.body.backgroundColor).toBe('#fff8e1');
    expectValid('ReplyMessageRequest', lineRequest(delivery({ type: 'coupon', card }, { replyToken: 'rt' })).body);
    expectValid('PushMessageRequest', lineRequest(delivery({ type: 'coupon', card })).body);
  });

  it('renders a coupon card without image or deadline, and with a dark background', () => {
    const plain = { ...card, imageUrl: undefined, deadlineText: undefined, colors: { ...card.colors, background: '#101010' } };
    const [flex] = asLine(renderLine({ type: 'coupon', card: plain }));
    expect(flex!.contents.hero).toBeUndefined();
    expect(flex!.contents.body.contents).toHaveLength(2);
    expect(flex!.contents.body.contents[0].color).toBe('#ffffff');
    expectValid('PushMessageRequest', { to: USER, messages: [flex] });
  });

  it('leaves out an image LINE could not fetch (not https)', () => {
    const [flex] = asLine(renderLine({ type: 'coupon', card: { ...card, imageUrl: 'http://localhost:3000/i.png' } }));
    expect(flex!.contents.hero).toBeUndefined();
    expect(renderLine({ type: 'text', text: 'hi', imageUrl: 'http://localhost/i.png' })).toHaveLength(1);
  });

  it('cuts an alt text longer than 400 characters', () => {
    const [flex] = asLine(renderLine({ type: 'coupon', card: { ...card, altText: 'x'.repeat(1000) } }));
    expect(flex!.altText.length).toBe(400);
  });

  it('renders text with an image and 13 quick replies (postback and message actions) on the last message', () => {
    const quickReplies = Array.from({ length: 15 }, (_, i) => (i % 2
      ? { label: `Option number ${i} with a long label`, payload: `opt:${i}` }
      : { label: `Say ${i}` }));
    const messages = asLine(renderLine({ type: 'text', text: 'Pick one', imageUrl: 'https://cdn.example/a.png', quickReplies }));
    expect(messages.map((m) => m.type)).toEqual(['text', 'image']);
    expect(messages[0]!.quickReply).toBeUndefined();
    const items = messages[1]!.quickReply!.items;
    expect(items).toHaveLength(13);
    expect(items[0].action).toEqual({ type: 'message', label: 'Say 0', text: 'Say 0' });
    expect(items[1].action).toMatchObject({ type: 'postback', data: 'opt:1' });
    expect(items[1].action.label.length).toBeLessThanOrEqual(20);
    expect(items[1].action.displayText).toBe(items[1].action.label);
    expectValid('PushMessageRequest', { to: USER, messages });
    expectValid('ReplyMessageRequest', { replyToken: 'rt', messages });
  });

  it('every kind of message we send is a body LINE accepts, as a reply and as a push', () => {
    const replies = [{ label: 'My coupons', payload: 'MY_COUPONS' }, { label: 'Help' }, { label: '🎁 禮物 gift with a very long label', payload: 'p'.repeat(400) }];
    const long = { ...card, campaignName: '夏季特賣 🎉 '.repeat(40), rewardText: 'x'.repeat(300), altText: '' };
    const messages: Array<[string, OutboundMessage]> = [
      ['plain text', { type: 'text', text: 'Hello!' }],
      ['text with quick replies', { type: 'text', text: 'Pick one', quickReplies: replies }],
      ['text with an image', { type: 'text', text: 'Look', imageUrl: 'https://cdn.example/a.png' }],
      ['text over 5000 characters', { type: 'text', text: '字'.repeat(6000) }],
      ['coupon card with image', { type: 'coupon', card }],
      ['coupon card without image or deadline', { type: 'coupon', card: { ...card, imageUrl: undefined, deadlineText: undefined } }],
      ['coupon card with quick replies', { type: 'coupon', card, quickReplies: replies }],
      ['coupon card with long texts and no alt text', { type: 'coupon', card: long }],
    ];
    for (const [name, message] of messages) {
      const reply = lineRequest(delivery(message, { replyToken: 'rt' })).body;
      const push = lineRequest(delivery(message)).body;
      expect({ name, errors: validateLineRequest('ReplyMessageRequest', reply).errors }).toEqual({ name, errors: [] });
      expect({ name, errors: validateLineRequest('PushMessageRequest', push).errors }).toEqual({ name, errors: [] });
    }
  });

  it('never produces more than LINE allows in one request', () => {
    for (const message of [{ type: 'coupon', card, quickReplies: [{ label: 'More' }] }, { type: 'text', text: 't', imageUrl: 'https://x.example/i.png' }] as OutboundMessage[]) {
      expect(renderLine(message).length).toBeLessThanOrEqual(5);
      expectValid('PushMessageRequest', { to: USER, messages: renderLine(message) });
    }
  });
});

describe('LINE schema helper', () => {
  const good = lineRequest(delivery({ type: 'coupon', card })).body as unknown as LineBody;
  const withBubble = (mutate: (bubble: LineMessage['contents']) => void) => {
    const copy = structuredClone(good);
    mutate(copy.messages[0].contents);
    return copy;
  };
  // The project's own schema always; LINE's OpenAPI files too where they are at hand. Each
  // description must reject every bad body on its own.
  const sources: LineSchemaSource[] = lineOpenApiAvailable() ? ['own', 'openapi'] : ['own'];

  it.each(sources)('%s: accepts the coupon card we send', (source) => {
    expect(validateLineRequest('PushMessageRequest', good, source).errors).toEqual([]);
  });

  it.each(sources)('%s: rejects an unknown Flex component type', (source) => {
    const bad = withBubble((b) => b.body.contents.push({ type: 'banner', text: 'x', contents: [] }));
    const check = validateLineRequest('PushMessageRequest', bad, source);
    expect(check.valid).toBe(false);
    expect(check.errors.join('\n')).toMatch(/body\/contents\/3\/type/);
  });

  it.each(sources)('%s: rejects a box without a layout, a label over 20 characters and a bad colour', (source) => {
    expect(validateLineRequest('PushMessageRequest', withBubble((b) => delete b.body.layout), source).valid).toBe(false);
    expect(validateLineRequest('PushMessageRequest', withBubble((b) => { b.footer.contents[0]!.action!.label = 'x'.repeat(21); }), source).valid).toBe(false);
    expect(validateLineRequest('PushMessageRequest', withBubble((b) => { b.footer.contents[0]!.color = 'orange'; }), source).valid).toBe(false);
  });

  it.each(sources)('%s: rejects an unknown message type, six messages, 14 quick replies and a push without `to`', (source) => {
    expect(validateLineRequest('PushMessageRequest', { to: USER, messages: [{ type: 'fancy', text: 'x' }] }, source).valid).toBe(false);
    expect(validateLineRequest('PushMessageRequest', { to: USER, messages: Array(6).fill({ type: 'text', text: 'x' }) }, source).valid).toBe(false);
    const items = Array(14).fill({ type: 'action', action: { type: 'message', label: 'a', text: 'a' } });
    expect(validateLineRequest('PushMessageRequest', { to: USER, messages: [{ type: 'text', text: 'x', quickReply: { items } }] }, source).valid).toBe(false);
    expect(validateLineRequest('PushMessageRequest', { messages: [{ type: 'text', text: 'x' }] }, source).valid).toBe(false);
  });

  it('own: rejects a field we do not send (a misspelling), an http image and an over-long postback', () => {
    expect(validateLineRequest('PushMessageRequest', withBubble((b) => { (b as unknown as Record<string, unknown>).colour = '#ffffff'; }), 'own').errors.join('\n'))
      .toMatch(/additional properties/);
    expect(validateLineRequest('PushMessageRequest', { to: USER, messages: [{ type: 'image', originalContentUrl: 'http://x.example/a.png', previewImageUrl: 'https://x.example/a.png' }] }, 'own').valid).toBe(false);
    const postback = { type: 'action', action: { type: 'postback', label: 'a', data: 'd'.repeat(301) } };
    expect(validateLineRequest('PushMessageRequest', { to: USER, messages: [{ type: 'text', text: 'x', quickReply: { items: [postback] } }] }, 'own').valid).toBe(false);
  });

  it.each(sources)('%s: webhook bodies need what LINE always sends', (source) => {
    const body = { destination: BOT, events: [event('follow', { replyToken: 'r', follow: { isUnblocked: false } })] };
    expect(validateLineWebhook(body, source).errors).toEqual([]);
    const { deliveryContext: _dropped, ...withoutContext } = body.events[0]!;
    expect(validateLineWebhook({ destination: BOT, events: [withoutContext] }, source).valid).toBe(false);
    expect(validateLineWebhook({ destination: BOT, events: [event('message', { message: { type: 'text', id: '1', text: 'hi' } })] }, source).valid).toBe(false);
    expect(validateLineWebhook({ events: [] }, source).valid).toBe(false);
  });
});

describe('LINE send', () => {
  const coupon: OutboundMessage = { type: 'coupon', card };

  it('replies with a fresh reply token and no retry key', async () => {
    let seen: { body: LineBody; retryKey: unknown; auth: unknown } | undefined;
    nock(API).post('/v2/bot/message/reply').reply(function (_uri, body) {
      seen = { body: body as LineBody, retryKey: this.req.headers['x-line-retry-key'], auth: this.req.headers.authorization };
      return [200, { sentMessages: [{ id: '1' }] }, { 'x-line-request-id': 'req-reply' }];
    });
    const result = await line.send(delivery(coupon, { replyToken: 'rt-fresh' }));
    expect(result).toEqual({ outcome: 'sent', response: { requestId: 'req-reply' } });
    expect(seen!.auth).toBe(`Bearer ${TOKEN}`);
    expect(seen!.retryKey).toBeUndefined();
    expect(seen!.body.replyToken).toBe('rt-fresh');
    expectValid('ReplyMessageRequest', seen!.body);
  });

  it('pushes with the same retry key on every attempt, and a 409 with the accepted id counts as sent', async () => {
    const keys: unknown[] = [];
    nock(API).post('/v2/bot/message/push').times(3).reply(function (_uri, body) {
      keys.push(this.req.headers['x-line-retry-key']);
      expect(validateLineRequest('PushMessageRequest', body).errors).toEqual([]);
      expect((body as { to: string }).to).toBe(USER);
      const attempt = keys.length;
      if (attempt === 1) return [500, { message: 'Internal error' }];
      if (attempt === 2) return [200, { sentMessages: [{ id: '2' }] }, { 'x-line-request-id': 'req-2' }];
      return [409, { message: 'The retry key is already accepted' }, { 'x-line-accepted-request-id': 'req-2' }];
    });
    const d = delivery(coupon);
    expect((await line.send({ ...d, attempt: 0 })).outcome).toBe('retry');
    expect(await line.send({ ...d, attempt: 1 })).toEqual({ outcome: 'sent', response: { requestId: 'req-2' } });
    expect(await line.send({ ...d, attempt: 2 })).toEqual({ outcome: 'sent', response: { requestId: 'req-2', duplicate: true } });
    expect(keys).toEqual([d.retryKey, d.retryKey, d.retryKey]);
  });

  it('retries a 429, honouring Retry-After', async () => {
    nock(API).post('/v2/bot/message/push').reply(429, { message: 'The API rate limit has been exceeded. Try again later.' }, { 'retry-after': '30' });
    const result = await line.send(delivery(coupon));
    expect(result).toEqual({ outcome: 'retry', error: 'LINE 429: The API rate limit has been exceeded. Try again later.', retryAfterMs: 30_000 });
  });

  it('retries a 500, a network error and a timeout', async () => {
    nock(API).post('/v2/bot/message/push').reply(503, 'upstream down');
    expect(await line.send(delivery(coupon))).toMatchObject({ outcome: 'retry', error: 'LINE 503: upstream down' });
    nock(API).post('/v2/bot/message/push').replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    expect(await line.send(delivery(coupon))).toMatchObject({ outcome: 'retry', error: expect.stringContaining('LINE unreachable') });
    // Never answered (no timer left behind): the adapter's own timeout gives up.
    nock(API).post('/v2/bot/message/push').reply(neverAnswered);
    const impatient = createLineAdapter({ channelSecret: SECRET, accessToken: TOKEN, apiBaseUrl: API, timeoutMs: 50 });
    expect(await impatient.send(delivery(coupon))).toEqual({ outcome: 'retry', error: 'LINE did not answer in time', maybeDelivered: true });
  });

  it('retries a reply whose token went stale (the next attempt pushes)', async () => {
    nock(API).post('/v2/bot/message/reply').reply(400, { message: 'Invalid reply token' });
    expect(await line.send(delivery(coupon, { replyToken: 'rt-stale' }))).toEqual({ outcome: 'retry', error: 'LINE 400: Invalid reply token', retryAfterMs: 0 });
  });

  it('fails for good on any other 4xx, with LINE\'s message and details', async () => {
    nock(API).post('/v2/bot/message/push').reply(400, {
      message: 'The request body has 1 error(s)',
      details: [{ message: 'must be specified', property: 'messages[0].contents.body.contents' }],
    });
    expect(await line.send(delivery(coupon))).toEqual({
      outcome: 'failed',
      error: 'LINE 400: The request body has 1 error(s); messages[0].contents.body.contents: must be specified',
    });
    nock(API).post('/v2/bot/message/push').reply(409, { message: 'conflict without an accepted id' });
    expect((await line.send(delivery(coupon))).outcome).toBe('failed');
  });
});

describe('LINE profile', () => {
  it('returns the display name and language, or null when LINE does not know the user or errs', async () => {
    nock(API).get(`/v2/bot/profile/${USER}`).matchHeader('authorization', `Bearer ${TOKEN}`)
      .reply(200, { displayName: 'LINE taro', userId: USER, language: 'en', pictureUrl: 'https://profile.line-scdn.net/x' });
    expect(await line.fetchProfile!(USER)).toEqual({ displayName: 'LINE taro', language: 'en' });
    nock(API).get(`/v2/bot/profile/${USER}`).reply(200, { displayName: 'No consent', userId: USER });
    expect(await line.fetchProfile!(USER)).toEqual({ displayName: 'No consent' });
    nock(API).get('/v2/bot/profile/Unobody').reply(404, { message: 'Not found' });
    expect(await line.fetchProfile!('Unobody')).toBeNull();
    nock(API).get('/v2/bot/profile/Uerr').replyWithError('boom');
    expect(await line.fetchProfile!('Uerr')).toBeNull();
  });
});

describe('LINE followers, quota and the monthly limit', () => {
  it('pages followers 1,000 at a time with start, and reports a refusal in LINE\'s words', async () => {
    nock(API).get('/v2/bot/followers/ids').query({ limit: '1000' }).matchHeader('authorization', `Bearer ${TOKEN}`)
      .reply(200, { userIds: ['U4af4980629', 'U0c229f96c4'], next: 'yANU9IA' });
    expect(await line.listFollowers!()).toEqual({ ok: true, userIds: ['U4af4980629', 'U0c229f96c4'], next: 'yANU9IA' });
    nock(API).get('/v2/bot/followers/ids').query({ limit: '1000', start: 'yANU9IA' }).reply(200, { userIds: ['U95afb1d4df'] });
    expect(await line.listFollowers!('yANU9IA')).toEqual({ ok: true, userIds: ['U95afb1d4df'] });
    nock(API).get('/v2/bot/followers/ids').query(true).reply(403, { message: 'Access to this API is not available for your account' });
    expect(await line.listFollowers!()).toEqual({ ok: false, status: 403, message: 'Access to this API is not available for your account' });
    nock(API).get('/v2/bot/followers/ids').query(true).replyWithError('boom');
    expect(await line.listFollowers!()).toMatchObject({ ok: false, status: 0 });
  });

  it('reads the month\'s quota and consumption', async () => {
    nock(API).get('/v2/bot/message/quota').reply(200, { type: 'limited', value: 1000 });
    nock(API).get('/v2/bot/message/quota/consumption').reply(200, { totalUsage: 500 });
    expect(await line.messageQuota!()).toEqual({ limit: 1000, used: 500 });
    nock(API).get('/v2/bot/message/quota').reply(200, { type: 'none' });
    nock(API).get('/v2/bot/message/quota/consumption').reply(200, { totalUsage: 12 });
    expect(await line.messageQuota!()).toEqual({ limit: null, used: 12 });
    nock(API).get('/v2/bot/message/quota').reply(401, { message: 'Authentication failed' });
    nock(API).get('/v2/bot/message/quota/consumption').reply(200, { totalUsage: 12 });
    await expect(line.messageQuota!()).rejects.toThrow(/401/);
  });

  it('treats the monthly-limit 429 as final and any other 429 as worth a retry', async () => {
    const coupon: OutboundMessage = { type: 'coupon', card };
    nock(API).post('/v2/bot/message/push').reply(429, { message: 'You have reached your monthly limit.' });
    expect(await line.send(delivery(coupon))).toEqual({ outcome: 'failed', error: 'LINE 429: You have reached your monthly limit.', quotaExhausted: true });
    nock(API).post('/v2/bot/message/push').reply(429, { message: 'Too many requests' });
    expect(await line.send(delivery(coupon))).toMatchObject({ outcome: 'retry' });
  });

  it('puts a card\'s intro text in the same request, before the card', () => {
    const body = lineRequest(delivery({ type: 'coupon', card, intro: 'A gift for you' })).body as { messages: Array<{ type: string; text?: string }> };
    expect(body.messages.map((m) => m.type)).toEqual(['text', 'flex']);
    expect(body.messages[0]!.text).toBe('A gift for you');
    expectValid('PushMessageRequest', body);
  });
});

// nock patches Node's http for the whole worker: give it back for the next test file.
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
