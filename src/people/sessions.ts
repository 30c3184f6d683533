import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { PeopleContext } from './people.ts';
import { query, type Tx } from '../db/client.ts';
import { AppError, parseOrThrow, refuse, type Result } from '../lib/errors.ts';
import { newId, sha256 } from '../lib/ids.ts';
import { recordAudit } from './audit.ts';
import { dummyHash, hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';
import { adminTokenActor, type Actor, type Role } from './roles.ts';

/** A session lasts this long from sign-in (a till's phone stays signed in for a shift or two). */
export const SESSION_DAYS = 14;
/** A one-time sign-in link is good this long. */
export const SIGN_IN_LINK_HOURS = 72;
/** Failed sign-ins counted over this window… */
export const FAILURE_WINDOW_MINUTES = 15;
/** Failures tolerated in that window per account and per address (SIGN_IN_MAX_FAILURES_*). */
export interface SignInLimits {
  account: number;
  address: number;
}

export interface SessionActor extends Actor {
  role: Role;
  sessionId: string;
  csrfToken: string;
}

export interface NewSession {
  id: string;
  /** The cookie's value; only its SHA-256 is stored. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
  person: { id: string; name: string; role: Role };
}

/** A session's owner: a person, or the ADMIN_TOKEN (by its key: sha256 of the token's hash). */
export type SessionSubject = { person: NewSession['person'] } | { adminKey: string };

export interface ClientInfo {
  address: string | null;
  userAgent: string | null;
}

const signInBody = z.object({
  login: z.string().trim().min(1, 'is required').max(200),
  password: z.string().min(1, 'is required').max(MAX_PASSWORD_LENGTH),
});

export const passwordRule = z.string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);

export async function createSession(tx: Tx, now: Date, subject: SessionSubject, client: ClientInfo): Promise<NewSession> {
  const person = 'person' in subject ? subject.person : { id: adminTokenActor.id, name: adminTokenActor.name, role: 'owner' as const };
  const token = crypto.randomBytes(32).toString('base64url');
  const csrfToken = crypto.randomBytes(24).toString('base64url');
  const id = newId('ses');
  const expiresAt = new Date(now.getTime() + SESSION_DAYS * 86400_000);
  await query(tx, sql`
    INSERT INTO sessions (id, person_id, admin_key, token_hash, csrf_token, created_at, expires_at, last_seen_at, address, user_agent)
    VALUES (${id}, ${'person' in subject ? person.id : null}, ${'adminKey' in subject ? subject.adminKey : null}, ${sha256(token)},
      ${csrfToken}, ${now}, ${expiresAt}, ${now}, ${client.address},
      ${client.userAgent?.slice(0, 300) ?? null})`);
  return { id, token, csrfToken, expiresAt, person };
}

/**
 * Email (or name) and password. Attempts are refused before any password is checked once the
 * account or the address has too many recent failures; unknown accounts cost the same time as
 * known ones and get the same answer.
 */
export async function signIn(ctx: PeopleContext, input: unknown, client: ClientInfo, limits: SignInLimits): Promise<Result<{ session: NewSession }, 'sign_in_failed' | 'rate_limited'>> {
  const body = parseOrThrow(signInBody, input);
  const login = body.login.toLowerCase();
  const now = ctx.clock();
  const since = new Date(now.getTime() - FAILURE_WINDOW_MINUTES * 60_000);
  const accountKey = `account:${login}`;
  const addressKey = `address:${client.address ?? 'unknown'}`;
  const counts = await query(ctx.db, sql`
    SELECT count(*) FILTER (WHERE key = ${accountKey})::int AS account, count(*) FILTER (WHERE key = ${addressKey})::int AS address
    FROM sign_in_failures WHERE key IN (${accountKey}, ${addressKey}) AND at > ${since}`);
  const c = counts.rows[0] as { account: number; address: number };
  if (c.account >= limits.account || c.address >= limits.address) {
    return refuse('rate_limited', `Too many failed sign-ins. Wait ${FAILURE_WINDOW_MINUTES} minutes and try again, or ask the owner for a sign-in link.`);
  }
  const r = await query(ctx.db, sql`
    SELECT id, name, role, password_hash AS "passwordHash" FROM people
    WHERE removed_at IS NULL AND (lower(email) = ${login} OR lower(name) = ${login})
    ORDER BY (lower(email) = ${login}) DESC NULLS LAST LIMIT 1`);
  const person = r.rows[0] as { id: string; name: string; role: Role; passwordHash: string | null } | undefined;
  const ok = await verifyPassword(body.password, person?.passwordHash ?? await dummyHash());
  if (!person || !person.passwordHash || !ok) {
    await query(ctx.db, sql`INSERT INTO sign_in_failures (key, at) VALUES (${accountKey}, ${now}), (${addressKey}, ${now})`);
    return refuse('sign_in_failed', 'The email or name and password do not match an account.');
  }
  const session = await ctx.db.transaction(async (tx) => {
    await query(tx, sql`DELETE FROM sign_in_failures WHERE key = ${accountKey} OR at < ${since}`);
    return await createSession(tx, now, { person: { id: person.id, name: person.name, role: person.role } }, client);
  });
  return { ok: true, session };
}

/** The signed-in person of a session cookie, or null (unknown, expired, revoked, person removed). */
export async function actorOfSession(ctx: PeopleContext, token: string, adminKey: string): Promise<SessionActor | null> {
  if (token.length < 20 || token.length > 100) return null;
  const now = ctx.clock();
  const r = await query(ctx.db, sql`
    WITH s AS (
      SELECT s.id, s.csrf_token, s.last_seen_at,
        coalesce(p.id, ${adminTokenActor.id}) AS "personId", coalesce(p.name, ${adminTokenActor.name}) AS name, coalesce(p.role, 'owner') AS role
      FROM sessions s LEFT JOIN people p ON p.id = s.person_id
      WHERE s.token_hash = ${sha256(token)} AND s.revoked_at IS NULL AND s.expires_at > ${now}
        AND (CASE WHEN s.person_id IS NULL THEN s.admin_key = ${adminKey} ELSE p.removed_at IS NULL END)
    ), touch AS (
      UPDATE sessions SET last_seen_at = ${now} FROM s
      WHERE sessions.id = s.id AND s.last_seen_at < ${new Date(now.getTime() - 60_000)}
    )
    SELECT id, csrf_token AS "csrfToken", "personId", name, role FROM s`);
  const row = r.rows[0] as { id: string; csrfToken: string; personId: string; name: string; role: Role } | undefined;
  return row ? { id: row.personId, name: row.name, role: row.role, sessionId: row.id, csrfToken: row.csrfToken } : null;
}

export async function endSession(ctx: PeopleContext, sessionId: string): Promise<void> {
  await query(ctx.db, sql`UPDATE sessions SET revoked_at = ${ctx.clock()} WHERE id = ${sessionId} AND revoked_at IS NULL`);
}

export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  address: string | null;
  userAgent: string | null;
}

