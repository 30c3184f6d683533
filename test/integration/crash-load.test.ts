/**
 * Exactly once across a crash under load: the service runs as a child process (`node src/main.ts`)
 * while many LINE users follow (a welcome flow issues each a coupon) and write, their webhooks
 * posted from many connections at once. It is killed with SIGKILL in the middle of that flood,
 * when the database shows events processed and a backlog still open, and LINE holds pushes it
 * accepted without answering. Started again on the same database, with the webhooks that got no
 * 200 delivered again (as LINE does) and the rest of the flood, it must finish everything: each
 * event processed once and in order per contact, each card delivered once, each coupon claimed once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import {
  followEvent, newLineUserId, postLineWebhook, textEvent, type LineWebhookEvent,
} from '../../scripts/support/line-webhook.ts';
import { query } from '../../src/db/client.ts';
import { campaignBody } from '../support/campaigns.ts';
import { crashHarness } from '../support/crash-harness.ts';
import { PATIENCE_MS } from '../support/patience.ts';

const h = crashHarness('crash-load');

const USERS = 480;
const POSTERS = 30;
/**
 * The last users' webhooks wait until LINE starts holding pushes, so the kill falls in the middle
 * of the flood however fast the machine processes: they are the flood the process dies in.
 */
const RESERVE = USERS / 2;
/** When LINE starts holding pushes: this many events processed and cards delivered. */
const HOLD_AFTER = { processed: 100, cardsSent: 5 };
/** When the process is killed: pushes held by LINE, then a stored backlog while webhooks are in flight. */
const KILL_AT = { held: 3, backlog: 50, postsInFlight: 5 };

const welcomeFlow = `id: welcome
name: Welcome
trigger: { follow: true }
steps:
  - say: "Welcome aboard"
  - coupon: crash-load-welcome
`;
const hoursFlow = `id: hours
name: Opening hours
trigger: { keyword: [hours] }
steps:
  - say: "Open 9 to 5"
`;

/** What each user sends, webhook by webhook, and what each event must come to. */
const script: Array<Array<{ text: string | null; outcome: string }>> = [
  [{ text: null, outcome: 'started' }],
  [{ text: 'hours', outcome: 'started' }],
  [{ text: 'my coupons', outcome: 'my-coupons' }, { text: 'thanks', outcome: 'no-match' }],
];
/** The messages each user gets, in this order. */
const expectedMessages = ['welcome', 'card', 'hours', 'my-coupons'];

/** What an outbox message or a delivered push is, for the order checks. */
function label(message: unknown): string {
  const json = JSON.stringify(message);
  if (json.includes('coupons.test/c/')) return 'card';
  if (json.includes('coupons.test/me/')) return 'my-coupons';
  if (json.includes('Welcome aboard')) return 'welcome';
  if (json.includes('Open 9 to 5')) return 'hours';
  return `other: ${json.slice(0, 80)}`;
}

interface Work { user: number; from: number; redelivery: boolean }

