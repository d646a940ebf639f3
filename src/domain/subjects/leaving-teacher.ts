import type { Actor } from '../actor.js';
import type { DomainDeps } from '../deps.js';
import type { AttendanceSession } from '../ports/sessions.js';
import { teacherClashes } from '../sessions/clashes.js';
import type { SessionLifecycle } from '../sessions/session-lifecycle.js';
import { withSlotLocks } from '../sessions/slot-locks.js';
import { effectiveStatus } from '../sessions/views.js';
import { withActiveTeachers } from './active-teachers.js';
import { meetingTeacherId } from '../timetable/meeting-teacher.js';
import { auditEntry } from '../audit-log.js';
import { AppError } from '../../shared/app-error.js';
import type { UnstaffedNotice } from '../notifications/unstaffed-notice.js';

/** The audit reason of a session handed over because its teacher can no longer teach. */
export const TEACHER_LEFT = 'TEACHER_LEFT';

/** What became of a leaving teacher's scheduled sessions (session ids). */
export interface LeftSessions {
  /** Each now held by a teacher of its subject who can teach it then. */
  handed: string[];
  /** No such teacher free then: left in the leaving teacher's name, audited `session.unstaffed`. */
  unstaffed: string[];
}

/**
 * A teacher an admin made a student or an admin, or deactivated, or took off a subject (a change
 * of its teachers, a hand-over): no class is run in the name of someone who can no longer teach
 * it (docs/authorization.md, "A role change or a deactivation"; docs/timetable.md).
 * Each of their sessions still `scheduled` goes, keeping its times, checks and late grace
 * (audited `session.reschedule`, reason TEACHER_LEFT), to the teacher the timetable's rule gives
 * now when it stands for a meeting (the meeting's own teacher, else the subject's first, active
 * teachers only: withActiveTeachers), or, scheduled by hand, to the first of the subject's
 * active teachers free then. That teacher is held to one class at a time, under their lock and
 * the subject's as an open is: a session with no such teacher free stays as it is, audited
 * `session.unstaffed`, listed for the admins to give or cancel (UnstaffedSessions) and told them
 * by email (UnstaffedNotice); the subject's other teachers and admins still run it. An open
 * session keeps its teacher: it is running.
 */
export class LeavingTeacherSessions {
  constructor(
    private readonly deps: DomainDeps,
    private readonly lifecycle: SessionLifecycle,
    /** Tells the admins of sessions left unstaffed, once per call that left any (UnstaffedNotice). */
    private readonly notice?: Pick<UnstaffedNotice, 'send'>,
  ) {}

  /** All the teacher's scheduled sessions; with `subjectIds`, those of these subjects only (the teacher taken off them). */
  async handOver(actor: Actor, teacherId: string, subjectIds?: readonly string[]): Promise<LeftSessions> {
    const { store, now } = this.deps;
    const out: LeftSessions = { handed: [], unstaffed: [] };
    const held = await this.listUnderLock(actor, teacherId);
    const only = subjectIds ? new Set(subjectIds) : null;
    for (const session of held) {
      if (effectiveStatus(session, now()) !== 'scheduled' || (only && !only.has(session.subjectId))) continue;
      // The change that took the teacher off is already stored and a retry would find nothing to
      // hand: a session that cannot be handed now (a lock held by a timetable run, a window
      // refusal, the store) is left unstaffed, audited and logged, and the others still go.
      let to: string | null | undefined;
      let failure: string | null = null;
      try {
        to = await this.handOne(actor, session, teacherId);
      } catch (err) {
        to = null;
        failure = err instanceof AppError ? err.code : 'INTERNAL';
        this.deps.logger.warn({ err, orgId: actor.orgId, sessionId: session.id, teacherId }, 'scheduled session not handed over');
      }
      if (to === undefined) continue;
      if (to === null) {
        out.unstaffed.push(session.id);
        await store.audit.append({
          ...auditEntry(actor, now(), {
            entityType: 'session',
            entityId: session.id,
            action: 'session.unstaffed',
            from: { teacherId },
            to: failure ? { failure } : null,
          }),
          sessionId: session.id,
          reason: TEACHER_LEFT,
        });
        this.deps.logger.warn({ orgId: actor.orgId, sessionId: session.id, teacherId }, 'scheduled session left without a teacher');
      } else out.handed.push(session.id);
    }
    const { notice } = this;
    if (notice && out.unstaffed.length > 0) {
      // In the background, after the change is answered: an email queued late (or not at all,
      // logged by the job runner) must not fail the role change already stored.
      const ids = [...out.unstaffed];
      this.deps.jobs.run('unstaffed.notice', async () => {
        await notice.send(actor.orgId, teacherId, ids);
      });
    }
    return out;
  }

  /**
   * The teacher's sessions, listed under their lock, which the timetable run holds from reading
   * them as an active teacher to writing their session (timetable-job.ts): a run that read them
   * before the change was stored has written its session by then, and one after passes them over.
   * A lock still busy after its wait (about three seconds) is logged and the list read without it:
   * the change is stored already, and a hand-over missing a session beats one not made.
   */
  private async listUnderLock(actor: Actor, teacherId: string): Promise<AttendanceSession[]> {
    const { store } = this.deps;
    try {
      return await withSlotLocks(this.deps, actor.orgId, [{ kind: 'teacher', id: teacherId }], () =>
        store.sessions.listActiveForTeacher(actor.orgId, teacherId),
      );
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'CONFLICT') throw err;
      this.deps.logger.warn({ err, orgId: actor.orgId, teacherId }, "teacher's lock busy: their sessions listed without it");
      return store.sessions.listActiveForTeacher(actor.orgId, teacherId);
    }
  }

  /**
   * The teacher the session went to; null: none free; undefined: gone, opened or moved meanwhile.
   * Run outside any lock of the change that took the teacher off: it takes the subject's and the
   * candidate's.
   */
  private async handOne(actor: Actor, session: AttendanceSession, leaving: string): Promise<string | null | undefined> {
    const { store } = this.deps;
    const subject = await withActiveTeachers(store, actor.orgId, await store.subjects.get(actor.orgId, session.subjectId));
    if (!subject) return undefined;
    const meeting = session.meetingId ? await store.timetable.getMeeting(actor.orgId, session.meetingId) : null;
    const ruled = meeting ? meetingTeacherId(meeting, subject) : undefined;
    // A meeting's session follows the rule, as the run would make it now; one by hand any teacher free.
    const candidates = meeting ? (ruled ? [ruled] : []) : subject.teacherIds.filter((id) => id !== leaving);
    for (const candidate of candidates) {
      const moved = await withSlotLocks(
        this.deps,
        actor.orgId,
        [
          { kind: 'subject', id: session.subjectId },
          { kind: 'teacher', id: candidate },
        ],
        async (fence) => {
          // Read again under the locks: an open, a cancel or a hand-over meanwhile is the one to follow.
          const current = await store.sessions.get(actor.orgId, session.id);
          if (!current || current.teacherId !== leaving || effectiveStatus(current, this.deps.now()) !== 'scheduled') return undefined;
          if ((await teacherClashes(store, actor.orgId, candidate, current.subjectId, current)).length > 0) return null;
          const { startsAt, lateAfter, closesAt, policy, room } = current;
          const done = await this.lifecycle.reschedule(
            actor,
            current.id,
            { startsAt, lateAfter, closesAt, policy, room, teacherId: candidate },
            await fence(),
            undefined,
            TEACHER_LEFT,
          );
          return done ? candidate : undefined;
        },
      );
      if (moved !== null) return moved;
    }
    return null;
  }
}
