import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../shared/app-error.js';
import type { AuditAction } from '../../shared/audit.js';
import { audit } from '../audit-log.js';
import type { PolicyPreset } from '../../shared/policy-presets.js';
import type { StaffSessionView } from '../../shared/events.js';
import { requireRole, type Actor } from '../actor.js';
import { addDays, dayIn, isoWeekday } from '../calendar.js';
import type { DomainDeps } from '../deps.js';
import { assertStaffOf } from '../sessions/access.js';
import { roomOrNull } from '../sessions/room.js';
import type { SessionLifecycle } from '../sessions/session-lifecycle.js';
import type { SessionService } from '../sessions/session-service.js';
import { type ClassroomLocation, type Subject } from '../ports/subjects.js';
import {
  meetingNaturalKey,
  type Holiday,
  type Meeting,
  type MeetingPatch,
  type NewMeeting,
  type Occurrence,
  type TeacherSettings,
  type Term,
} from '../ports/timetable.js';
import { isStoreConflict } from '../ports/common.js';
import { mergeTeacherSettings, type TeacherSettingsInput } from './teacher-settings.js';
import { expandTimetable, occurrenceKey, type Slot } from './expand.js';
import { MeetingFollower, type FollowedSessions } from './meeting-edits.js';
import { abandonedBeside, daysOf, editTrail, idsOf, markedBy, meetingEditKey } from './edit-trail.js';
import { withSlotLocks, type SlotFence, type SlotLockKey } from '../sessions/slot-locks.js';
import { CLAIM_STALE_MS, createTimetableSessions, type TimetableRunCounts } from './timetable-job.js';
import { withActiveTeachers } from '../subjects/active-teachers.js';
import { meetingTeacherId } from './meeting-teacher.js';
import { issue } from '../../shared/validation-issues.js';
import { assertInUse } from '../subjects/subject-archive.js';

/** Checks, TAP_WAIT_PAUSE_MS apart, for the session another tap of the same dated meeting is creating: about three seconds. */
const TAP_WAIT_TRIES = 100;
const TAP_WAIT_PAUSE_MS = 30;

export interface DayRangeInput {
  name: string;
  startDay: string;
  endDay: string;
}

export interface MeetingInput {
  termId: string;
  weekday: number;
  startTime: string;
  endTime: string;
  teacherId?: string | null | undefined;
  preset?: PolicyPreset | null | undefined;
  /** The room's location when not the subject's classroom; null or left out: the subject's. */
  location?: ClassroomLocation | null | undefined;
  /** The room's networks; empty or left out: the subject's. */
  allowedIpRanges?: string[] | undefined;
  /** Keep it even when its teacher has another subject's meeting at that time (MeetingFollower.assertTeacherMeetingsFree). */
  teacherOverlap?: boolean | undefined;
}

/** An edit of a meeting: a field left out keeps its value; the term stays. */
export type MeetingUpdateInput = { [K in Exclude<keyof MeetingInput, 'termId' | 'teacherOverlap'>]?: MeetingInput[K] | undefined } & {
  /** Move its sessions even onto other sessions of the subject (MeetingFollower.assertNoClash). */
  parallel?: boolean | undefined;
  /**
   * Keep it, and move its sessions, even where its teacher has another subject's meeting or
   * session at that time (MeetingFollower.assertTeacherMeetingsFree, assertTeacherFree).
   */
  teacherOverlap?: boolean | undefined;
};

/** A meeting after an edit, with what became of its sessions not yet opened. */
export interface MeetingUpdate extends FollowedSessions {
  meeting: Meeting;
  /**
   * Sessions an earlier, different edit of the meeting as it stood moved or cancelled before it
   * was refused and not sent again (docs/timetable.md, "Editing a meeting"), which this edit
   * left as they were: cancelled ones stay cancelled.
   */
  abandoned: FollowedSessions;
}

/** A dated meeting as staff see it: planned, its session created, or called off. */
export interface UpcomingSlot {
  meetingId: string;
  day: string;
  startsAt: string;
  closesAt: string;
  teacherId: string | null;
  preset: PolicyPreset | null;
  state: 'planned' | 'created' | 'cancelled';
  sessionId: string | null;
}

/** Longest look-ahead of the upcoming list, in days. */
export const MAX_UPCOMING_DAYS = 62;

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

