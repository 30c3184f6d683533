import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { contactOf, dispatch, eventually, flowCampaign, flowsDir, outboxOf, registryOf, runsOf, say, textsOf } from './flow-support.ts';
import { MAX_STEPS_PER_DISPATCH } from '../../src/flows/runner.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const files: Record<string, string> = {
  'survey.yaml': `
id: survey
trigger: { keyword: survey }
steps:
  - ask: "Your email?"
    expect: email
    save: email
    retry: "That is not an email address, try again."
    retries: 1
    else:
      - say: "Giving up, {{contact.displayName}}."
  - if: "email != null"
    then:
      - say: "Thanks {{email}}"
`,
  'vip.yaml': `
id: vip
trigger: { keyword: [vip, ＶＩＰ] }
steps:
  - tag: [vip, gold]
  - untag: gold
  - if: "'vip' in tags and not ('gold' in contact.tags)"
    then:
      - say: "You are VIP"
    else:
      - say: "Not VIP"
`,
  'hello.yaml': `
id: hello
trigger: { follow: true }
steps:
  - say: "Hello!"
  - coupon: engine-gift
  - say: "Your coupon: {{coupon.pageUrl}} (until {{coupon.deadline}})"
`,
  'loop.yaml': `
id: loop-a
trigger: { keyword: loop }
steps:
  - goto: loop-b
---
id: loop-b
trigger: { keyword: loop-b }
steps:
  - goto: loop-a
`,
  'agent.yaml': `
id: agent
trigger: { keyword: agent }
steps:
  - handoff: "An agent will answer."
  - say: "never sent"
`,
  'soldout.yaml': `
id: soldout
trigger: { postback: SOLD }
steps:
  - coupon: engine-empty
  - say: "after the refusal"
`,
};

