/**
 * Wall-clock times in a named time zone (a campaign's `timeZone`), whatever zone the browser is
 * in: a marketer in Bangkok schedules a Tokyo campaign's broadcast for 10:00 Tokyo time.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock of `instant` in `timeZone`, as milliseconds of a UTC date with the same fields. */
function wallClock(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
}

/** Whether the browser knows this IANA zone. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A `datetime-local` value (`2026-12-24T10:00`) read as a wall clock in `timeZone`, as an ISO
 * instant; null when it is not a date. In a gap (clocks moved forward) it lands after the gap; in
 * an overlap (clocks moved back) on the first of the two moments.
 */
export function zonedToIso(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s);
  if (Number.isNaN(asUtc)) return null;
  // The zone's offset near that time, then again at the candidate (it differs across a change).
  const offset1 = wallClock(asUtc, timeZone) - asUtc;
  let instant = asUtc - offset1;
  const offset2 = wallClock(instant, timeZone) - instant;
  if (offset2 !== offset1) {
    const other = asUtc - offset2;
    // Both candidates are valid in an overlap: the earlier one. In a gap neither shows the wall
    // clock asked for; the later offset moves it past the gap.
    if (wallClock(other, timeZone) === asUtc) instant = Math.min(instant, other);
    else if (wallClock(instant, timeZone) !== asUtc) instant = Math.max(instant, other);
  }
  return new Date(instant).toISOString();
}

/** An instant as a `datetime-local` value on the wall clock of `timeZone`, to the minute. */
export function isoToZoned(iso: string, timeZone: string): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const w = new Date(wallClock(t, timeZone));
  return `${w.getUTCFullYear()}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}`;
}

/** An instant shown on the wall clock of `timeZone` with the zone named: `2026-12-24 10:00 (Asia/Tokyo)`. */
export function zonedText(iso: string, timeZone: string): string {
  const v = isoToZoned(iso, timeZone);
  return v ? `${v.replace('T', ' ')} (${timeZone})` : '';
}
