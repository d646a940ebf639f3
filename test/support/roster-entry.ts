import type { RosterEntry } from '../../src/shared/events.js';

/** A roster line of `studentId` (named after them), checked in once, nothing else set. */
export function rosterEntry(studentId: string, opts: { recordVersion?: number; status?: RosterEntry['status'] } = {}): RosterEntry {
  return {
    studentId,
    name: studentId,
    studentNumber: null,
    status: opts.status ?? 'present',
    reason: null,
    flags: [],
    distanceM: null,
    accuracyM: null,
    attempts: 1,
    submittedAt: null,
    decidedAt: null,
    decidedBy: null,
    note: null,
    correctionReason: null,
    absenceCategory: null,
    recordId: `r-${studentId}`,
    recordVersion: opts.recordVersion ?? 1,
    verification: null,
  };
}
