import { sql, type SQL } from 'drizzle-orm';
import type { ContactRow } from '../contacts/contacts.ts';
import type { CampaignRow } from '../coupons/campaigns.ts';
import { issueCoupons, type IssueRequest, type IssueResult } from '../coupons/issue.ts';
import type { AppContext } from '../context.ts';
import { query, type Tx } from '../db/client.ts';
import { outboxInsertMany, type IdentifiedOutboxMessage } from '../delivery/outbox.ts';
import { flowsResume } from '../jobs/contracts.ts';
import type { RowOf } from '../db/rows.ts';
import type { flowRuns } from '../db/schema.ts';
import type { RunState } from './scope.ts';
import type { StepOutcome } from './steps/step.ts';

export const runRowKeys = [
  'id', 'contactId', 'conversationId', 'flowId', 'startFlowId', 'status', 'stepPath', 'waitingFor', 'resumeAt', 'state',
  'endReason', 'triggerKey', 'startedAt',
] as const;

/** A flow run as the engine reads and writes it: the schema's columns, with the run's state typed. */
export type RunRow = Omit<Pick<RowOf<typeof flowRuns>, (typeof runRowKeys)[number]>, 'state'> & { state: RunState };
export type RunStatus = RunRow['status'];

export interface StepRecord {
  runId: string;
  flowId: string;
  stepPath: string;
  stepType: string;
  outcome: StepOutcome | 'failed';
}

/** A contact's tags and attributes as the flows of one transaction left them. */
interface ContactView {
  tags: string[];
  attributes: Record<string, unknown>;
  /** The tags as the database holds them (read under the contact's lock, or as last written here). */
  storedTags: string[];
  tagsChanged: boolean;
}

/**
 * What the flow runs of one transaction write, held until `write`: their messages (in the order
 * they were sent), tag changes, run rows, step records and resume jobs. A batch of events of
 * different contacts writes them all in one round trip instead of one per step.
 *
 * Held writes are read by nobody before `write` inside the transaction, except a contact's runs
 * and tags by a later event of the same contact: `dispatchEvents` writes before it reads that
 * contact's run again, and the tags are kept here (`view`). Every caller reads the contact under
 * its lock in the transaction, so the tags written are the stored ones with this transaction's
 * changes; `write` checks that (a stored value other than the one read fails the transaction).
 */
export class FlowWrites {
  private outbox: IdentifiedOutboxMessage[] = [];
  private runs: Array<{ run: RunRow; isNew: boolean; at: Date }> = [];
  private records: Array<StepRecord & { contactId: string; at: Date }> = [];
  private resumes: Array<{ runId: string; stepPath: string; at: Date }> = [];
  private readonly contacts = new Map<string, ContactView>();

  /** The contact with the tags and attributes earlier runs of this transaction left it with. */
  view(contact: ContactRow): ContactView {
    let view = this.contacts.get(contact.id);
    if (!view) {
      view = { tags: [...contact.tags], attributes: { ...contact.attributes }, storedTags: [...contact.tags], tagsChanged: false };
      this.contacts.set(contact.id, view);
    }
    return view;
  }

  setTags(contactId: string, tags: string[]): void {
    const view = this.contacts.get(contactId);
    if (!view) throw new Error(`contact ${contactId} has no view in this transaction`);
    view.tags = tags;
    view.tagsChanged = true;
  }

  send(message: IdentifiedOutboxMessage): void {
    this.outbox.push(message);
  }

  saveRun(run: RunRow, isNew: boolean, at: Date): void {
    this.runs.push({ run: { ...run }, isNew, at });
  }

  record(r: StepRecord, contactId: string, at: Date): void {
    this.records.push({ ...r, contactId, at });
  }

  scheduleResume(runId: string, stepPath: string, at: Date): void {
    this.resumes.push({ runId, stepPath, at });
  }

