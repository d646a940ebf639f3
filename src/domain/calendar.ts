const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day ('YYYY-MM-DD') of an instant in an IANA time zone. */
export function dayIn(timeZone: string, at: Date): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(at);
}

/**
 * The time zone as it will be stored, or null when this runtime does not know it. A name in
 * the wrong case gets the runtime's spelling ('europe/paris' gives 'Europe/Paris'); a valid
 * name is otherwise kept as written (resolvedOptions would turn Asia/Kolkata into the old
 * Asia/Calcutta).
 */
export function canonicalTimeZone(name: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    // RangeError: not a time zone this runtime knows.
    return null;
  }
  if (name.toUpperCase() === 'UTC') return 'UTC';
  const lower = name.toLowerCase();
  return Intl.supportedValuesOf('timeZone').find((z) => z.toLowerCase() === lower) ?? name;
}

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/**
 * An instant as the wall-clock time of a time zone, in ISO 8601 with its offset:
 * '2026-03-02T10:00:00+01:00'. Exports use it, so times read as the organisation's own.
 */
export function localIso(timeZone: string, at: Date): string {
  let f = wallClocks.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    wallClocks.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value])) as Record<string, string>;
  const wall = `${p['year']}-${p['month']}-${p['day']}T${p['hour']}:${p['minute']}:${p['second']}`;
  // The offset is what the wall clock is ahead of UTC at that instant (whole seconds dropped).
  const offsetMin = Math.round((Date.parse(`${wall}Z`) - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${wall}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** How far the wall clock of a time zone is ahead of UTC at an instant, in minutes. */
export function offsetMinutes(timeZone: string, at: Date): number {
  const iso = localIso(timeZone, at);
  const sign = iso.charAt(19) === '-' ? -1 : 1;
  return sign * (Number(iso.slice(20, 22)) * 60 + Number(iso.slice(23, 25)));
}

/**
 * The instant a calendar day's wall-clock time ('HH:MM') happens in a time zone, whatever its
 * offset that day (summer time or not). A time the clocks skip (the hour lost in spring) is
 * read with the offset from before the change, so it lands just after the skipped hour; a time
 * that happens twice (the hour repeated in autumn) is its first occurrence.
 */
export function instantAt(timeZone: string, day: string, time: string): Date {
  const asUtc = Date.parse(`${day}T${time}:00Z`);
  const before = offsetMinutes(timeZone, new Date(asUtc - 86_400_000 / 2));
  const first = asUtc - before * 60_000;
  const after = offsetMinutes(timeZone, new Date(first));
  if (after === before) return new Date(first);
  const second = asUtc - after * 60_000;
  // Only a wall time that exists reads back as itself; otherwise keep the pre-change reading.
  return offsetMinutes(timeZone, new Date(second)) === after ? new Date(second) : new Date(first);
}

/** The calendar day `n` days after `day` (both 'YYYY-MM-DD'). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** ISO weekday of a calendar day: 1 = Monday ... 7 = Sunday. */
export function isoWeekday(day: string): number {
  const d = new Date(Date.parse(`${day}T00:00:00Z`)).getUTCDay();
  return d === 0 ? 7 : d;
}