export function sessionToJson(s: SessionInfo) {
  return {
    id: s.id, createdAt: s.createdAt.toISOString(), lastSeenAt: s.lastSeenAt.toISOString(), expiresAt: s.expiresAt.toISOString(),
    address: s.address, userAgent: s.userAgent,
  };
}

/** The person's sessions still good now. */
export async function listSessions(ctx: PeopleContext, personId: string): Promise<SessionInfo[]> {
  const r = await query(ctx.db, sql`
    SELECT id, created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt", address, user_agent AS "userAgent"
    FROM sessions WHERE person_id = ${personId} AND revoked_at IS NULL AND expires_at > ${ctx.clock()} ORDER BY created_at DESC, id`);
  return r.rows as unknown as SessionInfo[];
}

/** Signs a person out everywhere (or of one session): the owner's lever on a lost phone. */
export async function revokeSessions(ctx: PeopleContext, actor: Actor, person: { id: string; name: string }, sessionId?: string): Promise<number> {
  return await ctx.db.transaction(async (tx) => {
    const now = ctx.clock();
    const r = await query(tx, sql`
      UPDATE sessions SET revoked_at = ${now}
      WHERE person_id = ${person.id} AND revoked_at IS NULL AND expires_at > ${now} AND (${sessionId ?? null}::text IS NULL OR id = ${sessionId ?? null})
      RETURNING id`);
    if (sessionId && r.rows.length === 0) throw new AppError('not_found', `session ${sessionId} of person ${person.id} does not exist or has ended`);
    await recordAudit(tx, ctx.clock, actor, 'sessions.revoked', { type: 'person', id: person.id, name: person.name },
      { count: r.rows.length, ...(sessionId ? { sessionId } : {}) });
    return r.rows.length;
  });
}