  /**
   * Writes everything held, in one statement, then sends the resume jobs. Inside the caller's
   * transaction a job may fire before it commits: the resume handler then finds the run not (yet)
   * waiting at that step and does nothing, and the due-run sweep picks the run up (at-least-once,
   * keyed by run and step, so a step is never executed twice).
   */
  async write(ctx: AppContext, tx: Tx): Promise<void> {
    const parts: Array<{ name: string; statement: SQL }> = [];
    const outbox = byContact(this.outbox.splice(0));
    if (outbox.length > 0) parts.push({ name: 'messages', statement: outboxInsertMany(outbox) });

    const tagged = [...this.contacts.entries()].filter(([, v]) => v.tagsChanged);
    if (tagged.length > 0) {
      parts.push({ name: 'tagged', statement: sql`
        UPDATE contacts c SET tags = ARRAY(SELECT jsonb_array_elements_text(u.tags))
        FROM unnest(${sql.param(tagged.map(([id]) => id))}::text[], ${sql.param(tagged.map(([, v]) => JSON.stringify(v.storedTags)))}::jsonb[],
          ${sql.param(tagged.map(([, v]) => JSON.stringify(v.tags)))}::jsonb[]) AS u(id, stored, tags)
        WHERE c.id = u.id AND to_jsonb(c.tags) = u.stored
        RETURNING c.id` });
    }

    const runs = this.runs.splice(0);
    const updated = runs.filter((r) => !r.isNew);
    if (updated.length > 0) {
      const col = <T>(pick: (r: (typeof updated)[number]) => T) => sql.param(updated.map(pick));
      parts.push({ name: 'updated', statement: sql`
        UPDATE flow_runs r SET flow_id = u.flow_id, status = u.status, step_path = u.step_path, waiting_for = u.waiting_for,
          resume_at = u.resume_at, state = u.state, end_reason = u.end_reason, updated_at = u.at, ended_at = u.ended_at
        FROM unnest(${col((r) => r.run.id)}::text[], ${col((r) => r.run.flowId)}::text[], ${col((r) => r.run.status)}::text[],
          ${col((r) => r.run.stepPath)}::text[], ${col((r) => r.run.waitingFor)}::text[], ${col((r) => r.run.resumeAt?.toISOString() ?? null)}::timestamptz[],
          ${col((r) => JSON.stringify(r.run.state))}::jsonb[], ${col((r) => r.run.endReason)}::text[], ${col((r) => r.at.toISOString())}::timestamptz[],
          ${col((r) => (isEnded(r.run) ? r.at.toISOString() : null))}::timestamptz[])
          AS u(id, flow_id, status, step_path, waiting_for, resume_at, state, end_reason, at, ended_at)
        WHERE r.id = u.id` });
    }
    const inserted = runs.filter((r) => r.isNew);
    if (inserted.length > 0) {
      const col = <T>(pick: (r: (typeof inserted)[number]) => T) => sql.param(inserted.map(pick));
      parts.push({ name: 'started', statement: sql`
        INSERT INTO flow_runs (id, contact_id, conversation_id, flow_id, start_flow_id, status, step_path, waiting_for, resume_at, state,
          end_reason, trigger_key, started_at, updated_at, ended_at)
        SELECT * FROM unnest(${col((r) => r.run.id)}::text[], ${col((r) => r.run.contactId)}::text[], ${col((r) => r.run.conversationId)}::text[],
          ${col((r) => r.run.flowId)}::text[], ${col((r) => r.run.startFlowId)}::text[], ${col((r) => r.run.status)}::text[],
          ${col((r) => r.run.stepPath)}::text[], ${col((r) => r.run.waitingFor)}::text[], ${col((r) => r.run.resumeAt?.toISOString() ?? null)}::timestamptz[],
          ${col((r) => JSON.stringify(r.run.state))}::jsonb[], ${col((r) => r.run.endReason)}::text[], ${col((r) => r.run.triggerKey)}::text[],
          ${col((r) => r.run.startedAt.toISOString())}::timestamptz[], ${col((r) => r.at.toISOString())}::timestamptz[],
          ${col((r) => (isEnded(r.run) ? r.at.toISOString() : null))}::timestamptz[])` });
    }
    const records = this.records.splice(0);
    if (records.length > 0) {
      const col = <T>(pick: (r: (typeof records)[number]) => T) => sql.param(records.map(pick));
      parts.push({ name: 'recorded', statement: sql`
        INSERT INTO flow_step_runs (run_id, flow_id, step_path, step_type, contact_id, at, outcome)
        SELECT * FROM unnest(${col((r) => r.runId)}::text[], ${col((r) => r.flowId)}::text[], ${col((r) => r.stepPath)}::text[],
          ${col((r) => r.stepType)}::text[], ${col((r) => r.contactId)}::text[], ${col((r) => r.at.toISOString())}::timestamptz[],
          ${col((r) => r.outcome)}::text[])` });
    }

    if (parts.length > 0) {
      // One statement: each write a data-modifying WITH (they touch different rows; a step record's
      // run is checked at the statement's end, when the run is in).
      const withs = sql.join(parts.map((p) => sql`${sql.raw(p.name)} AS (${p.statement})`), sql`, `);
      const check = tagged.length > 0 ? sql`(SELECT count(*)::int FROM tagged)` : sql`0`;
      const r = await query(tx, sql`WITH ${withs} SELECT ${check} AS tagged`);
      const written = (r.rows[0] as { tagged: number }).tagged;
      if (written !== tagged.length) {
        throw new Error(`the tags of ${tagged.length - written} contact(s) changed outside their lock: the flow writes are rolled back`);
      }
      for (const [, view] of tagged) {
        view.storedTags = [...view.tags];
        view.tagsChanged = false;
      }
    }
    const resumes = this.resumes.splice(0);
    for (const r of resumes) {
      await ctx.jobs.send(flowsResume, { runId: r.runId, stepPath: r.stepPath }, { startAfter: r.at, singletonKey: `${r.runId}:${r.stepPath}` });
    }
  }
}

