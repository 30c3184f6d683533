import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { query, type Tx } from '../db/client.ts';
import { parseOrThrow, refuse, type Refusal } from '../lib/errors.ts';
import { dateTimeFormat } from '../lib/intl.ts';

export const agentLimitBody = z.object({
  perAgentPerDay: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000).nullable(),
}).strict();

/** The calendar day of `now` in the shop's time zone, as YYYY-MM-DD: an agent's day. */
export function agentDay(now: Date, timeZone: string): string {
  return dateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export async function agentLimitOf(tx: Tx, campaignId: string): Promise<number | null> {
  const r = await query(tx, sql`SELECT per_agent_per_day AS "perDay" FROM agent_limits WHERE campaign_id = ${campaignId}`);
  return (r.rows[0] as { perDay: number } | undefined)?.perDay ?? null;
}

/** Sets (or with null, removes) a campaign's per-agent daily limit. */
export async function setAgentLimit(tx: Tx, campaignId: string, input: unknown): Promise<number | null> {
  const { perAgentPerDay } = parseOrThrow(agentLimitBody, input);
  if (perAgentPerDay === null) {
    await query(tx, sql`DELETE FROM agent_limits WHERE campaign_id = ${campaignId}`);
  } else {
    await query(tx, sql`INSERT INTO agent_limits (campaign_id, per_agent_per_day) VALUES (${campaignId}, ${perAgentPerDay})
      ON CONFLICT (campaign_id) DO UPDATE SET per_agent_per_day = EXCLUDED.per_agent_per_day`);
  }
  return perAgentPerDay;
}

function limitRefusal(limit: number): Refusal<'agent_limit_reached'> {
  return refuse('agent_limit_reached', `you have sent ${limit === 1 ? 'the one coupon' : `${limit} coupons`} of this campaign you may send today (your daily limit is ${limit}); it starts again tomorrow`);
}

/**
 * Counts one send of a campaign by an agent today, or refuses it: one conditional upsert, so two
 * sends at once cannot both pass the limit. Inside the send's transaction (a refused issue rolls it back).
 */
export async function claimAgentSend(tx: Tx, personId: string, campaignId: string, day: string): Promise<Refusal<'agent_limit_reached'> | null> {
  const limit = await agentLimitOf(tx, campaignId);
  if (limit === null) return null;
  const r = await query(tx, sql`
    INSERT INTO agent_daily_counts AS a (person_id, campaign_id, day, sent) VALUES (${personId}, ${campaignId}, ${day}, 1)
    ON CONFLICT (person_id, campaign_id, day) DO UPDATE SET sent = a.sent + 1 WHERE a.sent < ${limit}
    RETURNING sent`);
  return r.rows.length === 0 ? limitRefusal(limit) : null;
}

export async function releaseAgentSend(tx: Tx, personId: string, campaignId: string, day: string): Promise<void> {
  await query(tx, sql`UPDATE agent_daily_counts SET sent = sent - 1 WHERE person_id = ${personId} AND campaign_id = ${campaignId} AND day = ${day} AND sent > 0`);
}

/** For the workbench list: each limited campaign's limit and what this agent sent of it today. */
export async function agentLimitsToday(tx: Tx, personId: string, day: string): Promise<Map<string, { perDay: number; sentToday: number; refusal: Refusal | null }>> {
  const r = await query(tx, sql`
    SELECT l.campaign_id AS "campaignId", l.per_agent_per_day AS "perDay", coalesce(a.sent, 0)::int AS "sentToday"
    FROM agent_limits l LEFT JOIN agent_daily_counts a ON a.campaign_id = l.campaign_id AND a.person_id = ${personId} AND a.day = ${day}`);
  return new Map((r.rows as Array<{ campaignId: string; perDay: number; sentToday: number }>).map((x) => [x.campaignId, {
    perDay: x.perDay, sentToday: x.sentToday, refusal: x.sentToday >= x.perDay ? limitRefusal(x.perDay) : null,
  }]));
}
