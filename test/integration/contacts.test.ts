import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { startLineStandin, type LineStandin } from '../../scripts/support/line-standin.ts';
import { newLineUserId } from '../../scripts/support/line-webhook.ts';
import { fetchMissingProfiles, runFollowerSync } from '../../src/contacts/follower-sync.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let standin: LineStandin;

beforeAll(async () => {
  standin = await startLineStandin({ accessToken: 'line-token', displayName: (u) => `Friend ${u.slice(-4)}` });
  svc = await startTestService({
    env: { LINE_CHANNEL_SECRET: 'secret', LINE_CHANNEL_ACCESS_TOKEN: 'line-token', LINE_API_BASE_URL: standin.url },
  });
});
afterAll(async () => {
  await svc?.stop();
  await standin?.close();
});
beforeEach(async () => {
  await query(svc.ctx.db, sql`TRUNCATE contacts, contact_syncs CASCADE`);
  standin.followers = [];
  standin.followersRefusal = null;
});

function csv(lines: string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

async function importCsv(body: Buffer) {
  return await request(svc.url).post('/api/v1/contacts/import').set(svc.admin).attach('file', body, { filename: 'contacts.csv', contentType: 'text/csv' });
}

async function contactCount(): Promise<number> {
  const r = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM contacts`);
  return (r.rows[0] as { n: number }).n;
}

describe('contacts import', () => {
  it('creates new contacts, adds tags to known ones (never removes), and rejects bad rows by number', async () => {
    const [a, b] = [newLineUserId(), newLineUserId()];
    const first = await importCsv(csv(['channel,userId,tags,language', `line,${a},vip|tokyo,ja`, `line,${b},,`]));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: 2, updated: 0, rejected: [] });

    const second = await importCsv(csv([
      'channel,userId,tags,language',
      `line,${a},newsletter,`, // row 2: known, tag added, language kept
      'line,not-a-line-id,,', // row 3
      `fax,${b},,`, // row 4
      `line,${a},again,`, // row 5: duplicate of row 2
      'messenger,psid-1,"a|b",zh-TW', // row 6
      `line,${b},${'x'.repeat(51)},`, // row 7
      `line,${b},,not a language`, // row 8
      'inbox,c-1', // row 9: two columns
    ]));
    expect(second.status).toBe(200);
    expect(second.body.created).toBe(1);
    expect(second.body.updated).toBe(1);
    expect(second.body.rejected.map((r: { row: number }) => r.row)).toEqual([3, 4, 5, 7, 8, 9]);
    expect(second.body.rejected.find((r: { row: number }) => r.row === 5).reason).toBe('duplicate of row 2');
    expect(second.body.rejected.find((r: { row: number }) => r.row === 3).reason).toMatch(/not a LINE user id/);

    const list = await request(svc.url).get('/api/v1/contacts').query({ q: a }).set(svc.admin);
    expect(list.body.contacts).toHaveLength(1);
    expect(list.body.contacts[0]).toMatchObject({ channel: 'line', userId: a, tags: ['vip', 'tokyo', 'newsletter'], language: 'ja' });
  });

  it('refuses a file with the wrong header and imports nothing', async () => {
    const res = await importCsv(csv(['user,tags', `line,${newLineUserId()}`]));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/header/);
    expect(await contactCount()).toBe(0);
  });

  it('refuses without a file or without the admin token', async () => {
    const noFile = await request(svc.url).post('/api/v1/contacts/import').set(svc.admin).send({});
    expect(noFile.status).toBe(400);
    const noAuth = await request(svc.url).post('/api/v1/contacts/import').attach('file', csv(['channel,userId,tags,language']), 'c.csv');
    expect(noAuth.status).toBe(401);
  });
});

describe('contacts list and PATCH', () => {
  it('filters by channel, tag and search, and pages with a cursor', async () => {
    const lines = ['channel,userId,tags,language'];
    for (let i = 0; i < 25; i++) lines.push(`line,${newLineUserId()},${i % 2 ? 'odd' : 'even'},`);
    for (let i = 0; i < 5; i++) lines.push(`messenger,psid-${i},odd,`);
    expect((await importCsv(csv(lines))).body.created).toBe(30);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(svc.url).get('/api/v1/contacts')
        .query({ tag: 'odd', limit: 7, ...(cursor ? { cursor } : {}) }).set(svc.admin);
      expect(page.status).toBe(200);
      seen.push(...page.body.contacts.map((c: { id: string }) => c.id));
      cursor = page.body.next;
    } while (cursor);
    expect(seen).toHaveLength(17);
    expect(new Set(seen).size).toBe(17);

    const messenger = await request(svc.url).get('/api/v1/contacts').query({ channel: 'messenger' }).set(svc.admin);
    expect(messenger.body.contacts).toHaveLength(5);
    expect(messenger.body.next).toBeNull();
    expect(Object.keys(messenger.body.contacts[0]).sort()).toEqual(
      ['channel', 'displayName', 'followedAt', 'id', 'language', 'lastMessageAt', 'tags', 'unreachableAt', 'userId']);

    const bad = await request(svc.url).get('/api/v1/contacts').query({ channel: 'fax' }).set(svc.admin);
    expect(bad.status).toBe(400);
    const badCursor = await request(svc.url).get('/api/v1/contacts').query({ cursor: 'nonsense' }).set(svc.admin);
    expect(badCursor.status).toBe(400);
  });

  it('adds and removes tags and sets the language', async () => {
    const userId = newLineUserId();
    await importCsv(csv(['channel,userId,tags,language', `line,${userId},a|b,`]));
    const id = (await request(svc.url).get('/api/v1/contacts').set(svc.admin)).body.contacts[0].id as string;
    const res = await request(svc.url).patch(`/api/v1/contacts/${id}`).set(svc.admin).send({ addTags: ['c', 'a'], removeTags: ['b'], language: 'th' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, tags: ['a', 'c'], language: 'th' });

    const both = await request(svc.url).patch(`/api/v1/contacts/${id}`).set(svc.admin).send({ addTags: ['x'], removeTags: ['x'] });
    expect(both.status).toBe(400);
    const unknownField = await request(svc.url).patch(`/api/v1/contacts/${id}`).set(svc.admin).send({ tags: ['x'] });
    expect(unknownField.status).toBe(400);
    const missing = await request(svc.url).patch('/api/v1/contacts/ctc_nope').set(svc.admin).send({ addTags: ['x'] });
    expect(missing.status).toBe(404);
    const after = await request(svc.url).get(`/api/v1/contacts/${id}`).set(svc.admin);
    expect(after.body.tags).toEqual(['a', 'c']);
  });
});

describe('LINE follower sync', () => {
  it('pages through the followers, creates the missing contacts, and reports progress', async () => {
    const known = newLineUserId();
    await importCsv(csv(['channel,userId,tags,language', `line,${known},vip,`]));
    standin.followers = [known, ...Array.from({ length: 2499 }, () => newLineUserId())];

    const started = await request(svc.url).post('/api/v1/contacts/sync').set(svc.admin).send({ channel: 'line' });
    expect(started.status).toBe(202);
    expect(started.headers.location).toBe(`/api/v1/imports/${started.body.id}`);
    expect(started.body).toMatchObject({ status: 'running', read: 0, created: 0 });

    await runFollowerSync(svc.ctx, started.body.id);
    const polled = await request(svc.url).get(started.headers.location!).set(svc.admin);
    expect(polled.body).toMatchObject({ status: 'done', read: 2500, created: 2499 });
    expect(await contactCount()).toBe(2500);
    // The known contact kept its tags.
    const vip = await request(svc.url).get('/api/v1/contacts').query({ tag: 'vip' }).set(svc.admin);
    expect(vip.body.contacts.map((c: { userId: string }) => c.userId)).toEqual([known]);

    // Profiles are fetched afterwards, a batch at a time.
    const firstBatch = await fetchMissingProfiles(svc.ctx, { limit: 40, ratePerSecond: Infinity });
    expect(firstBatch).toEqual({ fetched: 40, more: true });
    const named = await query(svc.ctx.db, sql`SELECT count(*)::int AS n FROM contacts WHERE display_name LIKE 'Friend %' AND language = 'en'`);
    expect((named.rows[0] as { n: number }).n).toBe(40);
    // The ones left are the next batch: none is asked for twice.
    await query(svc.ctx.db, sql`UPDATE contacts SET profile_fetched_at = now() WHERE display_name IS NULL AND id NOT IN (
      SELECT id FROM contacts WHERE display_name IS NULL ORDER BY id LIMIT 10)`);
    expect(await fetchMissingProfiles(svc.ctx, { limit: 40, ratePerSecond: Infinity })).toEqual({ fetched: 10, more: false });
    expect(new Set(standin.profileRequests).size).toBe(standin.profileRequests.length);
  });

  it('fails with words a marketer understands when LINE answers 403, and creates nothing', async () => {
    standin.followers = [newLineUserId()];
    standin.followersRefusal = { status: 403, body: { message: 'Access to this API is not available for your account' } };
    const started = await request(svc.url).post('/api/v1/contacts/sync').set(svc.admin).send({ channel: 'line' });
    await runFollowerSync(svc.ctx, started.body.id, { retryDelayMs: 0 });
    const polled = await request(svc.url).get(`/api/v1/imports/${started.body.id}`).set(svc.admin);
    expect(polled.body.status).toBe('failed');
    expect(polled.body.error).toMatch(/only verified or premium LINE Official Accounts/);
    expect(polled.body.error).toMatch(/Access to this API is not available/);
    expect(await contactCount()).toBe(0);
  });

  it('refuses channels without a follower list', async () => {
    const res = await request(svc.url).post('/api/v1/contacts/sync').set(svc.admin).send({ channel: 'messenger' });
    expect(res.status).toBe(404); // Messenger is not configured here
    const inbox = await request(svc.url).post('/api/v1/contacts/sync').set(svc.admin).send({ channel: 'fax' });
    expect(inbox.status).toBe(400);
  });
});
