/** The languages customers can read our texts in. */
export const locales = ['en', 'ja', 'zh-TW', 'th'] as const;
export type Locale = (typeof locales)[number];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value);
}

/**
 * The supported locale closest to a BCP 47 tag (a LINE profile's `language`, an
 * Accept-Language entry, a contact import), or null. Every Chinese tag reads Taiwan's
 * Traditional Chinese: zh-Hant, zh-HK and zh-MO write the same characters, and a reader
 * of Simplified Chinese is better served by it than by English.
 */
export function matchLocale(tag: string | null | undefined): Locale | null {
  if (!tag) return null;
  const parts = tag.trim().replace(/_/g, '-').toLowerCase().split('-');
  switch (parts[0]) {
    case 'en': return 'en';
    case 'ja': return 'ja';
    case 'th': return 'th';
    case 'zh': return 'zh-TW';
    default: return null;
  }
}

/**
 * The best supported locale for an Accept-Language header: entries in order of their q
 * value (ties keep the header's order), `q=0` and `*` skipped.
 */
export function localeFromAcceptLanguage(header: string | null | undefined): Locale | null {
  if (!header) return null;
  const entries = header.split(',').slice(0, 50).map((part, i) => {
    const [tag = '', ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)).find(Boolean);
    const weight = q ? Number(q[1]) : 1;
    return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, i };
  }).filter((e) => e.tag && e.tag !== '*' && e.weight > 0);
  entries.sort((a, b) => b.weight - a.weight || a.i - b.i);
  for (const e of entries) {
    const match = matchLocale(e.tag);
    if (match) return match;
  }
  return null;
}

/**
 * The language of a customer-facing text: the browser's own choice on our page (cookie), the
 * contact's language, the browser's Accept-Language, the campaign's locale, the service default.
 */
export function chooseLocale(c: {
  cookie?: string | null | undefined;
  contact?: string | null | undefined;
  acceptLanguage?: string | null | undefined;
  campaign?: string | null | undefined;
  fallback: Locale;
}): Locale {
  return (isLocale(c.cookie) ? c.cookie : null)
    ?? matchLocale(c.contact)
    ?? localeFromAcceptLanguage(c.acceptLanguage)
    ?? (isLocale(c.campaign) ? c.campaign : null)
    ?? c.fallback;
}

/**
 * The language a customer wrote a message in, from its script: Thai letters, Japanese kana,
 * Chinese characters without kana (Traditional Chinese is the Chinese we write), latin letters;
 * null when the text has none of them (digits, emoji).
 */
export function localeOfText(text: string): Locale | null {
  if (/\p{Script=Thai}/u.test(text)) return 'th';
  if (/[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(text)) return 'ja';
  if (/\p{Script=Han}/u.test(text)) return 'zh-TW';
  if (/\p{Script=Latin}/u.test(text)) return 'en';
  return null;
}

/** Each language named in itself, for the language switch. */
export const localeNames: Record<Locale, string> = { en: 'English', ja: '日本語', 'zh-TW': '繁體中文', th: 'ไทย' };

/** The zone whose readers need no zone name next to a time (everyone else sees it). */
export const homeTimeZone: Record<Locale, string | null> = { en: null, ja: 'Asia/Tokyo', 'zh-TW': 'Asia/Taipei', th: 'Asia/Bangkok' };
