import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { signHubBody } from '../../adapters/messenger/index.ts';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import {
  followEvent, newLineUserId, postLineWebhook, textEvent, unfollowEvent, type LineWebhookEvent,
} from '../../scripts/support/line-webhook.ts';
import { ensureContacts, ensureConversations } from '../../src/contacts/contacts.ts';
import { INBOUND_MAX_ATTEMPTS, processInboundDue, type InboundRound } from '../../src/contacts/inbound-worker.ts';
import { deliverDue } from '../../src/delivery/delivery-worker.ts';
import { loadSerials, makeCampaign } from '../support/campaigns.ts';
import { validateLineRequest } from '../support/line-schema.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

const LINE_SECRET = 'line-channel-secret-for-tests';
const INBOX_SECRET = 'inbox-secret-for-tests';
const APP_SECRET = 'messenger-app-secret-for-tests';
const PAGE_TOKEN = 'messenger-page-token';

let standin: LineStandin;
let svc: TestService;
let flowsDir: string;
/** A stand-in for the Graph API's user profile endpoint: answers a name, records what was asked. */
let graph: http.Server;
const graphRequests: Array<{ path: string; fields: string | null; token: string | null }> = [];

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'line-token', displayName: (id) => `Ada ${id.slice(1, 5)}`, language: () => 'zh-Hant' });
  graph = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://graph.local');
    graphRequests.push({ path: url.pathname, fields: url.searchParams.get('fields'), token: url.searchParams.get('access_token') });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ first_name: 'Peter', last_name: 'Chang', id: url.pathname.split('/').pop() }));
  });
  await new Promise<void>((resolve) => graph.listen(0, '127.0.0.1', resolve));
  flowsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcoupon-flows-'));
  // A flow that would answer: proves a standby event is left unanswered because it is standby.
  fs.writeFileSync(path.join(flowsDir, 'probe.yaml'), 'id: probe\ntrigger: { keyword: [standby-probe] }\nsteps:\n  - say: "answered"\n');
  // A contact's later event must see what its earlier one did (a tag), even in one batch.
  fs.writeFileSync(path.join(flowsDir, 'join.yaml'), 'id: join\ntrigger: { keyword: [join-probe] }\nsteps:\n  - tag: member\n  - say: "joined"\n');
  fs.writeFileSync(path.join(flowsDir, 'status.yaml'), `id: status\ntrigger: { keyword: [status-probe] }\nsteps:
  - if: "'member' in tags"
    then:
      - say: "member"
    else:
      - say: "guest"
`);
  svc = await startTestService({
    env: {
      LINE_CHANNEL_SECRET: LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url,
      INBOX_WEBHOOK_SECRET: INBOX_SECRET, INBOX_CALLBACK_URL: `${standin.url}/inbox`,
      MESSENGER_APP_SECRET: APP_SECRET, MESSENGER_PAGE_ACCESS_TOKEN: PAGE_TOKEN, MESSENGER_VERIFY_TOKEN: 'verify',
      GRAPH_API_BASE_URL: `http://127.0.0.1:${(graph.address() as AddressInfo).port}/v21.0`,
      FLOWS_DIR: flowsDir,
    },
  });
});

afterAll(async () => {
  await svc?.stop();
  await standin?.close();
  if (graph) await new Promise<void>((resolve) => graph.close(() => resolve()));
  fs.rmSync(flowsDir, { recursive: true, force: true });
});

/** Runs the inbound worker's rounds until nothing is due. */
async function processAll(): Promise<InboundRound> {
  const total: InboundRound = { fetched: 0, done: 0, failed: 0 };
  for (;;) {
    const round = await processInboundDue(svc.ctx);
    total.fetched += round.fetched;
    total.done += round.done;
    total.failed += round.failed;
    if (round.done === 0) return total;
  }
}

async function send(events: LineWebhookEvent[]): Promise<void> {
  const res = await postLineWebhook(svc.url, LINE_SECRET, events);
  expect(res.status).toBe(200);
}

interface ContactState {
  id: string;
  display_name: string | null;
  language: string | null;
  profile_fetched_at: Date | null;
  unreachable_at: Date | null;
  last_seen_at: Date;
  last_inbound_at: Date | null;
  conversations: number;
}