function assertDayRange(input: { startDay: string; endDay: string }): void {
  for (const field of ['startDay', 'endDay'] as const) {
    const day = input[field];
    const parsed = Date.parse(`${day}T00:00:00Z`);
    // Date.parse rolls 30 February over to March: only a day that reads back as itself is one.
    if (!DAY_RE.test(day) || Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== day) {
      throw new AppError('VALIDATION_FAILED', `${field} is not a calendar day.`, {
        issues: [issue(field, 'not a calendar day', 'day')],
      });
    }
  }
  if (input.endDay < input.startDay) {
    throw new AppError('VALIDATION_FAILED', 'endDay is before startDay.', {
      issues: [issue('endDay', 'before startDay', 'endBeforeStart')],
    });
  }
}

/**
 * Terms, holidays and subjects' weekly meetings (docs/timetable.md): what the timetable job
 * turns into sessions, what staff see coming, and the one tap that starts a meeting's session
 * for a teacher who does not let them open by themselves.
 */
export class TimetableService {
  private readonly follower: MeetingFollower;

  constructor(
    private readonly deps: DomainDeps,
    private readonly sessions: SessionService,
    private readonly lifecycle: SessionLifecycle,
  ) {
    this.follower = new MeetingFollower(deps, lifecycle);
  }

  /** The scheduled job's pass: every active organisation's sessions for the next `horizonDays`. */
  createUpcoming(now: Date, horizonDays: number): Promise<TimetableRunCounts> {
    return createTimetableSessions(this.deps, this.sessions, now, horizonDays);
  }

  async calendar(actor: Actor): Promise<{ terms: Term[]; holidays: Holiday[] }> {
    requireRole(actor, 'admin', 'teacher');
    const { timetable } = this.deps.store;
    const [terms, holidays] = await Promise.all([timetable.listTerms(actor.orgId), timetable.listHolidays(actor.orgId)]);
    return { terms, holidays };
  }

  async createTerm(actor: Actor, input: DayRangeInput): Promise<Term> {
    requireRole(actor, 'admin');
    assertDayRange(input);
    const term = await this.deps.store.timetable.createTerm(actor.orgId, input);
    await this.audit(actor, 'organisation', actor.orgId, 'term.create', null, term);
    return term;
  }

  async deleteTerm(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    if (!(await this.deps.store.timetable.deleteTerm(actor.orgId, id))) throw new AppError('NOT_FOUND', 'No such term.');
    await this.audit(actor, 'organisation', actor.orgId, 'term.delete', { id }, null);
  }

  async createHoliday(actor: Actor, input: DayRangeInput): Promise<Holiday> {
    requireRole(actor, 'admin');
    assertDayRange(input);
    const holiday = await this.deps.store.timetable.createHoliday(actor.orgId, input);
    await this.audit(actor, 'organisation', actor.orgId, 'holiday.create', null, holiday);
    return holiday;
  }

  async deleteHoliday(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    if (!(await this.deps.store.timetable.deleteHoliday(actor.orgId, id))) throw new AppError('NOT_FOUND', 'No such holiday.');
    await this.audit(actor, 'organisation', actor.orgId, 'holiday.delete', { id }, null);
  }

  async meetings(actor: Actor, subjectId: string): Promise<Meeting[]> {
    await this.subjectForStaff(actor, subjectId);
    return this.deps.store.timetable.listMeetings(actor.orgId, subjectId);
  }

