import type { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { JobContract } from './contract.ts';

/**
 * One entry of the job catalog: a contract (contract.ts) and its idempotent handler (any job can
 * run twice).
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> extends JobContract<S> {
  /**
   * Written as a method so a definition fits the catalog's `JobDefinition` list: the runner only
   * calls it with a payload its own schema has parsed.
   */
  handler(payload: z.infer<S>, ctx: AppContext): Promise<void>;
}

/** Attaches a handler to a contract (catalog.ts), or takes a whole definition. */
export function defineJob<S extends z.ZodType>(contract: JobContract<S>, handler: (payload: z.infer<S>, ctx: AppContext) => Promise<void>): JobDefinition<S>;
export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S>;
export function defineJob<S extends z.ZodType>(
  contract: JobContract<S> | JobDefinition<S>, handler?: (payload: z.infer<S>, ctx: AppContext) => Promise<void>,
): JobDefinition<S> {
  if (handler) return { ...contract, handler };
  if (!('handler' in contract)) throw new Error(`job ${contract.name} has no handler`);
  return contract;
}
