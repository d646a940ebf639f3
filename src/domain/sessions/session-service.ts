import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import { dayIn } from '../calendar.js';
import type { DomainDeps } from '../deps.js';
import { subjectRoomSessionIds } from '../subjects/room-sessions.js';
import { currentCode, joinTokenAt, newCodeSecret } from '../checks/rotating-code.js';
import { validateWindow } from '../checks/time-window.js';
import { assertEnrolled, assertStaffOf, loadSession, loadSessionForStaff } from './access.js';
import { resolvePolicy, sessionDefaults } from './policy.js';
import { loadRosterEntries } from './roster-entries.js';
import {
  countRoster,
  effectiveStatus,
  sessionViewFor,
  toCheckinView,
  toListedCheckin,
  toSessionView,
  toStudentSessionView,
} from './views.js';
import type {
  ActiveSessionView,
  CheckinView,
  CodeView,
  RosterSnapshot,
  SessionOpenInput,
  SessionView,
  StaffSessionView,
  StudentJoinResult,
} from '../../shared/events.js';
import { windowError } from './session-lifecycle.js';
import { alreadyOpen, doubleBooked, subjectClashes, teacherClashes, unnamedFor, type Window } from './clashes.js';
import { withSlotLocks, type SlotLockKey } from './slot-locks.js';
import { NO_ORGANISATION_SETTINGS } from '../ports/organisations.js';
import { type Room, type Subject } from '../ports/subjects.js';
import { effectiveRoom, roomOrNull } from './room.js';
import { readAllPages } from '../paging.js';
import { assertInUse } from '../subjects/subject-archive.js';

/** A session created from a timetable meeting: which one, and the room it copies. */
export interface MeetingOrigin {
  meetingId: string;
  room: Room | null;
  /**
   * The caller holds the subject's slot lease already (the timetable run, which reads the
   * session's teacher under it): the subject's rule is checked without taking it a second time.
   */
  subjectLeaseHeld?: boolean;
  /**
   * The session's teacher when the opener starts it for them: the one tap makes the meeting's
   * session its teacher's, as the timetable run does, whoever of the subject's staff taps
   * (docs/timetable.md). The opener's own when absent.
   */
  teacherId?: string;
}

/** Students whose enrolments one query reads (SessionService.enrolmentsOf). */
export const ENROLMENT_READ_CHUNK = 500;

/** Opening, watching and listing live sessions. Closing lives in SessionCloser. */
export class SessionService {
  /**
   * listActive loads in progress, by user: concurrent calls of one user share one read (a
   * client that fires the command in a loop costs one store read at a time, not one each).
   * Nothing is kept once the read is answered, so a result is never older than its call.
   */
  private readonly activeLoads = new Map<string, Promise<SessionView[]>>();

  constructor(private readonly deps: DomainDeps) {}

