import { AppError } from '../../shared/app-error.js';
import type { SessionView, StaffSessionView } from '../../shared/events.js';
import { issue } from '../../shared/validation-issues.js';
import { requireRole, type Actor } from '../actor.js';
import type { DomainDeps } from '../deps.js';
import type { Page, PageQuery } from '../ports/common.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import type { UserStanding } from '../ports/users.js';
import { teacherClashes } from '../sessions/clashes.js';
import type { SessionLifecycle } from '../sessions/session-lifecycle.js';
import { withSlotLocks } from '../sessions/slot-locks.js';
import { effectiveStatus, toSessionView } from '../sessions/views.js';

/** Why a session's teacher can no longer run it: deactivated, made a student or an admin, taken off its subject, or gone (erased). */
export const UNSTAFFED_WHY = ['deactivated', 'notTeacher', 'offSubject', 'gone'] as const;
export type UnstaffedWhy = (typeof UNSTAFFED_WHY)[number];

/** The audit reason of a session an admin gave to a teacher from the list (`session.reschedule`). */
export const STAFFED_BY_ADMIN = 'STAFFED_BY_ADMIN';
/** The audit reason of a session an admin cancelled from the list (`session.cancel`). */
export const UNSTAFFED_CANCEL = 'UNSTAFFED';

/** Where a page of the list stopped: its last session's start, then id (the list's order). */
export interface UnstaffedKey {
  startsAt: Date;
  id: string;
}

export interface UnstaffedQuery extends PageQuery {
  after?: UnstaffedKey | undefined;
}

export interface UnstaffedPage extends Page<UnstaffedSession> {
  /** The key to pass as `after` for the next page; null on the last. */
  next: UnstaffedKey | null;
}

export interface UnstaffedSession {
  session: StaffSessionView;
  /** The name of the account holding it; null when it is gone. */
  teacherName: string | null;
  why: UnstaffedWhy;
  /** The subject's active teachers, first teacher first: whom it may be given to (each free then or not). */
  teachers: { id: string; name: string }[];
}

/**
 * The organisation's upcoming sessions whose teacher can no longer run them (docs/authorization.md,
 * "Sessions left without a teacher"), and the admin's two ways out of each: give it to an active
 * teacher of its subject free then, or cancel it. Computed, never stored: a scheduled session
 * whose `teacherId` is not an active teacher of its subject (withActiveTeachers' rule) is listed
 * whatever left it so (a hand-over that found nobody free, a failure, a change the hand-over did
 * not cover), and drops off the list as soon as its teacher can teach again.
 */
export class UnstaffedSessions {
  constructor(
    private readonly deps: DomainDeps,
    private readonly lifecycle: SessionLifecycle,
  ) {}

  /**
   * A page of the list, earliest first (start, then id). `after` (a previous page's `next`) starts
   * the page after that session, wherever the sessions before it went meanwhile; without it,
   * `offset` counts from the first. `total` counts the whole list. Computed from every upcoming
   * scheduled session of the organisation (one read), their subjects (one read) and the accounts'
   * standings (one read); the names are read for the page's sessions only.
   */
  async list(actor: Actor, q: UnstaffedQuery): Promise<UnstaffedPage> {
    requireRole(actor, 'admin');
    const { store, now } = this.deps;
    const at = now();
    const scheduled = (await store.sessions.listScheduled(actor.orgId, at)).filter((s) => effectiveStatus(s, at) === 'scheduled');
    if (scheduled.length === 0) return { items: [], total: 0, next: null };
    const subjectIds = [...new Set(scheduled.map((s) => s.subjectId))];
    const subjects = new Map((await store.subjects.getMany(actor.orgId, subjectIds)).map((s) => [s.id, s]));
    const ids = new Set([...scheduled.map((s) => s.teacherId), ...[...subjects.values()].flatMap((s) => s.teacherIds)]);
    const standings = new Map((await store.users.getStandings(actor.orgId, [...ids])).map((u) => [u.id, u]));
    const teaching = (id: string) => whyOf(standings.get(id)) === null;
    const left = scheduled.filter((s) => {
      const subject = subjects.get(s.subjectId);
      return subject && !canRun(subject, standings.get(s.teacherId));
    });
    const after = q.after;
    const start = after ? countUpTo(left, after) : q.offset;
    const page = left.slice(start, start + q.limit);
    const last = page.at(-1);
    const next = last && start + page.length < left.length ? { startsAt: last.startsAt, id: last.id } : null;
    if (page.length === 0) return { items: [], total: left.length, next };
    const named = new Set(page.flatMap((s) => [s.teacherId, ...subjects.get(s.subjectId)!.teacherIds.filter(teaching)]));
    const names = new Map((await store.users.getNames(actor.orgId, [...named])).map((u) => [u.id, u.name]));
    const items = page.map((s) => {
      const subject = subjects.get(s.subjectId)!;
      return {
        session: toSessionView(s, subject, at),
        teacherName: names.get(s.teacherId) ?? null,
        why: whyOf(standings.get(s.teacherId)) ?? 'offSubject',
        teachers: subject.teacherIds.filter(teaching).map((id) => ({ id, name: names.get(id) ?? '' })),
      };
    });
    return { items, total: left.length, next };
  }

