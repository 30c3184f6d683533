import { PgBoss, type Job, type JobWithMetadata } from 'pg-boss';
import type { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { Logger } from '../lib/logger.ts';
import type { DeadLetter, DeadLetterLister, DeadLetterPage, JobContract, JobSender, SendOptions } from './contract.ts';
import type { JobDefinition } from './define.ts';

/**
 * The dead-letter queue: jobs whose payload failed its schema (when sent or when consumed), and
 * jobs that failed all their retries. Nothing works it; the admin API lists it
 * (`GET /api/v1/jobs/dead-letters`). Kept a year.
 */
export const DEAD_LETTER_QUEUE = 'jobs.dead-letter';
const DEAD_LETTER_RETENTION_SECONDS = 365 * 86_400;

/** Thrown by `send` for a payload its schema refuses (a bug in the sender): the payload is in the dead-letter queue. */
export class InvalidJobPayloadError extends Error {
  readonly queue: string;
  readonly deadLetterId: string | null;
  readonly issues: DeadLetter['issues'];
  constructor(queue: string, deadLetterId: string | null, issues: DeadLetter['issues']) {
    super(`job ${queue}: payload refused by its schema (${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}); kept in ${DEAD_LETTER_QUEUE}`);
    this.name = 'InvalidJobPayloadError';
    this.queue = queue;
    this.deadLetterId = deadLetterId;
    this.issues = issues;
  }
}

/** A queue's policy as the catalog says it: what pg-boss stores per queue. */
export function queuePolicy(job: JobContract) {
  return {
    retryLimit: job.retryLimit,
    retryDelay: job.retryDelaySeconds,
    retryBackoff: job.retryBackoff,
    expireInSeconds: job.expireInSeconds,
    deadLetter: DEAD_LETTER_QUEUE,
  };
}
type QueuePolicy = ReturnType<typeof queuePolicy>;
const deadLetterPolicy = { retentionSeconds: DEAD_LETTER_RETENTION_SECONDS };

interface InvalidPayloadEntry {
  deadLetter: 'invalid_payload';
  queue: string;
  stage: 'send' | 'consume';
  issues: DeadLetter['issues'];
  payload: unknown;
}

const issuesOf = (error: z.ZodError): DeadLetter['issues'] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));

/** Runs the job catalog on pg-boss, on the service's own PostgreSQL. */
export class JobRunner implements JobSender, DeadLetterLister {
  readonly boss: PgBoss;
  private readonly jobs: JobDefinition[];
  private readonly log: Logger;
  private started = false;

  /**
   * How long stop() lets running jobs (a serial pack being loaded) finish before it gives them up;
   * a job given up is picked up again after its expiry, from the start (its work is one transaction).
   */
  private readonly stopGraceMs: number;

  constructor(connectionString: string, jobs: JobDefinition[], log: Logger, opts: { stopGraceMs?: number } = {}) {
    this.stopGraceMs = opts.stopGraceMs ?? 20_000;
    this.boss = new PgBoss({ connectionString, max: 4, application_name: 'chatcoupon-jobs', useListenNotify: true });
    this.boss.on('error', (err: unknown) => log.error({ err }, 'job queue error'));
    this.jobs = jobs;
    this.log = log;
  }

  /**
   * Installs pg-boss's schema and the queues, and brings every existing queue's policy to what
   * the catalog says (pg-boss's createQueue leaves an existing queue as it is); with `work`,
   * also starts the workers.
   */
  async start(ctx: AppContext, options: { work: boolean }): Promise<void> {
    await this.boss.start();
    await this.syncQueue(DEAD_LETTER_QUEUE, deadLetterPolicy);
    for (const job of this.jobs) await this.syncQueue(job.name, { ...queuePolicy(job), notify: true });
    this.started = true;
    if (!options.work) return;
    for (const job of this.jobs) {
      await this.boss.work(job.name, {
        batchSize: job.batchSize,
        burstWhenBatchFull: job.batchSize > 1,
        pollingIntervalSeconds: 1,
        // Delayed jobs (flow waits, retries) become due without a NOTIFY: poll often enough to run them on time.
        notifyPollingIntervalSeconds: 1,
      }, (batch: Job<unknown>[]) => this.runBatch(job, batch, ctx));
      if (job.cron) await this.boss.schedule(job.name, job.cron, {}, { tz: 'UTC' });
    }
  }

  /** Creates the queue, or updates the fields of its stored policy that differ from `policy`. */
  private async syncQueue(name: string, policy: Partial<QueuePolicy> & { notify?: boolean; retentionSeconds?: number }): Promise<void> {
    const existing = await this.boss.getQueue(name);
    if (!existing) {
      await this.boss.createQueue(name, policy);
      return;
    }
    const stored = existing as unknown as Record<string, unknown>;
    const changed = Object.fromEntries(Object.entries(policy)
      .filter(([k, v]) => (stored[k] ?? null) !== v)
      .map(([k, v]) => [k, { from: stored[k] ?? null, to: v }]));
    if (Object.keys(changed).length === 0) return;
    await this.boss.updateQueue(name, policy);
    this.log.info({ queue: name, changed }, 'job queue policy updated');
  }

