import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { ChannelEvent, Delivery } from '../../adapters/types.ts';
import { ensureContact, ensureConversation } from '../../src/contacts/contacts.ts';
import type { InboundItem } from '../../src/contacts/inbound-hooks.ts';
import { issueCoupons, type IssueRequest } from '../../src/coupons/issue.ts';
import { query } from '../../src/db/client.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { dispatchEvents, type DispatchOutcome } from '../../src/flows/dispatch.ts';
import { FlowWrites } from '../../src/flows/writes.ts';
import { contactOf, dispatch, flowCampaign, flowsDir, registryOf, runsOf, say, textsOf } from './flow-support.ts';
import { startTestService, type TestService } from '../support/service.ts';

/**
 * A batch of events of many contacts, as the inbound worker hands them over: the contacts' flows
 * run side by side in one transaction, issue their coupons together and write together. Every
 * contact must end as if its events had been dispatched one by one.
 */
const files: Record<string, string> = {
  'join.yaml': `
id: join
trigger: { follow: true }
steps:
  - say: "Welcome!"
  - coupon: join-gift
    else:
      - say: "No gift this time."
  - tag: [joined, fan]
  - ask: "Your favourite colour?"
    expect: text
    save: colour
  - if: 'colour == "red" and "joined" in tags'
    then:
      - untag: fan
      - tag: red
      - say: "Red it is."
    else:
      - say: "Noted."
`,
  'gift.yaml': `
id: gift
trigger: { keyword: gift }
steps:
  - say: "Here is your gift."
  - coupon: join-gift
`,
};

