import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import type { DomainDeps } from '../deps.js';
import type { LeaseFence } from '../ports/common.js';
import type { Subject } from '../ports/subjects.js';
import type { Meeting } from '../ports/timetable.js';
import { withSlotLocks, type SlotFence, type SlotLockKey } from '../sessions/slot-locks.js';
import type { SessionLifecycle } from '../sessions/session-lifecycle.js';
import { MeetingFollower, type FollowPlan } from './meeting-edits.js';
import { meetingTeacherId } from './meeting-teacher.js';
import { clashesAmong, slotOf, when, type DoubleBooking, type SubjectHanded } from './handed-together.js';

/** One subject's teachers as a change leaves them. */
export interface TeacherChange {
  subjectId: string;
  teacherIds: readonly string[];
}

/**
 * The locks a change of these subjects' teachers runs under: each subject's lease and, unless
 * the overlap is confirmed, the teacher's lease of every teacher it leaves (the ones
 * session:open and meeting edits take). Any of them may be handed sessions: the new first
 * teacher those of the rule, and a meeting's own teacher the sessions of a co-teacher leaving
 * (FirstTeacherChange.handovers), each checked for one class at a time as it is handed them; a
 * class of theirs opened meanwhile on another node waits, and then finds the sessions in the way.
 */
export function firstTeacherLocks(changes: readonly TeacherChange[], teacherOverlap: boolean): SlotLockKey[] {
  return changes.flatMap(({ subjectId, teacherIds }): SlotLockKey[] => [
    { kind: 'subject', id: subjectId },
    ...(teacherOverlap ? [] : teacherIds.map((id) => ({ kind: 'teacher' as const, id }))),
  ]);
}

/**
 * A subject's teachers changing hands its meetings without a teacher of their own, and their
 * sessions still scheduled, to its new first teacher (docs/timetable.md, "One class at a time
 * per teacher"). That teacher is then held to one class at a time as if the meetings had been
 * added and the sessions opened as theirs: another subject's meeting of theirs on the same
 * weekday and time, or a session of theirs in another subject overlapping a handed session,
 * refuses the change with TEACHER_DOUBLE_BOOKED unless `teacherOverlap` confirms it.
 */
export class FirstTeacherChange {
  private readonly follower: MeetingFollower;

  constructor(
    private readonly deps: DomainDeps,
    lifecycle: SessionLifecycle,
  ) {
    this.follower = new MeetingFollower(deps, lifecycle);
  }

  /**
   * Checks the change of `subjectId`'s teachers to `teacherIds`, hands the scheduled sessions
   * over and runs `write` (which stores it, taking the fence it is given, over the subject as
   * read under the leases: its audit's before, null when it is gone), all under the
   * subject's lease and the new first teacher's, the ones session:open and meeting edits take:
   * an open of that teacher racing on another node waits, and then sees the sessions that became
   * theirs (or the change sees it).
   *
   * Each hand-over and the subject's write are fenced by those leases, as a meeting edit's moves
   * and meeting write (TimetableService.updateMeeting): a node paused past them (docs/deploy.md,
   * "A node pauses") writes nothing more, and the change runs again from its checks, which see
   * what another node did meanwhile. The sessions go first: a run again finds those already
   * handed over as the new first teacher's (nothing left to do for them, no second audit entry),
   * whereas a subject written first would leave them to the old teacher for good, the run again
   * finding no change to make.
   */
  async run(
    actor: Actor,
    subjectId: string,
    teacherIds: readonly string[],
    teacherOverlap: boolean,
    write: (fence: LeaseFence, current: Subject | null) => Promise<Subject>,
  ): Promise<Subject> {
    return withSlotLocks(this.deps, actor.orgId, firstTeacherLocks([{ subjectId, teacherIds }], teacherOverlap), async (fence) => {
      // Read under the leases: a change made meanwhile on another node is the one to compare with.
      const { refused, before } = await this.followEach(actor, [{ subjectId, teacherIds }], teacherOverlap, fence);
      const refusal = refused.get(subjectId);
      if (refusal) throw refusal;
      return write(await fence(), before.get(subjectId) ?? null);
    });
  }

