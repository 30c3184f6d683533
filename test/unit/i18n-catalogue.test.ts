import { describe, expect, it } from '@jest/globals';
import { describeRewardIn, formatDateTime, formatMoney } from '../../src/i18n/format.ts';
import { chooseLocale, localeFromAcceptLanguage, locales, matchLocale } from '../../src/i18n/locales.ts';
import { catalogue, messages, type Messages } from '../../src/i18n/messages.ts';
import type { RewardFields } from '../../src/coupons/rules.ts';

/** Sample variables for every message that takes some: every branch gets exercised. */
const samples: Array<Record<string, unknown>> = [
  { count: 1, duration: '«3»', date: '«1»', name: '«2»', reward: '«4»', limit: 1, code: '«5»', keyword: '«6»', url: '«7»', amount: '«8»', percent: 10, deadline: '«9»', time: '«10»' },
  { count: 3, duration: '«3»', date: '«1»', name: '«2»', reward: '«4»', limit: 3, code: '«5»', keyword: '«6»', url: '«7»', amount: '«8»', percent: 15, deadline: null, time: '«10»' },
];
/** Messages whose date may be unknown. */
const withoutDate: Record<string, unknown> = { date: null, name: '«2»', url: '«7»' };
const nullableDate = new Set(['alreadyVerified', 'reminder']);

/** Every text a message can produce, as [path, text]. */
function texts(m: Messages): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (path: string, v: unknown) => {
    // A currency code is data, not a text.
    if (typeof v === 'string') { if (!path.endsWith('.currency')) out.push([path, v]); }
    else if (typeof v === 'function') {
      samples.forEach((s, i) => walk(`${path}#${i}`, (v as (p: unknown) => unknown)(s)));
      if (nullableDate.has(path)) walk(`${path}#nodate`, (v as (p: unknown) => unknown)(withoutDate));
    }
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(`${path}.${k}`, x);
  };
  for (const [key, value] of Object.entries(m)) walk(key, value);
  return out;
}

describe('the message catalogue', () => {
  const enKeys = Object.keys(catalogue.en).sort();

  it.each(locales)('has every key in %s, each a non-empty text', (locale) => {
    expect(Object.keys(catalogue[locale]).sort()).toEqual(enKeys);
    const status = Object.keys(catalogue[locale].status).sort();
    expect(status).toEqual(Object.keys(catalogue.en.status).sort());
    for (const [path, text] of texts(catalogue[locale])) {
      expect([path, text.trim().length > 0]).toEqual([path, true]);
    }
  });

  it.each(locales.filter((l) => l !== 'en'))('translates every text in %s (none left in English)', (locale) => {
    const en = new Map(texts(catalogue.en));
    for (const [path, text] of texts(catalogue[locale])) {
      // Texts made only of variables and punctuation may coincide; anything with words may not.
      if (/[A-Za-z]{3,}/.test(en.get(path) ?? '')) expect([path, text]).not.toEqual([path, en.get(path)]);
      // Latin words in our own Japanese, Chinese or Thai are English left behind (examples such as name@example.com aside).
      expect([path, text.replace(/name@example\.com/g, '').match(/[A-Za-z]{2,}/g)]).toEqual([path, null]);
    }
  });

  it('writes Chinese with Taiwan\'s characters and words, not mainland ones', () => {
    const zh = texts(catalogue['zh-TW']).map(([, t]) => t).join('\n');
    for (const simplified of ['优', '兑', '换', '码', '过', '时', '间', '请', '这', '们', '发', '现', '无', '经', '钟', '选', '择', '项', '输', '号', '邮', '链', '续', '确', '认', '销', '单', '页', '网', '络', '错', '误', '说', '买', '张', '数']) {
      expect([simplified, zh.includes(simplified)]).toEqual([simplified, false]);
    }
    for (const mainland of ['视频', '信息', '短信', '二维码', '用户', '登录', '链接', '手机号']) expect([mainland, zh.includes(mainland)]).toEqual([mainland, false]);
    expect(zh).toContain('優惠券');
    expect(zh).toContain('兌換');
    expect(zh).toContain('使用期限');
    expect(zh).toContain('已售完');
  });

  it('speaks polite Japanese: sentences end in です・ます forms, never plain forms', () => {
    const sentences = texts(catalogue.ja).map(([, t]) => t).flatMap((t) => t.split(/(?<=。)/)).filter((s) => s.endsWith('。'));
    expect(sentences.length).toBeGreaterThan(20);
    const polite = /(です|ます|ません|ました|でした|ください|ございません|おります)(（[^）]*）)?。$/;
    for (const s of sentences) expect([s, polite.test(s)]).toEqual([s, true]);
  });

  it('writes Thai in one neutral shop register: no ค่ะ/ครับ, no full stops', () => {
    for (const [path, t] of texts(catalogue.th)) {
      expect([path, /ค่ะ|คะ|ครับ|นะคะ/.test(t)]).toEqual([path, false]);
      expect([path, /[\u0E00-\u0E7F]\.(\s|$)/.test(t)]).toEqual([path, false]);
    }
    expect(messages('th').useBy({ date: 'x' })).toBe('ใช้ได้ถึง x');
  });

  it('uses Intl plural rules: one day, two days; no plural forms where the language has none', () => {
    expect(messages('en').durationDays({ count: 1 })).toBe('1 day');
    expect(messages('en').durationDays({ count: 2 })).toBe('2 days');
    expect(messages('en').durationHours({ count: 1 })).toBe('1 hour');
    expect(messages('ja').durationDays({ count: 3 })).toBe('3日間');
    expect(messages('zh-TW').durationHours({ count: 12 })).toBe('12小時');
    expect(messages('th').durationDays({ count: 1000 })).toBe('1,000 วัน');
  });
});

