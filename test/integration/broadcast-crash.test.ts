/**
 * Exactly one card per recipient across a crash: the service runs as a child process and is
 * killed with SIGKILL in the middle of a broadcast, while LINE holds pushes it accepted but has
 * not answered. After a restart the broadcast finishes: no one missed, no one served twice.
 */
import { expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { query } from '../../src/db/client.ts';
import { campaignBody } from '../support/campaigns.ts';
import { crashHarness } from '../support/crash-harness.ts';
import { PATIENCE_MS } from '../support/patience.ts';

const CONTACTS = 1000;
const h = crashHarness('broadcast-crash');
const { admin, startChild, count, waitFor } = h;

it('finishes a broadcast killed mid-run with exactly one card per recipient', async () => {
  await query(h.db, sql`INSERT INTO contacts (id, channel, platform_user_id, me_token, tags)
    SELECT 'ctc_crash' || g, 'line', 'U' || md5('crash' || g), md5('me' || g), ARRAY['crash'] FROM generate_series(1, ${CONTACTS}) g`);

  let child = await startChild();
  const created = await fetch(`${child.url}/api/v1/campaigns`, { method: 'POST', headers: admin, body: JSON.stringify(campaignBody({ slug: 'broadcast-crash' })) });
  const campaignId = ((await created.json()) as { id: string }).id;
  await fetch(`${child.url}/api/v1/campaigns/${campaignId}/serials`, { method: 'POST', headers: admin, body: JSON.stringify({ fixed: { code: 'CRASH1', quantity: 5000 } }) });
  const started = await fetch(`${child.url}/api/v1/broadcasts`, {
    method: 'POST', headers: admin,
    body: JSON.stringify({ name: 'Crash', audience: { tagsAll: ['crash'] }, campaignId, text: 'For you', ratePerSecond: 400 }),
  });
  expect(started.status).toBe(201);
  const broadcastId = ((await started.json()) as { id: string }).id;

  // Part-way through, LINE starts accepting pushes without answering; then the process dies.
  await waitFor('the first cards', async () => h.standin.delivered.length >= 300);
  const release = h.standin.hold();
  const heldFrom = h.standin.delivered.length;
  await waitFor('pushes held by LINE', async () => h.standin.delivered.length >= heldFrom + 5);
  child.process.kill('SIGKILL');
  await child.exited;
  release();
  const issuedAtKill = await count(sql`SELECT count(*) AS n FROM broadcast_recipients WHERE broadcast_id = ${broadcastId} AND status = 'issued'`);
  expect(issuedAtKill).toBeGreaterThan(0);
  expect(issuedAtKill).toBeLessThan(CONTACTS);

  // A dead process's leased messages are retried once the lease runs out: let it run out now.
  await query(h.db, sql`UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending' AND next_attempt_at <> 'infinity'`);
  child = await startChild();
  await waitFor('the broadcast done', async () => (await count(sql`SELECT count(*) AS n FROM broadcasts WHERE id = ${broadcastId} AND status = 'done'`)) === 1);

  const res = await fetch(`${child.url}/api/v1/broadcasts/${broadcastId}`, { headers: admin });
  const b = (await res.json()) as { counts: Record<string, number> };
  expect(b.counts).toEqual({ recipients: CONTACTS, sent: CONTACTS, failed: 0, skipped: 0, pending: 0, holdout: 0 });
  // LINE delivered exactly one card to each contact; the held pushes were retried with their key.
  const perUser = new Map<string, number>();
  for (const r of h.standin.delivered) {
    const to = (r.body as { to: string }).to;
    perUser.set(to, (perUser.get(to) ?? 0) + 1);
  }
  expect(perUser.size).toBe(CONTACTS);
  expect([...perUser.values()].filter((n) => n !== 1)).toEqual([]);
  expect(h.standin.requests.some((r) => r.status === 409)).toBe(true);
  expect(await count(sql`SELECT count(*) AS n FROM coupons WHERE broadcast_id = ${broadcastId}`)).toBe(CONTACTS);
  expect(await count(sql`SELECT count(DISTINCT contact_id) AS n FROM coupons WHERE broadcast_id = ${broadcastId}`)).toBe(CONTACTS);

  child.process.kill('SIGTERM');
  expect(await child.exited).toBe(0);
}, 4 * PATIENCE_MS);
