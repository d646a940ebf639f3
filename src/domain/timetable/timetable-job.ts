import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import { addDays, dayIn, isoWeekday } from '../calendar.js';
import type { DomainDeps } from '../deps.js';
import type { SessionService } from '../sessions/session-service.js';
import type { Organisation } from '../ports/organisations.js';
import type { Subject } from '../ports/subjects.js';
import { teacherClashes } from '../sessions/clashes.js';
import { withSlotLocks } from '../sessions/slot-locks.js';
import { expandTimetable, occurrenceKey, sameSlot, slotOf, type Slot } from './expand.js';
import { withActiveTeachers } from '../subjects/active-teachers.js';
import { meetingTeacherId } from './meeting-teacher.js';

export const TIMETABLE_JOB = 'timetable-sessions';

/** What a run did, for the log and tests. */
export interface TimetableRunCounts {
  created: number;
  /** Left for the teacher's tap ('tap' setting). */
  waiting: number;
  failed: number;
  /** Created although their teacher holds another subject's session at that time (a warning, logged with both). */
  doubleBooked: number;
}

const ORG_PAGE = 100;

/** A claim older than this is a dead node's: another run may take it over. */
export const CLAIM_STALE_MS = 5 * 60_000;

/**
 * Creates the sessions the timetable asks for over the next `horizonDays` days, ahead of
 * time, as scheduled sessions through the ordinary opening path (so they open and close at
 * their times like any other). Each dated meeting is claimed first on its unique key
 * (meeting, day), so two runs, on one node or two, never create it twice; a claim whose run
 * died is taken over after CLAIM_STALE_MS. Meetings of a teacher who chose 'tap' are left for
 * the one tap (TimetableService.start).
 */
export async function createTimetableSessions(
  deps: DomainDeps,
  sessions: SessionService,
  now: Date,
  horizonDays: number,
): Promise<TimetableRunCounts> {
  const counts: TimetableRunCounts = { created: 0, waiting: 0, failed: 0, doubleBooked: 0 };
  for (let offset = 0; ; offset += ORG_PAGE) {
    const page = await deps.store.organisations.list({ limit: ORG_PAGE, offset });
    for (const org of page.items) if (org.active) await createForOrganisation(deps, sessions, org, now, horizonDays, counts);
    if (offset + ORG_PAGE >= page.total) break;
  }
  return counts;
}

async function createForOrganisation(
  deps: DomainDeps,
  sessions: SessionService,
  org: Organisation,
  now: Date,
  horizonDays: number,
  counts: TimetableRunCounts,
): Promise<void> {
  const { timetable } = deps.store;
  const meetings = await timetable.listMeetings(org.id);
  if (meetings.length === 0) return;
  const from = dayIn(org.timezone, now);
  const to = addDays(from, horizonDays - 1);
  const [terms, holidays, occurrences] = await Promise.all([
    timetable.listTerms(org.id),
    timetable.listHolidays(org.id),
    timetable.listOccurrences(
      org.id,
      meetings.map((m) => m.id),
      from,
      to,
    ),
  ]);
  const settled = new Set(occurrences.filter((o) => o.state !== 'claimed').map((o) => occurrenceKey(o.meetingId, o.day)));
  const subjects = new Map<string, Subject | null>();
  const modes = new Map<string, 'auto' | 'tap'>();
  // Called-off and already-created occurrences are skipped; a 'claimed' one is retried when stale.
  for (const slot of expandTimetable({ timezone: org.timezone, terms, holidays, meetings, cancelled: settled }, from, to)) {
    if (slot.startsAt.getTime() <= now.getTime()) continue;
    // A first sorting from what the run read once; createOne decides again under the subject's lease.
    if (!subjects.has(slot.subjectId)) {
      subjects.set(slot.subjectId, await withActiveTeachers(deps.store, org.id, await deps.store.subjects.get(org.id, slot.subjectId)));
    }
    const subject = subjects.get(slot.subjectId);
    const teacherId = meetingTeacherId(slot, subject);
    // An archived subject's meetings stay as its year's record and create nothing.
    if (!subject || !teacherId || subject.archivedAt !== null) continue;
    if (!modes.has(teacherId)) modes.set(teacherId, (await timetable.getTeacherSettings(org.id, teacherId)).timetableOpen);
    if (modes.get(teacherId) === 'tap') {
      counts.waiting += 1;
      continue;
    }
    const outcome = await createOne(deps, sessions, org, slot, teacherId, now, counts);
    if (outcome) counts[outcome] += 1;
  }
}

