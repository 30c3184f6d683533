import { sql } from 'drizzle-orm';
import type { OutboundMessage } from '../../adapters/types.ts';
import { handOffConversation, setContactAttribute, type ContactRow, type ConversationRow } from '../contacts/contacts.ts';
import { channelCapabilities } from '../channels.ts';
import type { AppContext } from '../context.ts';
import { campaignTimeZone, findCampaignBySlug, type CampaignRow } from '../coupons/campaigns.ts';
import { couponPageUrl, issueCoupon, type IssueRequest } from '../coupons/issue.ts';
import { formatDeadline } from '../coupons/rules.ts';
import { query, type Tx } from '../db/client.ts';
import { chooseLocale } from '../i18n/locales.ts';
import { selectList } from '../db/rows.ts';
import { flowRuns } from '../db/schema.ts';
import { newId } from '../lib/ids.ts';
import { branchPath, nextPath, stepAt } from './paths.ts';
import type { FlowRegistry } from './registry.ts';
import { FlowWrites, runRowKeys, type FlowBatch, type RunRow, type RunStatus, type StepRecord } from './writes.ts';
import { emptyState, type RunState, type StepEnv } from './scope.ts';
import { executeStep } from './steps/index.ts';
import type { CouponOutcome, StepInput, StepOutput } from './steps/step.ts';
import type { Flow, Step } from './types.ts';

/** A dispatch never executes more steps than this: a `goto` cycle ends as a failed run. */
export const MAX_STEPS_PER_DISPATCH = 50;

export type { RunRow, RunStatus } from './writes.ts';

const runColumns = selectList(flowRuns, runRowKeys);

export async function activeRun(tx: Tx, contactId: string): Promise<RunRow | null> {
  const r = await query(tx, sql`SELECT ${runColumns} FROM flow_runs WHERE contact_id = ${contactId} AND status IN ('running', 'waiting')`);
  return (r.rows[0] as unknown as RunRow | undefined) ?? null;
}

/**
 * Locks the contact (one flow transaction per contact at a time: runs, tags and attributes change
 * under this lock) and reads its running flow, in one round trip.
 */
export async function lockContactRun(tx: Tx, contactId: string): Promise<RunRow | null> {
  const r = await query(tx, sql`
    SELECT r.* FROM contacts c
    LEFT JOIN LATERAL (SELECT ${runColumns} FROM flow_runs WHERE contact_id = c.id AND status IN ('running', 'waiting')) r ON true
    WHERE c.id = ${contactId} FOR UPDATE OF c`);
  const row = r.rows[0] as unknown as RunRow | undefined;
  return row?.id ? row : null;
}

/**
 * `lockContactRun` for many contacts in one statement (locked in id order): each contact's
 * running or waiting run, or null. Keyed by contact id.
 */
export async function lockContactRuns(tx: Tx, contactIds: string[]): Promise<Map<string, RunRow | null>> {
  const ids = [...new Set(contactIds)].sort();
  const r = await query(tx, sql`
    SELECT c.id AS "lockedContactId", r.* FROM contacts c
    LEFT JOIN LATERAL (SELECT ${runColumns} FROM flow_runs WHERE contact_id = c.id AND status IN ('running', 'waiting')) r ON true
    WHERE c.id = ANY(${sql.param(ids)}::text[]) ORDER BY c.id FOR UPDATE OF c`);
  const out = new Map<string, RunRow | null>();
  for (const row of r.rows as unknown as Array<RunRow & { lockedContactId: string }>) {
    const { lockedContactId, ...run } = row;
    out.set(lockedContactId, run.id ? run : null);
  }
  return out;
}

export async function getRun(tx: Tx, id: string, opts: { forUpdate?: boolean } = {}): Promise<RunRow | null> {
  const r = await query(tx, sql`SELECT ${runColumns} FROM flow_runs WHERE id = ${id} ${opts.forUpdate ? sql`FOR UPDATE` : sql``}`);
  return (r.rows[0] as unknown as RunRow | undefined) ?? null;
}

/**
 * Everything one transaction does to a contact's flows: the contact and conversation as they
 * change, the reply token (used by the first message only), the step budget, and the writes held
 * until `flush` (messages, tags, run rows, step records, resume jobs: see FlowWrites). Sessions of
 * one batch of events share their writes, written once for the batch.
 */