describe('money', () => {
  it('writes each shop\'s own currency the way its people do, without decimals unless the amount has them', () => {
    expect(formatMoney('ja', 1000, 'JPY')).toBe('1,000円');
    expect(formatMoney('en', 1000, 'JPY')).toBe('¥1,000');
    expect(formatMoney('zh-TW', 100, 'TWD')).toBe('100元');
    expect(formatMoney('en', 100, 'TWD')).toBe('NT$100');
    expect(formatMoney('zh-TW', 99.5, 'TWD')).toBe('99.50元');
    expect(formatMoney('th', 1500, 'THB')).toBe('1,500 บาท');
    expect(formatMoney('th', 99.5, 'THB')).toBe('99.50 บาท');
    expect(formatMoney('en', 100, 'THB')).toBe('฿100');
    expect(formatMoney('ja', 100, 'TWD')).toBe('NT$100');
    expect(formatMoney('en', 5, 'XQQ')).toBe('XQQ\u00a05');
  });

  it('describes rewards and minimum spends in the reader\'s words', () => {
    const base: RewardFields = { rewardType: 'percent', rewardValue: 10, rewardCurrency: null, rewardText: null, minSpend: null };
    expect(describeRewardIn('en', base)).toBe('10% off');
    expect(describeRewardIn('ja', base)).toBe('10%オフ');
    expect(describeRewardIn('zh-TW', base)).toBe('9折');
    expect(describeRewardIn('zh-TW', { ...base, rewardValue: 15 })).toBe('85折');
    expect(describeRewardIn('th', base)).toBe('ลด 10%');
    const amount: RewardFields = { rewardType: 'amount', rewardValue: 100, rewardCurrency: 'TWD', rewardText: null, minSpend: 500 };
    expect(describeRewardIn('zh-TW', amount)).toBe('折抵100元（消費滿500元可使用）');
    expect(describeRewardIn('en', amount)).toBe('NT$100 off (min. spend NT$500)');
    expect(describeRewardIn('ja', { ...amount, rewardCurrency: 'JPY', rewardValue: 300, minSpend: 1500 })).toBe('300円引き（1,500円以上のお買い上げで）');
    expect(describeRewardIn('th', { ...amount, rewardCurrency: 'THB', rewardValue: 50, minSpend: 300 })).toBe('ลด 50 บาท (เมื่อซื้อครบ 300 บาท)');
    // A gift is the marketer's own text, shown as written.
    expect(describeRewardIn('ja', { ...base, rewardType: 'gift', rewardText: 'Free cookie' })).toBe('Free cookie');
  });
});

describe('dates', () => {
  const d = new Date('2026-12-31T14:59:00Z');
  it('shows every date in the campaign\'s zone, with the zone\'s short name where the reader may be elsewhere', () => {
    expect(formatDateTime('ja', d, 'Asia/Tokyo')).toBe('2026年12月31日 23:59');
    expect(formatDateTime('ja', d, 'Asia/Taipei')).toBe('2026年12月31日 22:59 GMT+8');
    expect(formatDateTime('zh-TW', d, 'Asia/Taipei')).toBe('2026年12月31日 22:59');
    expect(formatDateTime('zh-TW', d, 'UTC')).toBe('2026年12月31日 14:59 UTC');
    expect(formatDateTime('th', d, 'Asia/Bangkok')).toBe('31 ธ.ค. 2569 21:59');
    expect(formatDateTime('en', d, 'Asia/Tokyo')).toBe('Dec 31, 2026, 23:59 GMT+9');
    expect(formatDateTime('en', d, 'UTC')).toBe('Dec 31, 2026, 14:59 UTC');
  });
});

describe('choosing the language', () => {
  it('matches tags to our four languages; every Chinese reads Taiwan\'s Traditional Chinese', () => {
    expect(matchLocale('ja')).toBe('ja');
    expect(matchLocale('ja-JP')).toBe('ja');
    expect(matchLocale('zh-Hant')).toBe('zh-TW');
    expect(matchLocale('zh-HK')).toBe('zh-TW');
    expect(matchLocale('zh_TW')).toBe('zh-TW');
    expect(matchLocale('th-TH')).toBe('th');
    expect(matchLocale('en-GB')).toBe('en');
    expect(matchLocale('ko')).toBeNull();
    expect(matchLocale('')).toBeNull();
  });

  it('takes the best Accept-Language match by weight', () => {
    expect(localeFromAcceptLanguage('ko-KR,ko;q=0.9,ja;q=0.8,en;q=0.7')).toBe('ja');
    expect(localeFromAcceptLanguage('en;q=0.5, zh-Hant-HK')).toBe('zh-TW');
    expect(localeFromAcceptLanguage('fr, de;q=0.9')).toBeNull();
    expect(localeFromAcceptLanguage('th;q=0, en;q=0.1')).toBe('en');
    expect(localeFromAcceptLanguage('*')).toBeNull();
    expect(localeFromAcceptLanguage(undefined)).toBeNull();
  });

  it('prefers the browser\'s choice, then the contact, the browser, the campaign, the default', () => {
    const all = { cookie: 'th', contact: 'ja', acceptLanguage: 'zh-TW', campaign: 'en', fallback: 'en' as const };
    expect(chooseLocale(all)).toBe('th');
    expect(chooseLocale({ ...all, cookie: 'xx' })).toBe('ja');
    expect(chooseLocale({ ...all, cookie: null, contact: 'ko' })).toBe('zh-TW');
    expect(chooseLocale({ ...all, cookie: null, contact: null, acceptLanguage: 'fr' })).toBe('en');
    expect(chooseLocale({ campaign: 'th', fallback: 'en' })).toBe('th');
    expect(chooseLocale({ campaign: 'xx', fallback: 'ja' })).toBe('ja');
  });
});