  /**
   * `run` for several subjects as one change (a teacher's hand-over), under the locks the caller
   * holds (firstTeacherLocks, with its own): every subject is checked before anything moves, and
   * only when none refuses are their scheduled sessions handed over. Two of them given to the same
   * new first teacher are also checked against each other (clashesAmong). Answers each refusal by
   * subject id (nothing moved), or the subjects as read under the locks (null: gone).
   */
  async followEach(
    actor: Actor,
    changes: readonly TeacherChange[],
    teacherOverlap: boolean,
    fence: SlotFence,
  ): Promise<{ refused: Map<string, AppError>; before: Map<string, Subject | null> }> {
    const refused = new Map<string, AppError>();
    const before = new Map<string, Subject | null>();
    const planned: FollowPlan[] = [];
    const handed: SubjectHanded[] = [];
    for (const { subjectId, teacherIds } of changes) {
      const current = await this.deps.store.subjects.get(actor.orgId, subjectId);
      before.set(subjectId, current);
      const next = teacherIds[0];
      if (!current) continue;
      const after: Subject = { ...current, teacherIds: [...teacherIds] };
      const all = await this.deps.store.timetable.listMeetings(actor.orgId, subjectId);
      // The meetings that become the new first teacher's: those without a teacher of their own,
      // and those whose own teacher leaves the subject (meetingTeacherId).
      const meetings = all.filter((m) => meetingTeacherId(m, after) === next && meetingTeacherId(m, current) !== next);
      const plans = await this.handovers(actor, current, after, all);
      if (plans.length === 0 && meetings.length === 0) continue;
      try {
        if (next !== undefined && !teacherOverlap) {
          await this.assertMeetingsFree(actor, after, next, meetings);
          await this.assertSessionsFree(actor, after, plans);
          // One entry per teacher handed something: the new first teacher, and a meeting's own
          // teacher taking a leaving co-teacher's sessions, each checked against the other subjects'.
          const moves = plans.flatMap((p) => p.moves);
          for (const teacherId of new Set([next, ...moves.map((m) => m.change.teacherId)])) {
            handed.push({
              subject: after,
              teacherId,
              meetings: teacherId === next ? meetings : [],
              moves: moves.filter((m) => m.change.teacherId === teacherId),
            });
          }
        }
        planned.push(...plans);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        refused.set(subjectId, err);
      }
    }
    // Each subject was checked against the store, where the others are still their old teacher's.
    if (handed.length > 1) {
      const terms = await this.deps.store.timetable.listTerms(actor.orgId);
      for (const [id, err] of clashesAmong(handed, terms, refused)) refused.set(id, err);
    }
    if (refused.size === 0) for (const plan of planned) await this.follower.apply(actor, plan, fence);
    return { refused, before };
  }

  /**
   * Each meeting's scheduled sessions that change hands: those the rule gave its teacher before
   * (meetingTeacherId), when that is no longer its teacher, and those held by a teacher leaving
   * the subject, who keeps nothing of it (docs/authorization.md: a removal takes effect at once).
   */
  private async handovers(actor: Actor, before: Subject, after: Subject, meetings: Meeting[]): Promise<FollowPlan[]> {
    const plans: FollowPlan[] = [];
    const staying = new Set(after.teacherIds);
    for (const meeting of meetings) {
      const previous = meetingTeacherId(meeting, before);
      if (meetingTeacherId(meeting, after) === previous && before.teacherIds.every((t) => staying.has(t))) continue;
      const plan = await this.follower.plan(actor, after, meeting, meeting);
      // A session another teacher of the subject holds stays theirs, as it was not the rule's (a
      // co-teacher's, tapped before the tap made the meeting's teacher's session: TimetableService.start).
      const moves = plan.moves.filter(
        (m) => m.change.teacherId !== m.session.teacherId && (m.session.teacherId === previous || !staying.has(m.session.teacherId)),
      );
      if (moves.length > 0) plans.push({ meetingId: meeting.id, moves, cancels: [] });
    }
    return plans;
  }

