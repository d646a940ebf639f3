import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import type { Store } from '../ports/store.js';
import type { AttendanceSession, SessionWindow } from '../ports/sessions.js';

/** A session's window, half-open: [startsAt, closesAt). */
export type Window = SessionWindow;

/** Two half-open windows share an instant: one ending as the other starts is no clash. */
export function overlaps(a: Window, b: Window): boolean {
  return a.startsAt.getTime() < b.closesAt.getTime() && b.startsAt.getTime() < a.closesAt.getTime();
}

/**
 * The teacher's open or scheduled sessions of other subjects overlapping `window` (those of the
 * same subject are the one-session-per-subject rule's, SESSION_ALREADY_OPEN), leaving out `skip`.
 * The store reads only the window's sessions of other subjects (a range of starts): a timetable
 * run checks each session it creates, and reading the teacher's whole horizon each time was n²
 * over the run; a room's parallel sessions of one subject were n² over their openings.
 */
export async function teacherClashes(
  store: Store,
  orgId: string,
  teacherId: string,
  subjectId: string,
  window: Window,
  skip: ReadonlySet<string> = new Set(),
): Promise<AttendanceSession[]> {
  return (await store.sessions.listActiveForTeacherDuring(orgId, teacherId, window, subjectId)).filter((s) => !skip.has(s.id));
}

/** The subject's other open or scheduled sessions overlapping `window`, leaving out `skip`. */
export async function subjectClashes(
  store: Store,
  orgId: string,
  subjectId: string,
  window: Window,
  skip: ReadonlySet<string> = new Set(),
): Promise<AttendanceSession[]> {
  return (await store.sessions.listActiveForSubjectsDuring(orgId, [subjectId], window)).filter((s) => !skip.has(s.id));
}

/** SESSION_ALREADY_OPEN naming the subject's sessions in the way, and the flag that overrides. */
export function alreadyOpen(clashes: readonly AttendanceSession[], message?: string): AppError {
  return new AppError('SESSION_ALREADY_OPEN', message, { sessionIds: clashes.map((s) => s.id), field: 'parallel' });
}

/**
 * The subjects among `subjectIds` whose sessions and meetings a TEACHER_DOUBLE_BOOKED answered
 * to `viewer` may not name: none for an admin; for a teacher, those they do not teach (a
 * co-teacher extending a colleague's session learns that the colleague is busy, not with what).
 */
export async function unnamedFor(store: Store, viewer: Actor, subjectIds: Iterable<string>): Promise<ReadonlySet<string>> {
  if (viewer.role === 'admin') return new Set();
  const ids = [...new Set(subjectIds)];
  const subjects = await Promise.all(ids.map((id) => store.subjects.get(viewer.orgId, id)));
  return new Set(ids.filter((_, i) => !subjects[i]?.teacherIds.includes(viewer.id)));
}

/** What a TEACHER_DOUBLE_BOOKED adds when some of the clashes are in subjects its reader may not see named. */
export function withheldNote(withheld: number): string {
  return withheld === 0
    ? ''
    : ` ${withheld} of them, in subjects you do not teach, ${withheld === 1 ? 'is' : 'are'} not named (details.withheld).`;
}

/**
 * TEACHER_DOUBLE_BOOKED naming the teacher's sessions in the way, and the flag that overrides.
 * Sessions of an `unnamed` subject (unnamedFor) are only counted, in `details.withheld`.
 */
export function doubleBooked(
  teacherId: string,
  clashes: readonly AttendanceSession[],
  unnamed: ReadonlySet<string>,
  extra: Record<string, unknown> = {},
  message?: string,
): AppError {
  const named = clashes.filter((s) => !unnamed.has(s.subjectId));
  const withheld = new Set(clashes.map((s) => s.id)).size - new Set(named.map((s) => s.id)).size;
  const text =
    withheld === 0 ? message : (message ?? 'The teacher already has a session of another subject at that time.') + withheldNote(withheld);
  return new AppError('TEACHER_DOUBLE_BOOKED', text, {
    teacherId,
    sessionIds: [...new Set(named.map((s) => s.id))],
    subjectIds: [...new Set(named.map((s) => s.subjectId))],
    ...(withheld > 0 ? { withheld } : {}),
    ...extra,
    field: 'teacherOverlap',
  });
}