  /**
   * Opens (or schedules) a session. `origin` is the timetable's: the meeting it stands for,
   * whose room it copies; by hand, the room is the one the request names, if any.
   */
  async open(actor: Actor, input: SessionOpenInput, origin?: MeetingOrigin): Promise<StaffSessionView> {
    const { store, now } = this.deps;
    if (actor.role !== 'teacher' && actor.role !== 'admin') throw new AppError('FORBIDDEN');
    const subject = await store.subjects.get(actor.orgId, input.subjectId);
    if (!subject) throw new AppError('NOT_FOUND', 'No such subject.');
    assertStaffOf(actor, subject);
    assertInUse([subject]);

    const at = now();
    const teacherId = origin?.teacherId ?? actor.id;
    // The session's teacher's defaults: the opener's by hand, the meeting's teacher's from the timetable.
    const [org, teacher] = await Promise.all([
      store.organisations.get(actor.orgId),
      store.timetable.getTeacherSettings(actor.orgId, teacherId),
    ]);
    const defaults = sessionDefaults(org?.settings ?? NO_ORGANISATION_SETTINGS, this.deps.settings.codePeriodS, teacher);
    const startsAt = input.startsAt ? new Date(input.startsAt) : at;
    const closesAt = input.closesAt ? new Date(input.closesAt) : new Date(startsAt.getTime() + defaults.sessionMs);
    // A grace longer than the session means nobody is late, not a refused window.
    const lateAfter = input.lateAfter
      ? new Date(input.lateAfter)
      : new Date(Math.min(startsAt.getTime() + defaults.lateGraceMs, closesAt.getTime()));
    const problems = validateWindow({ startsAt, lateAfter, closesAt }, { now: at });
    if (problems.length > 0) throw windowError(problems);

    const room = origin ? origin.room : roomOrNull(input.location, input.allowedIpRanges);
    const policy = resolvePolicy(input.policy, effectiveRoom(subject, room), defaults.policy, this.deps.capabilities);
    const timezone = org?.timezone ?? this.deps.settings.defaultTimezone;
    // The session is the opener's, or the meeting's teacher's. An admin opening by hand is not
    // timetabled to teach it, so only a teacher opening by hand is held to one class at a time
    // (the tap and the timetable confirm the meeting's booking).
    const checkSubject = !input.parallel;
    const checkTeacher = actor.role === 'teacher' && !input.teacherOverlap;
    const locks: SlotLockKey[] = [
      ...(checkSubject && !origin?.subjectLeaseHeld ? [{ kind: 'subject' as const, id: subject.id }] : []),
      ...(checkTeacher ? [{ kind: 'teacher' as const, id: teacherId }] : []),
    ];
    // Checked and created under the subject's and teacher's locks: an open or a meeting edit on
    // another node waits, then sees this session.
    const session = await withSlotLocks(this.deps, actor.orgId, locks, async (fence) => {
      if (checkSubject) await this.assertNoOverlap(actor.orgId, subject.id, { startsAt, closesAt });
      if (checkTeacher) {
        const clashes = await teacherClashes(store, actor.orgId, teacherId, subject.id, { startsAt, closesAt });
        // Their own sessions, yet one of a subject they no longer teach is not named to them.
        if (clashes.length > 0)
          throw doubleBooked(
            teacherId,
            clashes,
            await unnamedFor(
              store,
              actor,
              clashes.map((s) => s.subjectId),
            ),
          );
      }
      const locksHeld = await fence();
      return store.sessions.create(
        actor.orgId,
        {
          subjectId: subject.id,
          teacherId,
          status: startsAt.getTime() > at.getTime() ? 'scheduled' : 'open',
          policy,
          startsAt,
          lateAfter,
          closesAt,
          codeSecret: newCodeSecret(),
          day: dayIn(timezone, startsAt),
          room,
          meetingId: origin?.meetingId ?? null,
        },
        locksHeld,
      );
    });
    await store.audit.append({
      orgId: actor.orgId,
      entityType: 'session',
      entityId: session.id,
      sessionId: session.id,
      // A system opener (the timetable) acts for the teacher; the entry names it instead. A tap
      // names who tapped (the session may be another teacher's).
      actorId: actor.system ? null : actor.id,
      action: 'session.open',
      from: null,
      to: { status: session.status, startsAt, lateAfter, closesAt, policy, ...(room ? { room } : {}) },
      reason: actor.system ?? null,
      ip: null,
      at,
    });
    const view = toSessionView(session, subject, at);
    this.deps.events.publish({ type: 'session.changed', orgId: actor.orgId, session: view, change: 'opened' });
    return view;
  }

  /**
   * One session of a subject at a time: another scheduled or open session whose window
   * overlaps [startsAt, closesAt) is a conflict, unless the teacher confirms (`parallel`).
   */
  private async assertNoOverlap(orgId: string, subjectId: string, window: Window): Promise<void> {
    const clashes = await subjectClashes(this.deps.store, orgId, subjectId, window);
    if (clashes.length > 0) throw alreadyOpen(clashes);
  }

  /** Open and scheduled sessions the actor may see: enrolled subjects or taught subjects. */
  listActive(actor: Actor): Promise<SessionView[]> {
    const key = `${actor.orgId}:${actor.id}:${actor.role}`;
    let load = this.activeLoads.get(key);
    if (!load) {
      load = this.loadActive(actor).finally(() => this.activeLoads.delete(key));
      this.activeLoads.set(key, load);
    }
    return load;
  }

  /**
   * As listActive, with `watch` run on the ids of the actor's subjects once they are read and
   * before their sessions are (a student's live list joins its subjects' rooms there, so no
   * opening falls in between). The subjects are read once: every phone of a school asks this at
   * each reconnect, and a second read of its subjects was two of the five queries.
   *
   * A student unenrolled between that read and `watch` was announced while the socket was not in
   * the room yet, and nothing else would take it out before the next re-check pass. So a
   * student's enrolments are read again once `watched` (one read by the student's key, beside
   * the sessions' read), and the subjects gone meanwhile are given to `unwatch` before the
   * answer, their sessions left out of it. An unenrolment written after that read announces
   * itself after the join, and its leave is the last word.
   */
  async listActiveWatched(
    actor: Actor,
    watch: (subjectIds: string[]) => Promise<void>,
    unwatch: (subjectIds: string[]) => Promise<void>,
  ): Promise<ActiveSessionView[]> {
    const subjects = await this.subjectsOf(actor);
    const ids = subjects.map((s) => s.id);
    await watch(ids);
    if (actor.role !== 'student' || ids.length === 0) return this.activeViews(actor, subjects);
    const [still, views] = await Promise.all([
      this.enrolmentsOf(actor.orgId, [actor.id]),
      this.activeViews(actor, subjects).then((v) => this.withOwnCheckins(actor, v)),
    ]);
    const mine = still.get(actor.id);
    const gone = new Set(ids.filter((id) => !mine?.has(id)));
    if (gone.size === 0) return views;
    await unwatch([...gone]);
    return views.filter((v) => !gone.has(v.subjectId));
  }

