import { channelPlugins } from '../../adapters/index.ts';
import type { ChannelCapabilities, ChannelName } from '../../adapters/types.ts';
import type { Value } from './expression.ts';

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

/** A channel's text rules (its plug-in's capabilities): the longest text, and how a value is escaped. */
export type TextRules = Pick<ChannelCapabilities, 'maxTextLength' | 'escapeText'>;

// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** For a channel name the registry does not list: plain, short texts. */
const unknownChannelRules: TextRules = { maxTextLength: 2000, escapeText: (v) => v.replace(controlCharacters, '') };

/** The rules of one of the registry's channels by name, or the rules given. */
function rulesOf(channel: ChannelName | TextRules): TextRules {
  if (typeof channel !== 'string') return channel;
  return channelPlugins.find((p) => p.name === channel)?.capabilities ?? unknownChannelRules;
}

/**
 * Escaping for a value put into a chat text, by the channel's own rule (e.g. control characters
 * removed; for a channel receiving JSON, lone surrogates too).
 */
export function escapeFor(channel: ChannelName | TextRules, value: string): string {
  return rulesOf(channel).escapeText(value);
}

function display(v: Value): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.map(display).join(', ');
  return String(v);
}

/** Fills `{{name}}` placeholders; unknown names become empty. */
export function renderTemplate(text: string, channel: ChannelName | TextRules, resolve: (name: string) => Value): string {
  const rules = rulesOf(channel);
  const out = text.replace(placeholder, (_m, name: string) => rules.escapeText(display(resolve(name))));
  const limit = rules.maxTextLength;
  if (out.length <= limit) return out;
  // Never cut between the halves of a surrogate pair (an emoji): a lone half is invalid text.
  const end = /[\ud800-\udbff]/.test(out[limit - 2]!) ? limit - 2 : limit - 1;
  return `${out.slice(0, end)}…`;
}
