import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { createMessengerAdapter, messengerHandshake, renderMessenger, signHubBody } from '../../adapters/messenger/index.ts';
import type { ChannelAdapter, CouponCard, Delivery, OutboundMessage } from '../../adapters/types.ts';
import { neverAnswered } from '../support/nock.ts';

const APP_SECRET = 'messenger-app-secret';
const PAGE_TOKEN = 'EAAG-page-token-secret';
const GRAPH = 'https://graph.test/v21.0';
const PAGE_ID = '106123456789012';
const PSID = '6945412345678901';

/** The parts of a Send API message these tests read. */
interface TemplateMessage {
  attachment: { payload: { template_type: string; elements: Array<Record<string, unknown> & { title: string; subtitle: string }> } };
  quick_replies?: unknown[];
}

// A generous timeout: a loaded machine must not turn a stubbed answer into a timeout.
const messengerOptions = { appSecret: APP_SECRET, pageAccessToken: PAGE_TOKEN, verifyToken: 'verify-me', graphBaseUrl: GRAPH, timeoutMs: 10_000 };
const messenger: ChannelAdapter = createMessengerAdapter(messengerOptions);

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

function page(items: Record<string, unknown>[], key: 'messaging' | 'standby' = 'messaging'): Record<string, unknown> {
  return { object: 'page', entry: [{ id: PAGE_ID, time: 1458692752478, [key]: items }] };
}

function item(extra: Record<string, unknown>, timestamp = 1458692752478): Record<string, unknown> {
  return { sender: { id: PSID }, recipient: { id: PAGE_ID }, timestamp, ...extra };
}