  /**
   * `id` (a roll-over's copy, made once whoever repeats it): a meeting stored with it already
   * refuses this one with StoreConflictError('id'), nothing written or audited.
   */
  async createMeeting(actor: Actor, subjectId: string, input: MeetingInput, id?: string): Promise<Meeting> {
    const subject = await this.subjectForStaff(actor, subjectId);
    assertInUse([subject]);
    const fields = await this.newMeetingFields(actor, input);
    await this.follower.assertFits(actor, subject, fields);
    let meeting: Meeting | null = null;
    for (let attempt = 1, read = subject; meeting === null; attempt += 1) {
      const teacherId = input.teacherOverlap ? undefined : (fields.teacherId ?? read.teacherIds[0]);
      // Checked and written under the subject's lease and the teacher's (the ones session:open,
      // meeting edits and a change of the subject's first teacher take): of two meetings of one
      // teacher added at once on two nodes, the second sees the first; and a change of the first
      // teacher, who holds this meeting when it has no teacher of its own, comes wholly before or after.
      meeting = await withSlotLocks(
        this.deps,
        actor.orgId,
        [{ kind: 'subject', id: subjectId }, ...(teacherId === undefined ? [] : [{ kind: 'teacher' as const, id: teacherId }])],
        async (fence) => {
          read = await this.subjectForStaff(actor, subjectId);
          // The first teacher changed since the read: the new one's lease is the one to hold.
          if (!input.teacherOverlap && (fields.teacherId ?? read.teacherIds[0]) !== teacherId) return null;
          await this.follower.assertFits(actor, read, fields);
          if (!input.teacherOverlap) await this.follower.assertTeacherMeetingsFree(actor, read, { termId: input.termId, ...fields }, null);
          // The locks go with the write and are checked in it: a pause after this fence is caught
          // too (LeaseLostError: withSlotLocks runs this again, and the check sees the other's meeting).
          const adding: NewMeeting = { id, subjectId, termId: input.termId, ...fields };
          return this.deps.store.timetable
            .createMeeting(actor.orgId, adding, await fence())
            .catch(async (err: unknown) => Promise.reject(await this.meetingExists(actor.orgId, adding, null, err)));
        },
      );
      if (meeting === null && attempt >= EDIT_TRIES)
        throw new AppError('CONFLICT', "The subject's teachers are changing; retry in a moment.");
    }
    await this.audit(actor, 'subject', subjectId, 'meeting.create', null, meeting);
    return meeting;
  }

  /**
   * The refusal of a meeting equal in every field (meetingNaturalKey) to another of its subject,
   * `exceptId` aside: 409 CONFLICT naming it (`details.existingMeetingId`, see isMeetingExists).
   * With `err` (a write's failure): the refusal when it was the store's StoreConflictError('meeting'),
   * else `err` as it is; without: the refusal, or null when there is no such meeting.
   */
  private async meetingExists(orgId: string, m: Omit<NewMeeting, 'id'>, exceptId: string | null, err: unknown): Promise<unknown> {
    if (err !== null && !(isStoreConflict(err) && err.key === 'meeting')) return err;
    const key = meetingNaturalKey(m);
    const existing = (await this.deps.store.timetable.listMeetings(orgId, m.subjectId)).find(
      (o) => o.id !== exceptId && meetingNaturalKey(o) === key,
    );
    if (!existing && err === null) return null;
    return new AppError('CONFLICT', 'The subject already has this meeting.', { existingMeetingId: existing?.id ?? null });
  }

  /** A new meeting's stored fields, its term checked to be the organisation's. */
  private async newMeetingFields(actor: Actor, input: MeetingInput) {
    const terms = await this.deps.store.timetable.listTerms(actor.orgId);
    if (!terms.some((t) => t.id === input.termId)) {
      throw new AppError('NOT_FOUND', 'No such term.', { issues: [issue('termId', 'no such term', 'notFound')] });
    }
    const room = roomOrNull(input.location, input.allowedIpRanges);
    return {
      weekday: input.weekday,
      startTime: input.startTime,
      endTime: input.endTime,
      teacherId: input.teacherId ?? null,
      preset: input.preset ?? null,
      location: room?.location ?? null,
      allowedIpRanges: room?.allowedIpRanges ?? [],
    };
  }

