import { z } from 'zod';

/** The process environment, or what a test passes instead. */
export type Env = Record<string, string | undefined>;

/** A channel's variable is wrong; the message names it (`Invalid NAME: rule`). */
export class ChannelConfigError extends Error {}

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** An http(s) URL variable (the error the service gives for every URL). */
export const urlVariable = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * Reads a channel's variables: `required` ones turn the channel on when all are set (none set:
 * off, null; some: an error naming them), `optional` ones have defaults. Empty values count as
 * unset. Errors are ChannelConfigError with one line naming the variable.
 */
export function readChannelEnv<R extends Record<string, z.ZodType<string>>, O extends Record<string, z.ZodType>>(
  env: Env, required: R, optional: O,
): ({ [K in keyof R]: string } & { [K in keyof O]: z.infer<O[K]> }) | null {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, schema] of Object.entries(required)) shape[name] = z.preprocess(emptyToUndefined, schema.optional());
  for (const [name, schema] of Object.entries(optional)) shape[name] = z.preprocess(emptyToUndefined, schema);
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ChannelConfigError(`Invalid ${String(issue.path[0])}: ${issue.message}`);
  }
  const values = parsed.data as Record<string, unknown>;
  const names = Object.keys(required);
  const set = names.filter((n) => values[n] !== undefined).length;
  if (set === 0) return null;
  if (set !== names.length) {
    const list = names.length === 2 ? names.join(' and ') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    throw new ChannelConfigError(`Invalid ${names[0]}: ${list} must be set together`);
  }
  return values as { [K in keyof R]: string } & { [K in keyof O]: z.infer<O[K]> };
}