  /**
   * The student's own record of each listed session, in one read by the records' (session,
   * student) key: the list says "checked in" before Join, where the student otherwise tapped Join
   * again to find out whether the check-in had counted.
   */
  private async withOwnCheckins(actor: Actor, views: SessionView[]): Promise<ActiveSessionView[]> {
    if (views.length === 0) return views;
    const records = await this.deps.store.records.getForSessionStudents(
      actor.orgId,
      views.map((v) => ({ sessionId: v.id, studentId: actor.id })),
    );
    const bySession = new Map(records.filter((r) => r.studentId === actor.id).map((r) => [r.sessionId, r]));
    return views.map((v) => {
      const record = bySession.get(v.id);
      return { ...v, checkin: record ? toListedCheckin(toCheckinView(record, v.policy.maxAttempts)) : null };
    });
  }

  private loadActive(actor: Actor): Promise<SessionView[]> {
    return this.subjectsOf(actor).then((subjects) => this.activeViews(actor, subjects));
  }

  private subjectsOf(actor: Actor): Promise<Subject[]> {
    const filter = actor.role === 'student' ? { studentId: actor.id } : actor.role === 'teacher' ? { teacherId: actor.id } : {};
    return readAllPages((limit, offset) => this.deps.store.subjects.list(actor.orgId, { ...filter, limit, offset }));
  }

  /** A student's list is of student views: no room coordinates or networks. */
  private async activeViews(actor: Actor, subjects: Subject[]): Promise<SessionView[]> {
    const byId = new Map(subjects.map((s) => [s.id, s]));
    const sessions = await this.deps.store.sessions.listActiveForSubjects(actor.orgId, [...byId.keys()]);
    const at = this.deps.now();
    return sessions
      .map((s) => sessionViewFor(actor.role, toSessionView(s, byId.get(s.subjectId) as Subject, at)))
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  }

  /** Staff of the session's subject: the whole session (a student reads theirs with `join`). */
  async get(actor: Actor, sessionId: string): Promise<StaffSessionView> {
    const { session, subject } = await loadSessionForStaff(this.deps.store, actor, sessionId);
    return toSessionView(session, subject, this.deps.now());
  }

  /**
   * What a Redis outage may have kept from these students' sockets in this session: the session
   * (its student view) when it changed at or after `since` (null otherwise, or when it is gone),
   * and their records changed at or after `since`, as their own views. Read by the node's catch-up once its link
   * is back (realtime/enrolment-catch-up.ts); the sockets were admitted to the session's room by
   * `session:join`, and the periodic re-check takes out those no longer enrolled.
   */
  async changedForStudents(
    orgId: string,
    sessionId: string,
    studentIds: readonly string[],
    since: Date,
  ): Promise<{ session: SessionView | null; checkins: { studentId: string; view: CheckinView }[] }> {
    const { store } = this.deps;
    const session = await store.sessions.get(orgId, sessionId);
    if (!session) return { session: null, checkins: [] };
    const records = await store.records.getForStudents(orgId, sessionId, studentIds);
    const checkins = records
      .filter((r) => r.updatedAt >= since)
      .map((r) => ({ studentId: r.studentId, view: toCheckinView(r, session.policy.maxAttempts) }));
    if (session.updatedAt < since) return { session: null, checkins };
    const subject = await store.subjects.get(orgId, session.subjectId);
    return { session: subject ? toStudentSessionView(toSessionView(session, subject, this.deps.now())) : null, checkins };
  }

  /** Staff of the session's subject (its teachers, the organisation's admins); throws otherwise. */
  async assertWatcher(actor: Actor, sessionId: string): Promise<void> {
    await loadSessionForStaff(this.deps.store, actor, sessionId);
  }

  /**
   * The students enrolled in a subject now, none once it is deleted: the socket re-check reads
   * it once a pass for every student in the subject's rooms, rather than once per student.
   */
  async enrolledIn(orgId: string, subjectId: string): Promise<ReadonlySet<string>> {
    return new Set(await this.deps.store.subjects.listEnrolled(orgId, subjectId));
  }

