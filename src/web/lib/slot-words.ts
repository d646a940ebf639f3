/** Weekdays and days in the page's language, as meetings and sessions name them. */
import { FORMAT_LOCALE } from '../../shared/i18n/languages.js';
import { pageLanguage } from './i18n.js';

/** Weekday `n` (1 Monday … 7 Sunday, as meetings number them) in the page's language. */
export function weekdayName(n: number): string {
  // 2024-01-01 was a Monday.
  const monday = Date.UTC(2024, 0, 1);
  return new Intl.DateTimeFormat(FORMAT_LOCALE[pageLanguage()], { weekday: 'long', timeZone: 'UTC' }).format(monday + (n - 1) * 86_400_000);
}

/** A 'YYYY-MM-DD' is already the organisation's day: read at noon UTC, it names itself. */
export const dayLabel = (day: string): string =>
  new Intl.DateTimeFormat(FORMAT_LOCALE[pageLanguage()], { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(
    new Date(`${day}T12:00:00Z`),
  );
