import type { z } from 'zod';

/**
 * What a job is, apart from who runs it: its name, the zod schema of its payload, its retry
 * policy and timeout, and how its worker fetches. Contracts import nothing of the service, so
 * any module may send a job without depending on the code that handles it; handlers are attached
 * where the catalog is assembled (catalog.ts).
 */
export interface JobContract<S extends z.ZodType = z.ZodType> {
  name: string;
  payload: S;
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  expireInSeconds: number;
  batchSize: number;
  /** Cron expression for recurring jobs (in UTC). */
  cron?: string;
}

export function jobContract<S extends z.ZodType>(contract: JobContract<S>): JobContract<S> {
  return contract;
}

/** A job for one item (a run, a coupon): retried soon and a few times, fetched in batches. */
export const itemJobPolicy = { retryLimit: 5, retryDelaySeconds: 5, retryBackoff: true, expireInSeconds: 120, batchSize: 10 } as const;

/** A sweep run every minute, one at a time: a failed run is retried, and the next minute's run catches up anyway. */
export const minuteSweepPolicy = {
  retryLimit: 3, retryDelaySeconds: 10, retryBackoff: true, expireInSeconds: 300, batchSize: 1, cron: '* * * * *',
} as const;

export interface SendOptions {
  /** Run no earlier than this. */
  startAfter?: Date;
  /** Jobs with the same key are deduplicated while one is queued. */
  singletonKey?: string;
}

/** Sends jobs by contract; the only way services enqueue work. */
export interface JobSender {
  send<S extends z.ZodType>(job: JobContract<S>, payload: z.infer<S>, options?: SendOptions): Promise<string | null>;
}

export interface DeadLetter {
  id: string;
  /** The queue (job name) the job was meant for. */
  queue: string | null;
  /** `invalid_payload`: refused by its schema; `failed`: failed all its retries. */
  reason: 'invalid_payload' | 'failed';
  /** Where an invalid payload was caught. */
  stage: 'send' | 'consume' | null;
  issues: Array<{ path: string; message: string }>;
  /** What the last attempt of a failed job reported. */
  error: unknown;
  payload: unknown;
  deadAt: string;
}

export interface DeadLetterPage {
  deadLetters: DeadLetter[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** Lists the dead-letter queue, oldest first. */
export interface DeadLetterLister {
  listDeadLetters(opts: { limit: number; after?: string }): Promise<DeadLetterPage>;
  hasDeadLetter(id: string): Promise<boolean>;
}