export class RunSession {
  readonly ctx: AppContext;
  readonly tx: Tx;
  readonly registry: FlowRegistry;
  readonly contact: ContactRow;
  readonly conversation: ConversationRow;
  readonly now: Date;
  private replyToken: string | null;
  private readonly replyTokenExpiresAt: Date | null;
  private stepsLeft = MAX_STEPS_PER_DISPATCH;
  private readonly writes: FlowWrites;
  /** The batch of events the session is one of (it writes the held writes), or null. */
  private readonly batch: FlowBatch | null;
  /** Outbox rows written: the caller wakes the delivery worker after commit. */
  wroteOutbox = false;
  /** Campaigns by slug as read in this transaction, shared by the sessions of one batch of events. */
  private readonly campaigns: Map<string, Promise<CampaignRow | null>>;

  constructor(opts: {
    ctx: AppContext; tx: Tx; registry: FlowRegistry; contact: ContactRow; conversation: ConversationRow;
    replyToken?: string | null; replyTokenExpiresAt?: Date | null; batch?: FlowBatch;
  }) {
    this.ctx = opts.ctx;
    this.tx = opts.tx;
    this.registry = opts.registry;
    this.batch = opts.batch ?? null;
    this.writes = this.batch?.writes ?? new FlowWrites();
    this.campaigns = this.batch?.campaigns ?? new Map();
    const view = this.writes.view(opts.contact);
    this.contact = { ...opts.contact, tags: view.tags, attributes: view.attributes };
    this.conversation = { ...opts.conversation };
    this.now = opts.ctx.clock();
    this.replyToken = opts.replyToken ?? null;
    this.replyTokenExpiresAt = opts.replyTokenExpiresAt ?? null;
  }

  env(): StepEnv {
    return {
      now: this.now,
      timeZone: this.ctx.config.TZ_DEFAULT,
      channel: this.contact.channel,
      text: channelCapabilities(this.ctx, this.contact.channel),
      locale: chooseLocale({ contact: this.contact.language, fallback: this.ctx.config.DEFAULT_LOCALE }),
      contact: { displayName: this.contact.displayName, language: this.contact.language, tags: this.contact.tags, attributes: this.contact.attributes },
    };
  }

  /** The reply token for the first outbound message of the dispatch; later ones push. */
  private takeReply(): { replyToken: string | null; replyTokenExpiresAt: Date | null } {
    const token = this.replyToken;
    this.replyToken = null;
    return { replyToken: token, replyTokenExpiresAt: token ? this.replyTokenExpiresAt : null };
  }

  peekReply(): { replyToken: string | null; replyTokenExpiresAt: Date | null } {
    return { replyToken: this.replyToken, replyTokenExpiresAt: this.replyToken ? this.replyTokenExpiresAt : null };
  }

  send(message: OutboundMessage): void {
    this.writes.send({
      id: newId('msg'), channel: this.contact.channel, contactId: this.contact.id, conversationId: this.conversation.id, message, ...this.takeReply(),
    });
    this.wroteOutbox = true;
  }

  /** The campaign named by a flow, read once per transaction (a batch of events issues it many times). */
  private async campaign(slug: string): Promise<CampaignRow | null> {
    let row = this.campaigns.get(slug);
    if (row === undefined) this.campaigns.set(slug, row = findCampaignBySlug(this.tx, slug));
    return await row;
  }

  async issue(slug: string, flowId: string): Promise<CouponOutcome> {
    const row = await this.campaign(slug);
    const req: IssueRequest = {
      campaign: row ? { row } : { slug }, contact: this.contact, conversation: this.conversation, source: 'flow', flowId, ...this.peekReply(),
      holdCard: (card) => this.writes.send(card),
    };
    const result = this.batch ? await this.batch.issues.issue(req) : await issueCoupon(this.ctx, this.tx, req);
    if (!result.ok) {
      const campaign = result.code === 'not_found' ? null : row;
      const locale = chooseLocale({ contact: this.contact.language, campaign: campaign?.locale, fallback: this.ctx.config.DEFAULT_LOCALE });
      return { ok: false, code: result.code, message: result.message, refusalText: campaign?.refusalText ?? null, locale };
    }
    this.takeReply();
    this.wroteOutbox = true;
    return {
      ok: true,
      name: result.campaign.name,
      pageUrl: couponPageUrl(this.ctx, result.coupon.token),
      deadline: result.coupon.expiresAt ? formatDeadline(result.coupon.expiresAt, campaignTimeZone(this.ctx, result.campaign)) : '',
    };
  }

