/**
 * The roster a screen holds: replaced wholesale by each snapshot (first connect and every
 * resync), patched by `roster:update` only when the entry's record version is newer.
 */
import type { RosterCounts, RosterEntry, RosterSnapshot, RosterStatus, RosterUpdate, SessionView } from '../../shared/events.js';

export class RosterState {
  session: SessionView | null = null;
  private readonly entries = new Map<string, RosterEntry>();

  /** Replaces everything held with the snapshot. */
  replace(snapshot: RosterSnapshot): void {
    this.session = snapshot.session;
    this.entries.clear();
    for (const entry of snapshot.entries) this.entries.set(entry.studentId, entry);
  }

  /** Applies an update; returns the entry when it changed what is held, else null (stale or foreign). */
  apply(update: RosterUpdate): RosterEntry | null {
    if (!this.session || update.sessionId !== this.session.id) return null;
    const held = this.entries.get(update.entry.studentId);
    if (held && held.recordVersion >= update.entry.recordVersion) return null;
    this.entries.set(update.entry.studentId, update.entry);
    return update.entry;
  }

  /** Stores an entry a command acknowledged (same version rule as updates). */
  put(entry: RosterEntry): RosterEntry | null {
    if (!this.session) return null;
    return this.apply({ sessionId: this.session.id, version: 0, entry });
  }

  get(studentId: string): RosterEntry | undefined {
    return this.entries.get(studentId);
  }

  /** Entries by name, so rows do not jump around as statuses change. */
  list(): RosterEntry[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  }

  /** Counts from the held entries, so they always agree with the roster shown. */
  counts(): RosterCounts {
    const counts: RosterCounts = { present: 0, late: 0, pending: 0, rejected: 0, excused: 0, absent: 0, notYet: 0, total: 0 };
    for (const entry of this.entries.values()) {
      counts.total += 1;
      const key = COUNT_KEY[entry.status];
      counts[key] += 1;
    }
    return counts;
  }
}

const COUNT_KEY: Record<RosterStatus, Exclude<keyof RosterCounts, 'total'>> = {
  present: 'present',
  late: 'late',
  pending: 'pending',
  rejected: 'rejected',
  excused: 'excused',
  absent: 'absent',
  'not-yet': 'notYet',
};

export const STATUS_LABEL: Record<RosterStatus, string> = {
  present: 'Present',
  late: 'Late',
  pending: 'Pending review',
  rejected: 'Rejected',
  excused: 'Excused',
  absent: 'Absent',
  'not-yet': 'Not yet',
};
