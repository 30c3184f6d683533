import { describe, expect, it } from '@jest/globals';
import { retryAfterMs, unanswered } from '../../adapters/http-outcome.ts';
import { headerValue, safeEqual, sha256SignatureMatches, signSha256Body } from '../../adapters/signature.ts';
import { truncate } from '../../adapters/text.ts';

describe('shared adapter helpers', () => {
  it('reads Retry-After as seconds or an HTTP date, and ignores anything else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(' 7 ', now)).toBe(7000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('names the platform that did not answer', () => {
    expect(unanswered(Object.assign(new Error('t'), { name: 'TimeoutError' }), 'LINE')).toEqual({ outcome: 'retry', error: 'LINE did not answer in time', maybeDelivered: true });
    expect(unanswered(new Error('fetch failed', { cause: Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }) }), 'Graph API'))
      .toEqual({ outcome: 'retry', error: 'Graph API unreachable: fetch failed: ECONNREFUSED' });
  });

  it('checks a sha256= signature in constant time, in any case, and refuses a missing one', () => {
    const body = Buffer.from('{"a":1}');
    const signature = signSha256Body('secret', body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(sha256SignatureMatches('secret', body, ` ${signature.toUpperCase().replace('SHA256', 'sha256')} `)).toBe(true);
    expect(sha256SignatureMatches('other', body, signature)).toBe(false);
    expect(sha256SignatureMatches('secret', body, undefined)).toBe(false);
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
  });

  it('reads a header whatever its case, the first of repeated values', () => {
    const req = { rawBody: Buffer.alloc(0), headers: { 'X-Sig': ['one', 'two'], other: 'x' } };
    expect(headerValue(req, 'x-sig')).toBe('one');
    expect(headerValue(req, 'missing')).toBeUndefined();
  });

  it('truncates without splitting a character', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
  });

  it('keeps a Thai letter with its vowel and tone marks, and ends Thai, Japanese and Chinese texts on a word', () => {
    const graphemes = (t: string) => [...new Intl.Segmenter('th', { granularity: 'grapheme' }).segment(t)].map((g) => g.segment);
    const thai = 'ที่นี่มีส่วนลดพิเศษสำหรับสมาชิกทุกท่าน';
    for (let max = 2; max < thai.length; max++) {
      const cut = truncate(thai, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      const kept = graphemes(cut.slice(0, -1));
      // Every letter kept is a whole letter of the original, in order: no tone mark left behind.
      expect(graphemes(thai).slice(0, kept.length)).toEqual(kept);
    }
    expect(truncate(thai, 12)).toBe('ที่นี่มี…');
    expect(truncate('สวัสดีค่ะ', 4)).toBe('สวั…');
    expect(truncate('会員様限定の特別割引クーポンです', 8)).toBe('会員様限定の…');
    expect(truncate('歡迎光臨本店會員專屬優惠', 8)).toMatch(/^歡迎光臨.*…$/);
    expect(truncate('👩‍👩‍👧‍👦👩‍👩‍👧‍👦', 13)).toBe('👩‍👩‍👧‍👦…');
  });
});