  /** Adds tags (kept in their order, new ones last) or removes them; written by `flush`. */
  changeTags(add: string[], remove: string[]): void {
    let tags = this.contact.tags.filter((t) => !remove.includes(t));
    for (const t of add) if (!tags.includes(t)) tags = [...tags, t];
    this.contact.tags = tags;
    this.writes.setTags(this.contact.id, tags);
  }

  async saveAttribute(name: string, value: unknown): Promise<void> {
    await setContactAttribute(this.tx, this.contact.id, name, value);
    this.contact.attributes[name] = value;
  }

  useStep(): boolean {
    this.stepsLeft--;
    return this.stepsLeft >= 0;
  }

  record(r: StepRecord): void {
    this.writes.record(r, this.contact.id, this.now);
  }

  scheduleResume(runId: string, stepPath: string, at: Date): void {
    this.writes.scheduleResume(runId, stepPath, at);
  }

  /** A run's final state in this transaction, written by `flush` (with the step records). */
  saveRun(run: RunRow, isNew: boolean): void {
    this.writes.saveRun(run, isNew, this.now);
  }

  /** Writes what the session holds, unless it is one of a batch (which writes them once). */
  async flush(): Promise<void> {
    if (!this.batch) await this.writes.write(this.ctx, this.tx);
  }
}

export function newRun(session: RunSession, flow: Flow, opts: { triggerKey?: string; state?: RunState } = {}): RunRow {
  return {
    id: newId('run'), contactId: session.contact.id, conversationId: session.conversation.id, flowId: flow.id, startFlowId: flow.id,
    status: 'running', stepPath: '0', waitingFor: null, resumeAt: null, state: opts.state ?? emptyState(), endReason: null,
    triggerKey: opts.triggerKey ?? null, startedAt: session.now,
  };
}

async function updateRun(session: RunSession, run: RunRow): Promise<void> {
  const ended = run.status !== 'running' && run.status !== 'waiting';
  await query(session.tx, sql`
    UPDATE flow_runs SET flow_id = ${run.flowId}, status = ${run.status}, step_path = ${run.stepPath}, waiting_for = ${run.waitingFor},
      resume_at = ${run.resumeAt}, state = ${JSON.stringify(run.state)}::jsonb, end_reason = ${run.endReason},
      updated_at = ${session.now}, ended_at = ${ended ? session.now : null}
    WHERE id = ${run.id}`);
}

/**
 * Records a trigger that matched while another flow was running and could not interrupt it
 * (written by the session's `flush`, with its other runs). A coupon event passes its trigger key
 * (the caller has checked it is not taken yet).
 */
export function recordDropped(session: RunSession, flow: Flow, running: RunRow, triggerKey?: string): void {
  const run = { ...newRun(session, flow, triggerKey ? { triggerKey } : {}), status: 'dropped' as const, stepPath: null,
    endReason: `dropped: the contact was in flow "${running.flowId}" (${running.id})` };
  session.saveRun(run, true);
  session.ctx.log.info({ flow: flow.id, contact: session.contact.id, running: running.id }, 'flow trigger dropped: another flow is running');
}

export async function interruptRun(session: RunSession, run: RunRow, by: Flow): Promise<void> {
  await updateRun(session, { ...run, status: 'interrupted', waitingFor: null, resumeAt: null, endReason: `interrupted by flow "${by.id}"` });
}

/** Starts a run of `flow` from its first step (the caller has dealt with any running flow). */
export async function startRun(session: RunSession, flow: Flow, opts: { triggerKey?: string; state?: RunState } = {}): Promise<RunRow> {
  const run = newRun(session, flow, opts);
  await drive(session, run, '0', { phase: 'enter' }, true);
  return run;
}

/**
 * Whether a waiting run's step is still the kind of step it waits at. A file edited while
 * contacts are inside a flow can move or remove that step.
 */
export function isStale(registry: FlowRegistry, run: RunRow): boolean {
  const flow = registry.get(run.flowId);
  const step = flow && run.stepPath ? stepAt(flow.steps, run.stepPath) : null;
  return !step || step.type !== (run.waitingFor === 'answer' ? 'ask' : 'wait');
}

/** Ends a run whose flow changed under it (see isStale). */
export async function endStale(session: RunSession, run: RunRow): Promise<void> {
  session.ctx.log.warn({ run: run.id, flow: run.flowId, step: run.stepPath }, 'flow run ended: its flow changed while it waited');
  await updateRun(session, { ...run, status: 'failed', waitingFor: null, resumeAt: null, endReason: `flow "${run.flowId}" changed while the run waited at step ${run.stepPath}` });
}

