/** Numbers and dates as the consoles show them (the browser's locale for dates). */

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function num(n: number | string | null | undefined): string {
  return typeof n === 'number' ? n.toLocaleString('en') : String(n ?? '');
}

export function pct(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A date for `<input type="datetime-local">`, in the browser's zone, to the minute. */
export function localInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function dateInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : localInput(d);
}

/** A `datetime-local` value as an ISO instant, or null when empty or not a date. */
export function isoOf(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * A zone as a person reads it: its IANA name and its offset now, e.g. `Asia/Tokyo (GMT+9)`.
 * Campaign dates are always shown and entered in the campaign's zone, named like this.
 */
export function zoneLabel(timeZone: string, at: Date = new Date()): string {
  try {
    const offset = new Intl.DateTimeFormat('en', { timeZone, timeZoneName: 'shortOffset' }).formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value;
    return offset && offset !== timeZone ? `${timeZone} (${offset})` : timeZone;
  } catch {
    return timeZone;
  }
}

/** Every IANA zone the browser knows, with UTC (which some browsers leave out of the list). */
export function timeZones(): string[] {
  const list = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return list.includes('UTC') ? list : ['UTC', ...list];
}

/** An amount in its currency, as the console (in English) writes it: ¥1,200, NT$350.50, THB 99. */
export function money(n: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency, ...(Number.isInteger(n) ? { minimumFractionDigits: 0 } : {}) }).format(n);
  } catch {
    return `${num(n)} ${currency}`;
  }
}
