import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ChannelName } from '../../adapters/types.ts';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { AppError, parseOrThrow } from '../lib/errors.ts';
import type { Actor } from '../people/roles.ts';
import { issueToUser, type IssueResult } from './issue.ts';

export interface TestContact {
  channel: ChannelName;
  userId: string;
}

/** A test contact as the API takes it: one of the channels this service runs, and the user's id there. */
function testContactBody(ctx: AppContext) {
  const channels = ctx.channelPlugins.map((p) => p.name) as [ChannelName, ...ChannelName[]];
  return z.object({
    channel: z.enum(channels, { error: `must be one of ${channels.join(', ')}` }),
    userId: z.string().trim().min(1, 'is required').max(200),
  }).strict();
}

/** The contact this person (or the admin token) sends tests to, or null before one was picked. */
export async function getTestContact(tx: Tx, actor: Pick<Actor, 'id'>): Promise<TestContact | null> {
  const r = await query(tx, sql`SELECT channel, user_id AS "userId" FROM test_contacts WHERE actor_id = ${actor.id}`);
  return (r.rows[0] as unknown as TestContact | undefined) ?? null;
}

export async function setTestContact(ctx: AppContext, actor: Pick<Actor, 'id'>, body: unknown): Promise<TestContact> {
  const c = parseOrThrow(testContactBody(ctx), body);
  await query(ctx.db, sql`INSERT INTO test_contacts (actor_id, channel, user_id, updated_at) VALUES (${actor.id}, ${c.channel}, ${c.userId}, ${ctx.clock()})
    ON CONFLICT (actor_id) DO UPDATE SET channel = EXCLUDED.channel, user_id = EXCLUDED.user_id, updated_at = EXCLUDED.updated_at`);
  return c;
}

/**
 * "Send me a test": the campaign's card to the marketer's own contact, through the outbox like any
 * card, as a test coupon (not counted, no limit, no serial taken). The contact named in the body is
 * kept as the caller's test contact; without one, the kept one is used.
 */
export async function sendTestCoupon(ctx: AppContext, campaignId: string, actor: Actor, body: unknown): Promise<{ result: IssueResult; testContact: TestContact }> {
  const given = body && typeof body === 'object' && Object.keys(body).length > 0 ? body : null;
  const testContact = given ? await setTestContact(ctx, actor, given) : await getTestContact(ctx.db, actor);
  if (!testContact) {
    throw new AppError('no_test_contact', 'pick your own contact first: send {"channel":"line","userId":"U…"} (your LINE user id, or your Messenger id); it is kept for your next tests');
  }
  const result = await issueToUser(ctx, campaignId, testContact.channel, testContact.userId, { test: true });
  return { result, testContact };
}
