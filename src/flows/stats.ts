import { sql } from 'drizzle-orm';
import { query, type Tx } from '../db/client.ts';
import { allSteps } from './paths.ts';
import type { FlowRegistry } from './registry.ts';
import type { CouponEventName, Flow, Step, Trigger } from './types.ts';

/** A trigger as written in YAML. */
export type TriggerJson =
  | { follow: true }
  | { keyword: string[] }
  | { pattern: string }
  | { postback: string }
  | { ref: string }
  | { coupon: { event: CouponEventName; campaign: string } };

export function triggerToJson(t: Trigger): TriggerJson {
  switch (t.type) {
    case 'follow': return { follow: true };
    case 'keyword': return { keyword: t.keywords };
    case 'pattern': return { pattern: t.pattern };
    case 'postback': return { postback: t.payload };
    case 'ref': return { ref: t.ref };
    case 'coupon': return { coupon: { event: t.event, campaign: t.campaign } };
  }
}

/**
 * Per step: how many runs entered it and how many moved on from it (`completed`, or a refused
 * coupon / an ask out of retries that went on). Entered minus completed is where contacts stopped.
 */
export async function stepCounts(tx: Tx): Promise<Map<string, { entered: number; completed: number }>> {
  const r = await query(tx, sql`
    SELECT flow_id AS "flowId", step_path AS "stepPath", count(DISTINCT run_id)::int AS entered,
      count(DISTINCT run_id) FILTER (WHERE outcome IN ('completed', 'refused', 'exhausted'))::int AS completed
    FROM flow_step_runs GROUP BY flow_id, step_path`);
  const out = new Map<string, { entered: number; completed: number }>();
  for (const row of r.rows as Array<{ flowId: string; stepPath: string; entered: number; completed: number }>) {
    out.set(`${row.flowId}\u0000${row.stepPath}`, { entered: row.entered, completed: row.completed });
  }
  return out;
}

/**
 * What a step does, as written in its file, for the console to put in words: the text it says or
 * asks, the campaign whose coupon it gives, what it waits for.
 */
export function stepDetail(step: Step) {
  switch (step.type) {
    case 'say': return { text: step.text, ...(step.image ? { image: step.image } : {}), ...(step.quickReplies ? { quickReplies: step.quickReplies.map((q) => q.label) } : {}) };
    case 'coupon': return { campaign: step.campaign };
    case 'ask': return {
      text: step.ask, expect: step.expect, save: step.save, retries: step.retries,
      ...(step.choices ? { choices: step.choices } : {}), ...(step.min !== undefined ? { min: step.min } : {}), ...(step.max !== undefined ? { max: step.max } : {}),
    };
    case 'if': return { condition: step.source };
    case 'wait': return { duration: step.source, ms: step.ms };
    case 'tag': case 'untag': return { tags: step.tags };
    case 'handoff': return step.text ? { text: step.text } : {};
    case 'goto': return { flowId: step.flowId };
  }
}

/** Runs waiting now at each step (for an answer, for time, or with an agent). */
export async function waitingCounts(tx: Tx): Promise<Map<string, number>> {
  const r = await query(tx, sql`
    SELECT flow_id AS "flowId", step_path AS "stepPath", count(*)::int AS n
    FROM flow_runs WHERE status IN ('waiting', 'handoff') AND step_path IS NOT NULL GROUP BY flow_id, step_path`);
  return new Map((r.rows as Array<{ flowId: string; stepPath: string; n: number }>).map((row) => [`${row.flowId}\u0000${row.stepPath}`, row.n]));
}

/** Names of the campaigns these slugs point at (a slug without a campaign is left out). */
async function campaignNames(tx: Tx, slugs: string[]): Promise<Map<string, string>> {
  if (slugs.length === 0) return new Map();
  const r = await query(tx, sql`SELECT slug, name FROM campaigns WHERE slug IN (${sql.join(slugs.map((s) => sql`${s}`), sql`, `)})`);
  return new Map((r.rows as Array<{ slug: string; name: string }>).map((row) => [row.slug, row.name]));
}

export async function flowsListing(tx: Tx, registry: FlowRegistry) {
  const counts = await stepCounts(tx);
  const waiting = await waitingCounts(tx);
  const listing = registry.listing();
  const slugs = new Set<string>();
  for (const entry of listing.flows) {
    if (!entry.flow) continue;
    if (entry.flow.trigger.type === 'coupon') slugs.add(entry.flow.trigger.campaign);
    for (const { step } of allSteps(entry.flow.steps)) if (step.type === 'coupon') slugs.add(step.campaign);
  }
  const names = await campaignNames(tx, [...slugs]);
  const flowJson = (entry: (typeof listing.flows)[number]) => {
    const flow: Flow | null = entry.flow;
    return {
      id: entry.id,
      name: flow?.name ?? null,
      file: entry.file,
      trigger: flow ? triggerToJson(flow.trigger) : null,
      ...(flow?.channels ? { channels: flow.channels } : {}),
      loaded: entry.loaded,
      ...(entry.error ? { error: entry.error } : {}),
      steps: flow ? allSteps(flow.steps).map(({ path, step }) => ({
        path, type: step.type, ...(counts.get(`${flow.id}\u0000${path}`) ?? { entered: 0, completed: 0 }),
        waiting: waiting.get(`${flow.id}\u0000${path}`) ?? 0,
        detail: stepDetail(step),
      })) : [],
    };
  };
  return {
    flows: listing.flows.map(flowJson),
    errors: listing.errors,
    problems: listing.problems,
    /** Campaign names by slug, for the steps and triggers that name a campaign. */
    campaigns: Object.fromEntries(names),
  };
}
