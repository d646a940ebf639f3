import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import { addDays, dayIn, instantAt } from '../calendar.js';
import type { DomainDeps } from '../deps.js';
import { NO_ORGANISATION_SETTINGS } from '../ports/organisations.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import type { Meeting } from '../ports/timetable.js';
import { resolvePolicy, sessionDefaults } from '../sessions/policy.js';
import { effectiveRoom, roomOrNull } from '../sessions/room.js';
import type { RescheduleInput, SessionLifecycle } from '../sessions/session-lifecycle.js';
import { effectiveStatus } from '../sessions/views.js';

/** How far ahead the sessions of an edited meeting are looked for (the job's horizon is far shorter). */
const FOLLOW_DAYS = 400;

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
        issues: [{ path: 'endTime', message: 'not after startTime' }],
      });
    }
    if (m.teacherId !== null && !subject.teacherIds.includes(m.teacherId)) {
      throw new AppError('VALIDATION_FAILED', 'The teacher does not teach this subject.', {
        issues: [{ path: 'teacherId', message: 'not a teacher of the subject' }],
      });
    }
    const org = await this.deps.store.organisations.get(actor.orgId);
    const defaults = sessionDefaults(org?.settings ?? NO_ORGANISATION_SETTINGS, this.deps.settings.codePeriodS);
    const room = effectiveRoom(subject, roomOrNull(m.location, m.allowedIpRanges));
    resolvePolicy(m.preset ? { preset: m.preset } : undefined, room, defaults.policy, this.deps.capabilities);
  }

  /** The meeting's sessions from today that are still scheduled follow its change (TimetableService.updateMeeting). */
  async follow(actor: Actor, subject: Subject, before: Meeting, after: Meeting): Promise<FollowedSessions> {
    const { store, now } = this.deps;
    const org = await store.organisations.get(actor.orgId);
    const timezone = org?.timezone ?? this.deps.settings.defaultTimezone;
    const today = dayIn(timezone, now());
    const occurrences = await store.timetable.listOccurrences(actor.orgId, [after.id], today, addDays(today, FOLLOW_DAYS));
    const result: FollowedSessions = { rescheduled: [], cancelled: [] };
    for (const o of occurrences) {
      if (o.state !== 'created' || o.sessionId === null) continue;
      const session = await store.sessions.get(actor.orgId, o.sessionId);
      // A session scheduled by hand that stands for the meeting is the teacher's own, and stays.
      if (!session || session.meetingId !== after.id || effectiveStatus(session, now()) !== 'scheduled') continue;
      if (after.weekday !== before.weekday) {
        await this.cancelFollower(actor, session, after.id, o.day, MEETING_CANCEL_REASONS.weekday);
        result.cancelled.push(session.id);
        continue;
      }
      try {
        const change = await this.followerChange(actor, subject, session, before, after, o.day, timezone);
        if (await this.lifecycle.reschedule(actor, session.id, change)) result.rescheduled.push(session.id);
      } catch (err) {
        // The changed meeting cannot be held that day (its new window is over, or the teacher's
        // own defaults need what its room lacks): the session goes rather than stay stale.
        if (!(err instanceof AppError)) throw err;
        this.deps.logger.warn({ err, meetingId: after.id, sessionId: session.id }, 'session of an edited meeting cancelled');
        await this.cancelFollower(actor, session, after.id, o.day, MEETING_CANCEL_REASONS.unfit);
        result.cancelled.push(session.id);
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
  ): Promise<RescheduleInput> {
    const startsAt = instantAt(timezone, day, after.startTime);
    const closesAt = instantAt(timezone, day, after.endTime);
    // The session keeps the grace it was given: the teacher's or organisation's at creation.
    const graceMs = session.lateAfter.getTime() - session.startsAt.getTime();
    const lateAfter = new Date(Math.min(startsAt.getTime() + graceMs, closesAt.getTime()));
    const teacherId = after.teacherId ?? subject.teacherIds[0] ?? session.teacherId;
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

  /** Cancels a follower and frees its day, so the timetable run may create that day's session again. */
  private async cancelFollower(actor: Actor, session: AttendanceSession, meetingId: string, day: string, reason: string): Promise<void> {
    await this.lifecycle.cancel(actor, session.id, reason);
    await this.deps.store.timetable.forgetOccurrence(actor.orgId, meetingId, day);
  }
}
