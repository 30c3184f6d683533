/**
 * How a message is compared with keywords: NFKC (full-width letters, digits and spaces become
 * half-width), case-folded, trimmed, inner runs of white space collapsed to one space.
 */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().trim().replace(/\s+/gu, ' ');
}

/** The text a `pattern` regex is tested against: NFKC and trimmed, case kept (patterns are case-insensitive). */
export function patternText(text: string): string {
  return text.normalize('NFKC').trim();
}
