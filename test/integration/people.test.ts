import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { setPassword } from '../../src/people/sessions.ts';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service.ts';
import { query } from '../../src/db/client.ts';

let svc: TestService;
let clockNow = new Date('2026-12-01T09:00:00Z');

beforeAll(async () => {
  // A low address limit keeps the number of (deliberately slow) password checks small.
  svc = await startTestService({ clock: () => clockNow, env: { SIGN_IN_MAX_FAILURES_ADDRESS: '8' } });
});
afterAll(async () => {
  await svc?.stop();
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const json = { Accept: 'application/json' };

async function addPerson(body: Record<string, unknown>) {
  const r = await request(svc.url).post('/api/v1/people').set(svc.admin).send(body);
  expect(r.status).toBe(201);
  return r.body as { id: string; name: string; role: string; token: string };
}

/** Signs in through the JSON form of POST /login; answers the session cookie and CSRF token. */
async function signIn(login: string, password: string, from = '10.0.0.1') {
  const r = await request(svc.url).post('/login').set(json).set('X-Forwarded-For', from).send({ login, password });
  const cookie = (r.headers['set-cookie'] as unknown as string[] | undefined)?.find((c) => c.startsWith('cc_session='));
  return { res: r, cookie: cookie?.split(';')[0] ?? null, csrf: r.body.csrfToken as string | undefined, setCookie: cookie };
}

describe('people (owner only)', () => {
  it('adds a person with an API token shown once, lists people without secrets, and the token acts with the role', async () => {
    const amy = await addPerson({ name: 'Amy', email: 'Amy@Shop.example', role: 'agent' });
    expect(amy).toMatchObject({ id: expect.stringMatching(/^psn_/), name: 'Amy', role: 'agent', token: expect.stringMatching(/^ccp_/) });

    const me = await request(svc.url).get('/api/v1/me').set(bearer(amy.token));
    expect(me.body).toMatchObject({ id: amy.id, name: 'Amy', role: 'agent', via: 'token' });

    const list = await request(svc.url).get('/api/v1/people').set(svc.admin);
    const row = list.body.people.find((p: { id: string }) => p.id === amy.id);
    expect(row).toEqual({ id: amy.id, name: 'Amy', email: 'amy@shop.example', role: 'agent', hasPassword: false, createdAt: clockNow.toISOString() });
    expect(JSON.stringify(list.body)).not.toContain(amy.token);
    // Only the token's hash is stored.
    const stored = await query(svc.ctx.db, sql`SELECT token_hash FROM api_tokens WHERE person_id = ${amy.id}`);
    expect(JSON.stringify(stored.rows)).not.toContain(amy.token);

    // An agent may not manage people; nor may a marketer.
    const bob = await addPerson({ name: 'Bob', role: 'marketer' });
    for (const token of [amy.token, bob.token]) {
      const r = await request(svc.url).post('/api/v1/people').set(bearer(token)).send({ name: 'Eve', role: 'owner' });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    expect((await request(svc.url).get('/api/v1/people').set(bearer(bob.token))).status).toBe(403);
  });

  it('refuses bad bodies and duplicates with field reasons, changing nothing', async () => {
    const before = (await request(svc.url).get('/api/v1/people').set(svc.admin)).body.people.length;
    const bad = await request(svc.url).post('/api/v1/people').set(svc.admin).send({ name: '', role: 'boss', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    expect(bad.body.error.message).toMatch(/name/);
    expect(bad.body.error.message).toMatch(/role: must be one of owner, marketer, agent, staff/);
    const at = await request(svc.url).post('/api/v1/people').set(svc.admin).send({ name: 'a@b', role: 'staff' });
    expect(at.status).toBe(400);
    await addPerson({ name: 'Cara', email: 'cara@shop.example', role: 'staff' });
    const dupEmail = await request(svc.url).post('/api/v1/people').set(svc.admin).send({ name: 'Cara 2', email: 'CARA@shop.example', role: 'staff' });
    expect(dupEmail.status).toBe(409);
    expect(dupEmail.body.error.message).toContain('cara@shop.example');
    const dupName = await request(svc.url).post('/api/v1/people').set(svc.admin).send({ name: 'cara', role: 'staff' });
    expect(dupName.status).toBe(409);
    const notJson = await request(svc.url).post('/api/v1/people').set(svc.admin).set('Content-Type', 'application/json').send('{"name":');
    expect(notJson.status).toBe(400);
    const after = (await request(svc.url).get('/api/v1/people').set(svc.admin)).body.people.length;
    expect(after).toBe(before + 1);
  });

  it('named tokens: created and shown once, listed without the secret, revoked at once', async () => {
    const dan = await addPerson({ name: 'Dan', role: 'marketer' });
    const made = await request(svc.url).post(`/api/v1/people/${dan.id}/tokens`).set(svc.admin).send({ name: 'reporting script' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ id: expect.stringMatching(/^tok_/), name: 'reporting script', token: expect.stringMatching(/^ccp_/) });
    expect((await request(svc.url).get('/api/v1/campaigns').set(bearer(made.body.token))).status).toBe(200);
    const list = await request(svc.url).get(`/api/v1/people/${dan.id}/tokens`).set(svc.admin);
    expect(list.body.tokens.map((t: { name: string }) => t.name).sort()).toEqual(['first token', 'reporting script']);
    expect(JSON.stringify(list.body)).not.toContain('ccp_');
    const del = await request(svc.url).delete(`/api/v1/people/${dan.id}/tokens/${made.body.id}`).set(svc.admin);
    expect(del.status).toBe(204);
    const after = await request(svc.url).get('/api/v1/campaigns').set(bearer(made.body.token));
    expect(after.status).toBe(401);
    // The first token still works; revoking twice is a 404.
    expect((await request(svc.url).get('/api/v1/campaigns').set(bearer(dan.token))).status).toBe(200);
    expect((await request(svc.url).delete(`/api/v1/people/${dan.id}/tokens/${made.body.id}`).set(svc.admin)).status).toBe(404);
    expect((await request(svc.url).post(`/api/v1/people/${dan.id}/tokens`).set(svc.admin).send({})).status).toBe(400);
  });

  it('removing a person stops its tokens and sessions at once; the owner cannot remove itself', async () => {
    const eve = await addPerson({ name: 'Eve', email: 'eve@shop.example', role: 'staff' });
    await setPassword(svc.ctx, eve.id, { password: 'correct horse battery' });
    const s = await signIn('eve@shop.example', 'correct horse battery', '10.0.9.1');
    expect(s.res.status).toBe(200);
    expect((await request(svc.url).get('/api/v1/me').set('Cookie', s.cookie!)).body.role).toBe('staff');

    const del = await request(svc.url).delete(`/api/v1/people/${eve.id}`).set(svc.admin);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ id: eve.id, removed: true });
    expect((await request(svc.url).get('/api/v1/me').set(bearer(eve.token))).status).toBe(401);
    expect((await request(svc.url).get('/api/v1/me').set('Cookie', s.cookie!)).status).toBe(401);
    expect((await signIn('eve@shop.example', 'correct horse battery', '10.0.9.1')).res.status).toBe(401);
    expect((await request(svc.url).delete(`/api/v1/people/${eve.id}`).set(svc.admin)).status).toBe(404);
    // The name is free again.
    await addPerson({ name: 'Eve', role: 'staff' });

    const owner = await addPerson({ name: 'Olive', role: 'owner' });
    const self = await request(svc.url).delete(`/api/v1/people/${owner.id}`).set(bearer(owner.token));
    expect(self.status).toBe(409);
  });
});

describe('signing in', () => {
  it('by email or name and password: an httpOnly SameSite cookie, a CSRF token, and no password stored in clear', async () => {
    const fay = await addPerson({ name: 'Fay', email: 'fay@shop.example', role: 'marketer' });
    await setPassword(svc.ctx, fay.id, { password: 'a long enough secret' });
    const stored = await query(svc.ctx.db, sql`SELECT password_hash FROM people WHERE id = ${fay.id}`);
    expect((stored.rows[0] as { password_hash: string }).password_hash).toMatch(/^scrypt\$32768\$8\$3\$/);

    const byEmail = await signIn('FAY@shop.example', 'a long enough secret');
    expect(byEmail.res.status).toBe(200);
    expect(byEmail.setCookie).toMatch(/HttpOnly/);
    expect(byEmail.setCookie).toMatch(/SameSite=Lax/);
    expect(byEmail.res.body).toMatchObject({ person: { id: fay.id, role: 'marketer' }, csrfToken: expect.any(String) });
    const byName = await signIn('fay', 'a long enough secret');
    expect(byName.res.status).toBe(200);

    const wrong = await signIn('fay', 'not the secret at all', '10.0.0.2');
    expect(wrong.res.status).toBe(401);
    expect(wrong.res.body.error.code).toBe('sign_in_failed');
    const nobody = await signIn('nobody@shop.example', 'whatever it is', '10.0.0.2');
    expect(nobody.res.status).toBe(401);
    expect(nobody.res.body.error.message).toBe(wrong.res.body.error.message);

    // A browser form gets the page back, then a redirect to the marketer's home.
    const formPage = await request(svc.url).get('/login?next=/admin%23campaigns');
    const formCookie = (formPage.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('cc_form='))!.split(';')[0]!;
    const formToken = /name="_csrf" value="([^"]+)"/.exec(formPage.text)![1]!;
    const post = await request(svc.url).post('/login').type('form').set('Cookie', formCookie)
      .send({ _csrf: formToken, login: 'fay', password: 'a long enough secret', next: '/admin' });
    expect(post.status).toBe(303);
    expect(post.headers.location).toBe('/admin');
    const evil = await request(svc.url).post('/login').type('form').set('Origin', 'https://evil.example')
      .send({ login: 'fay', password: 'a long enough secret', next: 'https://evil.example/' });
    expect(evil.status).toBe(403);
    const offsite = await request(svc.url).post('/login').type('form').set('Cookie', formCookie)
      .send({ _csrf: formToken, login: 'fay', password: 'a long enough secret', next: '//evil.example/' });
    expect(offsite.headers.location).toBe('/admin');
  });

  it('rate-limits failed attempts per account and per address, counting on the clock', async () => {
    const gus = await addPerson({ name: 'Gus', role: 'agent' });
    await setPassword(svc.ctx, gus.id, { password: 'gus password 1' });
    for (let i = 0; i < 5; i++) expect((await signIn('gus', `guess ${i} wrong`, `10.1.0.${i}`)).res.status).toBe(401);
    expect(svc.config.SIGN_IN_MAX_FAILURES_ACCOUNT).toBe(5);
    // The sixth attempt is refused before the password is checked, even the right one, from anywhere.
    const limited = await signIn('gus', 'gus password 1', '10.1.1.1');
    expect(limited.res.status).toBe(429);
    expect(limited.res.body.error.code).toBe('rate_limited');
    clockNow = new Date(clockNow.getTime() + 16 * 60_000);
    expect((await signIn('gus', 'gus password 1', '10.1.1.1')).res.status).toBe(200);

    // One address guessing many accounts is stopped after SIGN_IN_MAX_FAILURES_ADDRESS failures.
    for (let i = 0; i < 8; i++) expect((await signIn(`someone-${i}`, 'wrong password', '10.2.0.1')).res.status).toBe(401);
    expect((await signIn('gus', 'gus password 1', '10.2.0.1')).res.status).toBe(429);
    expect((await signIn('gus', 'gus password 1', '10.2.0.2')).res.status).toBe(200);
  });

  it('a session cookie needs the CSRF token or our own origin for changes; the owner can revoke sessions', async () => {
    const hal = await addPerson({ name: 'Hal', role: 'owner' });
    await setPassword(svc.ctx, hal.id, { password: 'hal password 1' });
    const s = await signIn('hal', 'hal password 1', '10.3.0.1');
    const post = () => request(svc.url).post('/api/v1/people').set(json).set('Cookie', s.cookie!);
    const forged = await post().set('Origin', 'https://evil.example').send({ name: 'Forged', role: 'owner' });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('csrf_failed');
    expect((await post().send({ name: 'No origin', role: 'owner' })).status).toBe(403);
    expect((await post().set('X-CSRF-Token', 'not-the-token').send({ name: 'Bad token', role: 'owner' })).status).toBe(403);
    const withToken = await post().set('X-CSRF-Token', s.csrf!).send({ name: 'Ivy', role: 'staff' });
    expect(withToken.status).toBe(201);
    const sameOrigin = await post().set('Origin', svc.url).send({ name: 'Jo', role: 'staff' });
    expect(sameOrigin.status).toBe(201);
    const list = await request(svc.url).get('/api/v1/people').set(svc.admin);
    expect(list.body.people.map((p: { name: string }) => p.name)).not.toContain('Forged');

    const sessions = await request(svc.url).get(`/api/v1/people/${hal.id}/sessions`).set(svc.admin);
    expect(sessions.body.sessions).toHaveLength(1);
    expect(sessions.body.sessions[0]).toMatchObject({ address: '10.3.0.1' });
    const revoke = await request(svc.url).delete(`/api/v1/people/${hal.id}/sessions`).set(svc.admin);
    expect(revoke.body).toEqual({ revoked: 1 });
    expect((await request(svc.url).get('/api/v1/me').set('Cookie', s.cookie!)).status).toBe(401);
    // A page then leads back to the sign-in page.
    const page = await request(svc.url).get('/admin').set('Cookie', s.cookie!);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Fadmin');
  });

  it('ADMIN_TOKEN keeps working: as a bearer token (owner) and to open a session; POS_TOKEN only verifies', async () => {
    expect((await request(svc.url).get('/api/v1/me').set(svc.admin)).body).toMatchObject({ id: 'admin-token', role: 'owner' });
    const r = await request(svc.url).post('/login').set(json).send({ token: ADMIN_TOKEN });
    expect(r.status).toBe(200);
    const cookie = (r.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('cc_session='))!.split(';')[0]!;
    expect((await request(svc.url).get('/api/v1/people').set('Cookie', cookie)).status).toBe(200);
    expect((await request(svc.url).get('/admin').set('Cookie', cookie)).status).toBe(200);
    const pos = await request(svc.url).post('/login').set(json).send({ token: svc.pos.Authorization.slice(7) });
    expect(pos.status).toBe(401);
    expect((await request(svc.url).get('/api/v1/campaigns').set(svc.pos)).status).toBe(403);
    expect((await request(svc.url).post('/api/v1/verifications').set(svc.pos).send({ code: 'NOPE' })).body.error.code).not.toBe('forbidden');
  });

  it('a one-time sign-in link: reading it spends nothing, one press signs in, a second is refused', async () => {
    const { createSignInLink } = await import('../../src/people/sessions.ts');
    const kim = await addPerson({ name: 'Kim', role: 'staff' });
    const link = await createSignInLink(svc.ctx, kim.id);
    const page = await request(svc.url).get(`/login/link/${link.token}`);
    expect(page.status).toBe(200);
    expect((await request(svc.url).get(`/login/link/${link.token}`)).status).toBe(200);
    const used = await request(svc.url).post(`/login/link/${link.token}`).type('form').set('Origin', svc.url).send({});
    expect(used.status).toBe(303);
    expect(used.headers.location).toBe('/account');
    const cookie = (used.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('cc_session='))!.split(';')[0]!;
    const account = await request(svc.url).get('/account').set('Cookie', cookie);
    expect(account.status).toBe(200);
    expect(account.text).toContain('Choose a password');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(account.text)![1]!;
    const short = await request(svc.url).post('/account/password').type('form').set('Cookie', cookie).send({ _csrf: csrf, password: 'short' });
    expect(short.status).toBe(400);
    expect(short.text).toContain('at least 10 characters');
    const saved = await request(svc.url).post('/account/password').type('form').set('Cookie', cookie).send({ _csrf: csrf, password: 'kim staff password' });
    expect(saved.status).toBe(200);
    expect((await signIn('kim', 'kim staff password', '10.4.0.1')).res.status).toBe(200);

    const again = await request(svc.url).post(`/login/link/${link.token}`).type('form').set('Origin', svc.url).send({});
    expect(again.status).toBe(410);
    expect((await request(svc.url).get(`/login/link/${link.token}`)).status).toBe(410);
    const expired = await createSignInLink(svc.ctx, kim.id);
    clockNow = new Date(clockNow.getTime() + 73 * 3600_000);
    expect((await request(svc.url).post(`/login/link/${expired.token}`).type('form').set('Origin', svc.url).send({})).status).toBe(410);
  });
});

describe('npm run user:invite', () => {
  it('adds the person and prints a working one-time sign-in link', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const { stdout } = await promisify(execFile)(path.join(root, 'node_modules/.bin/node'), ['scripts/user-invite.ts', '--name', 'Lee', '--role', 'staff', '--email', 'lee@shop.example'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: svc.config.DATABASE_URL, PUBLIC_BASE_URL: 'https://coupons.example', LOG_LEVEL: 'silent' },
    });
    expect(stdout).toContain('Added Lee (staff).');
    const m = /https:\/\/coupons\.example\/login\/link\/([A-Za-z0-9_-]{43})/.exec(stdout);
    expect(m).not.toBeNull();
    const used = await request(svc.url).post(`/login/link/${m![1]}`).type('form').set('Origin', svc.url).send({});
    expect(used.status).toBe(303);
    const list = await request(svc.url).get('/api/v1/people').set(svc.admin);
    expect(list.body.people.find((p: { name: string }) => p.name === 'Lee')).toMatchObject({ role: 'staff', email: 'lee@shop.example' });

    const bad = await promisify(execFile)(path.join(root, 'node_modules/.bin/node'), ['scripts/user-invite.ts', '--name', 'X', '--role', 'boss'], {
      cwd: root, env: { ...process.env, DATABASE_URL: svc.config.DATABASE_URL },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain('--role must be one of');
  });
});

describe('audit log', () => {
  it('records people added and removed with the actor, filters by actor and action, pages with a cursor, exports CSV', async () => {
    const r = await request(svc.url).get('/api/v1/audit?action=person.removed').set(svc.admin);
    expect(r.status).toBe(200);
    expect(r.body.entries[0]).toMatchObject({
      actor: { id: 'admin-token', name: 'Admin token', role: 'owner' }, action: 'person.removed', target: { type: 'person', name: 'Eve' },
    });
    const added = await request(svc.url).get('/api/v1/audit?action=person.added&limit=2').set(svc.admin);
    expect(added.body.entries).toHaveLength(2);
    expect(added.body.next).toEqual(expect.any(String));
    const page2 = await request(svc.url).get(`/api/v1/audit?action=person.added&limit=2&cursor=${added.body.next}`).set(svc.admin);
    expect(page2.body.entries[0].at <= added.body.entries[1].at).toBe(true);
    expect(page2.body.entries.map((e: { id: string }) => e.id)).not.toContain(added.body.entries[1].id);
    // The session-opened people (Hal added Ivy and Jo) show under Hal.
    const byHal = await request(svc.url).get('/api/v1/audit?actor=hal').set(svc.admin);
    expect(byHal.body.entries.map((e: { target: { name: string } }) => e.target.name).sort()).toEqual(['Ivy', 'Jo']);
    const invite = await request(svc.url).get('/api/v1/audit?actor=cli').set(svc.admin);
    expect(invite.body.entries[0]).toMatchObject({ action: 'person.added', target: { name: 'Lee' } });

    const csv = await request(svc.url).get('/api/v1/audit?format=csv&action=person.added').set(svc.admin);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('at,actor_id,actor_name,actor_role,action,target_type,target_id,target_name,details');
    expect(lines.length - 1).toBeGreaterThan(5);
    expect(csv.text).toContain('person.added');

    expect((await request(svc.url).get('/api/v1/audit?action=nothing').set(svc.admin)).status).toBe(400);
    expect((await request(svc.url).get('/api/v1/audit?cursor=abc').set(svc.admin)).status).toBe(400);
  });
});