/** A one-time sign-in link's token for a person (printed by `npm run user:invite`). */
export async function createSignInLink(ctx: PeopleContext, personId: string): Promise<{ token: string; expiresAt: Date }> {
  const token = crypto.randomBytes(32).toString('base64url');
  const now = ctx.clock();
  const expiresAt = new Date(now.getTime() + SIGN_IN_LINK_HOURS * 3600_000);
  await query(ctx.db, sql`
    INSERT INTO sign_in_links (token_hash, person_id, created_at, expires_at)
    SELECT ${sha256(token)}, id, ${now}, ${expiresAt} FROM people WHERE id = ${personId} AND removed_at IS NULL`);
  return { token, expiresAt };
}

/** Whether a link token is still good (the page asks before using it: link previews must not spend it). */
export async function signInLinkValid(ctx: PeopleContext, token: string): Promise<boolean> {
  const r = await query(ctx.db, sql`
    SELECT 1 FROM sign_in_links l JOIN people p ON p.id = l.person_id
    WHERE l.token_hash = ${sha256(token)} AND l.used_at IS NULL AND l.expires_at > ${ctx.clock()} AND p.removed_at IS NULL`);
  return r.rows.length > 0;
}

/** Spends a sign-in link (once, whatever happens at the same time) and opens a session. */
export async function useSignInLink(ctx: PeopleContext, token: string, client: ClientInfo): Promise<Result<{ session: NewSession }, 'link_invalid'>> {
  const now = ctx.clock();
  return await ctx.db.transaction(async (tx) => {
    const r = await query(tx, sql`
      UPDATE sign_in_links l SET used_at = ${now} FROM people p
      WHERE l.token_hash = ${sha256(token)} AND l.used_at IS NULL AND l.expires_at > ${now} AND p.id = l.person_id AND p.removed_at IS NULL
      RETURNING p.id, p.name, p.role`);
    const person = r.rows[0] as { id: string; name: string; role: Role } | undefined;
    if (!person) return refuse('link_invalid', 'This sign-in link has been used, has expired, or was never valid. Ask the owner for a new one.');
    return { ok: true as const, session: await createSession(tx, now, { person }, client) };
  });
}

/** Sets a signed-in person's password; the current one is asked for when there is one. */
export async function setPassword(ctx: PeopleContext, personId: string, input: unknown): Promise<void> {
  const body = parseOrThrow(z.object({ password: passwordRule, currentPassword: z.string().max(MAX_PASSWORD_LENGTH).optional() }), input);
  const r = await query(ctx.db, sql`SELECT password_hash AS "passwordHash" FROM people WHERE id = ${personId} AND removed_at IS NULL`);
  const row = r.rows[0] as { passwordHash: string | null } | undefined;
  if (!row) throw new AppError('not_found', 'this account no longer exists');
  if (row.passwordHash && !(body.currentPassword && await verifyPassword(body.currentPassword, row.passwordHash))) {
    throw new AppError('validation_error', 'currentPassword: is not your current password', { fields: [{ field: 'currentPassword', message: 'is not your current password' }] });
  }
  await query(ctx.db, sql`UPDATE people SET password_hash = ${await hashPassword(body.password)} WHERE id = ${personId}`);
}
