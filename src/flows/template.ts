import type { ChannelName } from '../../adapters/types.ts';
import type { Value } from './expression.ts';

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

/** Platform text limits: a longer text is cut rather than refused by the platform. */
const maxLength: Record<ChannelName, number> = { line: 5000, messenger: 2000, inbox: 5000 };

/**
 * Escaping for a value put into a chat text. LINE and Messenger texts are plain: control
 * characters (but new lines and tabs) are removed, nothing else means anything there. The inbox
 * receives JSON: the same, plus lone surrogates, which strict JSON parsers reject.
 */
export function escapeFor(channel: ChannelName, value: string): string {
  // eslint-disable-next-line no-control-regex
  let out = value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
  if (channel === 'inbox') out = out.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
  return out;
}

function display(v: Value): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.map(display).join(', ');
  return String(v);
}

/** Fills `{{name}}` placeholders; unknown names become empty. */
export function renderTemplate(text: string, channel: ChannelName, resolve: (name: string) => Value): string {
  const out = text.replace(placeholder, (_m, name: string) => escapeFor(channel, display(resolve(name))));
  const limit = maxLength[channel];
  if (out.length <= limit) return out;
  // Never cut between the halves of a surrogate pair (an emoji): a lone half is invalid text.
  const end = /[\ud800-\udbff]/.test(out[limit - 2]!) ? limit - 2 : limit - 1;
  return `${out.slice(0, end)}…`;
}
