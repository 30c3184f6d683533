import { PgBoss, type Job } from 'pg-boss';
import type { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { Logger } from '../lib/logger.ts';
import type { JobDefinition } from './define.ts';

export interface SendOptions {
  /** Run no earlier than this. */
  startAfter?: Date;
  /** Jobs with the same key are deduplicated while one is queued. */
  singletonKey?: string;
}

/** Sends catalog jobs; the only way services enqueue work. */
export interface JobSender {
  send<S extends z.ZodType>(job: JobDefinition<S>, payload: z.infer<S>, options?: SendOptions): Promise<string | null>;
}

/** Runs the job catalog on pg-boss, on the service's own PostgreSQL. */
export class JobRunner implements JobSender {
  readonly boss: PgBoss;
  private readonly jobs: JobDefinition[];
  private readonly log: Logger;
  private started = false;

  constructor(connectionString: string, jobs: JobDefinition[], log: Logger) {
    this.boss = new PgBoss({ connectionString, max: 4, application_name: 'chatcoupon-jobs', useListenNotify: true });
    this.boss.on('error', (err: unknown) => log.error({ err }, 'job queue error'));
    this.jobs = jobs;
    this.log = log;
  }

  /** Installs pg-boss's schema and the queues; with `work`, also starts the workers. */
  async start(ctx: AppContext, options: { work: boolean }): Promise<void> {
    await this.boss.start();
    for (const job of this.jobs) {
      await this.boss.createQueue(job.name, {
        retryLimit: job.retryLimit,
        retryDelay: job.retryDelaySeconds,
        retryBackoff: job.retryBackoff,
        expireInSeconds: job.expireInSeconds,
        notify: true,
      });
    }
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

  private async runBatch(job: JobDefinition, batch: Job<unknown>[], ctx: AppContext): Promise<void> {
    const failed: Array<{ job: Job<unknown>; err: unknown }> = [];
    const done: Job<unknown>[] = [];
    for (const item of batch) {
      const parsed = job.payload.safeParse(item.data ?? {});
      if (!parsed.success) {
        // A payload that does not match its schema can never succeed: drop it loudly.
        this.log.error({ job: job.name, id: item.id, issues: parsed.error.issues }, 'job payload is invalid; dropped');
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

  async send<S extends z.ZodType>(job: JobDefinition<S>, payload: z.infer<S>, options: SendOptions = {}): Promise<string | null> {
    if (!this.started) throw new Error('job runner is not started');
    return await this.boss.send(job.name, payload as object, {
      ...(options.startAfter ? { startAfter: options.startAfter } : {}),
      ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
    });
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: 20_000, close: true });
  }
}
