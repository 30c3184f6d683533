import type { z } from 'zod';
import type { AppContext } from '../context.ts';

/**
 * One entry of the job catalog: a name, the zod schema of its payload, its retry policy and
 * timeout, how its worker fetches, and an idempotent handler (any job can run twice).
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  payload: S;
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  expireInSeconds: number;
  batchSize: number;
  /** Cron expression for recurring jobs (in UTC). */
  cron?: string;
  /**
   * Written as a method so a definition fits the catalog's `JobDefinition` list: the runner only
   * calls it with a payload its own schema has parsed.
   */
  handler(payload: z.infer<S>, ctx: AppContext): Promise<void>;
}

export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

/** A job for one item (a run, a coupon): retried soon and a few times, fetched in batches. */
export const itemJobPolicy = { retryLimit: 5, retryDelaySeconds: 5, retryBackoff: true, expireInSeconds: 120, batchSize: 10 } as const;

/** A sweep run every minute, one at a time: a failed run is retried, and the next minute's run catches up anyway. */
export const minuteSweepPolicy = {
  retryLimit: 3, retryDelaySeconds: 10, retryBackoff: true, expireInSeconds: 300, batchSize: 1, cron: '* * * * *',
} as const;