describe('Messenger verify', () => {
  const raw = Buffer.from(JSON.stringify(page([item({ message: { mid: 'm_1', text: 'hi' } })])));

  it('accepts sha256=<hex HMAC> of the raw body', () => {
    expect(messenger.verify({ rawBody: raw, headers: { 'x-hub-signature-256': signHubBody(APP_SECRET, raw) } })).toBe(true);
    expect(signHubBody(APP_SECRET, raw)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('rejects another secret, other bytes, the old sha1 header alone, and a missing header', () => {
    expect(messenger.verify({ rawBody: raw, headers: { 'x-hub-signature-256': signHubBody('other', raw) } })).toBe(false);
    expect(messenger.verify({ rawBody: Buffer.concat([raw, Buffer.from(' ')]), headers: { 'x-hub-signature-256': signHubBody(APP_SECRET, raw) } })).toBe(false);
    expect(messenger.verify({ rawBody: raw, headers: { 'x-hub-signature': 'sha1=abc' } })).toBe(false);
    expect(messenger.verify({ rawBody: raw, headers: {} })).toBe(false);
    expect(messenger.verify({ rawBody: raw, headers: { 'x-hub-signature-256': 'sha256=' } })).toBe(false);
  });
});

describe('Messenger handshake', () => {
  it('echoes the challenge for the right token, in both query shapes', () => {
    expect(messengerHandshake({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1158201444' }, 'verify-me'))
      .toEqual({ ok: true, challenge: '1158201444' });
    expect(messengerHandshake({ hub: { mode: 'subscribe', verify_token: 'verify-me', challenge: 'abc' } }, 'verify-me'))
      .toEqual({ ok: true, challenge: 'abc' });
  });

  it('refuses a wrong or missing token, another mode, or no challenge', () => {
    expect(messengerHandshake({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-you', 'hub.challenge': '1' }, 'verify-me')).toEqual({ ok: false });
    expect(messengerHandshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1' }, 'verify-me')).toEqual({ ok: false });
    expect(messengerHandshake({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1' }, 'verify-me')).toEqual({ ok: false });
    expect(messengerHandshake({ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me' }, 'verify-me')).toEqual({ ok: false });
    expect(messengerHandshake(undefined, 'verify-me')).toEqual({ ok: false });
  });
});

describe('Messenger parse', () => {
  it('normalises a text message', () => {
    expect(messenger.parse(page([item({ message: { mid: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM', text: 'hello, world!' } })]))).toEqual([{
      channel: 'messenger', type: 'message', kind: 'text', eventId: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM', messageId: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM',
      text: 'hello, world!', userId: PSID, conversationId: PSID, timestamp: '2016-03-23T00:25:52.478Z',
    }]);
  });

  it('keeps a quick reply payload', () => {
    const [e] = messenger.parse(page([item({ message: { mid: 'm_2', text: 'Red', quick_reply: { payload: 'COLOR_RED' } } })]));
    expect(e).toMatchObject({ type: 'message', kind: 'text', text: 'Red', quickReplyPayload: 'COLOR_RED' });
  });

  it('records attachment kinds and stickers', () => {
    const events = messenger.parse(page([
      item({ message: { mid: 'm_img', attachments: [{ type: 'image', payload: { url: 'https://scontent.example/1.jpg' } }] } }),
      item({ message: { mid: 'm_vid', attachments: [{ type: 'video', payload: { url: 'https://x/v.mp4' } }] } }),
      item({ message: { mid: 'm_aud', attachments: [{ type: 'audio', payload: { url: 'https://x/a.mp4' } }] } }),
      item({ message: { mid: 'm_file', attachments: [{ type: 'file', payload: { url: 'https://x/f.pdf' } }] } }),
      item({ message: { mid: 'm_stk', sticker_id: 369239263222822, attachments: [{ type: 'image', payload: { url: 'https://x/s.png', sticker_id: 369239263222822 } }] } }),
      item({ message: { mid: 'm_tpl', attachments: [{ type: 'template', payload: {} }] } }),
    ]));
    expect(events.map((e) => (e.type === 'message' ? [e.eventId, e.kind] : e.type))).toEqual([
      ['m_img', 'image'], ['m_vid', 'video'], ['m_aud', 'audio'], ['m_file', 'file'], ['m_stk', 'sticker'], ['m_tpl', 'other'],
    ]);
  });

  it('skips echoes of our own messages, delivery and read receipts', () => {
    expect(messenger.parse(page([
      item({ message: { mid: 'm_echo', is_echo: true, app_id: 1517776481860111, text: 'our card' } }),
      item({ delivery: { mids: ['m_1'], watermark: 1458668856253 } }),
      item({ read: { watermark: 1458668856253 } }),
    ]))).toEqual([]);
  });

  it('normalises postbacks: mid when present, otherwise a key from sender, time and payload; referral ref kept', () => {
    const [withMid, withoutMid, getStarted] = messenger.parse(page([
      item({ postback: { title: 'Get coupon', payload: 'GET_COUPON', mid: 'm_pb1' } }),
      item({ postback: { title: 'Get coupon', payload: 'GET_COUPON' } }, 1700000000000),
      item({ postback: { title: 'Get Started', payload: 'GET_STARTED', referral: { ref: 'summer-ad', source: 'SHORTLINK', type: 'OPEN_THREAD' } } }, 1700000000001),
    ]));
    expect(withMid).toMatchObject({ type: 'postback', eventId: 'm_pb1', payload: 'GET_COUPON' });
    expect(withMid).not.toHaveProperty('ref');
    expect(withoutMid).toMatchObject({ type: 'postback', eventId: `${PSID}:1700000000000:postback:GET_COUPON` });
    expect(getStarted).toMatchObject({ type: 'postback', payload: 'GET_STARTED', ref: 'summer-ad' });
  });

  it('normalises an m.me referral with its ref; a referral without one is other', () => {
    const [ref, noRef] = messenger.parse(page([
      item({ referral: { ref: 'store-42', source: 'SHORTLINK', type: 'OPEN_THREAD' } }),
      item({ referral: { source: 'ADS', type: 'OPEN_THREAD', ad_id: '6045246247433' } }, 1458692752479),
    ]));
    expect(ref).toMatchObject({ type: 'referral', ref: 'store-42', eventId: `${PSID}:1458692752478:referral` });
    expect(noRef).toMatchObject({ type: 'other', platformType: 'referral' });
  });

  it('keeps opt-ins and unknown events as other', () => {
    const [optin, reaction] = messenger.parse(page([
      item({ optin: { ref: 'optin-ref', user_ref: 'UR1' } }),
      item({ reaction: { reaction: 'love', emoji: '❤️', action: 'react', mid: 'm_1' } }, 1458692752480),
    ]));
    expect(optin).toMatchObject({ type: 'other', platformType: 'optin' });
    expect(reaction).toMatchObject({ type: 'other', platformType: 'reaction', eventId: `${PSID}:1458692752480:reaction` });
  });

  it('marks events from the standby channel', () => {
    const [e] = messenger.parse(page([item({ message: { mid: 'm_sb', text: 'handled by a human' } })], 'standby'));
    expect(e).toMatchObject({ type: 'message', standby: true });
  });

  it('ignores objects other than page and throws on a malformed body', () => {
    expect(messenger.parse({ object: 'instagram', entry: [] })).toEqual([]);
    expect(() => messenger.parse('x')).toThrow();
    expect(() => messenger.parse({ object: 'page' })).toThrow();
    expect(() => messenger.parse({ object: 'page', entry: [{ messaging: [{ sender: {}, timestamp: 1 }] }] })).toThrow();
    expect(() => messenger.parse({ object: 'page', entry: [{ messaging: [{ sender: { id: PSID }, timestamp: 1, message: { text: 'no mid' } }] }] })).toThrow();
  });
});

const card: CouponCard = {
  couponId: 'cpn_1',
  campaignName: 'A campaign name long enough to need cutting because Messenger titles hold eighty characters',
  rewardText: '10% off',
  deadlineText: 'Use by 2026-12-31 23:59',
  pageUrl: 'https://coupons.example/c/tok123',
  imageUrl: 'https://coupons.example/images/cmp_1.png',
  colors: { background: '#ffffff', button: '#e65100', buttonText: '#ffffff' },
  buttonLabel: 'Open my coupon now, please!',
  altText: 'Summer sale: 10% off',
};
const to = { userId: PSID, conversationId: PSID };

function delivery(message: OutboundMessage): Delivery {
  return { id: 'obx_1', to, message, retryKey: 'rk-1', attempt: 0 };
}

describe('Messenger render', () => {
  it('renders a coupon as a generic template within Meta\'s limits', () => {
    const [body, ...rest] = renderMessenger({ type: 'coupon', card, quickReplies: [{ label: 'My coupons', payload: 'MY_COUPONS' }] }, to);
    expect(rest).toEqual([]);
    expect(body).toMatchObject({ recipient: { id: PSID }, messaging_type: 'RESPONSE' });
    const payload = (body!.message as unknown as TemplateMessage).attachment.payload;
    expect(payload.template_type).toBe('generic');
    const element = payload.elements[0]!;
    expect(element.title.length).toBeLessThanOrEqual(80);
    expect(element.title.endsWith('…')).toBe(true);
    expect(element.subtitle).toBe('10% off\nUse by 2026-12-31 23:59');
    expect(element.image_url).toBe(card.imageUrl);
    expect(element.default_action).toEqual({ type: 'web_url', url: card.pageUrl });
    expect(element.buttons).toEqual([{ type: 'web_url', url: card.pageUrl, title: 'Open my coupon now,…' }]);
    expect((body!.message as unknown as TemplateMessage).quick_replies).toEqual([{ content_type: 'text', title: 'My coupons', payload: 'MY_COUPONS' }]);
  });

  it('renders a coupon without image', () => {
    const [body] = renderMessenger({ type: 'coupon', card: { ...card, imageUrl: undefined, deadlineText: undefined } }, to);
    const [element] = (body!.message as unknown as TemplateMessage).attachment.payload.elements;
    expect(element).not.toHaveProperty('image_url');
    expect(element.subtitle).toBe('10% off');
  });

  it('renders text and image as two sends, with at most 13 quick replies on the last', () => {
    const quickReplies = Array.from({ length: 14 }, (_, i) => (i % 2 ? { label: `Option ${i} with a very long label`, payload: `P${i}` } : { label: `Say ${i}` }));
    const bodies = renderMessenger({ type: 'text', text: 'Pick one', imageUrl: 'https://cdn.example/a.png', quickReplies }, to);
    expect(bodies.map((b) => Object.keys(b.message))).toEqual([['text'], ['attachment', 'quick_replies']]);
    expect(bodies[1]!.message.attachment).toEqual({ type: 'image', payload: { url: 'https://cdn.example/a.png', is_reusable: true } });
    const replies = bodies[1]!.message.quick_replies as Array<{ title: string; payload: string }>;
    expect(replies).toHaveLength(13);
    expect(replies[0]).toEqual({ content_type: 'text', title: 'Say 0', payload: 'Say 0' });
    expect(replies[1]!.payload).toBe('P1');
    expect(replies.every((r) => r.title.length <= 20)).toBe(true);
  });
});

function graphError(code: number, subcode?: number, message = 'error'): Record<string, unknown> {
  return { error: { message, type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'AbC' } };
}

describe('Messenger send', () => {
  const coupon: OutboundMessage = { type: 'coupon', card };
  const send = () => nock(GRAPH).post('/me/messages').query({ access_token: PAGE_TOKEN });

  it('posts the template with the page token and reports the message id', async () => {
    let sent: unknown;
    send().reply(200, (_uri, body) => {
      sent = body;
      return { recipient_id: PSID, message_id: 'm_sent_1' };
    });
    expect(await messenger.send(delivery(coupon))).toEqual({ outcome: 'sent', response: { messageId: 'm_sent_1', recipientId: PSID } });
    expect(sent).toEqual(renderMessenger(coupon, to)[0]);
  });

  it('sends text then image; a failing second part does not make the first go out twice', async () => {
    const order: string[] = [];
    send().times(2).reply(function (_uri, body) {
      const message = (body as { message: Record<string, unknown> }).message;
      order.push(message.text ? 'text' : 'image');
      return order.length === 1 ? [200, { recipient_id: PSID, message_id: 'm_t' }] : [500, graphError(2, undefined, 'Service temporarily unavailable')];
    });
    const result = await messenger.send(delivery({ type: 'text', text: 'hi', imageUrl: 'https://cdn.example/a.png' }));
    expect(order).toEqual(['text', 'image']);
    expect(result.outcome).toBe('sent');
    expect(result).toMatchObject({ response: { partErrors: [expect.stringContaining('code 2')] } });
  });

  it.each([
    ['1200 temporary send failure', 500, graphError(1200, undefined, 'Temporary send message failure. Please try again later')],
    ['613 rate limit', 400, graphError(613, undefined, 'Calls to this api have exceeded the rate limit.')],
    ['2 service temporarily unavailable', 400, graphError(2, undefined, 'An unexpected error has occurred. Please retry your request later.')],
    ['4 app throttled', 400, graphError(4)],
    ['HTTP 503 without JSON', 503, 'Service Unavailable'],
    ['HTTP 429', 429, graphError(32)],
  ])('retries %s', async (_name, status, body) => {
    send().reply(status, body as Record<string, unknown>);
    expect((await messenger.send(delivery(coupon))).outcome).toBe('retry');
  });

  it.each([
    ['551 person unavailable', graphError(551, 1545041, 'This person isn\'t available right now.'), /code 551, subcode 1545041\): This person/],
    ['190 bad token', graphError(190, 460, 'Error validating access token'), /code 190/],
    ['10/2018278 outside the 24 h window', graphError(10, 2018278, 'This message is sent outside of allowed window.'), /code 10, subcode 2018278/],
    ['100/2018001 no such user', graphError(100, 2018001, 'No matching user found'), /code 100, subcode 2018001/],
    ['100 invalid parameter', graphError(100, undefined, 'Invalid parameter'), /code 100\)/],
  ])('fails for good on %s', async (_name, body, pattern) => {
    send().reply(400, body);
    const result = await messenger.send(delivery(coupon));
    expect(result.outcome).toBe('failed');
    expect(result.outcome === 'failed' && result.error).toMatch(pattern);
  });

  it('retries network errors and timeouts without leaking the token', async () => {
    send().replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:443' });
    const down = await messenger.send(delivery(coupon));
    expect(down.outcome).toBe('retry');
    // Never answered (no timer left behind): an adapter with a short timeout gives up.
    send().reply(neverAnswered);
    const slow = await createMessengerAdapter({ ...messengerOptions, timeoutMs: 50 }).send(delivery(coupon));
    expect(slow).toEqual({ outcome: 'retry', error: 'Graph API did not answer in time', maybeDelivered: true });
    expect(JSON.stringify([down, slow])).not.toContain(PAGE_TOKEN);
  });

  it('fetches the profile name', async () => {
    nock(GRAPH).get(`/${PSID}`).query({ fields: 'first_name,last_name,name', access_token: PAGE_TOKEN }).reply(200, { first_name: 'Peter', last_name: 'Chang', id: PSID });
    expect(await messenger.fetchProfile!(PSID)).toEqual({ displayName: 'Peter Chang' });
    nock(GRAPH).get('/123').query(true).reply(400, graphError(100, 33));
    expect(await messenger.fetchProfile!('123')).toBeNull();
  });
});

// nock patches Node's http for the whole worker: give it back for the next test file.
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
