import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { contactOf, dispatch, flowsDir, registryOf, runsOf, say, textsOf } from './flow-support.ts';
import { resumeDueRuns } from '../../src/flows/jobs.ts';
import { flowsResumeJob } from '../../src/jobs/catalog.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

/** Which flow an event starts, `interrupt:` overrides, the built-in "my coupons", refs on LINE, the handoff list. */
const files: Record<string, string> = {
  'catch-all.yaml': `
id: catch-all
trigger: { pattern: "coupon|優惠" }
steps:
  - say: "Ask us about coupons!"
`,
  'claim.yaml': `
id: claim
channels: [messenger]
trigger: { keyword: [我的優惠券] }
steps:
  - say: "The flow answers this word on Messenger"
`,
  'drip.yaml': `
id: drip
trigger: { keyword: drip }
steps:
  - say: "Drip 1"
  - wait: 10m
  - say: "Drip 2"
`,
  'polite.yaml': `
id: polite
interrupt: false
trigger: { keyword: polite }
steps:
  - say: "Polite flow"
`,
  'eager.yaml': `
id: eager
interrupt: true
trigger: { follow: true }
steps:
  - say: "Eager follow flow"
`,
  'agent.yaml': `
id: agent
trigger: { keyword: agent }
steps:
  - handoff: "An agent will answer."
`,
  'friend.yaml': `
id: friend
trigger: { ref: friend-2026 }
steps:
  - say: "Came through a friend"
`,
};

let svc: TestService;
let dir: string;
let now = new Date('2026-04-01T08:00:00Z');
beforeAll(async () => {
  dir = flowsDir(files);
  svc = await startTestService({ env: { FLOWS_DIR: dir }, clock: () => now });
  expect(registryOf(svc.ctx).listing().errors).toEqual([]);
});
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const meLink = async (channel: 'line' | 'messenger', user: string) => `Your coupons: http://coupons.test/me/${(await contactOf(svc.ctx, channel, user)).meToken}`;

describe('the built-in "my coupons"', () => {
  it('is not swallowed by a pattern flow; only a keyword flow on that channel claims the word', async () => {
    expect((await say(svc.ctx, 'line', 'U-mine', 'my coupons')).outcome).toBe('my-coupons');
    expect((await say(svc.ctx, 'line', 'U-mine', '我的優惠券')).outcome).toBe('my-coupons');
    expect((await say(svc.ctx, 'line', 'U-mine', 'any coupon today?')).outcome).toBe('started');
    expect((await say(svc.ctx, 'messenger', 'P-mine', '我的優惠券')).outcome).toBe('started');
    expect((await say(svc.ctx, 'messenger', 'P-mine', 'ＭＹ ＣＯＵＰＯＮＳ')).outcome).toBe('my-coupons');
    const link = await meLink('line', 'U-mine');
    // Each answer in the language the words were written in (the contact's language is unknown here).
    const zhLink = link.replace('Your coupons: ', '點選連結即可查看您的優惠券：\n');
    expect(await textsOf(svc.ctx, 'line', 'U-mine')).toEqual([link, zhLink, 'Ask us about coupons!']);
    expect(await textsOf(svc.ctx, 'messenger', 'P-mine')).toEqual(['The flow answers this word on Messenger', await meLink('messenger', 'P-mine')]);
  });

  it('is answered in the contact\'s language when known, unless the words are plainly in another one', async () => {
    await say(svc.ctx, 'line', 'U-lang', 'hello');
    await svc.ctx.db.transaction(async (tx) => {
      await query(tx, sql`UPDATE contacts SET language = 'ja' WHERE platform_user_id = 'U-lang'`);
    });
    await say(svc.ctx, 'line', 'U-lang', 'my coupons');
    await say(svc.ctx, 'line', 'U-lang', '我的優惠券');
    const token = (await contactOf(svc.ctx, 'line', 'U-lang')).meToken;
    const texts = await textsOf(svc.ctx, 'line', 'U-lang');
    expect(texts.slice(-2)).toEqual([
      `お持ちのクーポンはこちらからご覧いただけます。\nhttp://coupons.test/me/${token}`,
      `點選連結即可查看您的優惠券：\nhttp://coupons.test/me/${token}`,
    ]);
  });

  it('is answered while a run waits, where a non-interrupting pattern flow would be dropped', async () => {
    await say(svc.ctx, 'line', 'U-waiting', 'drip');
    expect((await say(svc.ctx, 'line', 'U-waiting', 'my coupons')).outcome).toBe('my-coupons');
    expect((await say(svc.ctx, 'line', 'U-waiting', 'coupon please')).outcome).toBe('dropped');
    expect(await textsOf(svc.ctx, 'line', 'U-waiting')).toEqual(['Drip 1', await meLink('line', 'U-waiting')]);
    const contact = await contactOf(svc.ctx, 'line', 'U-waiting');
    expect((await runsOf(svc.ctx, contact.id)).map((r) => [r.startFlowId, r.status])).toEqual([['drip', 'waiting'], ['catch-all', 'dropped']]);
  });
});

