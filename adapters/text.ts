const words = new Intl.Segmenter(undefined, { granularity: 'word' });
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Cuts to `max` UTF-16 units (the stricter way to count) and adds "…". It never splits what a
 * reader sees as one letter (a Thai consonant with its vowel and tone marks, an emoji sequence,
 * a letter with combining accents), and it ends on a word boundary, found by the platform's word
 * segmentation (Thai, Japanese and Chinese are written without spaces), unless that would throw
 * away more than half of the room: then it ends after the last whole letter that fits.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = max - 1;
  let byWords = '';
  for (const { segment } of words.segment(text)) {
    if (byWords.length + segment.length > room) break;
    byWords += segment;
  }
  let out = byWords.trimEnd();
  if (out.length < room / 2) {
    out = '';
    for (const { segment } of graphemes.segment(text)) {
      if (out.length + segment.length > room) break;
      out += segment;
    }
    out = out.trimEnd();
  }
  return `${out}…`;
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
