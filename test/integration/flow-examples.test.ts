import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import type { OutboundMessage } from '../../adapters/types.ts';
import { renderLine } from '../../adapters/line/outbound.ts';
import { renderMessenger } from '../../adapters/messenger/outbound.ts';
import { startLineStandin, type LineStandin, type StandinRequest } from '../../scripts/support/line-standin.ts';
import { followEvent, newLineUserId, postLineWebhook, textEvent, type LineWebhookEvent } from '../../scripts/support/line-webhook.ts';
import { remindExpiring } from '../../src/flows/jobs.ts';
import { campaignBody } from '../support/campaigns.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { contactOf, eventually, flowsDir, outboxOf, shippedFlows } from './flow-support.ts';
import { query } from '../../src/db/client.ts';

/**
 * The shipped example flows, end to end: signed webhooks in, the inbound and delivery workers
 * on, and stand-ins for the LINE and Graph APIs recording exactly what would reach the customer.
 */
const LINE_SECRET = 'line-secret-for-flow-examples';
const LINE_TOKEN = 'line-token-for-flow-examples';
const APP_SECRET = 'messenger-app-secret-for-flows';
const PAGE_ID = 'PAGE-1';

interface GraphStandin {
  url: string;
  sent: Array<{ recipient: { id: string }; messaging_type: string; message: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** The Graph API's Send and profile endpoints, recording every message body. */
async function startGraphStandin(): Promise<GraphStandin> {
  const sent: GraphStandin['sent'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && path === '/v21.0/me/messages') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        sent.push(body);
        res.end(JSON.stringify({ recipient_id: body.recipient.id, message_id: `m_${sent.length}` }));
        return;
      }
      if (req.method === 'GET') {
        res.end(JSON.stringify({ first_name: 'Pat', last_name: 'Lee' }));
        return;
      }
      res.statusCode = 404;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** The language each LINE user's profile gives (LINE's app setting); English when not set here. */
const lineLanguages = new Map<string, string>();
let line: LineStandin;
let graph: GraphStandin;
let svc: TestService;
let dir: string;

async function createCampaign(slug: string, overrides: Record<string, unknown> = {}): Promise<void> {
  const res = await request(svc.url).post('/api/v1/campaigns').set(svc.admin).send(campaignBody({ slug, name: `Gift ${slug}`, ...overrides }));
  expect(res.status).toBe(201);
  const pool = await request(svc.url).post(`/api/v1/campaigns/${res.body.id}/serials`).set(svc.admin).send({ fixed: { code: 'GIFT2026', quantity: 1000 } });
  expect(pool.status).toBeLessThan(300);
}

beforeAll(async () => {
  line = await startLineStandin({ accessToken: LINE_TOKEN, displayName: () => 'Ada', language: (id) => lineLanguages.get(id) ?? 'en' });
  graph = await startGraphStandin();
  dir = flowsDir(shippedFlows());
  svc = await startTestService({
    workers: true,
    env: {
      LINE_CHANNEL_SECRET: LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN: LINE_TOKEN, LINE_API_BASE_URL: line.url,
      MESSENGER_APP_SECRET: APP_SECRET, MESSENGER_PAGE_ACCESS_TOKEN: 'page-token', MESSENGER_VERIFY_TOKEN: 'verify',
      GRAPH_API_BASE_URL: `${graph.url}/v21.0`, FLOWS_DIR: dir,
    },
  });
  // Examples name campaigns that a fresh install does not have: until they exist the files are refused.
  const before = await request(svc.url).get('/api/v1/flows').set(svc.admin);
  expect(before.body.errors).toHaveLength(4);
  await createCampaign('welcome-10', { expiry: { mode: 'fromSend', hours: 12 }, remindBeforeHours: 24 });
  await createCampaign('birthday-gift');
  await createCampaign('referral-50');
  const after = await request(svc.url).post('/api/v1/flows/reload').set(svc.admin);
  expect(after.body.errors).toEqual([]);
  expect(after.body.flows.map((f: { id: string; loaded: boolean }) => `${f.id}:${f.loaded}`)).toEqual([
    'agent:true', 'birthday:true', 'welcome-expiring:true', 'greeting:true', 'referral:true', 'welcome:true',
  ]);
});
afterAll(async () => {
  await svc?.stop();
  await line?.close();
  await graph?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function lineEvents(events: LineWebhookEvent[]): Promise<void> {
  const res = await postLineWebhook(svc.url, LINE_SECRET, events);
  expect(res.status).toBe(200);
}


const toUser = (user: string) => (r: StandinRequest) => (r.body as { to?: string }).to === user;
const withToken = (token: string) => (r: StandinRequest) => (r.body as { replyToken?: string }).replyToken === token;

/** Every message a LINE user received: replies (by their tokens) and pushes. */
function lineReceived(user: string, tokens: string[]): StandinRequest[] {
  return line.delivered.filter((r) => toUser(user)(r) || tokens.some((t) => withToken(t)(r)));
}

async function couponMessage(channel: 'line' | 'messenger', userId: string, nth = 0): Promise<OutboundMessage> {
  const rows = (await outboxOf(svc.ctx, channel, userId)).filter((r) => r.message.type === 'coupon');
  return rows[nth]!.message;
}

async function messengerPost(items: Array<Record<string, unknown>>): Promise<void> {
  const body = JSON.stringify({ object: 'page', entry: [{ id: PAGE_ID, time: Date.now(), messaging: items }] });
  const signature = `sha256=${crypto.createHmac('sha256', APP_SECRET).update(body).digest('hex')}`;
  const res = await fetch(`${svc.url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
  expect(res.status).toBe(200);
}
let mid = 0;
const messengerText = (psid: string, text: string) => ({ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: Date.now(), message: { mid: `mid.${++mid}`, text } });
const sentTo = (psid: string) => graph.sent.filter((b) => b.recipient.id === psid);
const allProcessed = async () => ((await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events WHERE processed_at IS NULL`)).rows[0] as { n: number }).n === 0;

describe('welcome.yaml (LINE follow)', () => {
  it('replies with the welcome text and the coupon card together: one reply, no push', async () => {
    const user = newLineUserId();
    await lineEvents([followEvent(user, { replyToken: 'rt-welcome' })]);
    await line.waitFor(() => lineReceived(user, ['rt-welcome']).length === 1, 10_000, 'the welcome reply');
    await eventually(async () => ((await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM coupons c JOIN contacts ct ON ct.id = c.contact_id
      WHERE ct.platform_user_id = ${user} AND c.status = 'sent'`)).rows[0] as { n: number }).n === 1, 5000, 'the coupon to be sent');
    const got = lineReceived(user, ['rt-welcome']);
    const card = await couponMessage('line', user);
    // The card rides in the reply (free) instead of a push (counted in the month's quota).
    expect(got).toHaveLength(1);
    expect(got[0]!.kind).toBe('reply');
    expect(got[0]!.body).toEqual({ replyToken: 'rt-welcome', messages: [{ type: 'text', text: 'Welcome! Here is a gift.' }, ...renderLine(card)] });
    expect(card.type === 'coupon' && card.card.campaignName).toBe('Gift welcome-10');
    expect((await contactOf(svc.ctx, 'line', user)).tags).toEqual(['welcomed']);
  });
});

describe('expiry-reminder.yaml (coupon: expiring)', () => {
  it('reminds with the flow text and its quick reply; the quick reply answers "my coupons"', async () => {
    const user = newLineUserId();
    await lineEvents([followEvent(user, { replyToken: 'rt-r1' })]);
    await line.waitFor(() => lineReceived(user, ['rt-r1']).length === 1, 10_000, 'the welcome reply');
    await eventually(async () => ((await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM coupons c JOIN contacts ct ON ct.id = c.contact_id
      WHERE ct.platform_user_id = ${user} AND c.status = 'sent'`)).rows[0] as { n: number }).n === 1, 5000, 'the coupon to be sent');
    await remindExpiring(svc.ctx);
    await line.waitFor(() => line.delivered.filter(toUser(user)).length === 1, 10_000, 'the reminder');
    const coupon = (await query(svc.ctx.db, sql`SELECT c.token, c.expires_at AS "expiresAt" FROM coupons c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.platform_user_id = ${user}`)).rows[0] as { token: string; expiresAt: Date };
    const deadline = `${coupon.expiresAt.toISOString().slice(0, 10)} ${coupon.expiresAt.toISOString().slice(11, 16)} UTC`;
    expect(line.delivered.filter(toUser(user))[0]!.body).toEqual({
      to: user,
      messages: [{
        type: 'text',
        text: `⏰ Your welcome gift expires on ${deadline}. Use it before then: http://coupons.test/c/${coupon.token}`,
        quickReply: { items: [{ type: 'action', action: { type: 'message', label: 'my coupons', text: 'my coupons' } }] },
      }],
    });
    expect((await contactOf(svc.ctx, 'line', user)).tags).toEqual(['welcomed', 'reminded']);

    await lineEvents([textEvent(user, 'my coupons', { replyToken: 'rt-mine' })]);
    await line.waitFor(() => line.delivered.some(withToken('rt-mine')), 10_000, 'the my-coupons answer');
    const me = (await contactOf(svc.ctx, 'line', user)).meToken;
    expect(line.delivered.find(withToken('rt-mine'))!.body).toEqual({ replyToken: 'rt-mine', messages: [{ type: 'text', text: `Your coupons: http://coupons.test/me/${me}` }] });
  });
});

describe('birthday.yaml (keyword, ask with retries, branch)', () => {
  const month = new Date().getUTCMonth() + 1;

  it('asks, retries a bad answer, and gives the coupon in the birthday month', async () => {
    const user = newLineUserId();
    await lineEvents([textEvent(user, 'ＢＩＲＴＨＤＡＹ', { replyToken: 'rt-b1' })]);
    await line.waitFor(() => line.delivered.some(withToken('rt-b1')), 10_000, 'the question');
    await lineEvents([textEvent(user, '13', { replyToken: 'rt-b2' })]);
    await line.waitFor(() => line.delivered.some(withToken('rt-b2')), 10_000, 'the retry');
    await lineEvents([textEvent(user, String(month), { replyToken: 'rt-b3' })]);
    await line.waitFor(() => lineReceived(user, ['rt-b3']).length === 1, 10_000, 'the birthday coupon');
    const text = (t: string) => ({ type: 'text', text: t });
    expect(line.delivered.find(withToken('rt-b1'))!.body).toEqual({ replyToken: 'rt-b1', messages: [text('Which month is your birthday? Send a number from 1 to 12.')] });
    expect(line.delivered.find(withToken('rt-b2'))!.body).toEqual({ replyToken: 'rt-b2', messages: [text('Please send the month as a number from 1 to 12.')] });
    // The coupon card rides in the reply with the text.
    expect(line.delivered.find(withToken('rt-b3'))!.body).toEqual({
      replyToken: 'rt-b3', messages: [text('Happy birthday month, Ada! 🎂'), ...renderLine(await couponMessage('line', user))],
    });
    expect(line.delivered.some(toUser(user))).toBe(false);
    const contact = await contactOf(svc.ctx, 'line', user);
    expect(contact.attributes).toEqual({ birthMonth: month });
    expect(contact.tags).toEqual(['birthday-coupon']);
  });

  it('thanks a contact whose birthday is another month, on Messenger', async () => {
    const psid = 'PSID-birthday';
    const other = (month % 12) + 1;
    await messengerPost([messengerText(psid, 'birthday')]);
    await eventually(() => sentTo(psid).length === 1, 10_000, 'the question');
    await messengerPost([messengerText(psid, String(other))]);
    await eventually(() => sentTo(psid).length === 2, 10_000, 'the answer');
    expect(sentTo(psid).map((b) => b.message)).toEqual([
      { text: 'Which month is your birthday? Send a number from 1 to 12.' },
      { text: `Thanks! We will have a treat for you in month ${other}.` },
    ]);
    expect((await contactOf(svc.ctx, 'messenger', psid)).tags).toEqual(['birthday-later']);
  });
});

describe('referral.yaml (Messenger m.me ref)', () => {
  it('gives the referral coupon once; a second referral gets the else text', async () => {
    const psid = 'PSID-referral';
    const referral = () => ({ sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: Date.now() + (++mid), referral: { ref: 'friend-2026', source: 'SHORTLINK', type: 'OPEN_THREAD' } });
    await messengerPost([referral()]);
    await eventually(() => sentTo(psid).length === 2, 10_000, 'the referral messages');
    const card = await couponMessage('messenger', psid);
    expect(sentTo(psid)).toEqual([
      { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: "Thanks for coming through your friend's link! Here is your referral gift." } },
      ...renderMessenger(card, { userId: psid, conversationId: psid }),
    ]);
    await messengerPost([referral()]);
    await eventually(() => sentTo(psid).length === 4, 10_000, 'the second referral');
    expect(sentTo(psid).slice(2).map((b) => b.message)).toEqual([
      { text: "Thanks for coming through your friend's link! Here is your referral gift." },
      { text: 'The referral gift is one per person, and you already have yours.' },
    ]);
    expect((await contactOf(svc.ctx, 'messenger', psid)).tags).toEqual(['referred']);
  });
});

