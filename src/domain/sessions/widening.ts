import type { DomainDeps } from '../deps.js';
import type { LeaseFence } from '../ports/common.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Actor } from '../actor.js';
import { alreadyOpen, doubleBooked, overlaps, subjectClashes, teacherClashes, unnamedFor, type Window } from './clashes.js';
import { withSlotLocks, type SlotLockKey } from './slot-locks.js';

/** A session's window growing: session:extend moving its close later, session:reopen making it live again. */
export interface Widening {
  /** Who asks: a clash in a subject they do not teach is not named to them (unnamedFor). */
  viewer: Actor;
  session: AttendanceSession;
  /** The window it held so far: sessions that already overlapped it were there, accepted or confirmed, before. */
  before: Window;
  after: Window;
  /** Confirms the subject's rule (SESSION_ALREADY_OPEN). */
  parallel?: boolean | undefined;
  /** Confirms the teacher's rule (TEACHER_DOUBLE_BOOKED). */
  teacherOverlap?: boolean | undefined;
}

const MESSAGES = {
  subject: 'The subject has another session in the added time; details.sessionIds names it. Send parallel: true to hold both anyway.',
  teacher:
    "The session's teacher has a session of another subject in the added time (their next class?); details.sessionIds names it. Send teacherOverlap: true to hold both anyway.",
};

/**
 * session:open's two rules for a session whose window grows (docs/protocol.md §5.4a): a session
 * of the subject, or of another subject the same teacher holds, that the grown window newly
 * overlaps refuses the change (SESSION_ALREADY_OPEN, TEACHER_DOUBLE_BOOKED), unless confirmed.
 * Checked and written (`write`) under the same subject and teacher leases as opening, so an open
 * or a meeting edit racing for the added time on another node waits and then sees it. The
 * teacher's rule holds a session whose teacher is a teacher: an admin's own session by hand is
 * not timetabled, as when opening. A window that does not grow is written at once.
 */
export async function withWideningChecked<T>(deps: DomainDeps, w: Widening, write: (fence?: LeaseFence) => Promise<T>): Promise<T> {
  const { store } = deps;
  const { session, before, after } = w;
  const grows = after.startsAt.getTime() < before.startsAt.getTime() || after.closesAt.getTime() > before.closesAt.getTime();
  if (!grows) return write();
  const checkSubject = !w.parallel;
  const checkTeacher = !w.teacherOverlap && (await store.users.get(session.orgId, session.teacherId))?.role === 'teacher';
  const locks: SlotLockKey[] = [
    ...(checkSubject ? [{ kind: 'subject' as const, id: session.subjectId }] : []),
    ...(checkTeacher ? [{ kind: 'teacher' as const, id: session.teacherId }] : []),
  ];
  const self = new Set([session.id]);
  const added = (s: AttendanceSession) => !overlaps(s, before);
  return withSlotLocks(deps, session.orgId, locks, async (fence) => {
    if (checkSubject) {
      const clashes = (await subjectClashes(store, session.orgId, session.subjectId, after, self)).filter(added);
      if (clashes.length > 0) throw alreadyOpen(clashes, MESSAGES.subject);
    }
    if (checkTeacher) {
      const clashes = (await teacherClashes(store, session.orgId, session.teacherId, session.subjectId, after, self)).filter(added);
      if (clashes.length > 0) {
        const unnamed = await unnamedFor(
          store,
          w.viewer,
          clashes.map((s) => s.subjectId),
        );
        throw doubleBooked(session.teacherId, clashes, unnamed, {}, MESSAGES.teacher);
      }
    }
    // The write takes the locks as its fence: checked again with the write itself.
    return write(await fence());
  });
}
