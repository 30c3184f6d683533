import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';

/** What people's services need: the database and the clock (the invite command has no more). */
export type PeopleContext = Pick<AppContext, 'db' | 'clock'>;
import { query, type Tx } from '../db/client.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import { newId, sha256 } from '../lib/ids.ts';
import { recordAudit } from './audit.ts';
import { roles, type Actor, type Role } from './roles.ts';

export interface Person {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  hasPassword: boolean;
  createdAt: Date;
}

const personColumns = sql`id, name, email, role, password_hash IS NOT NULL AS "hasPassword", created_at AS "createdAt"`;

export const personBody = z.object({
  name: z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters')
    .refine((s) => !s.includes('@'), 'must not contain @ (that is how an email is told from a name at sign-in)'),
  email: z.email('must be an email address').max(200).transform((s) => s.toLowerCase()).optional(),
  role: z.enum(roles, { error: `must be one of ${roles.join(', ')}` }),
}).strict();

const tokenName = z.object({ name: z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters') }).strict();

/** An API token: `ccp_` and 32 random bytes. Only its SHA-256 is stored. */
export function newApiToken(): string {
  return `ccp_${crypto.randomBytes(32).toString('base64url')}`;
}

function uniqueViolation(err: unknown): string | null {
  const e = err as { code?: string; constraint?: string; cause?: { code?: string; constraint?: string } };
  const c = e.cause ?? e;
  return c.code === '23505' ? (c.constraint ?? 'unique') : null;
}

export function personToJson(p: Person) {
  return { id: p.id, name: p.name, email: p.email, role: p.role, hasPassword: p.hasPassword, createdAt: p.createdAt.toISOString() };
}

/** Adds a person with a first API token (shown once) and records it. */
export async function createPerson(ctx: PeopleContext, actor: Actor, input: unknown): Promise<{ person: Person; token: string }> {
  const token = newApiToken();
  return { person: await insertPerson(ctx, actor, input, token), token };
}

async function insertPerson(ctx: PeopleContext, actor: Actor, input: unknown, token: string | null): Promise<Person> {
  const body = parseOrThrow(personBody, input);
  const now = ctx.clock();
  try {
    return await ctx.db.transaction(async (tx) => {
      const id = newId('psn');
      const r = await query(tx, sql`
        INSERT INTO people (id, name, email, role, created_at) VALUES (${id}, ${body.name}, ${body.email ?? null}, ${body.role}, ${now})
        RETURNING ${personColumns}`);
      const person = r.rows[0] as unknown as Person;
      if (token) await insertToken(tx, id, 'first token', token, now);
      await recordAudit(tx, ctx.clock, actor, 'person.added', { type: 'person', id, name: person.name }, { role: person.role, ...(person.email ? { email: person.email } : {}) });
      return person;
    });
  } catch (err) {
    const which = uniqueViolation(err);
    if (which === 'people_email_key') throw new AppError('conflict', `email: ${body.email} is already used by another person`);
    if (which === 'people_name_key') throw new AppError('conflict', `name: "${body.name}" is already used by another person (names sign in, so they are unique)`);
    throw err;
  }
}

export async function listPeople(tx: Tx): Promise<Person[]> {
  const r = await query(tx, sql`SELECT ${personColumns} FROM people WHERE removed_at IS NULL ORDER BY created_at, id`);
  return r.rows as unknown as Person[];
}

export async function getPerson(tx: Tx, id: string): Promise<Person> {
  const r = await query(tx, sql`SELECT ${personColumns} FROM people WHERE id = ${id} AND removed_at IS NULL`);
  const p = r.rows[0] as unknown as Person | undefined;
  if (!p) throw new AppError('not_found', `person ${id} does not exist`);
  return p;
}

/** Removes a person: its tokens, sessions and sign-in links stop working in the same transaction. */
export async function removePerson(ctx: PeopleContext, actor: Actor, id: string): Promise<Person> {
  if (actor.id === id) throw new AppError('conflict', 'you cannot remove yourself; ask another owner');
  const now = ctx.clock();
  return await ctx.db.transaction(async (tx) => {
    const r = await query(tx, sql`
      UPDATE people SET removed_at = ${now} WHERE id = ${id} AND removed_at IS NULL RETURNING ${personColumns}`);
    const person = r.rows[0] as unknown as Person | undefined;
    if (!person) throw new AppError('not_found', `person ${id} does not exist`);
    await query(tx, sql`UPDATE api_tokens SET revoked_at = ${now} WHERE person_id = ${id} AND revoked_at IS NULL`);
    await query(tx, sql`UPDATE sessions SET revoked_at = ${now} WHERE person_id = ${id} AND revoked_at IS NULL`);
    await query(tx, sql`UPDATE sign_in_links SET used_at = ${now} WHERE person_id = ${id} AND used_at IS NULL`);
    await recordAudit(tx, ctx.clock, actor, 'person.removed', { type: 'person', id, name: person.name }, { role: person.role });
    return person;
  });
}

const roleBody = z.object({ role: z.enum(roles, { error: `must be one of ${roles.join(', ')}` }) }).strict();

/** Gives a person another role; it applies to their next request (sessions and tokens keep working). */
export async function changeRole(ctx: PeopleContext, actor: Actor, id: string, input: unknown): Promise<Person> {
  const { role } = parseOrThrow(roleBody, input);
  if (actor.id === id) throw new AppError('conflict', 'you cannot change your own role; ask another owner');
  return await ctx.db.transaction(async (tx) => {
    const before = await query(tx, sql`SELECT role FROM people WHERE id = ${id} AND removed_at IS NULL FOR UPDATE`);
    const was = (before.rows[0] as { role: Role } | undefined)?.role;
    if (!was) throw new AppError('not_found', `person ${id} does not exist`);
    const r = await query(tx, sql`UPDATE people SET role = ${role} WHERE id = ${id} RETURNING ${personColumns}`);
    const person = r.rows[0] as unknown as Person;
    if (was !== role) await recordAudit(tx, ctx.clock, actor, 'person.role_changed', { type: 'person', id, name: person.name }, { from: was, to: role });
    return person;
  });
}

async function insertToken(tx: Tx, personId: string, name: string, token: string, now: Date): Promise<string> {
  const id = newId('tok');
  await query(tx, sql`INSERT INTO api_tokens (id, person_id, name, token_hash, created_at) VALUES (${id}, ${personId}, ${name}, ${sha256(token)}, ${now})`);
  return id;
}

export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function tokenToJson(t: ApiTokenInfo) {
  return { id: t.id, name: t.name, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null };
}

export async function createToken(ctx: PeopleContext, actor: Actor, personId: string, input: unknown): Promise<ApiTokenInfo & { token: string }> {
  const { name } = parseOrThrow(tokenName, input);
  const token = newApiToken();
  const now = ctx.clock();
  return await ctx.db.transaction(async (tx) => {
    const person = await getPerson(tx, personId);
    const id = await insertToken(tx, personId, name, token, now);
    await recordAudit(tx, ctx.clock, actor, 'token.created', { type: 'person', id: personId, name: person.name }, { tokenId: id, tokenName: name });
    return { id, name, createdAt: now, lastUsedAt: null, token };
  });
}

export async function listTokens(tx: Tx, personId: string): Promise<ApiTokenInfo[]> {
  await getPerson(tx, personId);
  const r = await query(tx, sql`
    SELECT id, name, created_at AS "createdAt", last_used_at AS "lastUsedAt" FROM api_tokens
    WHERE person_id = ${personId} AND revoked_at IS NULL ORDER BY created_at, id`);
  return r.rows as unknown as ApiTokenInfo[];
}

export async function revokeToken(ctx: PeopleContext, actor: Actor, personId: string, tokenId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const person = await getPerson(tx, personId);
    const r = await query(tx, sql`
      UPDATE api_tokens SET revoked_at = ${ctx.clock()} WHERE id = ${tokenId} AND person_id = ${personId} AND revoked_at IS NULL RETURNING name`);
    const row = r.rows[0] as { name: string } | undefined;
    if (!row) throw new AppError('not_found', `token ${tokenId} of person ${personId} does not exist or is already revoked`);
    await recordAudit(tx, ctx.clock, actor, 'token.revoked', { type: 'person', id: personId, name: person.name }, { tokenId, tokenName: row.name });
  });
}

