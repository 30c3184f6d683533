import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { locales } from './i18n/locales.ts';
import { isTimeZone } from './lib/time-zone.ts';
import { ChannelConfigError } from '../adapters/env.ts';
import { channelPlugins } from '../adapters/index.ts';
import type { ChannelName, ChannelPlugin } from '../adapters/types.ts';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every environment variable the service reads, parsed once at start-up. */
const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(emptyToUndefined, schema.optional());

/**
 * A bearer token is one word: `Authorization: Bearer <token>` cannot carry spaces, so a token with
 * any (or made only of them) could never match. Only an empty value means "not set".
 */
const bearerSecret = z.preprocess((v) => (v === '' ? undefined : v), z.string()
  .refine((s) => !/\s/.test(s), 'must not contain spaces or other whitespace (a bearer token is one word)')
  .refine((s) => s.length >= 16, 'must be at least 16 characters')
  .optional());

const url = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

export const configSchema = z.object({
  PORT: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a port number from 0 to 65535' })
    .int('must be a port number from 0 to 65535').min(0, 'must be a port number from 0 to 65535').max(65535, 'must be a port number from 0 to 65535').default(3000)),
  DATABASE_URL: opt(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./.data')),
  PUBLIC_BASE_URL: opt(url),
  ADMIN_TOKEN: bearerSecret,
  /** Set (to 1) for one start to replace a generated admin token with a new one (ignored when ADMIN_TOKEN is set). */
  ADMIN_TOKEN_RESET: opt(z.enum(['1', 'true'], { error: 'must be 1 to generate a new admin token, or unset' })),
  POS_TOKEN: bearerSecret,
  FLOWS_DIR: z.preprocess(emptyToUndefined, z.string().default('./flows')),
  TZ_DEFAULT: z.preprocess(emptyToUndefined, z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone such as Asia/Taipei')),
  DEFAULT_LOCALE: z.preprocess(emptyToUndefined, z.enum(locales, { error: `must be one of ${locales.join(', ')}` }).default('en')),
  ACTIVE_CHAT_HOURS: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a number of hours' }).positive('must be more than 0').default(24)),
  MY_COUPONS_KEYWORDS: z.preprocess(emptyToUndefined, z.string().default('my coupons,我的優惠券')),
  INBOUND_WORKER: z.preprocess(emptyToUndefined, z.enum(['on', 'off'], { error: 'must be on or off' }).default('on')),
  RETENTION_DAYS: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(1, 'must be at least 1').default(30)),
  RETENTION_FAILED_DAYS: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(1, 'must be at least 1').default(90)),
  SIGN_IN_MAX_FAILURES_ACCOUNT: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').default(5)),
  SIGN_IN_MAX_FAILURES_ADDRESS: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').default(30)),
  SESSION_COOKIE_SAMESITE: z.preprocess(emptyToUndefined, z.enum(['lax', 'strict', 'none'], { error: 'must be lax, strict or none' }).default('lax')),
  /** Processes `npm start` runs, sharing the port and the database: a number, or `auto` for one per core. */
  WORKERS: z.preprocess(emptyToUndefined, z.string().regex(/^(auto|[1-9]\d{0,2})$/, 'must be auto (one process per core) or a number of processes from 1 to 999').default('1')),
  /** Database connections this process's service pool opens at most (pg-boss and the change feed have their own few). */
  DB_POOL_SIZE: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'must be a number of connections' }).int('must be a whole number').min(2, 'must be at least 2').max(500, 'must be at most 500').default(20)),
  STAFF_ORDER_AMOUNT: z.preprocess(emptyToUndefined, z.enum(['off', 'optional', 'required'], { error: 'must be off, optional or required' }).default('optional')),
  TILL_CURRENCY: opt(z.string().trim().toUpperCase().refine((c) => Intl.supportedValuesOf('currency').includes(c), 'must be an ISO 4217 currency code such as JPY, TWD or THB')),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info')),
});


export type Config = Omit<z.infer<typeof configSchema>, 'PUBLIC_BASE_URL' | 'MY_COUPONS_KEYWORDS'> & {
  PUBLIC_BASE_URL: string;
  MY_COUPONS_KEYWORDS: string[];
  dataDir: string;
  /** Each channel that is on, with the options its plug-in read from its own variables. */
  channels: Record<ChannelName, unknown>;
  /** WORKERS resolved: how many service processes `npm start` runs. */
  workers: number;
};

export class ConfigError extends Error {}

/**
 * Parses the environment; throws ConfigError with one line naming the variable. Each channel
 * plug-in reads its own variables (adapters/<channel>/index.ts).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, plugins: readonly ChannelPlugin[] = channelPlugins): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid ${name}: ${issue.message}`);
  }
  const c = parsed.data;
  const channels: Record<ChannelName, unknown> = {};
  for (const plugin of plugins) {
    let options: unknown;
    try {
      options = plugin.configure(env);
    } catch (err) {
      if (err instanceof ChannelConfigError) throw new ConfigError(err.message);
      throw err;
    }
    if (options !== null) channels[plugin.name] = options;
  }
  return {
    ...c,
    PUBLIC_BASE_URL: (c.PUBLIC_BASE_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    MY_COUPONS_KEYWORDS: c.MY_COUPONS_KEYWORDS.split(',').map((k) => k.trim()).filter(Boolean),
    dataDir: path.resolve(c.DATA_DIR),
    channels,
    workers: c.WORKERS === 'auto' ? os.availableParallelism() : Number(c.WORKERS),
  };
}

/** For command-line entry points: the configuration, or its one-line error and exit status 1. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