let svc: TestService;
let dir: string;
beforeAll(async () => {
  dir = flowsDir(files);
  svc = await startTestService({ env: { FLOWS_DIR: dir, TZ_DEFAULT: 'Asia/Taipei' } });
  await flowCampaign(svc.ctx, 'engine-gift', { expiry: { mode: 'fromSend', days: 7 } });
  await flowCampaign(svc.ctx, 'engine-empty', { refusalText: 'Sorry {{contact.displayName}}, all gone!' }, 0);
  await registryOf(svc.ctx).reload();
});
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the flow engine', () => {
  it('loads every file once the campaigns exist', async () => {
    const res = await request(svc.url).get('/api/v1/flows').set(svc.admin);
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([]);
    expect(res.body.flows.map((f: { id: string; loaded: boolean }) => [f.id, f.loaded])).toEqual([
      ['agent', true], ['hello', true], ['loop-a', true], ['loop-b', true], ['soldout', true], ['survey', true], ['vip', true],
    ]);
  });

  it('runs say + coupon + templates; the first message answers with the reply token', async () => {
    const at = svc.ctx.clock();
    const { outcome } = await dispatch(svc.ctx, 'line', 'U-hello', { type: 'follow', replyToken: 'rt-1', timestamp: at.toISOString() });
    expect(outcome).toBe('started');
    const rows = await outboxOf(svc.ctx, 'line', 'U-hello');
    expect(rows.map((r) => r.message.type)).toEqual(['text', 'coupon', 'text']);
    expect(rows[0]!.message).toEqual({ type: 'text', text: 'Hello!' });
    expect(rows[0]!.replyToken).toBe('rt-1');
    expect(rows[0]!.replyTokenExpiresAt!.getTime()).toBe(at.getTime() + 50_000);
    expect(rows.slice(1).map((r) => r.replyToken)).toEqual([null, null]);
    const coupon = (await query(svc.ctx.db, sql`SELECT token, expires_at AS "expiresAt", source FROM coupons WHERE id = ${rows[1]!.couponId}`)).rows[0] as { token: string; expiresAt: Date; source: string };
    expect(coupon.source).toBe('flow');
    const deadline = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Taipei', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .format(coupon.expiresAt).replace(',', '');
    expect(rows[2]!.message).toEqual({ type: 'text', text: `Your coupon: http://coupons.test/c/${coupon.token} (until ${deadline} (Asia/Taipei))` });
    const contact = await contactOf(svc.ctx, 'line', 'U-hello');
    expect((await runsOf(svc.ctx, contact.id)).map((r) => r.status)).toEqual(['done']);
  });

  it('sends the campaign refusal text when a coupon is refused without else, and goes on', async () => {
    await dispatch(svc.ctx, 'line', 'U-sold', { type: 'postback', payload: 'SOLD', displayName: 'Ann' });
    await query(svc.ctx.db, sql`UPDATE contacts SET display_name = 'Ann' WHERE platform_user_id = 'U-sold'`);
    await dispatch(svc.ctx, 'line', 'U-sold', { type: 'postback', payload: 'SOLD' });
    expect(await textsOf(svc.ctx, 'line', 'U-sold')).toEqual([
      'Sorry , all gone!', 'after the refusal', 'Sorry Ann, all gone!', 'after the refusal',
    ]);
  });

  it('asks, retries with the retry text, then takes else when retries run out', async () => {
    await say(svc.ctx, 'line', 'U-ask', 'survey');
    const a = await say(svc.ctx, 'line', 'U-ask', 'not an email');
    expect(a.outcome).toBe('answered');
    await say(svc.ctx, 'line', 'U-ask', 'still not');
    expect(await textsOf(svc.ctx, 'line', 'U-ask')).toEqual([
      'Your email?', 'That is not an email address, try again.', 'Giving up, .',
    ]);
    // A second go: the answer is saved on the contact and used by the next steps.
    await say(svc.ctx, 'line', 'U-ask', 'ＳＵＲＶＥＹ');
    await say(svc.ctx, 'line', 'U-ask', 'Mei@Example.com');
    expect((await textsOf(svc.ctx, 'line', 'U-ask')).slice(3)).toEqual(['Your email?', 'Thanks mei@example.com']);
    const contact = await contactOf(svc.ctx, 'line', 'U-ask');
    expect(contact.attributes).toEqual({ email: 'mei@example.com' });
    expect((await runsOf(svc.ctx, contact.id)).map((r) => r.status)).toEqual(['done', 'done']);
  });

  it('lets a keyword interrupt a waiting ask, drops a follow while it waits, and answers "my coupons" without closing the question', async () => {
    await say(svc.ctx, 'line', 'U-int', 'survey');
    const follow = await dispatch(svc.ctx, 'line', 'U-int', { type: 'follow' });
    expect(follow.outcome).toBe('dropped');
    const mine = await say(svc.ctx, 'line', 'U-int', 'ＭＹ　ＣＯＵＰＯＮＳ');
    expect(mine.outcome).toBe('my-coupons');
    const vip = await say(svc.ctx, 'line', 'U-int', 'ＶＩＰ');
    expect(vip.outcome).toBe('interrupted');
    const contact = await contactOf(svc.ctx, 'line', 'U-int');
    expect(await textsOf(svc.ctx, 'line', 'U-int')).toEqual(['Your email?', `Your coupons: http://coupons.test/me/${contact.meToken}`, 'You are VIP']);
    expect(contact.tags).toEqual(['vip']);
    const runs = await runsOf(svc.ctx, contact.id);
    expect(runs.map((r) => [r.startFlowId, r.status])).toEqual([['survey', 'interrupted'], ['hello', 'dropped'], ['vip', 'done']]);
    expect(runs[0]!.endReason).toBe('interrupted by flow "vip"');
    expect(runs[1]!.endReason).toBe(`dropped: the contact was in flow "survey" (${runs[0]!.id})`);
  });

  it('answers "my coupons" in any width and case; other text without a flow gets nothing', async () => {
    expect((await say(svc.ctx, 'messenger', 'P-mine', '  My Coupons ')).outcome).toBe('my-coupons');
    expect((await say(svc.ctx, 'messenger', 'P-mine', '我的優惠券')).outcome).toBe('my-coupons');
    expect((await say(svc.ctx, 'messenger', 'P-mine', 'hello there')).outcome).toBe('no-match');
    const contact = await contactOf(svc.ctx, 'messenger', 'P-mine');
    // Each in the language its words were written in.
    expect(await textsOf(svc.ctx, 'messenger', 'P-mine')).toEqual([
      `Your coupons: http://coupons.test/me/${contact.meToken}`, `點選連結即可查看您的優惠券：\nhttp://coupons.test/me/${contact.meToken}`,
    ]);
  });

  it('hands off: the bot ignores the contact until an agent releases the conversation', async () => {
    const { chat } = await say(svc.ctx, 'line', 'U-agent', 'agent');
    expect(await textsOf(svc.ctx, 'line', 'U-agent')).toEqual(['An agent will answer.']);
    const conv = (await query(svc.ctx.db, sql`SELECT handoff_at AS "handoffAt" FROM conversations WHERE id = ${chat.conversation.id}`)).rows[0] as { handoffAt: Date | null };
    expect(conv.handoffAt).toBeInstanceOf(Date);
    expect((await say(svc.ctx, 'line', 'U-agent', 'vip')).outcome).toBe('handoff');
    expect((await say(svc.ctx, 'line', 'U-agent', 'my coupons')).outcome).toBe('handoff');
    expect(await textsOf(svc.ctx, 'line', 'U-agent')).toEqual(['An agent will answer.']);

    expect((await request(svc.url).post(`/api/v1/conversations/${chat.conversation.id}/release`)).status).toBe(401);
    expect((await request(svc.url).post(`/api/v1/conversations/${chat.conversation.id}/release`).set(svc.pos)).status).toBe(403);
    const missing = await request(svc.url).post('/api/v1/conversations/cnv_nope/release').set(svc.admin);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const released = await request(svc.url).post(`/api/v1/conversations/${chat.conversation.id}/release`).set(svc.admin);
    expect(released.status).toBe(200);
    expect(released.body).toEqual({ id: chat.conversation.id, released: true, handoff: false });
    const again = await request(svc.url).post(`/api/v1/conversations/${chat.conversation.id}/release`).set(svc.admin);
    expect(again.body.released).toBe(false);

    expect((await say(svc.ctx, 'line', 'U-agent', 'vip')).outcome).toBe('started');
    expect(await textsOf(svc.ctx, 'line', 'U-agent')).toEqual(['An agent will answer.', 'You are VIP']);
    const contact = await contactOf(svc.ctx, 'line', 'U-agent');
    expect((await runsOf(svc.ctx, contact.id)).map((r) => [r.startFlowId, r.status, r.endReason])).toEqual([
      ['agent', 'handoff', 'handed off to an agent'], ['vip', 'done', null],
    ]);
  });

  it('ends a goto cycle after the step budget with a failed run', async () => {
    await say(svc.ctx, 'line', 'U-loop', 'loop');
    const contact = await contactOf(svc.ctx, 'line', 'U-loop');
    const [run] = await runsOf(svc.ctx, contact.id);
    expect(run!.status).toBe('failed');
    expect(run!.endReason).toBe(`stopped after ${MAX_STEPS_PER_DISPATCH} steps in one go (a goto cycle?)`);
    const steps = await query(svc.ctx.db, sql`SELECT outcome, count(*)::int AS n FROM flow_step_runs WHERE run_id = ${run!.id} GROUP BY outcome ORDER BY outcome`);
    expect(steps.rows).toEqual([{ outcome: 'completed', n: MAX_STEPS_PER_DISPATCH }, { outcome: 'failed', n: 1 }]);
  });

  it('counts entered and completed per step in GET /api/v1/flows', async () => {
    expect((await request(svc.url).get('/api/v1/flows')).status).toBe(401);
    const res = await request(svc.url).get('/api/v1/flows').set(svc.admin);
    const survey = res.body.flows.find((f: { id: string }) => f.id === 'survey');
    // U-ask twice (one gave up, one answered), U-int once (interrupted while waiting).
    expect(survey).toEqual({
      id: 'survey', name: null, file: 'survey.yaml', trigger: { keyword: ['survey'] }, loaded: true,
      steps: [
        { path: '0', type: 'ask', entered: 3, completed: 2, waiting: 0, detail: { text: 'Your email?', expect: 'email', save: 'email', retries: 1 } },
        { path: '0.else.0', type: 'say', entered: 1, completed: 1, waiting: 0, detail: { text: 'Giving up, {{contact.displayName}}.' } },
        { path: '1', type: 'if', entered: 2, completed: 2, waiting: 0, detail: { condition: 'email != null' } },
        { path: '1.then.0', type: 'say', entered: 1, completed: 1, waiting: 0, detail: { text: 'Thanks {{email}}' } },
      ],
    });
  });
});

