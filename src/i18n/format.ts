import type { RewardFields } from '../coupons/rules.ts';
import { homeTimeZone, type Locale } from './locales.ts';
import { messages } from './messages.ts';
import { dateTimeFormat, numberFormat } from '../lib/intl.ts';

/**
 * Money as shops of each country write it: whole amounts without decimals (JPY has none
 * anyway, TWD and THB prices are whole), two decimals when the amount has cents. A shop's own
 * currency in its own language reads as its people write it ("1,000円", "100元", "100 บาท");
 * elsewhere Intl's symbol, or its narrow form when the symbol would be the bare ISO code.
 */
export function formatMoney(locale: Locale, value: number, currency: string): string {
  const digits = Number.isInteger(value) ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  const number = () => numberFormat(locale, digits).format(value);
  const home = messages(locale).homeMoney;
  if (home && home.currency === currency) return home.format({ amount: number() });
  try {
    const withSymbol = numberFormat(locale, { style: 'currency', currency, ...digits }).format(value);
    if (!withSymbol.includes(currency)) return withSymbol;
    return numberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol', ...digits }).format(value);
  } catch {
    // Not a currency Intl knows: the number and the code as given.
    return `${number()} ${currency}`;
  }
}

export function formatNumber(locale: Locale, value: number): string {
  return numberFormat(locale).format(value);
}

export interface DateOptions {
  /** Add the zone's short name ("JST", "GMT+8") when a reader might be elsewhere. */
  zoneName?: 'auto' | 'always' | 'never';
}

/**
 * A date and time in the campaign's zone, in the reader's own way of writing dates (Thai
 * readers get the Buddhist era, as on every Thai receipt). With `zoneName: 'auto'` the zone's
 * short name is added unless the zone is the one the language is at home in (Tokyo for
 * Japanese, Taipei for Taiwan, Bangkok for Thai): an English reader always sees it.
 */
export function formatDateTime(locale: Locale, date: Date, timeZone: string, opts: DateOptions = {}): string {
  const mode = opts.zoneName ?? 'auto';
  const showZone = mode === 'always' || (mode === 'auto' && homeTimeZone[locale] !== timeZone);
  return dateTimeFormat(locale, {
    timeZone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    ...(showZone ? { timeZoneName: 'short' } : {}),
  }).format(date).replace(/\[(.+)\]$/, '$1');
}

/** The date alone and the time alone (with the zone's short name as `formatDateTime` adds it), for "Used on … at …". */
export function formatDateAndTime(locale: Locale, date: Date, timeZone: string, opts: DateOptions = {}): { date: string; time: string } {
  const mode = opts.zoneName ?? 'auto';
  const showZone = mode === 'always' || (mode === 'auto' && homeTimeZone[locale] !== timeZone);
  return {
    date: dateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric' }).format(date),
    time: dateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(showZone ? { timeZoneName: 'short' } : {}) })
      .format(date).replace(/\[(.+)\]$/, '$1'),
  };
}

/** The reward in the reader's words: "10% off", "9折", "1,000円引き", "ลด 100 บาท"; a gift as the marketer wrote it. */
export function describeRewardIn(locale: Locale, r: RewardFields): string {
  const m = messages(locale);
  let reward: string;
  switch (r.rewardType) {
    case 'percent': reward = m.percentOff({ percent: r.rewardValue ?? 0 }); break;
    case 'amount': reward = m.amountOff({ amount: formatMoney(locale, r.rewardValue ?? 0, r.rewardCurrency ?? '') }); break;
    case 'gift': reward = r.rewardText ?? m.giftDefault; break;
  }
  if (!r.minSpend) return reward;
  const amount = r.rewardCurrency ? formatMoney(locale, r.minSpend, r.rewardCurrency) : formatNumber(locale, r.minSpend);
  return m.withMinSpend({ reward, amount });
}

/** A coupon's validity after redemption ("3 days", "3日間", "3天", "3 วัน"). */
export function describeDuration(locale: Locale, minutes: number, unit: 'days' | 'hours'): string {
  const m = messages(locale);
  return unit === 'days' ? m.durationDays({ count: minutes / 1440 }) : m.durationHours({ count: minutes / 60 });
}