it('processes every acknowledged event once and delivers every card once when killed in the middle of a flood', async () => {
  fs.writeFileSync(path.join(h.dataDir, 'flows', 'welcome.yaml'), welcomeFlow);
  fs.writeFileSync(path.join(h.dataDir, 'flows', 'hours.yaml'), hoursFlow);
  let child = await h.startChild({});
  const created = await fetch(`${child.url}/api/v1/campaigns`, {
    method: 'POST', headers: h.admin, body: JSON.stringify(campaignBody({ slug: 'crash-load-welcome' })),
  });
  expect(created.status).toBe(201);
  const campaignId = ((await created.json()) as { id: string }).id;
  const loaded = await fetch(`${child.url}/api/v1/campaigns/${campaignId}/serials`, {
    method: 'POST', headers: h.admin, body: JSON.stringify({ fixed: { code: 'CL-2026', quantity: 10_000 } }),
  });
  expect(loaded.status).toBeLessThan(300);
  await h.waitFor('the welcome flow to load', async () => {
    const res = await fetch(`${child.url}/api/v1/flows`, { headers: h.admin });
    const body = (await res.json()) as { flows: Array<{ id: string; loaded: boolean }> };
    return body.flows.some((f) => f.id === 'welcome' && f.loaded);
  });

  // Every event made up front (ids and order fixed). Older than a reply token's life: every
  // answer is a push with its retry key, so LINE can say which ones it already has.
  const at = Date.now() - 120_000;
  const users = Array.from({ length: USERS }, () => newLineUserId());
  const hooks: LineWebhookEvent[][][] = users.map((u, i) => script.map((hook, k) => hook.map(({ text }, j) => {
    const timestamp = at + i * 10 + k * 2 + j;
    return text === null ? followEvent(u, { timestamp }) : textEvent(u, text, { timestamp });
  })));
  const expectedOutcome = new Map<string, string>();
  hooks.forEach((userHooks) => userHooks.forEach((hook, k) => hook.forEach((e, j) => expectedOutcome.set(e.webhookEventId, script[k]![j]!.outcome))));
  const eventCount = expectedOutcome.size;

  // --- The flood: each poster takes the next user and posts that user's webhooks in order.
  let killed = false;
  let postsInFlight = 0;
  const answeredNot200: number[] = [];
  const left: Work[] = [];
  const acknowledged = new Set<string>();
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  // Set once the database shows the backlog the kill waits for; the poster that then starts a
  // webhook with enough others in flight calls it.
  let killDue: (() => void) | null = null;
  const flood = async (url: string, queue: Work[], reserveFrom: number) => {
    const poster = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        if (item.user >= reserveFrom) await gate;
        if (killed) {
          left.push(item);
          continue;
        }
        for (let k = item.from; k < script.length; k++) {
          const events = hooks[item.user]![k]!.map((e) => (item.redelivery && k === item.from ? { ...e, deliveryContext: { isRedelivery: true } } : e));
          postsInFlight++;
          if (killDue && postsInFlight >= KILL_AT.postsInFlight) killDue();
          let status = 0;
          try {
            status = (await postLineWebhook(url, h.lineSecret, events)).status;
          } catch {
            // No answer: the process died with this webhook in flight.
          }
          postsInFlight--;
          if (status === 200) {
            for (const e of events) acknowledged.add(e.webhookEventId);
            continue;
          }
          if (status !== 0) answeredNot200.push(status);
          // LINE delivers it again later (a redelivery), then the user's later webhooks.
          left.push({ user: item.user, from: k, redelivery: status === 0 });
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: POSTERS }, poster));
  };
  const firstRun = flood(child.url, users.map((_, user) => ({ user, from: 0, redelivery: false })), USERS - RESERVE);

  // --- The kill, when the database shows the workers busy: events processed, cards delivered,
  // then LINE holding accepted pushes, a backlog stored, and webhooks in flight.
  // Each look also checks that an event's effects and its processed mark become visible together:
  // never a coupon whose follow is still unprocessed.
  let effectsBeforeMark = 0;
  const progress = async () => {
    const p = (await query(h.db, sql`
      SELECT count(*) FILTER (WHERE processed_at IS NOT NULL)::int AS processed,
        count(*) FILTER (WHERE processed_at IS NULL)::int AS backlog,
        (SELECT count(*) FROM outbox WHERE coupon_id IS NOT NULL AND status = 'sent')::int AS "cardsSent",
        (SELECT count(*) FROM coupons cp JOIN contacts c ON c.id = cp.contact_id
          WHERE EXISTS (SELECT 1 FROM inbound_events f WHERE f.processed_at IS NULL AND f.channel = c.channel
            AND (f.event->>'userId') = c.platform_user_id AND (f.event->>'type') = 'follow'))::int AS "effectsBeforeMark"
      FROM inbound_events`)).rows[0] as { processed: number; backlog: number; cardsSent: number; effectsBeforeMark: number };
    effectsBeforeMark = Math.max(effectsBeforeMark, p.effectsBeforeMark);
    return p;
  };
  await h.waitFor('the first events processed and cards delivered', async () => {
    const p = await progress();
    return p.processed >= HOLD_AFTER.processed && p.cardsSent >= HOLD_AFTER.cardsSent;
  });
  // LINE starts holding pushes and the last users' webhooks go. The process dies as one of them
  // is being sent, others in flight, once LINE holds pushes and the database shows a backlog of
  // stored events (both seen while the flood goes on).
  const release = h.standin.hold();
  const held = () => h.standin.requests.filter((r) => r.status === 0);
  let floodEnded = false;
  void firstRun.then(() => (floodEnded = true));
  let killNow!: () => void;
  const due = new Promise<void>((resolve) => (killNow = resolve));
  openGate();
  let backlogSeen = 0;
  while (!killDue) {
    if (floodEnded) {
      throw new Error(`the flood ended before ${KILL_AT.held} pushes were held (${held().length}) with a backlog of ${KILL_AT.backlog} stored events (at most ${backlogSeen})`);
    }
    const { backlog } = await progress();
    backlogSeen = Math.max(backlogSeen, backlog);
    if (held().length >= KILL_AT.held && backlog >= KILL_AT.backlog) killDue = killNow;
  }
  const endedFirst = firstRun.then(() => {
    if (!killed) throw new Error('the flood ended before the kill');
  });
  await Promise.race([due, endedFirst]);
  killed = true;
  const inFlightAtKill = postsInFlight;
  const heldAtKill = held().map((r) => r.retryKey);
  await h.kill(child);
  await endedFirst;
  release();

  // What the dead process left: events processed and a backlog, pushes sent but not recorded.
  const atKill = await progress();
  expect(atKill.processed).toBeGreaterThanOrEqual(HOLD_AFTER.processed);
  expect(atKill.backlog).toBeGreaterThan(0);
  expect(atKill.processed + atKill.backlog).toBeLessThan(eventCount);
  expect(inFlightAtKill).toBeGreaterThanOrEqual(KILL_AT.postsInFlight);
  expect(heldAtKill.length).toBeGreaterThanOrEqual(KILL_AT.held);
  expect(await h.count(sql`SELECT count(*) AS n FROM outbox WHERE status = 'pending' AND attempts > 0`)).toBeGreaterThanOrEqual(KILL_AT.held);
  const notAcknowledged = left.filter((w) => w.redelivery).length;
  expect(notAcknowledged).toBeGreaterThanOrEqual(1);
  expect(answeredNot200).toEqual([]);

  // --- Started again on the same database. The dead process's leases stand for a minute: let them run out now.
  await query(h.db, sql`UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending' AND attempts > 0`);
  child = await h.startChild({});
  const rest = left.splice(0).sort((a, b) => a.user - b.user);
  killed = false;
  await flood(child.url, rest, Infinity);
  expect(left).toEqual([]);
  expect(answeredNot200).toEqual([]);
  // Every event acknowledged in the end, by the first process or the second.
  expect(acknowledged.size).toBe(eventCount);

  await h.waitFor('every event processed', async () => (await progress()).processed === eventCount);
  expect(effectsBeforeMark).toBe(0);
  await h.waitFor('every message sent', async () =>
    (await h.count(sql`SELECT count(*) AS n FROM outbox WHERE status = 'pending'`)) === 0);

  // Every event stored once, processed once (one attempt, no error), with the outcome it calls for.
  const stored = (await query(h.db, sql`SELECT event_key AS key, outcome, attempts, last_error AS error, processed_at IS NOT NULL AS processed
    FROM inbound_events`)).rows as Array<{ key: string; outcome: string | null; attempts: number; error: string | null; processed: boolean }>;
  expect(stored).toHaveLength(eventCount);
  const wrong = stored.filter((e) => expectedOutcome.get(e.key) !== e.outcome || e.attempts !== 1 || e.error !== null || !e.processed);
  expect(wrong).toEqual([]);

  // In order per contact: stored in the order sent, processed in that order.
  const outOfOrder = await h.count(sql`
    SELECT count(*) AS n FROM (
      SELECT processed_at, lag(processed_at) OVER (PARTITION BY event->>'userId' ORDER BY id) AS before,
        (event->>'timestamp')::timestamptz AS t, lag((event->>'timestamp')::timestamptz) OVER (PARTITION BY event->>'userId' ORDER BY id) AS t_before
      FROM inbound_events) e
    WHERE e.processed_at < e.before OR e.t < e.t_before`);
  expect(outOfOrder).toBe(0);

  // One contact and one coupon per user (one claim on the per-contact limit each), each delivered.
  expect(await h.count(sql`SELECT count(*) AS n FROM contacts`)).toBe(USERS);
  const coupons = (await query(h.db, sql`
    SELECT count(*)::int AS n, count(DISTINCT contact_id)::int AS contacts,
      count(*) FILTER (WHERE delivery_status = 'sent' AND sent_at IS NOT NULL)::int AS sent,
      (SELECT count(*) FROM contact_campaign_counters WHERE campaign_id = ${campaignId} AND held = 1)::int AS claims,
      (SELECT coalesce(sum(held), 0) FROM contact_campaign_counters)::int AS held
    FROM coupons`)).rows[0];
  expect(coupons).toEqual({ n: USERS, contacts: USERS, sent: USERS, claims: USERS, held: USERS });

  // Each user's messages written in order, and LINE got each once, in that order.
  const outbox = (await query(h.db, sql`SELECT c.platform_user_id AS "user", o.message FROM outbox o
    JOIN contacts c ON c.id = o.contact_id ORDER BY o.seq`)).rows as Array<{ user: string; message: unknown }>;
  const written = new Map<string, string[]>();
  for (const row of outbox) written.set(row.user, [...(written.get(row.user) ?? []), label(row.message)]);
  const delivered = new Map<string, string[]>();
  for (const r of h.standin.delivered) {
    const to = (r.body as { to?: string }).to ?? '';
    delivered.set(to, [...(delivered.get(to) ?? []), label(r.body)]);
  }
  const differs = users.filter((u) => JSON.stringify(written.get(u)) !== JSON.stringify(expectedMessages)
    || JSON.stringify(delivered.get(u)) !== JSON.stringify(expectedMessages));
  expect(differs.map((u) => ({ written: written.get(u), delivered: delivered.get(u) }))).toEqual([]);
  expect(h.standin.delivered).toHaveLength(USERS * expectedMessages.length);
  expect(new Set(h.standin.delivered.map((r) => r.retryKey)).size).toBe(h.standin.delivered.length);
  // The pushes LINE held when the process died were sent again with their retry key, and LINE said it had them.
  for (const key of heldAtKill) {
    expect(h.standin.requests.filter((r) => r.retryKey === key).map((r) => r.status)).toEqual([0, 409]);
  }

  child.process.kill('SIGTERM');
  expect(await child.exited).toBe(0);
}, 4 * PATIENCE_MS);