describe('loading', () => {
  it('keeps the last good version of a file that turns bad, and reports the error', async () => {
    fs.writeFileSync(path.join(dir, 'vip.yaml'), 'id: vip\ntrigger: { keyword: vip }\nsteps:\n  - sey: "typo"\n');
    fs.writeFileSync(path.join(dir, 'new.yml'), 'id: fresh\ntrigger: { keyword: fresh }\nsteps:\n  - coupon: no-such-campaign\n');
    await registryOf(svc.ctx).reload();
    const res = await request(svc.url).get('/api/v1/flows').set(svc.admin);
    expect(res.body.errors).toEqual([
      'new.yml:4:13: campaign "no-such-campaign" does not exist (create it first: POST /api/v1/campaigns with "slug": "no-such-campaign")',
      'vip.yaml:4:5: unknown step "sey": expected one of say, coupon, ask, if, wait, tag, untag, handoff, goto',
    ]);
    // The same, one object each: the console words a missing campaign as what to do.
    expect(res.body.problems).toEqual([
      { file: 'new.yml', line: 4, col: 13, message: 'campaign "no-such-campaign" does not exist (create it first: POST /api/v1/campaigns with "slug": "no-such-campaign")', missingCampaign: 'no-such-campaign' },
      { file: 'vip.yaml', line: 4, col: 5, message: 'unknown step "sey": expected one of say, coupon, ask, if, wait, tag, untag, handoff, goto' },
    ]);
    const byId = Object.fromEntries(res.body.flows.map((f: { id: string }) => [f.id, f]));
    expect(byId.vip).toMatchObject({ loaded: true, error: 'vip.yaml:4:5: unknown step "sey": expected one of say, coupon, ask, if, wait, tag, untag, handoff, goto' });
    expect(byId.fresh).toEqual({ id: 'fresh', name: null, file: 'new.yml', trigger: null, loaded: false, error: res.body.errors[0], steps: [] });
    // The old vip flow still runs.
    await say(svc.ctx, 'line', 'U-lastgood', 'vip');
    expect(await textsOf(svc.ctx, 'line', 'U-lastgood')).toEqual(['You are VIP']);
  });

  it('ends a run whose waiting step changed under it, and treats the message as new', async () => {
    await say(svc.ctx, 'line', 'U-stale', 'survey');
    fs.writeFileSync(path.join(dir, 'survey.yaml'), 'id: survey\ntrigger: { keyword: survey }\nsteps:\n  - say: "Survey closed"\n');
    await registryOf(svc.ctx).reload();
    expect((await say(svc.ctx, 'line', 'U-stale', 'my coupons')).outcome).toBe('my-coupons');
    const contact = await contactOf(svc.ctx, 'line', 'U-stale');
    const runs = await runsOf(svc.ctx, contact.id);
    expect(runs.map((r) => [r.status, r.endReason])).toEqual([['failed', 'flow "survey" changed while the run waited at step 0']]);
    expect(await textsOf(svc.ctx, 'line', 'U-stale')).toEqual(['Your email?', `Your coupons: http://coupons.test/me/${contact.meToken}`]);
  });

  it('reloads a changed file by itself (fs.watch)', async () => {
    fs.writeFileSync(path.join(dir, 'vip.yaml'), 'id: vip\ntrigger: { keyword: vip }\nsteps:\n  - say: "VIP v2"\n');
    await eventually(() => registryOf(svc.ctx).get('vip')?.steps[0]?.type === 'say' && registryOf(svc.ctx).get('vip')!.steps.length === 1, 5000, 'the watcher to reload vip.yaml');
    await say(svc.ctx, 'line', 'U-watch', 'vip');
    expect(await textsOf(svc.ctx, 'line', 'U-watch')).toEqual(['VIP v2']);
    fs.rmSync(path.join(dir, 'new.yml'));
    const res = await request(svc.url).post('/api/v1/flows/reload').set(svc.admin);
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([]);
  });

  it('passes over a directory named like a flow file instead of failing the reload', async () => {
    fs.mkdirSync(path.join(dir, 'archive.yaml'));
    try {
      const res = await request(svc.url).post('/api/v1/flows/reload').set(svc.admin);
      expect(res.status).toBe(200);
      expect(res.body.errors).toEqual([]);
      expect(res.body.flows.map((f: { file: string }) => f.file)).not.toContain('archive.yaml');
      expect(registryOf(svc.ctx).get('vip')).toBeDefined();
    } finally {
      fs.rmdirSync(path.join(dir, 'archive.yaml'));
    }
  });
});