/** The person an API token belongs to, or null (unknown, revoked, or its person removed). */
export async function actorOfApiToken(ctx: PeopleContext, token: string): Promise<Actor | null> {
  if (!token.startsWith('ccp_') || token.length > 100) return null;
  const now = ctx.clock();
  // last_used_at is refreshed at most once a minute per token: no write on every request.
  const r = await query(ctx.db, sql`
    WITH t AS (
      SELECT t.id, p.id AS "personId", p.name, p.role, t.last_used_at
      FROM api_tokens t JOIN people p ON p.id = t.person_id
      WHERE t.token_hash = ${sha256(token)} AND t.revoked_at IS NULL AND p.removed_at IS NULL
    ), touch AS (
      UPDATE api_tokens SET last_used_at = ${now} FROM t
      WHERE api_tokens.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < ${new Date(now.getTime() - 60_000)})
    )
    SELECT "personId", name, role FROM t`);
  const row = r.rows[0] as { personId: string; name: string; role: Role } | undefined;
  return row ? { id: row.personId, name: row.name, role: row.role } : null;
}

/**
 * `npm run user:invite`: the person named by email (or name) if there is one, else a new person
 * without an API token (the link is how they get in).
 */
export async function findOrAddPerson(ctx: PeopleContext, actor: Actor, input: { name: string; email?: string; role: Role }): Promise<{ person: Person; added: boolean }> {
  const login = (input.email ?? input.name).toLowerCase();
  const r = await query(ctx.db, sql`
    SELECT ${personColumns} FROM people WHERE removed_at IS NULL AND (lower(email) = ${login} OR lower(name) = ${login}) LIMIT 1`);
  const existing = r.rows[0] as unknown as Person | undefined;
  if (existing) return { person: existing, added: false };
  return { person: await insertPerson(ctx, actor, input, null), added: true };
}