  /**
   * What adding the meeting would meet, nothing written (an import's dry run): the refusals of
   * createMeeting's checks, thrown as it throws them, and the other subjects' meetings its
   * teacher already has at that time, counted (the double booking createMeeting refuses unless
   * confirmed with `teacherOverlap`), unless `teacherMeetings` is false (the add that follows
   * checks them itself). Read without the leases: a check, not a reservation.
   */
  async checkMeeting(
    actor: Actor,
    subjectId: string,
    input: MeetingInput,
    opts: { teacherMeetings?: boolean } = {},
  ): Promise<{ doubleBookedWith: number }> {
    const subject = await this.subjectForStaff(actor, subjectId);
    assertInUse([subject]);
    const fields = await this.newMeetingFields(actor, input);
    await this.follower.assertFits(actor, subject, fields);
    if (opts.teacherMeetings === false) return { doubleBookedWith: 0 };
    try {
      await this.follower.assertTeacherMeetingsFree(actor, subject, { termId: input.termId, ...fields }, null);
      return { doubleBookedWith: 0 };
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'TEACHER_DOUBLE_BOOKED') throw err;
      return { doubleBookedWith: doubleBookedCount(err) };
    }
  }

  /**
   * Edits a meeting. Its sessions already created and still scheduled follow: new times,
   * teacher, checks and room; when the weekday changes they are cancelled instead
   * (MEETING_WEEKDAY_CHANGED) and the timetable run creates the new days' sessions. Sessions
   * that opened keep what they opened with. A session that would move onto another session of
   * the subject refuses the edit (SESSION_ALREADY_OPEN), unless `parallel`, as session:open does.
   */
  async updateMeeting(actor: Actor, meetingId: string, input: MeetingUpdateInput): Promise<MeetingUpdate> {
    for (let attempt = 1; ; attempt += 1) {
      const before = await this.meetingForStaff(actor, meetingId);
      // The sessions' teacher after the edit (MeetingFollower.followerChange), as read before the leases.
      const { teacherId } = editOf(await this.ruled(actor, before.subject), before.meeting, input);
      const locks: SlotLockKey[] = [
        // Always the subject's, even with `parallel`: a change of its first teacher holds it too.
        { kind: 'subject', id: before.subject.id },
        ...(input.teacherOverlap || teacherId === undefined ? [] : [{ kind: 'teacher' as const, id: teacherId }]),
      ];
      // Planned, checked and carried out under the subject's and teacher's locks, as session:open
      // creates: an open or another edit on any node waits and then sees the moved sessions, so
      // of an edit and an open racing for one slot exactly one wins.
      const result = await withSlotLocks(this.deps, actor.orgId, locks, (fence) =>
        this.updateUnderLeases(actor, meetingId, input, teacherId, fence),
      ).catch(async (err: unknown) => {
        throw await this.partlyApplied(actor, meetingId, input, err);
      });
      if (result) return result;
      // The subject's first teacher changed between the read and the leases: the other teacher's lease is the one to hold.
      if (attempt >= EDIT_TRIES) throw new AppError('CONFLICT', "The subject's teachers are changing; retry in a moment.");
    }
  }

  /** The edit, read and decided under the leases; null when the sessions' teacher is no longer `lockedTeacherId`. */
  private async updateUnderLeases(
    actor: Actor,
    meetingId: string,
    input: MeetingUpdateInput,
    lockedTeacherId: string | undefined,
    fence: SlotFence,
  ): Promise<MeetingUpdate | null> {
    // Read under the leases: a change of the subject's first teacher, or another edit, that
    // landed meanwhile is the one to build on (the sessions go to the teacher it left).
    const { subject, meeting } = await this.meetingForStaff(actor, meetingId);
    const { patch, changed, next, teacherId } = editOf(await this.ruled(actor, subject), meeting, input);
    if (changed.length === 0) return { meeting, rescheduled: [], cancelled: [], abandoned: { rescheduled: [], cancelled: [] } };
    if (!input.teacherOverlap && teacherId !== lockedTeacherId) return null;
    await this.follower.assertFits(actor, subject, next);
    // Refused before any session moves: the store would refuse the write, after them.
    const equal = await this.meetingExists(actor.orgId, { ...meeting, ...next }, meetingId, null);
    if (equal) throw equal;
    const rebooked = changed.some((k) => k === 'weekday' || k === 'startTime' || k === 'endTime' || k === 'teacherId');
    // Under the teacher's lease, as adding a meeting: an add or edit racing on another node waits.
    if (rebooked && !input.teacherOverlap) await this.follower.assertTeacherMeetingsFree(actor, subject, next, meetingId);
    // Decided and checked before the meeting is written: a refused edit changes nothing.
    const edit = meetingEditKey(meeting, next);
    const plan = { ...(await this.follower.plan(actor, subject, meeting, { ...next, id: meetingId }, true)), edit };
    if (!input.parallel) await this.follower.assertNoClash(actor, subject.id, plan);
    if (!input.teacherOverlap) await this.follower.assertTeacherFree(actor, subject.id, plan);
    // The sessions move first, each move fenced by the locks, then the meeting is written, fenced
    // as createMeeting's write: a lock lost before or during any of them runs the edit again from
    // its checks, which then see what another node wrote meanwhile. Moved first, the sessions
    // are found moved by that run (nothing left to move) rather than left behind by a meeting
    // already edited, which that run would find with nothing to change.
    const followed = await this.follower.apply(actor, plan, fence);
    // Every session the edit cancelled, also by an earlier run that lost its locks or an earlier
    // request refused after some writes: those were cancelled and their days forgotten, so this
    // run's plan no longer saw them. A day such a run cancelled but did not get to forget (it
    // stopped in between, even before the audit entry: the mark is on the session) is forgotten
    // now, or it would stay "created" with a cancelled session.
    const today = await this.today(actor.orgId);
    const trail = await editTrail(this.deps.store, meeting, markedBy(edit), today);
    await this.follower.forgetDays(actor, meetingId, trail.cancelled);
    await this.follower.forgetUnaudited(actor, meetingId, today);
    // What another edit, refused and given up, left moved or cancelled: said rather than undone.
    const abandoned = idsOf(await editTrail(this.deps.store, meeting, abandonedBeside(edit), today));
    const updated = await this.deps.store.timetable
      .updateMeeting(actor.orgId, meetingId, patch, await fence())
      .catch(async (err: unknown) => Promise.reject(await this.meetingExists(actor.orgId, { ...meeting, ...next }, meetingId, err)));
    if (!updated) throw new AppError('NOT_FOUND', 'No such meeting.');
    const left = abandoned.rescheduled.length > 0 || abandoned.cancelled.length > 0;
    const pick = (m: Meeting) => Object.fromEntries(changed.map((k) => [k, m[k]]));
    await this.audit(
      actor,
      'subject',
      meeting.subjectId,
      'meeting.update',
      { id: meetingId, ...pick(meeting) },
      { id: meetingId, ...pick(updated), ...(left ? { abandoned } : {}) },
    );
    return { meeting: updated, rescheduled: followed.rescheduled, cancelled: trail.cancelled.map((s) => s.id), abandoned };
  }

  /**
   * A refused edit (or one answered CONFLICT) whose earlier run, or an earlier request of the
   * same edit, moved or cancelled sessions before its locks were lost: the meeting is as it was
   * while those sessions follow the edit. The refusal says so (`details.partlyApplied`, read
   * back from the store) and how to finish: send the edit again, as the refusal asks; a session
   * already as asked is not written again. A refusal of any edit also names what another edit,
   * refused and given up, left (`details.abandoned`), as the completed edit's answer does. Any
   * other failure is answered as it is.
   */
  private async partlyApplied(actor: Actor, meetingId: string, input: MeetingUpdateInput, err: unknown): Promise<unknown> {
    if (!(err instanceof AppError)) return err;
    const found = await this.meetingForStaff(actor, meetingId).catch(() => null);
    if (!found) return err;
    const { subject, meeting } = found;
    const { changed, next } = editOf(subject, meeting, input);
    if (changed.length === 0) return err;
    const edit = meetingEditKey(meeting, next);
    const today = await this.today(actor.orgId);
    const trail = await editTrail(this.deps.store, meeting, markedBy(edit), today);
    // What another edit, refused and given up, left: said here too, as the completed edit says it.
    const abandoned = idsOf(await editTrail(this.deps.store, meeting, abandonedBeside(edit), today));
    const partly = trail.rescheduled.length > 0 || trail.cancelled.length > 0;
    const left = abandoned.rescheduled.length > 0 || abandoned.cancelled.length > 0;
    if (!partly && !left) return err;
    const done = idsOf(trail);
    const message = [
      err.message,
      ...(partly
        ? [
            `The edit is partly applied: ${done.rescheduled.length} session(s) already moved and ${done.cancelled.length} cancelled ` +
              '(details.partlyApplied) while the meeting is unchanged; send the edit again, as this answer asks, to finish it.',
          ]
        : []),
      ...(left
        ? [
            `Another edit, given up, left ${abandoned.rescheduled.length} session(s) moved and ${abandoned.cancelled.length} cancelled ` +
              '(details.abandoned); they stay so.',
          ]
        : []),
    ].join(' ');
    return new AppError(err.code, message, {
      ...err.details,
      ...(partly ? { partlyApplied: { ...done, ...daysOf(trail) } } : {}),
      ...(left ? { abandoned } : {}),
    });
  }

  /** Today in the organisation's time zone. */
  private async today(orgId: string): Promise<string> {
    const org = await this.deps.store.organisations.get(orgId);
    return dayIn(org?.timezone ?? this.deps.settings.defaultTimezone, this.deps.now());
  }

  async deleteMeeting(actor: Actor, meetingId: string): Promise<void> {
    const { meeting } = await this.meetingForStaff(actor, meetingId);
    await this.deps.store.timetable.deleteMeeting(actor.orgId, meetingId);
    await this.audit(actor, 'subject', meeting.subjectId, 'meeting.delete', meeting, null);
  }

  /** Calls off one dated meeting: no session is created for it, and one already created is cancelled. */
  async cancelOccurrence(actor: Actor, meetingId: string, day: string): Promise<UpcomingSlot> {
    const { meeting } = await this.meetingForStaff(actor, meetingId);
    const { subjectId } = meeting;
    const slot = await this.slotOf(actor.orgId, meeting, day);
    // A past meeting's session holds its records; voiding it is session:cancel's, not the timetable's.
    if (slot.closesAt.getTime() <= this.deps.now().getTime()) throw new AppError('SESSION_CLOSED', 'This meeting is over.');
    const before = await this.deps.store.timetable.cancelOccurrence(actor.orgId, { meetingId, day, subjectId }, this.deps.now());
    if (before?.sessionId) await this.lifecycle.cancel(actor, before.sessionId, 'TIMETABLE_CANCELLED');
    await this.audit(
      actor,
      'subject',
      subjectId,
      'meeting.cancel',
      { meetingId, day, sessionId: before?.sessionId ?? null },
      { state: 'cancelled' },
    );
    return view(slot, { state: 'cancelled', sessionId: before?.sessionId ?? null });
  }

  /**
   * The one tap: creates the dated meeting's session now (or at its start, when tapped ahead).
   * Idempotent on the occurrence: a session already created for it is answered again. The
   * session is the one the timetable run would make: the meeting's teacher's, else the
   * subject's first teacher's (the tapper's only when the subject has no teacher), read under
   * the subject's lease as the run reads it, so a change of the first teacher either comes
   * first and is read, or finds the session and hands it over (docs/timetable.md).
   */
  async start(actor: Actor, meetingId: string, day: string): Promise<StaffSessionView> {
    const { meeting } = await this.meetingForStaff(actor, meetingId);
    const { subjectId } = meeting;
    const slot = await this.slotOf(actor.orgId, meeting, day);
    const at = this.deps.now();
    assertNotOver(slot, at);
    const { timetable } = this.deps.store;
    // A tap that meets another tap (a second device, the other node) still creating the session
    // waits for it and answers that session, as docs/timetable.md promises of a second tap; only
    // a creation still unfinished after about three seconds (the slot locks' bound) is CONFLICT.
    for (let attempt = 1; ; attempt += 1) {
      const now = this.deps.now();
      const claimed = await timetable.claimOccurrence(
        actor.orgId,
        { meetingId, day, subjectId },
        now,
        new Date(now.getTime() - CLAIM_STALE_MS),
      );
      if (claimed) break;
      const [existing] = await timetable.listOccurrences(actor.orgId, [meetingId], day, day);
      if (existing?.state === 'cancelled') throw new AppError('SESSION_CANCELLED', 'This meeting was called off.');
      if (existing?.sessionId) return this.sessions.get(actor, existing.sessionId);
      if (attempt >= TAP_WAIT_TRIES) throw new AppError('CONFLICT', 'The session of this meeting is being created; retry in a moment.');
      await sleep(TAP_WAIT_PAUSE_MS);
    }
    try {
      const session = await this.tapUnderLeases(actor, meetingId, subjectId, day, at);
      await timetable.completeOccurrence(actor.orgId, meetingId, day, session.id, this.deps.now());
      return session;
    } catch (err) {
      await timetable.releaseOccurrence(actor.orgId, meetingId, day);
      throw err;
    }
  }

  /**
   * The tapped session, made under the subject's lease and its teacher's: the lease a role
   * change's or deactivation's hand-over takes to list that teacher's sessions (as the run,
   * timetable-job.ts), so a tap that read them as active has made its session before that list
   * is read. A teacher changed between the read and the leases is read again under the new one.
   */
  private async tapUnderLeases(actor: Actor, meetingId: string, subjectId: string, day: string, at: Date): Promise<StaffSessionView> {
    const { timetable } = this.deps.store;
    const ruled = async (): Promise<{ current: Meeting; teacherId: string | undefined }> => {
      const current = await timetable.getMeeting(actor.orgId, meetingId);
      if (!current) throw new AppError('NOT_FOUND', 'No such meeting.');
      // Never in the name of an account no longer an active teacher (withActiveTeachers).
      const subject = await withActiveTeachers(this.deps.store, actor.orgId, await this.deps.store.subjects.get(actor.orgId, subjectId));
      return { current, teacherId: meetingTeacherId(current, subject) };
    };
    for (let attempt = 1; ; attempt += 1) {
      const locked = (await ruled()).teacherId;
      const locks: SlotLockKey[] = [{ kind: 'subject', id: subjectId }, ...(locked ? [{ kind: 'teacher' as const, id: locked }] : [])];
      const session = await withSlotLocks(this.deps, actor.orgId, locks, async () => {
        // Read again under the leases: an edit of the meeting or of the subject's teachers, or a
        // role change, that landed since is the one to follow.
        const { current, teacherId } = await ruled();
        if (teacherId !== locked) return null;
        const now = await this.slotOf(actor.orgId, current, day);
        assertNotOver(now, this.deps.now());
        return this.sessions.open(
          actor,
          {
            subjectId,
            ...(now.startsAt.getTime() > at.getTime() ? { startsAt: now.startsAt.toISOString() } : {}),
            closesAt: now.closesAt.toISOString(),
            ...(now.preset ? { policy: { preset: now.preset } } : {}),
            // The timetable placed this class; the teacher's other bookings were checked when its meeting was.
            teacherOverlap: true,
          },
          { meetingId, room: now.room, subjectLeaseHeld: true, teacherId: teacherId ?? actor.id },
        );
      });
      if (session) return session;
      if (attempt >= EDIT_TRIES) throw new AppError('CONFLICT', "The subject's teachers are changing; retry in a moment.");
    }
  }

  /** The subject's meetings over the next `days` days from today, with what became of each. */
  async upcoming(actor: Actor, subjectId: string, days: number): Promise<UpcomingSlot[]> {
    await this.subjectForStaff(actor, subjectId);
    const { store } = this.deps;
    const org = await store.organisations.get(actor.orgId);
    const timezone = org?.timezone ?? this.deps.settings.defaultTimezone;
    const from = dayIn(timezone, this.deps.now());
    const to = addDays(from, Math.min(Math.max(days, 1), MAX_UPCOMING_DAYS) - 1);
    const [terms, holidays, meetings] = await Promise.all([
      store.timetable.listTerms(actor.orgId),
      store.timetable.listHolidays(actor.orgId),
      store.timetable.listMeetings(actor.orgId, subjectId),
    ]);
    const occurrences = await store.timetable.listOccurrences(
      actor.orgId,
      meetings.map((m) => m.id),
      from,
      to,
    );
    const byKey = new Map(occurrences.map((o) => [occurrenceKey(o.meetingId, o.day), o]));
    return expandTimetable({ timezone, terms, holidays, meetings, cancelled: new Set() }, from, to).map((slot) =>
      view(slot, byKey.get(occurrenceKey(slot.meetingId, slot.day)) ?? null),
    );
  }

  async settings(actor: Actor): Promise<TeacherSettings> {
    requireRole(actor, 'admin', 'teacher');
    return this.deps.store.timetable.getTeacherSettings(actor.orgId, actor.id);
  }

  /** Changes the caller's own settings; a field left out keeps its value (teacher-settings.ts). */
  async updateSettings(actor: Actor, input: TeacherSettingsInput): Promise<TeacherSettings> {
    requireRole(actor, 'admin', 'teacher');
    const { timetable } = this.deps.store;
    return timetable.putTeacherSettings(mergeTeacherSettings(await timetable.getTeacherSettings(actor.orgId, actor.id), input));
  }

  private async subjectForStaff(actor: Actor, subjectId: string): Promise<Subject> {
    requireRole(actor, 'admin', 'teacher');
    const subject = await this.deps.store.subjects.get(actor.orgId, subjectId);
    if (!subject) throw new AppError('NOT_FOUND', 'No such subject.');
    assertStaffOf(actor, subject);
    return subject;
  }

  /** The subject as the meeting rule reads it: its active teachers only (withActiveTeachers). */
  private async ruled(actor: Actor, subject: Subject): Promise<Subject> {
    return (await withActiveTeachers(this.deps.store, actor.orgId, subject)) ?? subject;
  }

  private async meetingForStaff(actor: Actor, meetingId: string): Promise<{ subject: Subject; meeting: Meeting }> {
    requireRole(actor, 'admin', 'teacher');
    const meeting = await this.deps.store.timetable.getMeeting(actor.orgId, meetingId);
    if (!meeting) throw new AppError('NOT_FOUND', 'No such meeting.');
    return { subject: await this.subjectForStaff(actor, meeting.subjectId), meeting };
  }

  /** The meeting's slot on `day`; NOT_FOUND when the timetable has none that day (weekday, term, holiday). */
  private async slotOf(orgId: string, meeting: Meeting, day: string): Promise<Slot> {
    const { store } = this.deps;
    const [org, terms, holidays] = await Promise.all([
      store.organisations.get(orgId),
      store.timetable.listTerms(orgId),
      store.timetable.listHolidays(orgId),
    ]);
    const timezone = org?.timezone ?? this.deps.settings.defaultTimezone;
    const slot =
      DAY_RE.test(day) && isoWeekday(day) === meeting.weekday
        ? expandTimetable({ timezone, terms, holidays, meetings: [meeting], cancelled: new Set() }, day, day)[0]
        : undefined;
    if (!slot)
      throw new AppError('NOT_FOUND', 'The meeting does not take place that day.', {
        issues: [issue('day', 'no meeting that day', 'noMeetingThatDay')],
      });
    return slot;
  }

  private async audit(
    actor: Actor,
    entityType: 'organisation' | 'subject',
    entityId: string,
    action: AuditAction,
    from: unknown,
    to: unknown,
  ): Promise<void> {
    await audit(this.deps.store, actor, this.deps.now(), { entityType, entityId, action, from, to });
  }
}