  /**
   * Runs one batch of a job's due work now, as its worker would: for commands and tests that
   * drive jobs by hand. Returns how many jobs it took.
   */
  async workOnce(ctx: AppContext, job: JobDefinition): Promise<number> {
    const batch = await this.boss.fetch(job.name, { batchSize: job.batchSize });
    if (batch.length === 0) return 0;
    try {
      await this.runBatch(job, batch, ctx);
      await this.boss.complete(job.name, batch.map((j) => ({ id: j.id, retryCount: j.retryCount })));
    } catch (err) {
      await this.boss.fail(job.name, batch.map((j) => ({ id: j.id, retryCount: j.retryCount })), { message: String(err) });
    }
    return batch.length;
  }

  private async runBatch(job: JobDefinition, batch: Job<unknown>[], ctx: AppContext): Promise<void> {
    const failed: Array<{ job: Job<unknown>; err: unknown }> = [];
    const done: Job<unknown>[] = [];
    for (const item of batch) {
      const parsed = job.payload.safeParse(item.data ?? {});
      if (!parsed.success) {
        // It can never succeed: keep it in the dead-letter queue, where an operator can see it.
        const issues = issuesOf(parsed.error);
        const id = await this.deadLetter({ deadLetter: 'invalid_payload', queue: job.name, stage: 'consume', issues, payload: item.data ?? null });
        this.log.error({ job: job.name, id: item.id, deadLetterId: id, issues }, 'job payload is invalid; moved to the dead-letter queue');
        done.push(item);
        continue;
      }
      try {
        await job.handler(parsed.data, ctx);
        done.push(item);
      } catch (err) {
        this.log.error({ err, job: job.name, id: item.id, retryCount: item.retryCount }, 'job failed');
        failed.push({ job: item, err });
      }
    }
    if (failed.length === 0) return;
    // Settle the good ones ourselves, then fail the batch: pg-boss retries only what is still active.
    if (done.length > 0) await this.boss.complete(job.name, done.map((j) => ({ id: j.id, retryCount: j.retryCount })));
    throw failed[0]!.err instanceof Error ? failed[0]!.err : new Error(String(failed[0]!.err));
  }

  private async deadLetter(entry: InvalidPayloadEntry): Promise<string | null> {
    return await this.boss.send(DEAD_LETTER_QUEUE, entry);
  }

  /**
   * Sends a job after checking its payload against the job's schema. A refused payload goes to
   * the dead-letter queue and the sender gets an `InvalidJobPayloadError`.
   */
  async send<S extends z.ZodType>(job: JobContract<S>, payload: z.infer<S>, options: SendOptions = {}): Promise<string | null> {
    if (!this.started) throw new Error('job runner is not started');
    const parsed = job.payload.safeParse(payload);
    if (!parsed.success) {
      const issues = issuesOf(parsed.error);
      const id = await this.deadLetter({ deadLetter: 'invalid_payload', queue: job.name, stage: 'send', issues, payload: payload ?? null });
      this.log.error({ job: job.name, deadLetterId: id, issues }, 'job payload is invalid; not sent, kept in the dead-letter queue');
      throw new InvalidJobPayloadError(job.name, id, issues);
    }
    return await this.boss.send(job.name, payload as object, {
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
    });
  }

  async listDeadLetters(opts: { limit: number; after?: string }): Promise<DeadLetterPage> {
    const jobs = await this.boss.findJobs<unknown>(DEAD_LETTER_QUEUE, { limit: opts.limit + 1, ...(opts.after ? { after: opts.after } : {}) });
    const page = jobs.slice(0, opts.limit);
    return {
      deadLetters: page.map(toDeadLetter),
      next: jobs.length > opts.limit ? page[page.length - 1]!.id : null,
    };
  }

  async hasDeadLetter(id: string): Promise<boolean> {
    return (await this.boss.findJobs(DEAD_LETTER_QUEUE, { id, limit: 1 })).length > 0;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: this.stopGraceMs, close: true });
  }
}

const isInvalidPayloadEntry = (data: unknown): data is InvalidPayloadEntry =>
  typeof data === 'object' && data !== null && (data as { deadLetter?: unknown }).deadLetter === 'invalid_payload';

function toDeadLetter(j: JobWithMetadata<unknown>): DeadLetter {
  if (isInvalidPayloadEntry(j.data)) {
    return {
      id: j.id, queue: j.data.queue, reason: 'invalid_payload', stage: j.data.stage, issues: j.data.issues,
      error: null, payload: j.data.payload, deadAt: j.createdOn.toISOString(),
    };
  }
  // Copied here by pg-boss when a job failed all its retries.
  return {
    id: j.id, queue: j.sourceName, reason: 'failed', stage: null, issues: [],
    error: j.sourceOutput ?? null, payload: j.data ?? null, deadAt: j.createdOn.toISOString(),
  };
}