  /**
   * By student, the subjects each of `studentIds` is enrolled in now (absent: none), read
   * ENROLMENT_READ_CHUNK students a query: a node's catch-up after a Redis outage reads its
   * sockets' students in a few queries, not one each.
   */
  async enrolmentsOf(orgId: string, studentIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const byStudent = new Map<string, Set<string>>();
    for (let i = 0; i < studentIds.length; i += ENROLMENT_READ_CHUNK) {
      for (const { studentId, subjectId } of await this.deps.store.subjects.enrolmentsOf(
        orgId,
        studentIds.slice(i, i + ENROLMENT_READ_CHUNK),
      )) {
        let subjects = byStudent.get(studentId);
        if (!subjects) byStudent.set(studentId, (subjects = new Set()));
        subjects.add(subjectId);
      }
    }
    return byStudent;
  }

  /** Straight from the store: the socket re-check confirms a removal with it, after its pass's read. */
  isEnrolled(orgId: string, subjectId: string, studentId: string): Promise<boolean> {
    return this.deps.store.subjects.isEnrolled(orgId, subjectId, studentId);
  }

  /** The subject's sessions a student or teacher who loses it is told of (subjectRoomSessionIds). */
  async roomSessionsOf(orgId: string, subjectId: string): Promise<string[]> {
    return subjectRoomSessionIds(this.deps.store, orgId, subjectId, this.deps.now(), this.deps.settings.reopenWindowMs);
  }

  /**
   * The subject whose staff (assertStaffOf) may watch its sessions, null once deleted: the socket
   * re-check reads it once a pass per subject, and each session's subject once, where
   * assertWatcher would read both for every user and session.
   */
  async staffSubject(orgId: string, subjectId: string): Promise<Subject | null> {
    return this.deps.store.subjects.get(orgId, subjectId);
  }

  /** The subject of a session; null when the session is gone. */
  async subjectOfSession(orgId: string, sessionId: string): Promise<string | null> {
    return (await this.deps.store.sessions.get(orgId, sessionId))?.subjectId ?? null;
  }

  /** The full roster: every enrolled student with their record, or 'not-yet'. */
  async roster(actor: Actor, sessionId: string): Promise<RosterSnapshot> {
    const { session, subject } = await loadSessionForStaff(this.deps.store, actor, sessionId);
    // The version comes with the session, read before the records: an update racing with the
    // snapshot then carries a higher version, and the client applies it on top.
    const entries = await loadRosterEntries(this.deps.store, session, true);
    return {
      session: toSessionView(session, subject, this.deps.now()),
      version: session.rosterVersion,
      entries,
      counts: countRoster(entries),
    };
  }

  async code(actor: Actor, sessionId: string): Promise<CodeView> {
    const { session } = await loadSessionForStaff(this.deps.store, actor, sessionId);
    const status = effectiveStatus(session, this.deps.now());
    if (status === 'cancelled') throw new AppError('SESSION_CANCELLED');
    if (status === 'closed' || status === 'closing') throw new AppError('SESSION_CLOSED');
    const at = this.deps.now();
    const c = currentCode(session.codeSecret, session.policy.codePeriodS, at);
    const joinToken = joinTokenAt(session.codeSecret, session.policy.codePeriodS, at);
    return { sessionId, code: c.code, periodS: session.policy.codePeriodS, expiresAt: c.expiresAt.toISOString(), joinToken };
  }

  /** A student joins: the session and their own check-in so far. */
  async join(actor: Actor, sessionId: string): Promise<StudentJoinResult> {
    const { store, now } = this.deps;
    if (actor.role !== 'student') throw new AppError('FORBIDDEN', 'Only students join sessions.');
    const { session, subject } = await loadSession(store, actor, sessionId);
    await assertEnrolled(store, actor, subject);
    const record = await store.records.getForStudent(actor.orgId, sessionId, actor.id);
    return {
      session: toStudentSessionView(toSessionView(session, subject, now())),
      checkin: record ? toCheckinView(record, session.policy.maxAttempts) : null,
    };
  }

  /**
   * join's check again, once the socket sits in the session's students room: an unenrolment that
   * landed between the first check and the room was announced while the socket was not in it yet.
   */
  async assertStillEnrolled(actor: Actor, subjectId: string): Promise<void> {
    if (!(await this.deps.store.subjects.isEnrolled(actor.orgId, subjectId, actor.id))) throw new AppError('NOT_ENROLLED');
  }
}