/** Reads of a meeting addition or edit before it gives up when the subject's first teacher keeps changing under it. */
const EDIT_TRIES = 3;

/** How many meetings a TEACHER_DOUBLE_BOOKED refusal of a meeting met: those named and those withheld from the caller. */
export function doubleBookedCount(err: AppError): number {
  const named = err.details?.['meetingIds'];
  const withheld = err.details?.['withheld'];
  return (Array.isArray(named) ? named.length : 0) + (typeof withheld === 'number' ? withheld : 0);
}

/** What an edit changes in `meeting`, the meeting after it, and the teacher its sessions will have (its own, else the subject's first). */
function assertNotOver(slot: Pick<Slot, 'closesAt'>, at: Date): void {
  if (slot.closesAt.getTime() <= at.getTime()) throw new AppError('SESSION_CLOSED', 'This meeting is over; open a session by hand.');
}

function editOf(
  subject: Subject,
  meeting: Meeting,
  input: MeetingUpdateInput,
): { patch: MeetingPatch; changed: Array<keyof MeetingPatch>; next: Meeting; teacherId: string | undefined } {
  const patch: MeetingPatch = {};
  if (input.weekday !== undefined) patch.weekday = input.weekday;
  if (input.startTime !== undefined) patch.startTime = input.startTime;
  if (input.endTime !== undefined) patch.endTime = input.endTime;
  if (input.teacherId !== undefined) patch.teacherId = input.teacherId;
  if (input.preset !== undefined) patch.preset = input.preset;
  // Through roomOrNull, as on creation: a plain location, and the ranges without repeats.
  if (input.location !== undefined) patch.location = roomOrNull(input.location, [])?.location ?? null;
  if (input.allowedIpRanges !== undefined) patch.allowedIpRanges = [...new Set(input.allowedIpRanges)];
  const changed = (Object.keys(patch) as Array<keyof MeetingPatch>).filter((k) => JSON.stringify(patch[k]) !== JSON.stringify(meeting[k]));
  const next = { ...meeting, ...patch };
  // Whose its sessions become (MeetingFollower.followerChange): `subject` with its active teachers.
  return { patch, changed, next, teacherId: meetingTeacherId(next, subject) };
}

function view(slot: Slot, o: Pick<Occurrence, 'state' | 'sessionId'> | null): UpcomingSlot {
  return {
    meetingId: slot.meetingId,
    day: slot.day,
    startsAt: slot.startsAt.toISOString(),
    closesAt: slot.closesAt.toISOString(),
    teacherId: slot.teacherId,
    preset: slot.preset,
    state: o === null || o.state === 'claimed' ? 'planned' : o.state,
    sessionId: o?.sessionId ?? null,
  };
}

/** Whether `err` is the refusal of a meeting its subject already has (TimetableService.createMeeting, updateMeeting). */
export function isMeetingExists(err: unknown): boolean {
  return err instanceof AppError && err.code === 'CONFLICT' && err.details?.['existingMeetingId'] !== undefined;
}