/** Feeds a waiting run its answer or its wake-up. */
export async function continueRun(session: RunSession, run: RunRow, input: StepInput): Promise<void> {
  await drive(session, { ...run }, run.stepPath!, input, false);
}

function fail(run: RunRow, reason: string): void {
  run.status = 'failed';
  run.waitingFor = null;
  run.resumeAt = null;
  run.endReason = reason;
}

/** Runs one step, performing its effects; a coupon step is called again with the issue's outcome. */
async function runStep(session: RunSession, run: RunRow, step: Step, path: string, input: StepInput): Promise<StepOutput> {
  let out = executeStep(step, run.state, input, session.env());
  for (let i = 0; i < out.effects.length; i++) {
    const effect = out.effects[i]!;
    switch (effect.type) {
      case 'send':
        session.send(effect.message);
        break;
      case 'issueCoupon': {
        const result = await session.issue(effect.campaign, run.flowId);
        const then = executeStep(step, out.state, { phase: 'coupon', result }, session.env());
        out = { ...then, effects: [...out.effects.slice(0, i + 1), ...then.effects] };
        break;
      }
      case 'save':
        await session.saveAttribute(effect.name, effect.value);
        break;
      case 'tag':
        session.changeTags(effect.tags, []);
        break;
      case 'untag':
        session.changeTags([], effect.tags);
        break;
      case 'handoff':
        await handOffConversation(session.tx, session.conversation.id, session.now);
        session.conversation.handoffAt = session.conversation.handoffAt ?? session.now;
        break;
      case 'resumeAt':
        run.resumeAt = effect.at;
        session.scheduleResume(run.id, path, effect.at);
        break;
    }
  }
  return out;
}

/** The step loop: enter or continue at `path`, follow `next` until the run waits or ends, then save it. */
async function drive(session: RunSession, run: RunRow, startPath: string, startInput: StepInput, isNew: boolean): Promise<void> {
  let path: string | null = startPath;
  let input: StepInput = startInput;
  run.status = 'running';
  run.waitingFor = null;
  run.resumeAt = null;
  while (path !== null) {
    const flow = session.registry.get(run.flowId);
    if (!flow) { fail(run, `flow "${run.flowId}" is no longer loaded`); break; }
    const step = stepAt(flow.steps, path);
    if (!step) { fail(run, `flow "${run.flowId}" has no step ${path} any more (the file changed)`); break; }
    if (!session.useStep()) {
      fail(run, `stopped after ${MAX_STEPS_PER_DISPATCH} steps in one go (a goto cycle?)`);
      session.record({ runId: run.id, flowId: flow.id, stepPath: path, stepType: step.type, outcome: 'failed' });
      session.ctx.log.error({ run: run.id, flow: flow.id, step: path }, 'flow run stopped: too many steps in one dispatch');
      break;
    }
    run.stepPath = path;
    const out = await runStep(session, run, step, path, input);
    run.state = out.state;
    session.record({ runId: run.id, flowId: flow.id, stepPath: path, stepType: step.type, outcome: out.outcome });
    const next = out.next;
    input = { phase: 'enter' };
    if (next.kind === 'advance') {
      path = nextPath(flow.steps, path);
    } else if (next.kind === 'branch') {
      path = branchPath(flow.steps, path, next.branch);
    } else if (next.kind === 'await') {
      if (next.for === 'coupon') throw new Error('a coupon step must settle within its run');
      run.status = 'waiting';
      run.waitingFor = next.for;
      break;
    } else if (next.kind === 'goto') {
      if (!session.registry.get(next.flowId)) { fail(run, `goto: flow "${next.flowId}" is not loaded`); break; }
      run.flowId = next.flowId;
      path = '0';
    } else {
      run.status = next.status;
      break;
    }
  }
  const status = run.status as RunStatus;
  if (path === null && status === 'running') run.status = 'done';
  if (status === 'failed') session.ctx.log.warn({ run: run.id, flow: run.flowId, reason: run.endReason }, 'flow run failed');
  else if (status === 'handoff') run.endReason = 'handed off to an agent';
  if (status !== 'waiting') {
    run.waitingFor = null;
    run.resumeAt = null;
  }
  session.saveRun(run, isNew);
}