describe('referral.yaml (LINE link that pre-fills "ref=friend-2026")', () => {
  it('gives the same referral coupon to a LINE user who sends the pre-filled message', async () => {
    const user = newLineUserId();
    await lineEvents([textEvent(user, 'ref=friend-2026', { replyToken: 'rt-ref' })]);
    await line.waitFor(() => lineReceived(user, ['rt-ref']).length === 1, 10_000, 'the referral reply');
    const card = await couponMessage('line', user);
    expect(card.type === 'coupon' && card.card.campaignName).toBe('Gift referral-50');
    expect(line.delivered.find(withToken('rt-ref'))!.body).toEqual({
      replyToken: 'rt-ref', messages: [{ type: 'text', text: "Thanks for coming through your friend's link! Here is your referral gift." }, ...renderLine(card)],
    });
    expect((await contactOf(svc.ctx, 'line', user)).tags).toEqual(['referred']);
  });
});

describe('agent-handoff.yaml (handoff)', () => {
  it('hands the chat to an agent; the bot is silent until the conversation is released', async () => {
    const psid = 'PSID-agent';
    await messengerPost([messengerText(psid, '真人客服')]);
    await eventually(() => sentTo(psid).length === 1, 10_000, 'the handoff text');
    expect(sentTo(psid)[0]!.message).toEqual({ text: 'Connecting you with our team. An agent will reply here shortly.' });

    await messengerPost([messengerText(psid, 'birthday')]);
    await eventually(allProcessed, 10_000, 'the event to be processed');
    const conv = (await query(svc.ctx.db, sql`SELECT id, handoff_at AS "handoffAt" FROM conversations WHERE external_id = ${psid}`)).rows[0] as { id: string; handoffAt: Date | null };
    expect(conv.handoffAt).toBeInstanceOf(Date);
    expect(await outboxOf(svc.ctx, 'messenger', psid)).toHaveLength(1);

    const released = await request(svc.url).post(`/api/v1/conversations/${conv.id}/release`).set(svc.admin);
    expect(released.body).toEqual({ id: conv.id, released: true, handoff: false });
    await messengerPost([messengerText(psid, 'birthday')]);
    await eventually(() => sentTo(psid).length === 2, 10_000, 'the bot to answer again');
    expect(sentTo(psid)[1]!.message).toEqual({ text: 'Which month is your birthday? Send a number from 1 to 12.' });
    expect((await contactOf(svc.ctx, 'messenger', psid)).tags).toEqual(['wants-agent']);
  });
});

