import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { channelPlugins } from '../../adapters/index.ts';
import type { ChannelAdapter, ChannelEvent, ChannelPlugin, Delivery, OutboundMessage, Recipient } from '../../adapters/types.ts';
import { processInboundDue } from '../../src/contacts/inbound-worker.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { flowCampaign, flowsDir, registryOf } from './flow-support.ts';

/**
 * A fourth channel, defined only here: "testchat", a stand-in platform with its own webhook body,
 * its own signature header and its own send. Registered next to the registry's plug-ins, it runs
 * a real flow end to end (webhook in, coupon card out, redeem) with nothing in src/ knowing it.
 */

interface TestchatOptions { secret: string }
interface TestchatBody { events: Array<{ id: string; from: string; at: string; text?: string }> }

/** What the stand-in platform received from the service. */
const platform: Array<{ to: string; body: unknown }> = [];

const sign = (secret: string, raw: string) => crypto.createHmac('sha256', secret).update(raw).digest('hex');

function createTestchatAdapter(opts: TestchatOptions): ChannelAdapter {
  const render = (message: OutboundMessage, to: Recipient) => (message.type === 'text'
    ? { to: to.userId, text: message.text }
    : { to: to.userId, card: { title: message.card.campaignName, reward: message.card.rewardText, link: message.card.pageUrl } });
  return {
    name: 'testchat',
    capabilities: testchat.capabilities,
    delivery: { label: 'Testchat', retryForMs: 3_600_000 },
    verify: (req) => {
      const given = req.headers['x-testchat-signature'];
      return typeof given === 'string' && given === sign(opts.secret, req.rawBody.toString('utf8'));
    },
    parse: (body): ChannelEvent[] => (body as TestchatBody).events.map((e) => (e.text === undefined
      ? { channel: 'testchat', type: 'follow', eventId: e.id, userId: e.from, conversationId: e.from, timestamp: e.at }
      : { channel: 'testchat', type: 'message', kind: 'text', text: e.text, eventId: e.id, userId: e.from, conversationId: e.from, timestamp: e.at })),
    render,
    send: async (delivery: Delivery) => {
      platform.push({ to: delivery.to.userId, body: render(delivery.message, delivery.to) });
      return { outcome: 'sent' };
    },
  };
}

const testchat: ChannelPlugin<TestchatOptions> = {
  name: 'testchat',
  capabilities: { maxTextLength: 1000, escapeText: (v) => v, conversations: 'per-user', broadcast: true },
  secretHeaders: ['x-testchat-signature'],
  variables: { TESTCHAT_SECRET: 'signs testchat webhooks' },
  configure: (env) => (env.TESTCHAT_SECRET ? { secret: env.TESTCHAT_SECRET } : null),
  create: (options) => createTestchatAdapter(options),
};

const SECRET = 'testchat-secret';
let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({
    channels: [...channelPlugins, testchat as ChannelPlugin],
    env: {
      TESTCHAT_SECRET: SECRET,
      FLOWS_DIR: flowsDir({
        'shop.yaml': 'id: shop\nchannels: [testchat]\ntrigger: { keyword: coupon }\nsteps:\n  - say: "Here you are, {{contact.displayName}}"\n  - coupon: chat-deal\n',
      }),
    },
  });
  await flowCampaign(svc.ctx, 'chat-deal', { name: 'Chat deal' });
  await registryOf(svc.ctx).reload();
});

afterAll(async () => {
  await svc?.stop();
});

async function post(body: TestchatBody, signature = sign(SECRET, JSON.stringify(body))) {
  return await request(svc.url).post('/webhooks/testchat').set('Content-Type', 'application/json')
    .set('X-Testchat-Signature', signature).send(JSON.stringify(body));
}

describe('a channel defined outside src/', () => {
  it('refuses a webhook whose signature does not match, storing nothing', async () => {
    const res = await post({ events: [{ id: 'bad-1', from: 'u-1', at: new Date().toISOString(), text: 'coupon' }] }, 'not-the-signature');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_signature');
    expect((await processInboundDue(svc.ctx)).fetched).toBe(0);
  });

  it('runs a flow through it: webhook in, coupon card out, redeem', async () => {
    const res = await post({ events: [{ id: 'evt-1', from: 'u-42', at: new Date().toISOString(), text: 'Coupon' }] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', stored: 1 });

    expect((await processInboundDue(svc.ctx)).done).toBe(1);
    expect(await deliverDue(svc.ctx)).toBe(2);
    const received = platform.filter((p) => p.to === 'u-42').map((p) => p.body as { text?: string; card?: { title: string; link: string } });
    expect(received).toHaveLength(2);
    expect(received[0]).toEqual({ to: 'u-42', text: 'Here you are, ' });
    expect(received[1]!.card).toMatchObject({ title: 'Chat deal', link: expect.stringMatching(/^http:\/\/coupons\.test\/c\/[A-Za-z0-9_-]+$/) });

    const token = received[1]!.card!.link.split('/c/')[1]!;
    const redeemed = await request(svc.url).post(`/c/${token}/redeem`).set('Accept', 'application/json');
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toMatchObject({ status: 'redeemed', code: 'FIXED-1', alreadyRedeemed: false });
  });

  it('is known to the flows, the admin API and the workbench by its name only', async () => {
    expect(registryOf(svc.ctx).listing().errors).toEqual([]);
    const issued = await request(svc.url).post(`/api/v1/campaigns/${(await flowCampaign(svc.ctx, 'api-deal')).id}/coupons`)
      .set(svc.admin).send({ channel: 'testchat', userId: 'u-7' });
    expect(issued.status).toBe(201);
    const unknown = await request(svc.url).post('/webhooks/chatfour').send('{}');
    expect(unknown.status).toBe(404);
  });
});