  /**
   * The sessions to be handed over against the sessions of other subjects of whoever takes them
   * (MeetingFollower.assertTeacherFree checks each move's teacher): the new first teacher, or a
   * meeting's own teacher taking a leaving co-teacher's session. In this change's words.
   */
  private async assertSessionsFree(actor: Actor, after: Subject, plans: FollowPlan[]): Promise<void> {
    const moves = plans.flatMap((p) => p.moves);
    try {
      await this.follower.assertTeacherFree(actor, after.id, { meetingId: '', moves, cancels: [] });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'TEACHER_DOUBLE_BOOKED') throw err;
      const clashes = (err.details?.['clashes'] ?? []) as { day: string; withSessionId?: string }[];
      const days = [...new Set(clashes.map((c) => c.day))];
      const codes = await this.codes(actor, (err.details?.['subjectIds'] ?? []) as string[]);
      // Each day against the subject of the session in the way (one the caller may not see: '?').
      const inTheWay = await Promise.all(
        clashes.map((c) => (c.withSessionId ? this.deps.store.sessions.get(actor.orgId, c.withSessionId) : null)),
      );
      const doubleBookings = [
        ...new Map(
          clashes.map((c, i): [string, DoubleBooking] => {
            const withCode = codes.get(inTheWay[i]?.subjectId ?? '') ?? '?';
            return [`${c.day} ${withCode}`, { code: after.code, meeting: null, day: c.day, withCode, withMeeting: null }];
          }),
        ).values(),
      ];
      throw new AppError(
        'TEACHER_DOUBLE_BOOKED',
        `The teacher this subject's sessions on ${days.join(', ')} would be handed to (its new first teacher, or the meeting's own teacher) has sessions of ${[...codes.values()].join(', ')} then; details.clashes names each, details.teacherId the teacher. Send teacherOverlap: true to keep both.`,
        { ...err.details, doubleBookings },
      );
    }
  }

  private async codes(actor: Actor, subjectIds: readonly string[]): Promise<Map<string, string>> {
    const found = await Promise.all(subjectIds.map((id) => this.deps.store.subjects.get(actor.orgId, id)));
    return new Map(subjectIds.map((id, i) => [id, found[i]?.code ?? '?']));
  }

  /** The subject's teacher-less meetings against the new first teacher's meetings of other subjects, all named in one refusal. */
  private async assertMeetingsFree(actor: Actor, after: Subject, teacherId: string, meetings: Meeting[]): Promise<void> {
    const clashes: { meetingId: string; withMeetingIds: string[] }[] = [];
    for (const meeting of meetings) {
      try {
        await this.follower.assertTeacherMeetingsFree(actor, after, meeting, meeting.id);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'TEACHER_DOUBLE_BOOKED') throw err;
        clashes.push({ meetingId: meeting.id, withMeetingIds: (err.details?.['meetingIds'] as string[] | undefined) ?? [] });
      }
    }
    if (clashes.length === 0) return;
    const { store } = this.deps;
    const inTheWay = new Set(clashes.flatMap((c) => c.withMeetingIds));
    const others = (await store.timetable.listMeetings(actor.orgId)).filter((m) => inTheWay.has(m.id));
    const subjectIds = [...new Set(others.map((m) => m.subjectId))];
    const codes = await this.codes(actor, subjectIds);
    const own = new Map(meetings.map((m) => [m.id, m]));
    const named = clashes.map((c) => {
      const theirs = others.filter((o) => c.withMeetingIds.includes(o.id)).map((o) => `${codes.get(o.subjectId)} ${when(o)}`);
      return `${after.code} ${when(own.get(c.meetingId)!)} meets ${theirs.join(', ')}`;
    });
    const doubleBookings = clashes.flatMap((c) =>
      others
        .filter((o) => c.withMeetingIds.includes(o.id))
        .map((o): DoubleBooking => ({
          code: after.code,
          meeting: slotOf(own.get(c.meetingId)!),
          day: null,
          withCode: codes.get(o.subjectId) ?? '?',
          withMeeting: slotOf(o),
        })),
    );
    throw new AppError(
      'TEACHER_DOUBLE_BOOKED',
      `The new first teacher would teach this subject's meetings at the time of their meetings of another subject: ${named.join('; ')}. Send teacherOverlap: true to keep both.`,
      { teacherId, meetingIds: [...inTheWay], subjectIds, meetingClashes: clashes, doubleBookings, field: 'teacherOverlap' },
    );
  }
}
