/** Cuts to `max` UTF-16 units (the stricter way to count) without splitting a character. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out.trimEnd()}…`;
}

// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const loneSurrogates = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Escaping for a value put into a plain chat text (LINE, Messenger): control characters (but new
 * lines and tabs) are removed, nothing else means anything there.
 */
export function escapePlainText(value: string): string {
  return value.replace(controlCharacters, '');
}

/** The same for a text sent inside JSON to a strict parser: lone surrogates are removed too. */
export function escapeJsonText(value: string): string {
  return escapePlainText(value).replace(loneSurrogates, '');
}
