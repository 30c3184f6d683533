import { sql } from 'drizzle-orm';
import { query, type Tx } from '../db/client.ts';
import { allSteps } from './paths.ts';
import type { FlowRegistry } from './registry.ts';
import type { Flow, Trigger } from './types.ts';

/** A trigger as written in YAML. */
export function triggerToJson(t: Trigger): Record<string, unknown> {
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

export async function flowsListing(tx: Tx, registry: FlowRegistry) {
  const counts = await stepCounts(tx);
  const listing = registry.listing();
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
      })) : [],
    };
  };
  return { flows: listing.flows.map(flowJson), errors: listing.errors };
}