async function contactState(userId: string, channel = 'line'): Promise<ContactState | undefined> {
  const r = await query(svc.ctx.db, sql`
    SELECT ct.id, ct.display_name, ct.language, ct.profile_fetched_at, ct.unreachable_at, ct.last_seen_at,
      max(cv.last_inbound_at) AS last_inbound_at, count(cv.id)::int AS conversations
    FROM contacts ct LEFT JOIN conversations cv ON cv.contact_id = ct.id
    WHERE ct.channel = ${channel} AND ct.platform_user_id = ${userId}
    GROUP BY ct.id`);
  const row = r.rows[0] as (Omit<ContactState, 'last_inbound_at'> & { last_inbound_at: string | Date | null }) | undefined;
  if (!row) return undefined;
  // max() over timestamptz comes back through the driver as a Date or a string, depending on the parser.
  return { ...row, last_inbound_at: row.last_inbound_at === null ? null : new Date(row.last_inbound_at) };
}

describe('the inbound worker', () => {
  it('creates the contact and conversation, fetches the profile (name and language) once, and records the last inbound time', async () => {
    const user = newLineUserId();
    const followAt = Date.now() - 120_000;
    const textAt = Date.now() - 60_000;
    await send([followEvent(user, { timestamp: followAt })]);
    expect(await contactState(user)).toBeUndefined();
    expect((await processAll()).done).toBe(1);

    const afterFollow = (await contactState(user))!;
    expect(afterFollow.display_name).toBe(`Ada ${user.slice(1, 5)}`);
    // The profile's language is kept on the contact, as LINE gives it.
    expect(afterFollow.language).toBe('zh-Hant');
    expect(afterFollow.profile_fetched_at).toBeInstanceOf(Date);
    expect(afterFollow.conversations).toBe(1);
    expect(afterFollow.last_inbound_at?.getTime()).toBe(followAt);
    expect(afterFollow.unreachable_at).toBeNull();

    await send([textEvent(user, 'hello', { timestamp: textAt })]);
    await processAll();
    const afterText = (await contactState(user))!;
    expect(afterText.id).toBe(afterFollow.id);
    expect(afterText.conversations).toBe(1);
    expect(afterText.last_inbound_at?.getTime()).toBe(textAt);
    expect(afterText.last_seen_at.getTime()).toBe(textAt);
    expect(standin.profileRequests.filter((u) => u === user)).toHaveLength(1);
  });

  it('never moves the last inbound time back for an old (redelivered) message', async () => {
    const user = newLineUserId();
    const now = Date.now();
    await send([textEvent(user, 'new', { timestamp: now - 1000 })]);
    await processAll();
    await send([textEvent(user, 'old', { timestamp: now - 3_600_000, redelivery: true })]);
    await processAll();
    expect((await contactState(user))!.last_inbound_at?.getTime()).toBe(now - 1000);
  });

  it('marks an unfollowed contact unreachable: new sends are refused and queued deliveries fail as unreachable', async () => {
    const campaign = await makeCampaign(svc.ctx);
    await loadSerials(svc.ctx, campaign.id, ['S-1', 'S-2', 'S-3']);
    const user = newLineUserId();
    await send([followEvent(user)]);
    await processAll();
    // Issued while the contact still follows; the unfollow arrives before the delivery worker runs.
    const issued = await fetch(`${svc.url}/api/v1/campaigns/${campaign.id}/coupons`, {
      method: 'POST', headers: { ...svc.admin, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'line', userId: user }),
    });
    expect(issued.status).toBe(201);
    const couponId = ((await issued.json()) as { coupon: { id: string } }).coupon.id;

    const lastInbound = (await contactState(user))!.last_inbound_at;
    await send([unfollowEvent(user)]);
    expect((await processAll()).done).toBe(1);
    const state = (await contactState(user))!;
    expect(state.unreachable_at).toBeInstanceOf(Date);
    expect(state.last_inbound_at).toEqual(lastInbound);

    const pushesBefore = standin.requests.length;
    while ((await deliverDue(svc.ctx)) > 0) { /* drain */ }
    expect(standin.requests.length).toBe(pushesBefore);
    const records = await fetch(`${svc.url}/api/v1/campaigns/${campaign.id}/records`, { headers: svc.admin });
    const record = ((await records.json()) as { records: Array<{ couponId: string; status: string; deliveryStatus: string; deliveryError: string }> })
      .records.find((r) => r.couponId === couponId)!;
    expect(record).toMatchObject({ status: 'void', deliveryStatus: 'failed' });
    expect(record.deliveryError).toMatch(/unfollowed|blocked/);

    const refused = await fetch(`${svc.url}/api/v1/campaigns/${campaign.id}/coupons`, {
      method: 'POST', headers: { ...svc.admin, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'line', userId: user }),
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('contact_unreachable');

    // Following again (unblocking) makes the contact reachable: a coupon is issued and pushed.
    await send([followEvent(user, { unblocked: true })]);
    await processAll();
    expect((await contactState(user))!.unreachable_at).toBeNull();
    const reissued = await fetch(`${svc.url}/api/v1/campaigns/${campaign.id}/coupons`, {
      method: 'POST', headers: { ...svc.admin, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'line', userId: user }),
    });
    expect(reissued.status).toBe(201);
    while ((await deliverDue(svc.ctx)) > 0) { /* drain */ }
    const pushes = standin.delivered.filter((r) => r.kind === 'push' && (r.body as { to?: string }).to === user);
    expect(pushes).toHaveLength(1);
    // The card built from a real campaign is a body LINE's own schema accepts.
    expect(validateLineRequest('PushMessageRequest', pushes[0]!.body).errors).toEqual([]);
  });

  it('records a standby event without answering it (the same text in active mode is answered)', async () => {
    const user = newLineUserId();
    const outboxCount = async () => {
      const out = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM outbox o JOIN contacts c ON c.id = o.contact_id WHERE c.platform_user_id = ${user}`);
      return (out.rows[0] as { n: number }).n;
    };
    const standbyEvent = textEvent(user, 'standby-probe', { mode: 'standby', replyToken: null });
    await send([standbyEvent]);
    await processAll();
    const r = await query(svc.ctx.db, sql`SELECT processed_at, event FROM inbound_events WHERE event_key = ${standbyEvent.webhookEventId}`);
    const stored = r.rows[0] as { processed_at: Date | null; event: { standby?: boolean; text?: string } };
    expect(stored.processed_at).toBeInstanceOf(Date);
    expect(stored.event).toMatchObject({ standby: true, text: 'standby-probe' });
    expect(await contactState(user)).toBeDefined();
    expect(await outboxCount()).toBe(0);

    const active = textEvent(user, 'standby-probe');
    await send([active]);
    await processAll();
    expect(await outboxCount()).toBe(1);
    while ((await deliverDue(svc.ctx)) > 0) { /* drain */ }
    const answer = standin.delivered.find((r) => r.kind === 'reply' && (r.body as { replyToken?: string }).replyToken === active.replyToken);
    expect(answer).toBeDefined();
    expect(validateLineRequest('ReplyMessageRequest', answer!.body).errors).toEqual([]);
  });

  it('fetches a Messenger contact\'s name from the Graph profile API once', async () => {
    const psid = `69${Date.now()}`;
    const post = async (mid: string) => {
      const body = JSON.stringify({ object: 'page', entry: [{ id: 'PAGE1', time: Date.now(), messaging: [
        { sender: { id: psid }, recipient: { id: 'PAGE1' }, timestamp: Date.now() - 1000, message: { mid, text: 'hi' } },
      ] }] });
      const res = await fetch(`${svc.url}/webhooks/messenger`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signHubBody(APP_SECRET, body) }, body,
      });
      expect(res.status).toBe(200);
    };
    await post(`m_${crypto.randomUUID()}`);
    await processAll();
    const state = (await contactState(psid, 'messenger'))!;
    expect(state.display_name).toBe('Peter Chang');
    expect(state.profile_fetched_at).toBeInstanceOf(Date);
    await post(`m_${crypto.randomUUID()}`);
    await processAll();
    const asked = graphRequests.filter((r) => r.path === `/v21.0/${psid}`);
    expect(asked).toEqual([{ path: `/v21.0/${psid}`, fields: 'first_name,last_name,name', token: PAGE_TOKEN }]);
  });

  it('takes the display name from an inbox event and fetches no profile', async () => {
    const body = JSON.stringify({
      id: `evt-${crypto.randomUUID()}`, type: 'message.created', conversation: { id: 'inbox-conv-9' }, contact: { id: 'buyer-9', name: 'Mei' },
      message: { id: 'msg-9', text: 'Any coupons?' }, createdAt: new Date(Date.now() - 5000).toISOString(),
    });
    const res = await fetch(`${svc.url}/webhooks/inbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-inbox-signature': `sha256=${crypto.createHmac('sha256', INBOX_SECRET).update(body).digest('hex')}` },
      body,
    });
    expect(res.status).toBe(200);
    await processAll();
    const state = (await contactState('buyer-9', 'inbox'))!;
    expect(state.display_name).toBe('Mei');
    expect(state.profile_fetched_at).toBeNull();
    const cv = await query(svc.ctx.db, sql`SELECT external_id FROM conversations WHERE contact_id = ${state.id}`);
    expect(cv.rows).toEqual([{ external_id: 'inbox-conv-9' }]);
  });

  it('processes many contacts\' events in one round, each contact in order and seeing what its earlier events did', async () => {
    const users = Array.from({ length: 40 }, () => newLineUserId());
    const events = users.flatMap((u, i) => [followEvent(u), textEvent(u, i % 2 === 0 ? 'join-probe' : 'hello there'), textEvent(u, 'status-probe')]);
    // Every webhook stored before the worker runs: one round sees them all.
    await Promise.all(users.map((_u, i) => send(events.slice(i * 3, i * 3 + 3))));
    const round = await processAll();
    expect(round).toMatchObject({ done: events.length, failed: 0 });

    const keys = events.map((e) => e.webhookEventId);
    const stored = await query(svc.ctx.db, sql`SELECT event_key, attempts, outcome, processed_at FROM inbound_events
      WHERE event_key IN (SELECT unnest(${sql.param(keys)}::text[]))`);
    const byKey = new Map((stored.rows as Array<{ event_key: string; attempts: number; outcome: string | null; processed_at: Date | null }>).map((r) => [r.event_key, r]));
    for (const [i, u] of users.entries()) {
      const [follow, first, status] = [events[i * 3]!, events[i * 3 + 1]!, events[i * 3 + 2]!].map((e) => byKey.get(e.webhookEventId)!);
      expect([follow.attempts, first.attempts, status.attempts]).toEqual([1, 1, 1]);
      expect(first.outcome).toBe(i % 2 === 0 ? 'started' : 'no-match');
      expect(status.outcome).toBe('started');
      // In order per contact.
      expect(first.processed_at!.getTime()).toBeGreaterThanOrEqual(follow.processed_at!.getTime());
      expect(status.processed_at!.getTime()).toBeGreaterThanOrEqual(first.processed_at!.getTime());
      const c = await query(svc.ctx.db, sql`SELECT ct.tags, ct.display_name,
          array(SELECT o.message->>'text' FROM outbox o WHERE o.contact_id = ct.id AND o.message->>'type' = 'text' ORDER BY o.seq) AS texts
        FROM contacts ct WHERE ct.channel = 'line' AND ct.platform_user_id = ${u}`);
      const row = c.rows[0] as { tags: string[]; display_name: string | null; texts: string[] };
      expect(row.display_name).toBe(`Ada ${u.slice(1, 5)}`);
      if (i % 2 === 0) {
        expect(row.tags).toContain('member');
        expect(row.texts.filter((t) => t === 'joined' || t === 'member' || t === 'guest')).toEqual(['joined', 'member']);
      } else {
        expect(row.tags).not.toContain('member');
        expect(row.texts.filter((t) => t === 'joined' || t === 'member' || t === 'guest')).toEqual(['guest']);
      }
    }
  });

  it('writes a conversation two contacts of one batch share (a group chat) once, with the latest inbound time', async () => {
    const [a, b] = await svc.ctx.db.transaction(async (tx) => await ensureContacts(tx, [
      { channel: 'inbox', platformUserId: `u-${crypto.randomUUID()}`, at: new Date() },
      { channel: 'inbox', platformUserId: `u-${crypto.randomUUID()}`, at: new Date() },
    ]));
    const groupId = `group-${crypto.randomUUID()}`;
    const early = new Date('2026-01-01T00:00:00Z');
    const late = new Date('2026-01-02T00:00:00Z');
    const rows = await svc.ctx.db.transaction(async (tx) => await ensureConversations(tx, [
      { contact: a!, externalId: groupId, inboundAt: late },
      { contact: b!, externalId: groupId, inboundAt: early },
    ]));
    expect(rows[0]!.id).toBe(rows[1]!.id);
    expect(rows[0]!.lastInboundAt).toEqual(late);
    const n = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM conversations WHERE channel = 'inbox' AND external_id = ${groupId}`);
    expect(n.rows[0]).toEqual({ n: 1 });
  });

  it('retries a failing event with backoff, holds that contact\'s later events back, and lets other contacts through', async () => {
    const stuck = newLineUserId();
    const other = newLineUserId();
    const later = textEvent(stuck, 'second');
    // A stored event the worker cannot process (a conversation id the table refuses).
    const broken = await query(svc.ctx.db, sql`
      INSERT INTO inbound_events (channel, event_key, event) VALUES ('line', ${`broken-${crypto.randomUUID()}`},
        ${JSON.stringify({ channel: 'line', eventId: 'x', userId: stuck, conversationId: null, type: 'message', kind: 'text', text: 'first', timestamp: new Date().toISOString() })}::jsonb)
      RETURNING id`);
    const brokenId = (broken.rows[0] as { id: number }).id;
    await send([later, textEvent(other, 'unrelated')]);

    const round = await processAll();
    expect(round.failed).toBe(1);
    const failed = await query(svc.ctx.db, sql`SELECT attempts, last_error, processed_at, next_attempt_at > now() AS waiting FROM inbound_events WHERE id = ${brokenId}`);
    expect(failed.rows[0]).toMatchObject({ attempts: 1, processed_at: null, waiting: true });
    expect((failed.rows[0] as { last_error: string }).last_error).toMatch(/null|conversation/i);
    expect(await contactState(other)).toBeDefined();
    const held = await query(svc.ctx.db, sql`SELECT processed_at FROM inbound_events WHERE event_key = ${later.webhookEventId}`);
    expect((held.rows[0] as { processed_at: Date | null }).processed_at).toBeNull();

    // Not due yet: another round leaves both alone.
    expect((await processAll()).done).toBe(0);

    // The cause goes away and the backoff runs out: the first event, then the second, in order.
    await query(svc.ctx.db, sql`UPDATE inbound_events SET event = jsonb_set(event, '{conversationId}', to_jsonb(${stuck}::text)),
      next_attempt_at = now() WHERE id = ${brokenId}`);
    expect((await processAll()).done).toBe(2);
    const order = await query(svc.ctx.db, sql`SELECT id, processed_at, attempts, last_error FROM inbound_events
      WHERE id = ${brokenId} OR event_key = ${later.webhookEventId} ORDER BY id`);
    const [first, second] = order.rows as Array<{ processed_at: Date; attempts: number; last_error: string | null }>;
    expect(first).toMatchObject({ attempts: 2, last_error: null });
    expect(second!.processed_at.getTime()).toBeGreaterThanOrEqual(first!.processed_at.getTime());
  });

  it('sets an event aside after the last attempt, so it cannot block its contact forever', async () => {
    const user = newLineUserId();
    const broken = await query(svc.ctx.db, sql`
      INSERT INTO inbound_events (channel, event_key, event, attempts) VALUES ('line', ${`broken-${crypto.randomUUID()}`},
        ${JSON.stringify({ channel: 'line', eventId: 'y', userId: user, conversationId: null, type: 'message', kind: 'text', timestamp: new Date().toISOString() })}::jsonb,
        ${INBOUND_MAX_ATTEMPTS - 1})
      RETURNING id`);
    const brokenId = (broken.rows[0] as { id: number }).id;
    const next = textEvent(user, 'after');
    await send([next]);
    await processAll();
    const r = await query(svc.ctx.db, sql`SELECT attempts, last_error, processed_at FROM inbound_events WHERE id = ${brokenId}`);
    expect(r.rows[0]).toMatchObject({ attempts: INBOUND_MAX_ATTEMPTS, processed_at: expect.any(Date), last_error: expect.any(String) });
    const n = await query(svc.ctx.db, sql`SELECT processed_at FROM inbound_events WHERE event_key = ${next.webhookEventId}`);
    expect((n.rows[0] as { processed_at: Date | null }).processed_at).toBeInstanceOf(Date);
  });

  it('wakes on stored webhooks when the worker runs, processing each event once', async () => {
    await svc.inbound.start();
    try {
      const users = Array.from({ length: 5 }, () => newLineUserId());
      const events = users.flatMap((u) => [followEvent(u), textEvent(u, 'a'), textEvent(u, 'b')]);
      await Promise.all(users.map((u, i) => send(events.slice(i * 3, i * 3 + 3))));
      const keys = events.map((e) => e.webhookEventId);
      const deadline = Date.now() + 15_000;
      let open = keys.length;
      while (open > 0 && Date.now() < deadline) {
        const r = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM inbound_events
          WHERE event_key IN (SELECT unnest(${sql.param(keys)}::text[])) AND processed_at IS NULL`);
        open = (r.rows[0] as { n: number }).n;
        if (open > 0) await new Promise((resolve) => setImmediate(resolve));
      }
      expect(open).toBe(0);
      const attempts = await query(svc.ctx.db, sql`SELECT DISTINCT attempts FROM inbound_events WHERE event_key IN (SELECT unnest(${sql.param(keys)}::text[]))`);
      expect(attempts.rows).toEqual([{ attempts: 1 }]);
    } finally {
      await svc.inbound.stop();
    }
  });
});