  /**
   * Gives the session to `teacherId`, an active teacher of its subject with no other class then,
   * keeping its times, checks and room (audited `session.reschedule`, reason STAFFED_BY_ADMIN):
   * under the subject's lock and that teacher's, as an open and the hand-over take them, so a
   * class of theirs opened meanwhile on another node is seen (TEACHER_DOUBLE_BOOKED).
   */
  async give(actor: Actor, sessionId: string, teacherId: string): Promise<StaffSessionView> {
    requireRole(actor, 'admin');
    const first = await this.unstaffed(actor, sessionId);
    return withSlotLocks(
      this.deps,
      actor.orgId,
      [
        { kind: 'subject', id: first.session.subjectId },
        { kind: 'teacher', id: teacherId },
      ],
      async (fence) => {
        // Read again under the locks: given, cancelled or opened meanwhile is the one to answer.
        const { session, subject } = await this.unstaffed(actor, sessionId);
        const standing = (await this.deps.store.users.getStandings(actor.orgId, [teacherId]))[0];
        if (!subject.teacherIds.includes(teacherId) || whyOf(standing) !== null) {
          throw new AppError('VALIDATION_FAILED', 'The teacher is not an active teacher of the subject.', {
            issues: [issue('teacherId', 'not an active teacher of the subject', 'notSubjectTeacher')],
          });
        }
        const clashes = await teacherClashes(this.deps.store, actor.orgId, teacherId, session.subjectId, session);
        if (clashes.length > 0) {
          throw new AppError(
            'TEACHER_DOUBLE_BOOKED',
            'The teacher has a class of another subject at that time; details.sessionIds names each.',
            {
              teacherId,
              sessionIds: clashes.map((s) => s.id),
              subjectIds: [...new Set(clashes.map((s) => s.subjectId))],
            },
          );
        }
        const { startsAt, lateAfter, closesAt, policy, room } = session;
        const moved = await this.lifecycle.reschedule(
          actor,
          session.id,
          { startsAt, lateAfter, closesAt, policy, room, teacherId },
          await fence(),
          undefined,
          STAFFED_BY_ADMIN,
        );
        if (!moved) throw notScheduled();
        return staffView(moved);
      },
    );
  }

  /**
   * Cancels the session (audited `session.cancel`, reason UNSTAFFED); its meeting's day stays
   * taken, as a hand cancel's. Under the subject's lock, as give() and the hand-over move it, and
   * written only while the lock holds: a session given or handed over meanwhile is read again
   * under it and answered CONFLICT rather than cancelled. A reactivation or a change of the
   * subject's teachers takes no such lock, so the write itself is conditional on what was read
   * (still scheduled, same teacher, who still cannot run it): one that lands after the check is
   * answered CONFLICT too, nothing cancelled.
   */
  async cancel(actor: Actor, sessionId: string): Promise<StaffSessionView> {
    requireRole(actor, 'admin');
    const first = await this.unstaffed(actor, sessionId);
    return withSlotLocks(this.deps, actor.orgId, [{ kind: 'subject', id: first.session.subjectId }], async (fence) => {
      const { session } = await this.unstaffed(actor, sessionId);
      const cancelled = await this.lifecycle.cancelUnstaffed(actor, sessionId, session.teacherId, UNSTAFFED_CANCEL, await fence());
      if (cancelled) return staffView(cancelled);
      // Refused by the store: read again to answer what changed (opened, cancelled, or a teacher who can run it).
      await this.unstaffed(actor, sessionId);
      throw new AppError('CONFLICT', 'The session changed meanwhile (its teacher or its status): read the list again.');
    });
  }

  /** The session and its subject while it is on the list; SESSION_NOT_FOUND, or CONFLICT when it no longer is. */
  private async unstaffed(actor: Actor, sessionId: string): Promise<{ session: AttendanceSession; subject: Subject }> {
    const { store, now } = this.deps;
    const session = await store.sessions.get(actor.orgId, sessionId);
    const subject = session ? await store.subjects.get(actor.orgId, session.subjectId) : null;
    if (!session || !subject) throw new AppError('SESSION_NOT_FOUND');
    if (effectiveStatus(session, now()) !== 'scheduled') throw notScheduled();
    const standing = (await store.users.getStandings(actor.orgId, [session.teacherId]))[0];
    if (canRun(subject, standing)) {
      throw new AppError('CONFLICT', 'The session has a teacher who can run it: it is not left without one.');
    }
    return { session, subject };
  }
}

/**
 * Whether a session's teacher can run it, which takes it off the list: an active teacher of its
 * subject. `standing` is that teacher's, undefined when the account is gone.
 */
export function canRun(subject: Pick<Subject, 'teacherIds'>, standing: UserStanding | undefined): boolean {
  return standing !== undefined && subject.teacherIds.includes(standing.id) && whyOf(standing) === null;
}

/** Why this account cannot teach; null when it is an active teacher (of the subject or not: the caller checks that). */
function whyOf(u: UserStanding | undefined): UnstaffedWhy | null {
  if (!u) return 'gone';
  if (!u.active) return 'deactivated';
  if (u.role !== 'teacher') return 'notTeacher';
  return null;
}

/** The lifecycle's answer, announced to the subject's staff, always carries the room. */
const staffView = (v: SessionView): StaffSessionView => ({ ...v, room: v.room ?? null });

const notScheduled = () => new AppError('CONFLICT', 'The session is no longer scheduled: it opened, or was cancelled, meanwhile.');

/** How many of `sessions` (in the list's order) come up to `key` included: the index of the first after it. */
function countUpTo(sessions: readonly AttendanceSession[], key: UnstaffedKey): number {
  const t = key.startsAt.getTime();
  const i = sessions.findIndex((s) => s.startsAt.getTime() > t || (s.startsAt.getTime() === t && s.id > key.id));
  return i === -1 ? sessions.length : i;
}
