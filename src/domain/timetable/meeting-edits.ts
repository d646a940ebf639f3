import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import { addDays, dayIn, instantAt } from '../calendar.js';
import type { DomainDeps } from '../deps.js';
import { NO_ORGANISATION_SETTINGS } from '../ports/organisations.js';
import type { LeaseFence } from '../ports/common.js';
import { UNAUDITED_CANCEL, type AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import type { Meeting } from '../ports/timetable.js';
import { resolvePolicy, sessionDefaults } from '../sessions/policy.js';
import { effectiveRoom, roomOrNull } from '../sessions/room.js';
import { windowError, type RescheduleInput, type SessionLifecycle } from '../sessions/session-lifecycle.js';
import type { SlotFence } from '../sessions/slot-locks.js';
import { validateWindow } from '../checks/time-window.js';
import { effectiveStatus } from '../sessions/views.js';
import { doubleBooked, overlaps, teacherClashes, unnamedFor, withheldNote, type Window } from '../sessions/clashes.js';
import { issue } from '../../shared/validation-issues.js';
import { meetingTeacherId } from './meeting-teacher.js';
import { withActiveTeachers } from '../subjects/active-teachers.js';

/** How far ahead the sessions of an edited meeting are looked for (the job's horizon is far shorter). */
export const FOLLOW_DAYS = 400;

/** The reasons, in the audit log, of the sessions an edit cancels. */
export const MEETING_CANCEL_REASONS = {
  weekday: 'MEETING_WEEKDAY_CHANGED',
  unfit: 'MEETING_CHANGED_UNFIT',
} as const;

/** What became of a meeting's sessions not yet opened when it was edited (session ids). */
export interface FollowedSessions {
  /** Scheduled sessions that follow the new times, teacher, checks or room. */
  rescheduled: string[];
  /** Scheduled sessions cancelled: the weekday changed, or the new meeting cannot be held that day. */
  cancelled: string[];
}

/** What an edit will do to the meeting's scheduled sessions (MeetingFollower.plan). */
export interface FollowPlan {
  meetingId: string;
  moves: { session: AttendanceSession; day: string; change: RescheduleInput }[];
  cancels: { session: AttendanceSession; day: string; reason: string }[];
  /** The edit's key (edit-trail.ts), marked on the audit entry of each move and cancellation; none for a hand-over. */
  edit?: string | undefined;
}

/**
 * A meeting's checks on creation and edit, and its scheduled sessions following an edit
 * (docs/timetable.md, "Editing a meeting"): moved on their day, or cancelled and their day
 * freed when the weekday changes.
 */
export class MeetingFollower {
  constructor(
    private readonly deps: DomainDeps,
    private readonly lifecycle: SessionLifecycle,
  ) {}

  /**
   * Refuses a meeting that would fail every week when its sessions are created: an end not
   * after its start, a teacher who does not teach the subject, a preset its room cannot run.
   */
  async assertFits(
    actor: Actor,
    subject: Subject,
    m: Pick<Meeting, 'startTime' | 'endTime' | 'teacherId' | 'preset' | 'location' | 'allowedIpRanges'>,
  ): Promise<void> {
    if (m.endTime <= m.startTime) {
      throw new AppError('VALIDATION_FAILED', 'endTime is not after startTime.', {
        issues: [issue('endTime', 'not after startTime', 'endBeforeStart')],
      });
    }
    if (m.teacherId !== null && !subject.teacherIds.includes(m.teacherId)) {
      throw new AppError('VALIDATION_FAILED', 'The teacher does not teach this subject.', {
        issues: [issue('teacherId', 'not a teacher of the subject', 'notSubjectTeacher')],
      });
    }
    const org = await this.deps.store.organisations.get(actor.orgId);
    const defaults = sessionDefaults(org?.settings ?? NO_ORGANISATION_SETTINGS, this.deps.settings.codePeriodS);
    const room = effectiveRoom(subject, roomOrNull(m.location, m.allowedIpRanges));
    resolvePolicy(m.preset ? { preset: m.preset } : undefined, room, defaults.policy, this.deps.capabilities);
  }

  /**
   * One class at a time per teacher, in the timetable: another subject's meeting on the same
   * weekday, with overlapping times, in a term whose days overlap, taught by the same teacher
   * (its own, else its subject's first) refuses this one with TEACHER_DOUBLE_BOOKED
   * (`details.meetingIds`), unless the caller confirms (`teacherOverlap`). A meeting without a
   * teacher, of a subject without one, is nobody's and clashes with nothing.
   */
  async assertTeacherMeetingsFree(
    actor: Actor,
    subject: Subject,
    m: Pick<Meeting, 'termId' | 'weekday' | 'startTime' | 'endTime' | 'teacherId'>,
    selfId: string | null,
  ): Promise<void> {
    const teacherId = meetingTeacherId(m, subject);
    if (teacherId === undefined) return;
    const { timetable, subjects } = this.deps.store;
    const [meetings, terms] = await Promise.all([timetable.listMeetings(actor.orgId), timetable.listTerms(actor.orgId)]);
    const termOf = new Map(terms.map((t) => [t.id, t]));
    const term = termOf.get(m.termId);
    if (!term) return;
    const subjectOf = new Map<string, Subject | null>();
    const clashes: Meeting[] = [];
    for (const o of meetings) {
      if (o.id === selfId || o.subjectId === subject.id || o.weekday !== m.weekday) continue;
      // "HH:MM" strings order as the times do; half-open, as sessions.
      if (!(o.startTime < m.endTime && m.startTime < o.endTime)) continue;
      const other = termOf.get(o.termId);
      if (!other || other.startDay > term.endDay || term.startDay > other.endDay) continue;
      // Whose the other meeting is: its own teacher only while they teach its subject (meetingTeacherId).
      if (!subjectOf.has(o.subjectId)) subjectOf.set(o.subjectId, await subjects.get(actor.orgId, o.subjectId));
      if (meetingTeacherId(o, subjectOf.get(o.subjectId)) === teacherId) clashes.push(o);
    }
    if (clashes.length === 0) return;
    // A meeting of a subject the caller does not teach is counted, not named.
    const unnamed = await unnamedFor(
      this.deps.store,
      actor,
      clashes.map((o) => o.subjectId),
    );
    const named = clashes.filter((o) => !unnamed.has(o.subjectId));
    const withheld = clashes.length - named.length;
    throw new AppError(
      'TEACHER_DOUBLE_BOOKED',
      'The teacher already has a meeting of another subject at that time; details.meetingIds names each. Send teacherOverlap: true to keep both.' +
        withheldNote(withheld),
      {
        teacherId,
        meetingIds: named.map((o) => o.id),
        subjectIds: [...new Set(named.map((o) => o.subjectId))],
        ...(withheld > 0 ? { withheld } : {}),
        field: 'teacherOverlap',
      },
    );
  }

  /**
   * What the meeting's sessions from today that are still scheduled become after its change,
   * decided before anything is written (TimetableService.updateMeeting): each is moved, or
   * cancelled (the weekday changed, or the changed meeting cannot be held that day).
   * `meetingEdit`: an admin's or teacher's edit of the meeting itself (TimetableService.updateMeeting),
   * not a change of the subject's teachers re-reading the rule (FirstTeacherChange).
   */
  async plan(actor: Actor, subject: Subject, before: Meeting, after: Meeting, meetingEdit = false): Promise<FollowPlan> {
    const { store, now } = this.deps;
    const org = await store.organisations.get(actor.orgId);
    const timezone = org?.timezone ?? this.deps.settings.defaultTimezone;
    const today = dayIn(timezone, now());
    const occurrences = await store.timetable.listOccurrences(actor.orgId, [after.id], today, addDays(today, FOLLOW_DAYS));
    const plan: FollowPlan = { meetingId: after.id, moves: [], cancels: [] };
    // The rule over the subject's active teachers, as the run and the hand-over read it: a moved
    // session never goes to an account made a student or an admin, or deactivated, still listed.
    const ruled = (await withActiveTeachers(store, actor.orgId, subject)) ?? subject;
    // An edit of the room, checks or preset says nothing of who teaches: a session given to
    // another active teacher of the subject (from the admins' list, a hand-over, a colleague's
    // tap) stays theirs rather than go back to the rule's teacher, who may not be free then.
    const keepsTeachers =
      meetingEdit && before.teacherId === after.teacherId && before.startTime === after.startTime && before.endTime === after.endTime;
    for (const o of occurrences) {
      if (o.state !== 'created' || o.sessionId === null) continue;
      const session = await store.sessions.get(actor.orgId, o.sessionId);
      // A session scheduled by hand that stands for the meeting is the teacher's own, and stays.
      if (!session || session.meetingId !== after.id || effectiveStatus(session, now()) !== 'scheduled') continue;
      if (after.weekday !== before.weekday) {
        plan.cancels.push({ session, day: o.day, reason: MEETING_CANCEL_REASONS.weekday });
        continue;
      }
      try {
        const change = await this.followerChange(actor, ruled, session, before, after, o.day, timezone, keepsTeachers);
        const problems = validateWindow(change, { now: now() });
        if (problems.length > 0) throw windowError(problems);
        plan.moves.push({ session, day: o.day, change });
      } catch (err) {
        // The changed meeting cannot be held that day (its new window is over, or the teacher's
        // own defaults need what its room lacks): the session goes rather than stay stale.
        if (!(err instanceof AppError)) throw err;
        this.deps.logger.warn({ err, meetingId: after.id, sessionId: session.id }, 'session of an edited meeting cancelled');
        plan.cancels.push({ session, day: o.day, reason: MEETING_CANCEL_REASONS.unfit });
      }
    }
    return plan;
  }

  /**
   * session:open's rule for the moved sessions: one session of a subject at a time. A session
   * moved onto another scheduled or open session of the subject refuses the whole edit with
   * SESSION_ALREADY_OPEN naming both and the day, unless the teacher confirms (`parallel`), as
   * when opening. Refused rather than cancelled: the teacher asked for this change and would
   * otherwise lose a week's session without having seen why.
   */
  async assertNoClash(actor: Actor, subjectId: string, plan: FollowPlan): Promise<void> {
    const moved = plan.moves.filter((m) => !sameWindow(m.change, m.session));
    if (moved.length === 0) return;
    const following = new Set([...plan.moves, ...plan.cancels].map((f) => f.session.id));
    const others = (await this.deps.store.sessions.listActiveForSubjects(actor.orgId, [subjectId])).filter((s) => !following.has(s.id));
    const clashes = moved.flatMap((m) =>
      others.filter((s) => overlaps(s, m.change)).map((s) => ({ day: m.day, sessionId: m.session.id, withSessionId: s.id })),
    );
    if (clashes.length === 0) return;
    const days = [...new Set(clashes.map((c) => c.day))];
    throw new AppError(
      'SESSION_ALREADY_OPEN',
      `The subject already has a session at the meeting's new time on ${days.join(', ')}; details.clashes names each. Send parallel: true to move the meeting anyway.`,
      { sessionIds: [...new Set(clashes.map((c) => c.withSessionId))], clashes, field: 'parallel' },
    );
  }

  /**
   * One class at a time per teacher, for the moved sessions: a session whose new window or new
   * teacher lands on another scheduled or open session that teacher holds in another subject
   * refuses the whole edit with TEACHER_DOUBLE_BOOKED (`details.clashes` as SESSION_ALREADY_OPEN's),
   * unless the caller confirms (`teacherOverlap`).
   */
  async assertTeacherFree(actor: Actor, subjectId: string, plan: FollowPlan): Promise<void> {
    const following = new Set([...plan.moves, ...plan.cancels].map((f) => f.session.id));
    const clashes: { day: string; sessionId: string; withSessionId: string; teacherId: string }[] = [];
    const inTheWay: AttendanceSession[] = [];
    for (const m of plan.moves) {
      if (m.change.teacherId === m.session.teacherId && sameWindow(m.change, m.session)) continue;
      const found = await teacherClashes(this.deps.store, actor.orgId, m.change.teacherId, subjectId, m.change, following);
      inTheWay.push(...found);
      clashes.push(...found.map((s) => ({ day: m.day, sessionId: m.session.id, withSessionId: s.id, teacherId: m.change.teacherId })));
    }
    const [first] = clashes;
    if (!first) return;
    const days = [...new Set(clashes.map((c) => c.day))];
    // A session in the way of a subject the caller does not teach: the day and the moved session, not which.
    const unnamed = await unnamedFor(
      this.deps.store,
      actor,
      inTheWay.map((s) => s.subjectId),
    );
    const hidden = new Set(inTheWay.filter((s) => unnamed.has(s.subjectId)).map((s) => s.id));
    throw doubleBooked(
      first.teacherId,
      inTheWay,
      unnamed,
      { clashes: clashes.map(({ withSessionId, ...c }) => (hidden.has(withSessionId) ? c : { ...c, withSessionId })) },
      `The teacher already has a session of another subject at the meeting's new time on ${days.join(', ')}; details.clashes names each. Send teacherOverlap: true to move the meeting anyway.`,
    );
  }

  /**
   * Carries out a plan; a session that opened or went meanwhile is left as it is. With `fence`
   * (the edit's slot locks, TimetableService.updateMeeting), each move and each cancellation is
   * written only while they hold: a lock lost before or during one stops the plan there
   * (SlotLockLost or LeaseLostError), for the edit to run again from its checks.
   */
  async apply(actor: Actor, plan: FollowPlan, fence?: SlotFence): Promise<FollowedSessions> {
    const result: FollowedSessions = { rescheduled: [], cancelled: [] };
    const locks = async () => (fence ? await fence() : undefined);
    for (const c of plan.cancels) {
      if (await this.cancelFollower(actor, c.session, plan, c.day, c.reason, await locks())) result.cancelled.push(c.session.id);
    }
    for (const m of plan.moves) {
      try {
        if (await this.lifecycle.reschedule(actor, m.session.id, m.change, await locks(), plan.edit)) result.rescheduled.push(m.session.id);
      } catch (err) {
        // Its new window went by between the plan and now.
        if (!(err instanceof AppError)) throw err;
        this.deps.logger.warn({ err, meetingId: plan.meetingId, sessionId: m.session.id }, 'session of an edited meeting cancelled');
        if (await this.cancelFollower(actor, m.session, plan, m.day, MEETING_CANCEL_REASONS.unfit, await locks())) {
          result.cancelled.push(m.session.id);
        }
      }
    }
    return result;
  }

  /** What a scheduled session of the meeting on `day` becomes; its policy is resolved again only when what decides it changed. */
  private async followerChange(
    actor: Actor,
    subject: Subject,
    session: AttendanceSession,
    before: Meeting,
    after: Meeting,
    day: string,
    timezone: string,
    keepsTeacher: boolean,
  ): Promise<RescheduleInput> {
    const startsAt = instantAt(timezone, day, after.startTime);
    const closesAt = instantAt(timezone, day, after.endTime);
    // The session keeps the grace it was given: the teacher's or organisation's at creation.
    const graceMs = session.lateAfter.getTime() - session.startsAt.getTime();
    const lateAfter = new Date(Math.min(startsAt.getTime() + graceMs, closesAt.getTime()));
    // The meeting's teacher while they teach the subject, else its first teacher's (meetingTeacherId),
    // `subject` with its active teachers only; none: it stays whose it is, listed for the admins
    // (UnstaffedSessions) when that account can no longer teach it. With `keepsTeacher`, an
    // active teacher of the subject holding it keeps it.
    const teacherId =
      keepsTeacher && subject.teacherIds.includes(session.teacherId)
        ? session.teacherId
        : (meetingTeacherId(after, subject) ?? session.teacherId);
    const room = roomOrNull(after.location, after.allowedIpRanges);
    const same = (k: keyof Meeting) => JSON.stringify(before[k]) === JSON.stringify(after[k]);
    let { policy } = session;
    if (!(same('preset') && same('teacherId') && same('location') && same('allowedIpRanges'))) {
      const [org, teacher] = await Promise.all([
        this.deps.store.organisations.get(actor.orgId),
        this.deps.store.timetable.getTeacherSettings(actor.orgId, teacherId),
      ]);
      const defaults = sessionDefaults(org?.settings ?? NO_ORGANISATION_SETTINGS, this.deps.settings.codePeriodS, teacher);
      policy = resolvePolicy(
        after.preset ? { preset: after.preset } : undefined,
        effectiveRoom(subject, room),
        defaults.policy,
        this.deps.capabilities,
      );
    }
    return { startsAt, lateAfter, closesAt, teacherId, policy, room };
  }

  /**
   * Cancels a follower still scheduled and frees its day, so the timetable run may create that
   * day's session again; false, and the day kept, when it opened or went meanwhile.
   */
  private async cancelFollower(
    actor: Actor,
    session: AttendanceSession,
    plan: Pick<FollowPlan, 'meetingId' | 'edit'>,
    day: string,
    reason: string,
    fence: LeaseFence | undefined,
  ): Promise<boolean> {
    if (!(await this.lifecycle.cancelScheduled(actor, session.id, reason, fence, plan.edit))) return false;
    await this.deps.store.timetable.forgetOccurrence(actor.orgId, plan.meetingId, day, session.id);
    return true;
  }

  /**
   * Forgets the days of sessions an edit cancelled, where the day still stands for that session:
   * a run that stopped between a cancellation and its forgetting left it "created" with a
   * cancelled session, which no timetable run would replace. A day since taken by another
   * session is left alone.
   */
  async forgetDays(actor: Actor, meetingId: string, cancelled: readonly AttendanceSession[]): Promise<void> {
    for (const s of cancelled) await this.deps.store.timetable.forgetOccurrence(actor.orgId, meetingId, s.day, s.id);
  }

  /**
   * Forgets the days from `today` that still stand for a session the upgrade marked
   * UNAUDITED_CANCEL. Kept for an edit in progress across the upgrade: the release before marked
   * an edit's cancellations in their audit entry only, written after the session, so a run of it
   * that stopped in between left a cancelled session no mark names, which forgetDays cannot find.
   * Nothing tells such a session from a hand cancel that stopped there too: that one loses its day
   * as it did before the upgrade. Sessions cancelled since carry their edit's mark, or none when
   * cancelled by hand, and a hand cancel keeps its day.
   */
  async forgetUnaudited(actor: Actor, meetingId: string, today: string): Promise<void> {
    const { store } = this.deps;
    for (const o of await store.timetable.listOccurrences(actor.orgId, [meetingId], today, addDays(today, FOLLOW_DAYS))) {
      if (o.state !== 'created' || o.sessionId === null) continue;
      const session = await store.sessions.get(actor.orgId, o.sessionId);
      if (session?.status !== 'cancelled' || session.meetingId !== meetingId || session.meetingEdit !== UNAUDITED_CANCEL) continue;
      await store.timetable.forgetOccurrence(actor.orgId, meetingId, o.day, session.id);
    }
  }
}

function sameWindow(a: Window, b: Window): boolean {
  return a.startsAt.getTime() === b.startsAt.getTime() && a.closesAt.getTime() === b.closesAt.getTime();
}