let svc: TestService;
let dir: string;
const now = new Date('2026-04-01T08:00:00Z');
beforeAll(async () => {
  dir = flowsDir(files);
  // LINE on (its reply holds five messages); deliveries go through the tests' own functions.
  svc = await startTestService({
    env: { FLOWS_DIR: dir, LINE_CHANNEL_SECRET: 'secret', LINE_CHANNEL_ACCESS_TOKEN: 'token', LINE_API_BASE_URL: 'http://127.0.0.1:9' },
    clock: () => now,
  });
  await flowCampaign(svc.ctx, 'join-gift', { perContactLimit: 1 });
  await svc.ctx.flows!.reload();
  expect(registryOf(svc.ctx).listing().errors).toEqual([]);
});
afterAll(async () => {
  await svc?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
function event(userId: string, e: Partial<ChannelEvent> & { type: ChannelEvent['type'] }): ChannelEvent {
  seq += 1;
  return { channel: 'line', userId, conversationId: userId, eventId: `batch-${seq}`, timestamp: now.toISOString(), ...e } as ChannelEvent;
}

/** One transaction, as the inbound worker runs one: the contacts' rows read (and locked), then the batch. */
async function dispatchBatch(events: ChannelEvent[]): Promise<DispatchOutcome[]> {
  return await svc.ctx.db.transaction(async (tx) => {
    const items: InboundItem[] = [];
    for (const e of events) {
      const contact = await ensureContact(tx, 'line', e.userId, { at: now });
      const conversation = await ensureConversation(tx, contact, e.userId, { inboundAt: now });
      items.push({ event: e, contact, conversation });
    }
    return await dispatchEvents(svc.ctx, tx, items);
  });
}

describe('a batch of events of many contacts', () => {
  it('runs each contact\'s flow as alone: its messages in order, one coupon each, its tags and its run', async () => {
    // b-held already holds the coupon: the batch's claim refuses it alone.
    await dispatch(svc.ctx, 'line', 'b-held', { type: 'follow' });
    await say(svc.ctx, 'line', 'b-held', 'blue');
    const users = ['b-1', 'b-2', 'b-3', 'b-4', 'b-held'];
    const outcomes = await dispatchBatch(users.map((u) => event(u, { type: 'follow' })));
    expect(outcomes).toEqual(['started', 'started', 'started', 'started', 'started']);

    for (const u of ['b-1', 'b-2', 'b-3', 'b-4']) {
      expect(await textsOf(svc.ctx, 'line', u)).toEqual(['Welcome!', '[coupon Campaign join-gift]', 'Your favourite colour?']);
      const contact = await contactOf(svc.ctx, 'line', u);
      expect(contact.tags).toEqual(['joined', 'fan']);
      expect((await runsOf(svc.ctx, contact.id)).map((r) => [r.flowId, r.status, r.waitingFor])).toEqual([['join', 'waiting', 'answer']]);
    }
    const held = await textsOf(svc.ctx, 'line', 'b-held');
    expect(held.slice(-3)).toEqual(['Welcome!', 'No gift this time.', 'Your favourite colour?']);
    const coupons = await query(svc.ctx.db, sql`SELECT ct.platform_user_id AS "user", count(*)::int AS n FROM coupons c
      JOIN contacts ct ON ct.id = c.contact_id WHERE ct.platform_user_id = ANY(${sql.param(users)}::text[]) GROUP BY 1 ORDER BY 1`);
    expect(coupons.rows).toEqual(['b-1', 'b-2', 'b-3', 'b-4', 'b-held'].map((user) => ({ user, n: 1 })));
    // Every step of every run is recorded once.
    const steps = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM flow_step_runs s JOIN contacts ct ON ct.id = s.contact_id
      WHERE ct.platform_user_id = ANY(${sql.param(['b-1', 'b-2', 'b-3', 'b-4'])}::text[])`);
    expect((steps.rows[0] as { n: number }).n).toBe(4 * 4);
  });

  it('gives a contact named twice its second event after the first one\'s run and tags are in', async () => {
    const outcomes = await dispatchBatch([
      event('t-1', { type: 'follow' }),
      event('t-2', { type: 'follow' }),
      event('t-1', { type: 'message', kind: 'text', text: 'red' }),
      event('t-2', { type: 'message', kind: 'text', text: 'green' }),
    ]);
    expect(outcomes).toEqual(['started', 'started', 'answered', 'answered']);
    expect(await textsOf(svc.ctx, 'line', 't-1')).toEqual(['Welcome!', '[coupon Campaign join-gift]', 'Your favourite colour?', 'Red it is.']);
    expect(await textsOf(svc.ctx, 'line', 't-2')).toEqual(['Welcome!', '[coupon Campaign join-gift]', 'Your favourite colour?', 'Noted.']);
    const red = await contactOf(svc.ctx, 'line', 't-1');
    expect(red.tags).toEqual(['joined', 'red']);
    expect(red.attributes).toEqual({ colour: 'red' });
    expect((await contactOf(svc.ctx, 'line', 't-2')).tags).toEqual(['joined', 'fan']);
    expect((await runsOf(svc.ctx, red.id)).map((r) => r.status)).toEqual(['done']);
  });

  it('gives the first message of each contact its own reply token', async () => {
    await dispatchBatch([
      event('r-1', { type: 'follow', replyToken: 'reply-r-1' }),
      event('r-2', { type: 'follow', replyToken: 'reply-r-2' }),
    ]);
    for (const u of ['r-1', 'r-2']) {
      const r = await query(svc.ctx.db, sql`SELECT o.reply_token AS "replyToken" FROM outbox o JOIN contacts c ON c.id = o.contact_id
        WHERE c.platform_user_id = ${u} ORDER BY o.seq`);
      expect((r.rows as Array<{ replyToken: string | null }>).map((x) => x.replyToken)).toEqual([`reply-${u}`, null, null]);
    }
  });

  it('writes each contact\'s messages together, so a card rides in its text\'s reply whatever the delivery batch', async () => {
    const sent: Delivery[] = [];
    const deliverAll = async () => {
      while (await deliverDue(svc.ctx, async (d) => {
        sent.push(d);
        return { outcome: 'sent' };
      }, 50, 'line') > 0);
    };
    // What earlier tests queued goes first, so the claims below start at this batch's rows.
    await deliverAll();
    sent.length = 0;
    // 30 contacts × (text, card): more rows than one delivery claim takes (50). Written in the
    // order sessions side by side send them (every text, then every card), the first claim would
    // hold 30 texts and 20 cards, and 10 cards would go alone as pushes.
    const users = Array.from({ length: 30 }, (_, i) => `g-${i}`);
    await dispatchBatch(users.map((u) => event(u, { type: 'message', kind: 'text', text: 'gift', replyToken: `reply-${u}` })));
    const seqs = await query(svc.ctx.db, sql`SELECT c.platform_user_id AS "user", min(o.seq)::int AS first, max(o.seq)::int AS last, count(*)::int AS n
      FROM outbox o JOIN contacts c ON c.id = o.contact_id WHERE c.platform_user_id = ANY(${sql.param(users)}::text[]) GROUP BY 1`);
    for (const r of seqs.rows as Array<{ first: number; last: number; n: number }>) expect([r.n, r.last - r.first + 1]).toEqual([2, 2]);

    await deliverAll();
    const mine = sent.filter((d) => users.includes(d.to.userId));
    expect(mine).toHaveLength(30);
    for (const d of mine) {
      expect(d.replyToken).toBe(`reply-${d.to.userId}`);
      expect([d.message.type, ...(d.more ?? []).map((m) => m.type)]).toEqual(['text', 'coupon']);
    }
  });
});

describe('issueCoupons', () => {
  it('judges each request as if made alone, in order: a contact asking twice, an unknown campaign, a full limit', async () => {
    const twice = await flowCampaign(svc.ctx, 'twice', { perContactLimit: 2 });
    const once = await flowCampaign(svc.ctx, 'once', { perContactLimit: 1 });
    const results = await svc.ctx.db.transaction(async (tx) => {
      const chat = async (u: string) => {
        const contact = await ensureContact(tx, 'line', u, { at: now });
        return { contact, conversation: await ensureConversation(tx, contact, u, { inboundAt: now }) };
      };
      const a = await chat('i-a');
      const b = await chat('i-b');
      const req = (c: typeof a, campaign: IssueRequest['campaign']): IssueRequest => ({ ...c, campaign, source: 'api' });
      return await issueCoupons(svc.ctx, tx, [
        req(a, { id: twice.id }), req(a, { id: twice.id }), req(a, { id: twice.id }),
        req(b, { slug: 'no-such-campaign' }),
        req(a, { id: once.id }), req(b, { id: once.id }), req(b, { id: once.id }),
      ]);
    });
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'ok', 'limit_reached', 'not_found', 'ok', 'ok', 'limit_reached']);
    const ids = results.flatMap((r) => (r.ok ? [r.coupon.id] : []));
    expect(new Set(ids).size).toBe(4);
    const cards = await query(svc.ctx.db, sql`SELECT coupon_id AS "couponId" FROM outbox WHERE coupon_id = ANY(${sql.param(ids)}::text[])`);
    expect(cards.rows).toHaveLength(4);
  });
});

describe('the writes a batch holds', () => {
  it('fail the transaction when a contact\'s tags changed since they were read, and nothing of it stays', async () => {
    await dispatch(svc.ctx, 'line', 'w-1', { type: 'unfollow' });
    const before = await contactOf(svc.ctx, 'line', 'w-1');
    const attempt = svc.ctx.db.transaction(async (tx) => {
      const contact = await ensureContact(tx, 'line', 'w-1', { at: now });
      const writes = new FlowWrites();
      writes.view(contact);
      // Someone else's change, as if the contact had been read without its lock.
      await query(tx, sql`UPDATE contacts SET tags = ARRAY['edited'] WHERE id = ${contact.id}`);
      writes.setTags(contact.id, ['mine']);
      writes.send({ id: 'msg_held_1', channel: 'line', contactId: contact.id, message: { type: 'text', text: 'held' } });
      await writes.write(svc.ctx, tx);
    });
    await expect(attempt).rejects.toThrow(/tags of 1 contact\(s\) changed outside their lock/);
    expect((await contactOf(svc.ctx, 'line', 'w-1')).tags).toEqual(before.tags);
    expect((await query(svc.ctx.db, sql`SELECT 1 FROM outbox WHERE id = 'msg_held_1'`)).rows).toHaveLength(0);
  });
});