describe('interrupt', () => {
  it('a keyword interrupts a run waiting at a wait; its resume job then does nothing', async () => {
    await say(svc.ctx, 'line', 'U-int', 'drip');
    const contact = await contactOf(svc.ctx, 'line', 'U-int');
    const [drip] = await runsOf(svc.ctx, contact.id);
    expect(drip).toMatchObject({ status: 'waiting', waitingFor: 'resume', stepPath: '1' });
    expect((await say(svc.ctx, 'line', 'U-int', 'DRIP')).outcome).toBe('interrupted');
    now = new Date(now.getTime() + 11 * 60_000);
    await flowsResumeJob.handler({ runId: drip!.id, stepPath: '1' }, svc.ctx);
    const runs = await runsOf(svc.ctx, contact.id);
    expect(runs.map((r) => [r.status, r.endReason])).toEqual([['interrupted', 'interrupted by flow "drip"'], ['waiting', null]]);
    // The second run's own wake-up still comes, once.
    await flowsResumeJob.handler({ runId: runs[1]!.id, stepPath: '1' }, svc.ctx);
    now = new Date(now.getTime() + 60 * 60_000);
    await resumeDueRuns(svc.ctx);
    expect(await textsOf(svc.ctx, 'line', 'U-int')).toEqual(['Drip 1', 'Drip 1', 'Drip 2']);
  });

  it('interrupt: false keeps a keyword flow from replacing a running flow; it runs when none is running', async () => {
    await say(svc.ctx, 'line', 'U-polite', 'drip');
    expect((await say(svc.ctx, 'line', 'U-polite', 'polite')).outcome).toBe('dropped');
    expect((await say(svc.ctx, 'line', 'U-idle', 'polite')).outcome).toBe('started');
    expect(await textsOf(svc.ctx, 'line', 'U-polite')).toEqual(['Drip 1']);
    expect(await textsOf(svc.ctx, 'line', 'U-idle')).toEqual(['Polite flow']);
    const contact = await contactOf(svc.ctx, 'line', 'U-polite');
    const runs = await runsOf(svc.ctx, contact.id);
    expect(runs.map((r) => [r.startFlowId, r.status])).toEqual([['drip', 'waiting'], ['polite', 'dropped']]);
    expect(runs[1]!.endReason).toBe(`dropped: the contact was in flow "drip" (${runs[0]!.id})`);
  });

  it('interrupt: true lets a follow flow replace a running flow', async () => {
    await say(svc.ctx, 'line', 'U-eager', 'drip');
    expect((await dispatch(svc.ctx, 'line', 'U-eager', { type: 'follow' })).outcome).toBe('interrupted');
    expect(await textsOf(svc.ctx, 'line', 'U-eager')).toEqual(['Drip 1', 'Eager follow flow']);
    const contact = await contactOf(svc.ctx, 'line', 'U-eager');
    expect((await runsOf(svc.ctx, contact.id)).map((r) => [r.startFlowId, r.status])).toEqual([['drip', 'interrupted'], ['eager', 'done']]);
  });
});

describe('ref on LINE', () => {
  it('starts the ref flow from the message a LINE link pre-fills, or a postback with that data', async () => {
    expect((await say(svc.ctx, 'line', 'U-ref', ' ref=friend-2026 ')).outcome).toBe('started');
    expect((await dispatch(svc.ctx, 'line', 'U-ref', { type: 'postback', payload: 'ref=friend-2026' })).outcome).toBe('started');
    expect((await say(svc.ctx, 'line', 'U-ref', 'ref=someone-else')).outcome).toBe('no-match');
    expect(await textsOf(svc.ctx, 'line', 'U-ref')).toEqual(['Came through a friend', 'Came through a friend']);
    const n = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM flow_runs WHERE flow_id = 'friend' AND status = 'done'`);
    expect(n.rows[0]).toEqual({ n: 2 });
  });
});

describe('GET /api/v1/handoffs', () => {
  it('lists the conversations waiting for an agent until they are released', async () => {
    expect((await request(svc.url).get('/api/v1/handoffs')).status).toBe(401);
    expect((await request(svc.url).get('/api/v1/handoffs').set(svc.pos)).status).toBe(403);
    const { chat } = await say(svc.ctx, 'messenger', 'P-agent', 'agent');
    await query(svc.ctx.db, sql`UPDATE contacts SET display_name = 'Pat' WHERE id = ${chat.contact.id}`);
    const listed = await request(svc.url).get('/api/v1/handoffs').set(svc.admin);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ conversations: [{
      id: chat.conversation.id, channel: 'messenger', externalId: 'P-agent', contactId: chat.contact.id, displayName: 'Pat',
      tags: [], handoffAt: now.toISOString(), lastInboundAt: now.toISOString(), takenAt: null, takenBy: null,
    }] });
    expect((await say(svc.ctx, 'messenger', 'P-agent', 'my coupons')).outcome).toBe('handoff');
    await request(svc.url).post(`/api/v1/conversations/${chat.conversation.id}/release`).set(svc.admin).expect(200);
    expect((await request(svc.url).get('/api/v1/handoffs').set(svc.admin)).body).toEqual({ conversations: [] });
    expect((await say(svc.ctx, 'messenger', 'P-agent', 'my coupons')).outcome).toBe('my-coupons');
  });
});