async function createOne(
  deps: DomainDeps,
  sessions: SessionService,
  org: Organisation,
  slot: Slot,
  teacherId: string,
  now: Date,
  counts: TimetableRunCounts,
): Promise<'created' | 'waiting' | 'failed' | null> {
  const { timetable } = deps.store;
  const orgId = org.id;
  const key = { meetingId: slot.meetingId, day: slot.day, subjectId: slot.subjectId };
  if (!(await timetable.claimOccurrence(orgId, key, now, new Date(now.getTime() - CLAIM_STALE_MS)))) return null;
  // null above: another run holds the occurrence.
  try {
    // Under the subject's lease, the one a change of its first teacher holds (FirstTeacherChange):
    // the teacher is read when nothing can change it, and a change waiting for the lease finds
    // the session created, and its occurrence recorded, and hands it over. And under the
    // teacher's, the one a role change's or deactivation's hand-over takes to list their sessions
    // (LeavingTeacherSessions): read active here, the teacher's session is written before that
    // list is read, and handed over with the rest; read after, they are passed over.
    return await withSlotLocks(
      deps,
      orgId,
      [
        { kind: 'subject', id: slot.subjectId },
        { kind: 'teacher', id: teacherId },
      ],
      () => createUnderLease(deps, sessions, org, slot, teacherId, counts),
    );
  } catch (err) {
    await timetable.releaseOccurrence(orgId, slot.meetingId, slot.day);
    deps.logger.warn({ err, orgId, meetingId: slot.meetingId, day: slot.day }, 'timetable session not created; next run retries');
    return 'failed';
  }
}

/** The claimed occurrence's session, decided from the meeting and subject as they stand now; throws to leave it to the next run. */
async function createUnderLease(
  deps: DomainDeps,
  sessions: SessionService,
  org: Organisation,
  slot: Slot,
  lockedTeacherId: string,
  counts: TimetableRunCounts,
): Promise<'created' | 'waiting' | null> {
  const { timetable } = deps.store;
  const orgId = org.id;
  // The slot was built from the meetings read at the start of the run: an edit or a deletion
  // that landed since (PATCH follows only sessions already created) leaves the occurrence to
  // the next run, which reads the meeting afresh.
  const current = await timetable.getMeeting(orgId, slot.meetingId);
  // An account no longer an active teacher is passed over: nothing is created in its name.
  const subject = await withActiveTeachers(deps.store, orgId, await deps.store.subjects.get(orgId, slot.subjectId));
  const teacherId = current ? meetingTeacherId(current, subject) : undefined;
  if (
    !current ||
    current.weekday !== isoWeekday(slot.day) ||
    !sameSlot(slotOf(current, org.timezone, slot.day), slot) ||
    !teacherId ||
    // The teacher changed since the run's read (a role change, the subject's teachers): the next
    // run decides again under the new teacher's lock.
    teacherId !== lockedTeacherId ||
    subject?.archivedAt !== null
  ) {
    await timetable.releaseOccurrence(orgId, slot.meetingId, slot.day);
    return null;
  }
  // The subject's first teacher may have changed since the run read it, to one who taps.
  if ((await timetable.getTeacherSettings(orgId, teacherId)).timetableOpen === 'tap') {
    await timetable.releaseOccurrence(orgId, slot.meetingId, slot.day);
    return 'waiting';
  }
  // A double-booked teacher is a warning here, not a refusal: the meeting was accepted (its
  // clash confirmed with teacherOverlap, or it predates the check), and refusing would drop the
  // class every week with nobody asked. Staff see the warning in the log and the run's counts.
  const clashes = await teacherClashes(deps.store, orgId, teacherId, slot.subjectId, slot);
  if (clashes.length > 0) {
    counts.doubleBooked += 1;
    deps.logger.warn(
      { orgId, meetingId: slot.meetingId, day: slot.day, teacherId, withSessionIds: clashes.map((s) => s.id) },
      'timetable session double-books its teacher',
    );
  }
  // The session is the teacher's; its audit entry says the timetable opened it.
  const actor: Actor = { id: teacherId, orgId, role: 'teacher', ip: null, system: 'timetable' };
  try {
    const session = await sessions.open(
      actor,
      {
        subjectId: slot.subjectId,
        startsAt: slot.startsAt.toISOString(),
        closesAt: slot.closesAt.toISOString(),
        ...(slot.preset ? { policy: { preset: slot.preset } } : {}),
        teacherOverlap: true,
      },
      { meetingId: slot.meetingId, room: slot.room, subjectLeaseHeld: true },
    );
    await timetable.completeOccurrence(orgId, slot.meetingId, slot.day, session.id, deps.now());
    return 'created';
  } catch (err) {
    // A session the teacher already scheduled by hand over that time stands for the meeting.
    const clash =
      err instanceof AppError && err.code === 'SESSION_ALREADY_OPEN'
        ? (err.details as { sessionIds?: string[] } | undefined)?.sessionIds?.[0]
        : undefined;
    if (!clash) throw err;
    await timetable.completeOccurrence(orgId, slot.meetingId, slot.day, clash, deps.now());
    return 'created';
  }
}