describe('greeting.yaml (keyword, if on contact.language)', () => {
  it('greets each LINE user in the language of their LINE profile, English otherwise', async () => {
    const cases: Array<[string | null, string, string]> = [
      ['ja', 'こんにちは', 'こんにちは！ご来店ありがとうございます。「my coupons」と送っていただくと、お持ちのクーポンをご覧いただけます。'],
      ['zh-Hant', '你好', '您好，歡迎光臨！輸入「我的優惠券」即可查看您的優惠券。'],
      ['zh-TW', 'hello', '您好，歡迎光臨！輸入「我的優惠券」即可查看您的優惠券。'],
      ['th', 'สวัสดี', 'สวัสดี ยินดีต้อนรับ พิมพ์ "my coupons" เพื่อดูคูปองของคุณ'],
      ['ko', 'hi', 'Hello, and welcome! Send "my coupons" to see your coupons.'],
      [null, 'Hello', 'Hello, and welcome! Send "my coupons" to see your coupons.'],
    ];
    for (const [i, [language, said, answer]] of cases.entries()) {
      const user = newLineUserId();
      if (language) lineLanguages.set(user, language);
      await lineEvents([textEvent(user, said, { replyToken: `rt-greet-${i}` })]);
      await line.waitFor(() => lineReceived(user, [`rt-greet-${i}`]).length === 1, 10_000, `the greeting for ${language}`);
      expect(lineReceived(user, [`rt-greet-${i}`])[0]!.body).toEqual({ replyToken: `rt-greet-${i}`, messages: [{ type: 'text', text: answer }] });
    }
  });

  it('answers "my coupons" in the contact\'s language, with the link', async () => {
    const user = newLineUserId();
    lineLanguages.set(user, 'ja-JP');
    await lineEvents([textEvent(user, 'my coupons', { replyToken: 'rt-mine-ja' })]);
    await line.waitFor(() => lineReceived(user, ['rt-mine-ja']).length === 1, 10_000, 'the my coupons answer');
    const me = (await contactOf(svc.ctx, 'line', user)).meToken;
    expect(lineReceived(user, ['rt-mine-ja'])[0]!.body).toEqual({
      replyToken: 'rt-mine-ja', messages: [{ type: 'text', text: `お持ちのクーポンはこちらからご覧いただけます。\nhttp://coupons.test/me/${me}` }],
    });
  });
});
