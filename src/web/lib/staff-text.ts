/**
 * What the staff pages (teacher console, classroom screen, reports) say alike: their common
 * catalog, added to the shared one when a staff page loads, and the labels they all write.
 */
import type { RosterCounts, RosterStatus } from '../../shared/events.js';
import { COUNT_LABELS } from '../../shared/counts.js';
import { staffEn } from '../locales/staff-en.js';
import { addCatalog } from './i18n.js';

/** A staff page's message of `key` in the page's language. */
export const st = addCatalog('staff', staffEn);

/** A roster status as the staff pages name it. */
export const statusLabel = (status: RosterStatus): string => st(`status.${status}`);

/** The teacher console's count line: every bucket (in the shared order), then the total they add up to. */
export function countsLine(c: RosterCounts): string {
  const items = COUNT_LABELS.map(([key]) => st('count.item', { label: st(`count.${key}`), count: c[key] }));
  return st('count.line', { items: items.join(' · '), total: c.total });
}
