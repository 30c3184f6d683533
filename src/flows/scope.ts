import type { ChannelName } from '../../adapters/types.ts';
import type { Locale } from '../i18n/locales.ts';
import { matchLocale } from '../i18n/locales.ts';
import type { Value } from './expression.ts';
import type { TextRules } from './template.ts';
import { dateTimeFormat } from '../lib/intl.ts';

/** What a step can see of the world; steps are pure functions of this, their state and input. */
export interface StepEnv {
  now: Date;
  timeZone: string;
  channel: ChannelName;
  /** The channel's text rules (its plug-in's capabilities); by the channel's name when absent. */
  text?: TextRules;
  /** The language of our own texts to this contact (its language, else DEFAULT_LOCALE). */
  locale: Locale;
  contact: { displayName: string | null; language: string | null; tags: string[]; attributes: Record<string, unknown> };
}

/** A run's own state, stored as jsonb on flow_runs. */
export interface RunState {
  /** Run-local values (saved answers are also stored on the contact's attributes). */
  vars: Record<string, Value>;
  /** The last coupon issued in this run, for `{{coupon.pageUrl}}` and `{{coupon.deadline}}`. */
  coupon?: { name: string; pageUrl: string; deadline: string };
  /** Failed answers to the ask the run waits on. */
  askTries?: number;
}

export const emptyState = (): RunState => ({ vars: {} });

function toValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toValue);
  return null;
}

function clockParts(now: Date, timeZone: string): Record<string, number> {
  const parts = Object.fromEntries(dateTimeFormat('en-US', {
    timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', hourCycle: 'h23', weekday: 'short',
  }).formatToParts(now).map((p) => [p.type, p.value]));
  const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour),
    weekday: weekdays.indexOf(parts.weekday ?? ''),
  };
}

/**
 * Resolves a name used in `if:` or `{{…}}`: `tags`/`contact.tags`, `contact.displayName`,
 * `contact.language` (`en`, `ja`, `zh-TW` or `th` when the contact's language is one of ours, else
 * its tag as stored, "" when unknown), `channel`, `now.year|month|day|hour|weekday` (in TZ_DEFAULT), `coupon.name|pageUrl|deadline`,
 * `contact.<saved>`, or a saved name (run value first, then the contact's attribute). Unknown: null.
 */
export function resolveName(name: string, env: StepEnv, state: RunState): Value {
  switch (name) {
    case 'tags':
    case 'contact.tags': return [...env.contact.tags];
    case 'contact.displayName': return env.contact.displayName ?? '';
    case 'contact.language': return matchLocale(env.contact.language) ?? env.contact.language ?? '';
    case 'channel':
    case 'contact.channel': return env.channel;
  }
  if (name.startsWith('now.')) {
    const part = clockParts(env.now, env.timeZone)[name.slice(4)];
    return part === undefined ? null : part;
  }
  if (name.startsWith('coupon.')) {
    const c = state.coupon as Record<string, string> | undefined;
    return c?.[name.slice(7)] ?? null;
  }
  if (name.startsWith('contact.')) return toValue(env.contact.attributes[name.slice(8)]);
  if (Object.hasOwn(state.vars, name)) return state.vars[name]!;
  return toValue(env.contact.attributes[name]);
}
