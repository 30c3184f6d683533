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
  handler: (payload: z.infer<S>, ctx: AppContext) => Promise<void>;
}

export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}
