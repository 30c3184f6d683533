import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { query } from '../../src/db/client.ts';
import request from 'supertest';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import { newLineUserId } from '../../scripts/support/line-webhook.ts';
import { issueSlice } from '../../src/broadcasts/broadcast-worker.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { campaignBody } from '../support/campaigns.ts';
import { personOf, startTestService, type TestService } from '../support/service.ts';
import { dispatch, flowsDir, registryOf, textsOf } from './flow-support.ts';

/** Campaign state (paused, ended, archived), duplicates and test sends, through the HTTP API. */
let svc: TestService;
let standin: LineStandin;
let dir: string;

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'line-token' });
  dir = flowsDir({
    'paused.yaml': `
id: paused-gift
trigger: { keyword: [gift] }
steps:
  - coupon: state-flow
  - say: "after the coupon step"
`,
  });
  svc = await startTestService({
    env: { LINE_CHANNEL_SECRET: 'secret', LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url, FLOWS_DIR: dir },
  });
});
afterAll(async () => {
  await svc?.stop();
  await standin?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, as = svc.admin) => request(svc.url).post(path).set(as).send(body as object);
const patch = (path: string, body: unknown, as = svc.admin) => request(svc.url).patch(path).set(as).send(body as object);
const get = (path: string, as = svc.admin) => request(svc.url).get(path).set(as);

let seq = 0;
async function newCampaign(overrides: Record<string, unknown> = {}) {
  seq += 1;
  const res = await post('/api/v1/campaigns', campaignBody({ name: `State ${seq}`, slug: `state-${seq}`, ...overrides }));
  expect(res.status).toBe(201);
  const fixed = await post(`/api/v1/campaigns/${res.body.id}/serials`, { fixed: { code: 'FIXED-1', quantity: 100 } });
  expect(fixed.status).toBe(200);
  return res.body as { id: string; slug: string; name: string; state: string };
}

async function auditActions(targetId: string): Promise<string[]> {
  const res = await get('/api/v1/audit?limit=500');
  expect(res.status).toBe(200);
  return (res.body.entries as Array<{ action: string; target: { id: string } }>).filter((e) => e.target.id === targetId).map((e) => e.action).reverse();
}

async function drainOutbox(): Promise<void> {
  while ((await deliverDue(svc.ctx)) > 0) { /* until empty */ }
}

describe('campaign state', () => {
  it('is active by default and moves only along the allowed transitions, each audited', async () => {
    const c = await newCampaign();
    expect(c.state).toBe('active');
    const paused = await patch(`/api/v1/campaigns/${c.slug}`, { state: 'paused' });
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'active' })).body.state).toBe('active');
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'active' })).status).toBe(200);
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'ended' })).body.state).toBe('ended');

    const back = await patch(`/api/v1/campaigns/${c.id}`, { state: 'active' });
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('conflict');
    expect(back.body.error.message).toMatch(/^state: an ended campaign cannot be sent again; duplicate it/);
    expect((await get(`/api/v1/campaigns/${c.id}`)).body.state).toBe('ended');

    const bad = await patch(`/api/v1/campaigns/${c.id}`, { state: 'sleeping' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('state: must be one of active, paused, ended, archived');

    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'archived' })).body.state).toBe('archived');
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'ended' })).body.state).toBe('ended');
    expect(await auditActions(c.id)).toEqual([
      'campaign.created', 'serials.loaded', 'campaign.paused', 'campaign.resumed', 'campaign.ended', 'campaign.archived', 'campaign.unarchived',
    ]);
  });

  it('a new campaign may start paused, never ended', async () => {
    const paused = await post('/api/v1/campaigns', campaignBody({ name: 'Starts paused', state: 'paused' }));
    expect(paused.status).toBe(201);
    expect(paused.body.state).toBe('paused');
    const ended = await post('/api/v1/campaigns', campaignBody({ name: 'Starts ended', state: 'ended' }));
    expect(ended.status).toBe(400);
    expect(ended.body.error.message).toContain('state: must be active or paused for a new campaign');
  });

  it('archived campaigns leave the list and the workbench, unless asked for; their records stay', async () => {
    const c = await newCampaign();
    const user = newLineUserId();
    expect((await post(`/api/v1/campaigns/${c.id}/coupons`, { channel: 'line', userId: user })).status).toBe(201);
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'archived' })).status).toBe(200);
    const ids = (res: request.Response) => (res.body.campaigns as Array<{ id: string }>).map((x) => x.id);
    expect(ids(await get('/api/v1/campaigns'))).not.toContain(c.id);
    expect(ids(await get('/api/v1/campaigns?archived=1'))).toContain(c.id);
    const bench = await get('/api/v1/workbench/coupons');
    expect((bench.body.coupons as Array<{ campaignId: string }>).map((x) => x.campaignId)).not.toContain(c.id);
    const records = await get(`/api/v1/campaigns/${c.id}/records`);
    expect(records.body.records).toHaveLength(1);
  });

  it('paused: the API, the workbench, flows and new broadcasts send nothing; pages and redemptions still work', async () => {
    const c = await newCampaign({ slug: 'state-flow', name: 'Flow campaign' });
    await registryOf(svc.ctx).reload();
    const user = newLineUserId();
    const issued = await post(`/api/v1/campaigns/${c.id}/coupons`, { channel: 'line', userId: user });
    expect(issued.status).toBe(201);
    await drainOutbox();
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'paused' })).status).toBe(200);

    const refused = await post(`/api/v1/campaigns/${c.id}/coupons`, { channel: 'line', userId: newLineUserId() });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'campaign_paused', message: '"Flow campaign" is paused: nothing is sent until it is made active again' });

    // The workbench neither lists it nor sends it.
    const chatUser = newLineUserId();
    await dispatch(svc.ctx, 'line', chatUser, { type: 'message', kind: 'text', text: 'hello' });
    const bench = await get(`/api/v1/workbench/coupons?channel=line&externalId=${chatUser}`);
    expect((bench.body.coupons as Array<{ campaignId: string }>).map((x) => x.campaignId)).not.toContain(c.id);
    const benchSend = await post('/api/v1/workbench/send', { channel: 'line', externalId: chatUser, campaignId: c.id });
    expect(benchSend.status).toBe(409);
    expect(benchSend.body.error.code).toBe('campaign_paused');

    // A flow's coupon step is refused: the customer is told, the flow goes on.
    const flowUser = newLineUserId();
    await dispatch(svc.ctx, 'line', flowUser, { type: 'message', kind: 'text', text: 'gift' });
    expect(await textsOf(svc.ctx, 'line', flowUser)).toEqual(['Sorry, this offer is not available right now.', 'after the coupon step']);

    const broadcast = await post('/api/v1/broadcasts', { name: 'To everyone', audience: {}, campaignId: c.id });
    expect(broadcast.status).toBe(409);
    expect(broadcast.body.error.code).toBe('campaign_paused');

    // The coupon already sent still opens and redeems.
    const page = await request(svc.url).get(new URL(issued.body.coupon.pageUrl).pathname);
    expect(page.status).toBe(200);
    const redeemed = await request(svc.url).post(`${new URL(issued.body.coupon.pageUrl).pathname}/redeem`).set('Accept', 'application/json');
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toMatchObject({ status: 'redeemed', code: 'FIXED-1' });

    // Made active again, it sends.
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'active' })).status).toBe(200);
    expect((await post(`/api/v1/campaigns/${c.id}/coupons`, { channel: 'line', userId: newLineUserId() })).status).toBe(201);
  });

  it('a running broadcast whose campaign is paused pauses with the reason campaign_paused', async () => {
    const c = await newCampaign();
    for (let i = 0; i < 3; i++) {
      await query(svc.ctx.db, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token, tags)
        VALUES ('ctc_' || md5(random()::text), 'line', ${newLineUserId()}, md5(random()::text), ARRAY['state-test'])`);
    }
    const created = await post('/api/v1/broadcasts', { name: 'Paused midway', audience: { tagsAll: ['state-test'] }, campaignId: c.id, ratePerSecond: 1 });
    expect(created.status).toBe(201);
    expect((await patch(`/api/v1/campaigns/${c.id}`, { state: 'paused' })).status).toBe(200);
    expect(await issueSlice(svc.ctx, created.body.id)).toEqual({ state: 'idle' });
    const b = await get(`/api/v1/broadcasts/${created.body.id}`);
    expect(b.body).toMatchObject({ status: 'paused', reason: 'campaign_paused' });
    expect(b.body.counts.sent).toBe(0);
  });
});

describe('duplicating a campaign', () => {
  it('copies every field and the image, with a new name and slug, active, without serials or coupons', async () => {
    const c = await newCampaign({ reward: { type: 'amount', value: 100, currency: 'TWD' }, timeZone: 'Asia/Taipei', locale: 'zh-TW' });
    const png = fs.readFileSync('test/fixtures/coupon-640.png');
    expect((await request(svc.url).put(`/api/v1/campaigns/${c.id}/image`).set(svc.admin).attach('file', png, 'coupon-640.png')).status).toBe(200);
    await patch(`/api/v1/campaigns/${c.id}`, { state: 'ended' });
    const original = (await get(`/api/v1/campaigns/${c.id}`)).body;

    const res = await post(`/api/v1/campaigns/${c.slug}/duplicate`, {});
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/campaigns/${res.body.id}`);
    const copy = res.body;
    expect(copy.id).not.toBe(c.id);
    expect(copy.name).toBe(`${c.name} (copy)`);
    expect(copy.slug).not.toBe(c.slug);
    expect(copy.state).toBe('active');
    expect(copy.stock).toMatchObject({ kind: 'none', left: 0 });
    const same = (x: Record<string, unknown>) => {
      const { id: _id, name: _n, slug: _s, state: _st, imageUrl: _i, stock: _k, createdAt: _c, updatedAt: _u, ...rest } = x;
      return rest;
    };
    expect(same(copy)).toEqual(same(original));
    expect(copy.imageUrl).toMatch(/^http:\/\/coupons\.test\/images\//);
    expect(copy.imageUrl).not.toBe(original.imageUrl);
    // Its own file: replacing the original's image leaves the copy's in place.
    const img = await request(svc.url).get(new URL(copy.imageUrl).pathname);
    expect(img.status).toBe(200);
    expect((await get(`/api/v1/campaigns/${copy.id}/records`)).body.records).toEqual([]);
    expect(await auditActions(copy.id)).toEqual(['campaign.duplicated']);

    const named = await post(`/api/v1/campaigns/${c.id}/duplicate`, { name: 'Spring again', slug: 'spring-again' });
    expect(named.status).toBe(201);
    expect(named.body).toMatchObject({ name: 'Spring again', slug: 'spring-again' });
    const taken = await post(`/api/v1/campaigns/${c.id}/duplicate`, { slug: 'spring-again' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('slug_taken');
  });
});

describe('send me a test', () => {
  it('sends the card to the marketer\'s own LINE contact through the outbox and LINE; nothing counts', async () => {
    const c = await newCampaign({ perContactLimit: 1 });
    const marketer = await personOf(svc, 'marketer');
    const me = newLineUserId();

    const none = await post(`/api/v1/campaigns/${c.id}/test`, {}, marketer.header);
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('no_test_contact');
    expect((await get('/api/v1/me/test-contact', marketer.header)).body).toEqual({ testContact: null });

    const sent = await post(`/api/v1/campaigns/${c.slug}/test`, { channel: 'line', userId: me }, marketer.header);
    expect(sent.status).toBe(201);
    expect(sent.body.testContact).toEqual({ channel: 'line', userId: me });
    expect(sent.body.coupon).toMatchObject({ test: true, campaignId: c.id, status: 'pending' });
    expect((await get('/api/v1/me/test-contact', marketer.header)).body).toEqual({ testContact: { channel: 'line', userId: me } });

    standin.delivered.length = 0;
    await drainOutbox();
    const pushed = standin.delivered.filter((r) => (r.body as { to?: string }).to === me);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]!.kind).toBe('push');
    expect(JSON.stringify(pushed[0]!.body)).toContain(sent.body.coupon.pageUrl);

    // Picked once: the next test goes to the same contact without naming it.
    const again = await post(`/api/v1/campaigns/${c.id}/test`, {}, marketer.header);
    expect(again.status).toBe(201);
    expect(again.body.testContact).toEqual({ channel: 'line', userId: me });

    // Not in stats or records, and the per-contact limit is untouched: a real coupon still goes to the same contact.
    await drainOutbox();
    const stats = (await get(`/api/v1/campaigns/${c.id}/stats`)).body;
    expect(stats).toMatchObject({ sent: 0, opened: 0, redeemed: 0, stockLeft: 100 });
    expect((await get(`/api/v1/campaigns/${c.id}/records`)).body.records).toEqual([]);
    const real = await post(`/api/v1/campaigns/${c.id}/coupons`, { channel: 'line', userId: me });
    expect(real.status).toBe(201);

    // Redeemed: a test code, no serial taken; the page says it is a test.
    const path = new URL(sent.body.coupon.pageUrl).pathname;
    const page = await request(svc.url).get(path).set('Accept-Language', 'en');
    expect(page.text).toContain('data-notice="test"');
    expect(page.text).toContain('Test coupon');
    const redeemed = await request(svc.url).post(`${path}/redeem`).set('Accept', 'application/json');
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.code).toMatch(/^TEST-[0-9A-F]{8}$/);
    expect((await get(`/api/v1/campaigns/${c.id}/stats`)).body).toMatchObject({ redeemed: 0, stockLeft: 100 });

    expect(await auditActions(c.id)).toEqual(expect.arrayContaining(['campaign.test_sent']));

    // Audiences do not count a test as a coupon held: the marketer still "has none" apart from the real one.
    const has = async (what: string) => (await post('/api/v1/audiences/estimate', { audience: { campaign: { id: c.id, has: what } } })).body.contacts as number;
    expect(await has('redeemed')).toBe(0);
  });

  it('a contact holding only a test is in an audience of those who have none', async () => {
    const c = await newCampaign();
    const me = newLineUserId();
    expect((await post(`/api/v1/campaigns/${c.id}/test`, { channel: 'line', userId: me })).status).toBe(201);
    const estimate = async (has: string) => (await post('/api/v1/audiences/estimate', { audience: { campaign: { id: c.id, has } } })).body;
    expect((await estimate('unredeemed')).contacts).toBe(0);
    const none = await estimate('none');
    expect(none.contacts).toBeGreaterThanOrEqual(1);
    const withReal = await post(`/api/v1/campaigns/${c.id}/coupons`, { channel: 'line', userId: me });
    expect(withReal.status).toBe(201);
    expect((await estimate('unredeemed')).contacts).toBe(1);
    expect((await estimate('none')).contacts).toBe(none.contacts - 1);
  });

  it('works on a paused campaign, not on an ended one; a bad contact is a 400', async () => {
    const c = await newCampaign();
    await patch(`/api/v1/campaigns/${c.id}`, { state: 'paused' });
    expect((await post(`/api/v1/campaigns/${c.id}/test`, { channel: 'line', userId: newLineUserId() })).status).toBe(201);
    const bad = await post(`/api/v1/campaigns/${c.id}/test`, { channel: 'fax', userId: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('channel');
    await patch(`/api/v1/campaigns/${c.id}`, { state: 'ended' });
    const ended = await post(`/api/v1/campaigns/${c.id}/test`, {});
    expect(ended.status).toBe(409);
    expect(ended.body.error.code).toBe('campaign_paused');
  });

  it('is the marketers\' and the owner\'s: an agent may not send tests', async () => {
    const c = await newCampaign();
    const agent = await personOf(svc, 'agent');
    const res = await post(`/api/v1/campaigns/${c.id}/test`, { channel: 'line', userId: newLineUserId() }, agent.header);
    expect(res.status).toBe(403);
    expect((await request(svc.url).put('/api/v1/me/test-contact').set(agent.header).send({ channel: 'line', userId: 'U1' })).status).toBe(403);
  });
});