/**
 * The messages with each contact's together, in the order they were sent: sessions side by side
 * send every welcome text before any card, and a delivery claim (a batch of due messages in write
 * order) must find a contact's card right behind its text to carry it in the text's reply.
 */
function byContact(messages: IdentifiedOutboxMessage[]): IdentifiedOutboxMessage[] {
  const groups = new Map<string, IdentifiedOutboxMessage[]>();
  for (const m of messages) {
    const group = groups.get(m.contactId);
    if (group) group.push(m);
    else groups.set(m.contactId, [m]);
  }
  return [...groups.values()].flat();
}

function isEnded(run: RunRow): boolean {
  return run.status !== 'running' && run.status !== 'waiting';
}

/**
 * Coupon requests of sessions running side by side in one transaction, issued together: a
 * request waits for the current turn of the event loop to end (every session of the batch has
 * then asked), and the requests go out as one `issueCoupons` call.
 */
export class IssueQueue {
  private pending: Array<{ req: IssueRequest; resolve: (r: IssueResult) => void; reject: (err: unknown) => void }> = [];
  private readonly ctx: AppContext;
  private readonly tx: Tx;

  constructor(ctx: AppContext, tx: Tx) {
    this.ctx = ctx;
    this.tx = tx;
  }

  issue(req: IssueRequest): Promise<IssueResult> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.run());
      this.pending.push({ req, resolve, reject });
    });
  }

  private async run(): Promise<void> {
    const batch = this.pending.splice(0);
    try {
      const results = await issueCoupons(this.ctx, this.tx, batch.map((p) => p.req));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/** What the sessions of one batch of events share: their writes, the campaigns they read, their coupon requests. */
export class FlowBatch {
  readonly writes = new FlowWrites();
  readonly campaigns = new Map<string, Promise<CampaignRow | null>>();
  readonly issues: IssueQueue;

  constructor(ctx: AppContext, tx: Tx) {
    this.issues = new IssueQueue(ctx, tx);
  }
}
