import { AppError } from '../../shared/app-error.js';
import type { Store } from '../ports/store.js';
import type { AttendanceSession } from '../ports/sessions.js';

/** A session's window, half-open: [startsAt, closesAt). */
export type Window = Pick<AttendanceSession, 'startsAt' | 'closesAt'>;

/** Two half-open windows share an instant: one ending as the other starts is no clash. */
export function overlaps(a: Window, b: Window): boolean {
  return a.startsAt.getTime() < b.closesAt.getTime() && b.startsAt.getTime() < a.closesAt.getTime();
}

/**
 * The teacher's open or scheduled sessions of other subjects overlapping `window` (those of the
 * same subject are the one-session-per-subject rule's, SESSION_ALREADY_OPEN), leaving out `skip`.
 */
export async function teacherClashes(
  store: Store,
  orgId: string,
  teacherId: string,
  subjectId: string,
  window: Window,
  skip: ReadonlySet<string> = new Set(),
): Promise<AttendanceSession[]> {
  return (await store.sessions.listActiveForTeacher(orgId, teacherId)).filter(
    (s) => s.subjectId !== subjectId && !skip.has(s.id) && overlaps(s, window),
  );
}

/** The subject's other open or scheduled sessions overlapping `window`, leaving out `skip`. */
export async function subjectClashes(
  store: Store,
  orgId: string,
  subjectId: string,
  window: Window,
  skip: ReadonlySet<string> = new Set(),
): Promise<AttendanceSession[]> {
  return (await store.sessions.listActiveForSubjects(orgId, [subjectId])).filter((s) => !skip.has(s.id) && overlaps(s, window));
}

/** SESSION_ALREADY_OPEN naming the subject's sessions in the way, and the flag that overrides. */
export function alreadyOpen(clashes: readonly AttendanceSession[], message?: string): AppError {
  return new AppError('SESSION_ALREADY_OPEN', message, { sessionIds: clashes.map((s) => s.id), field: 'parallel' });
}

/** TEACHER_DOUBLE_BOOKED naming the teacher's sessions in the way, and the flag that overrides. */
export function doubleBooked(
  teacherId: string,
  clashes: readonly AttendanceSession[],
  extra: Record<string, unknown> = {},
  message?: string,
): AppError {
  return new AppError('TEACHER_DOUBLE_BOOKED', message, {
    teacherId,
    sessionIds: [...new Set(clashes.map((s) => s.id))],
    subjectIds: [...new Set(clashes.map((s) => s.subjectId))],
    ...extra,
    field: 'teacherOverlap',
  });
}
