import { isDeepStrictEqual } from 'node:util';
import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import type { DomainDeps } from '../deps.js';
import { validateWindow, type WindowProblem, type WindowProblemCode } from '../checks/time-window.js';
import { publishRecordChange, updateRecord } from '../checkins/record-change.js';
import { recomputeDailySummary } from '../summaries/summary-service.js';
import { loadSessionForStaff } from './access.js';
import { applyTransition, assertTransition } from './lifecycle.js';
import { effectiveStatus, toSessionView } from './views.js';
import { withWideningChecked } from './widening.js';
import type { SessionView } from '../../shared/events.js';
import type { AuditEntry } from '../ports/audit.js';
import type { LeaseFence } from '../ports/common.js';
import type { AttendanceRecord, RecordPatch } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import type { AuditAction } from '../../shared/audit.js';
import { issue, type IssueCode } from '../../shared/validation-issues.js';

/** How long after closing a session may be reopened, unless configured (SESSION_REOPEN_WINDOW_MS). */
export const DEFAULT_REOPEN_WINDOW_MS = 3_600_000;
/** A reopened session without a new closesAt stays open this long. */
export const REOPEN_DEFAULT_MS = 600_000;

/** Each window problem as the issue code a page words. */
const WINDOW_ISSUES: Record<WindowProblemCode, IssueCode> = {
  INVALID_DATE: 'dateTime',
  LATE_BEFORE_START: 'beforeStart',
  LATE_AFTER_CLOSE: 'afterClose',
  CLOSES_NOT_AFTER_START: 'endBeforeStart',
  TOO_LONG: 'windowTooLong',
  ALREADY_CLOSED: 'notInFuture',
};

/** A window refused: `problems` as the window check says, `issues` naming each field. */
/** The audit entry's mark of the meeting edit that wrote it (edit-trail.ts), when one did. */
function editMark(edit: string | undefined): { meetingEdit?: string } {
  return edit === undefined ? {} : { meetingEdit: edit };
}

export function windowError(problems: WindowProblem[]): AppError {
  return new AppError('VALIDATION_FAILED', problems.map((p) => p.message).join(' '), {
    problems,
    issues: problems.map((p) => issue(p.field, p.message, WINDOW_ISSUES[p.code], p.maxHours === undefined ? {} : { maximum: p.maxHours })),
  });
}

/** Confirmations of the clashes a widened window may meet (widening.ts), as session:open's. */
export interface ClashOverrides {
  parallel?: boolean | undefined;
  teacherOverlap?: boolean | undefined;
}

export interface ExtendInput extends ClashOverrides {
  sessionId: string;
  closesAt?: string | undefined;
  lateAfter?: string | undefined;
}

/** What a scheduled session takes from its changed meeting. */
export type RescheduleInput = Pick<AttendanceSession, 'startsAt' | 'lateAfter' | 'closesAt' | 'teacherId' | 'policy' | 'room'>;

export interface ReopenInput extends ClashOverrides {
  sessionId: string;
  closesAt?: string | undefined;
  reason?: string | undefined;
}

/**
 * The session's transitions besides opening and closing (lifecycle.ts, docs/protocol.md §11):
 *   scheduled|open|closed -> cancelled   void: no absents, out of summaries, final;
 *   scheduled|open -> scheduled|open     new closesAt and/or lateAfter;
 *   closed -> open                       within the reopen window; closing's absents are taken back.
 * Each is a compare-and-set on the status, audited, and announced as `session.changed`.
 */
export class SessionLifecycle {
  constructor(private readonly deps: DomainDeps) {}

  async cancel(actor: Actor, sessionId: string, reason: string | undefined): Promise<SessionView> {
    const { store, now } = this.deps;
    const { session, subject } = await loadSessionForStaff(store, actor, sessionId);
    if (session.status === 'cancelled') return toSessionView(session, subject, now());
    assertTransition('cancel', session.status);
    const at = now();
    const cancelled = await applyTransition(store, session, 'cancel', { closedAt: at, closedBy: actor.id });
    if (!cancelled) return this.cancel(actor, sessionId, reason);
    await this.audit(cancelled, actor.id, 'session.cancel', { status: session.status }, { status: 'cancelled' }, reason ?? null);
    if (session.status === 'closed') await recomputeDailySummary(store, actor.orgId, session.subjectId, session.day);
    return this.announce(cancelled, subject);
  }

  /**
   * A scheduled session cancelled because its timetable meeting changed (MeetingFollower.apply):
   * only while it is still scheduled, as the edit planned (one that opened meanwhile keeps what
   * it opened with), and with `fence` (the edit's slot locks) only while they hold
   * (LeaseLostError). Null when it is no longer scheduled. `edit` (the edit's key, edit-trail.ts)
   * is written on the session in the cancellation's own write (a crash before the audit entry
   * keeps it), and in the audit entry: the edit's answer finds the session whichever run cancelled it.
   */
  async cancelScheduled(actor: Actor, sessionId: string, reason: string, fence?: LeaseFence, edit?: string): Promise<SessionView | null> {
    const { store, now } = this.deps;
    const { session, subject } = await loadSessionForStaff(store, actor, sessionId);
    if (effectiveStatus(session, now()) !== 'scheduled') return null;
    const patch = { closedAt: now(), closedBy: actor.id, ...(edit === undefined ? {} : { meetingEdit: edit }) };
    const cancelled = await applyTransition(store, session, 'cancel', patch, ['scheduled'], fence);
    if (!cancelled) return null;
    await this.audit(cancelled, actor.id, 'session.cancel', { status: session.status }, { status: 'cancelled', ...editMark(edit) }, reason);
    return this.announce(cancelled, subject);
  }

  /**
   * A scheduled session left without a teacher, cancelled from the admins' list
   * (UnstaffedSessions.cancel): written only while it is still scheduled and held by `teacherId`,
   * who still cannot run it, by the store's conditional write (sessions.cancelUnstaffed), as the
   * caller checked it under the subject's lock. Null, nothing changed, when any of that changed.
   */
  async cancelUnstaffed(
    actor: Actor,
    sessionId: string,
    teacherId: string,
    reason: string,
    fence?: LeaseFence,
  ): Promise<SessionView | null> {
    const { store, now } = this.deps;
    const { session, subject } = await loadSessionForStaff(store, actor, sessionId);
    if (effectiveStatus(session, now()) !== 'scheduled') return null;
    assertTransition('cancel', session.status);
    const cancelled = await store.sessions.cancelUnstaffed(
      actor.orgId,
      sessionId,
      teacherId,
      { closedAt: now(), closedBy: actor.id },
      fence,
    );
    if (!cancelled) return null;
    await this.audit(cancelled, actor.id, 'session.cancel', { status: session.status }, { status: 'cancelled' }, reason);
    return this.announce(cancelled, subject);
  }

  async extend(actor: Actor, input: ExtendInput): Promise<SessionView> {
    const { store, now } = this.deps;
    const { session, subject } = await loadSessionForStaff(store, actor, input.sessionId);
    this.assertLive(session);
    const at = now();
    const closesAt = input.closesAt ? new Date(input.closesAt) : session.closesAt;
    const lateAfter = input.lateAfter ? new Date(input.lateAfter) : session.lateAfter;
    const problems = validateWindow({ startsAt: session.startsAt, lateAfter, closesAt }, { now: at });
    if (problems.length > 0) throw windowError(problems);
    const updated = await withWideningChecked(
      this.deps,
      {
        viewer: actor,
        session,
        before: session,
        after: { startsAt: session.startsAt, closesAt },
        parallel: input.parallel,
        teacherOverlap: input.teacherOverlap,
      },
      (fence) => applyTransition(store, session, 'extend', { closesAt, lateAfter }, [session.status], fence),
    );
    // The scheduler (or a colleague) closed or cancelled it meanwhile.
    if (!updated) return this.extend(actor, input);
    await this.audit(
      updated,
      actor.id,
      'session.extend',
      { closesAt: session.closesAt, lateAfter: session.lateAfter },
      { closesAt, lateAfter },
      null,
    );
    return this.announce(updated, subject);
  }

  /**
   * A scheduled session follows a change of its timetable meeting (docs/timetable.md, "Editing
   * a meeting"): a new window, teacher, checks or room. Null when it is no longer scheduled
   * (it opened, or was cancelled, meanwhile): an opened session keeps what it opened with.
   * With `fence` (the edit's slot locks), moved only while they hold (LeaseLostError); `edit` as
   * cancelScheduled's. Also a session handed over because its teacher left (reason TEACHER_LEFT:
   * LeavingTeacherSessions).
   */
  async reschedule(
    actor: Actor,
    sessionId: string,
    change: RescheduleInput,
    fence?: LeaseFence,
    edit?: string,
    reason = 'MEETING_CHANGED',
  ): Promise<SessionView | null> {
    const { store, now } = this.deps;
    const { session, subject } = await loadSessionForStaff(store, actor, sessionId);
    if (effectiveStatus(session, now()) !== 'scheduled') return null;
    const fields = (s: RescheduleInput): RescheduleInput => ({
      startsAt: s.startsAt,
      lateAfter: s.lateAfter,
      closesAt: s.closesAt,
      teacherId: s.teacherId,
      policy: s.policy,
      room: s.room,
    });
    // Already as asked: moved by an earlier run of the same edit, which lost its slot locks
    // after this move (withSlotLocks runs it again), or by the admin's retry of an edit refused
    // after some moves. Nothing to write, audit or announce: one entry per move of an edit.
    if (isDeepStrictEqual(fields(session), fields(change))) return toSessionView(session, subject, now());
    const problems = validateWindow(change, { now: now() });
    if (problems.length > 0) throw windowError(problems);
    const updated = await applyTransition(store, session, 'reschedule', change, ['scheduled'], fence);
    if (!updated) return null;
    await this.audit(updated, actor.id, 'session.reschedule', fields(session), { ...fields(updated), ...editMark(edit) }, reason);
    return this.announce(updated, subject);
  }

  async reopen(actor: Actor, input: ReopenInput): Promise<SessionView> {
    const { store, now } = this.deps;
    const { session, subject } = await loadSessionForStaff(store, actor, input.sessionId);
    assertTransition('reopen', session.status);
    const at = now();
    const windowMs = this.deps.settings.reopenWindowMs ?? DEFAULT_REOPEN_WINDOW_MS;
    if (!session.closedAt || at.getTime() - session.closedAt.getTime() > windowMs) {
      throw new AppError('REOPEN_WINDOW_PASSED', undefined, {
        reopenWindowMs: windowMs,
        closedAt: session.closedAt?.toISOString() ?? null,
      });
    }
    const closesAt = input.closesAt ? new Date(input.closesAt) : new Date(at.getTime() + REOPEN_DEFAULT_MS);
    // A late-after past the new close would be refused; nobody is late then instead.
    const lateAfter = new Date(Math.min(session.lateAfter.getTime(), closesAt.getTime()));
    const problems = validateWindow({ startsAt: session.startsAt, lateAfter, closesAt }, { now: at });
    if (problems.length > 0) throw windowError(problems);

    // It held the slot until it closed: what has started since is in the time the reopening adds.
    const heldUntil = new Date(Math.min(session.closesAt.getTime(), session.closedAt.getTime()));
    const reopened = await withWideningChecked(
      this.deps,
      {
        viewer: actor,
        session,
        before: { startsAt: session.startsAt, closesAt: heldUntil },
        after: { startsAt: session.startsAt, closesAt },
        parallel: input.parallel,
        teacherOverlap: input.teacherOverlap,
      },
      (fence) => applyTransition(store, session, 'reopen', { closesAt, lateAfter, closedAt: null, closedBy: null }, undefined, fence),
    );
    if (!reopened) return this.reopen(actor, input);
    await this.audit(
      reopened,
      actor.id,
      'session.reopen',
      { status: 'closed', closedAt: session.closedAt, closesAt: session.closesAt },
      { status: 'open', closesAt, lateAfter },
      input.reason ?? null,
    );
    await this.undoClosing(reopened, actor.id);
    // The day's summary counts closed sessions only: this one leaves it until it closes again.
    await recomputeDailySummary(store, actor.orgId, session.subjectId, session.day);
    // Taken-back records cannot travel as roster updates (no record, no newer version): screens resync.
    this.deps.events.publish({ type: 'roster.reset', orgId: actor.orgId, sessionId: session.id });
    return this.announce(reopened, subject);
  }

  /**
   * Takes back what closing wrote, from the audit log: an absent written for want of a
   * check-in is removed (the student is 'not yet' again), a settled record gets its state from
   * before the settlement. Optimistic on the version the closing left: a record changed since
   * (a teacher's correction) stays as it is.
   */
  private async undoClosing(session: AttendanceSession, by: string): Promise<void> {
    const { store } = this.deps;
    const [records, audit] = await Promise.all([
      store.records.listBySession(session.orgId, session.id),
      store.audit.listForSession(session.orgId, session.id),
    ]);
    const lastChange = new Map<string, AuditEntry>();
    for (const entry of audit) if (entry.entityType === 'record') lastChange.set(entry.entityId, entry);
    for (const record of records) {
      const change = lastChange.get(record.id);
      if (!change || !isClosingChange(change, record)) continue;
      if (change.action === 'close.absent') {
        if (await store.records.remove(session.orgId, record.id, record.version)) {
          await store.audit.append({
            orgId: session.orgId,
            entityType: 'record',
            entityId: record.id,
            sessionId: session.id,
            actorId: by,
            action: 'reopen.remove',
            from: { status: record.status, reason: record.reason, version: record.version },
            to: null,
            reason: 'SESSION_REOPENED',
            ip: null,
            at: this.deps.now(),
          });
        }
        continue;
      }
      const before = change.from as Pick<AttendanceRecord, 'status' | 'reason' | 'flags'>;
      const patch: RecordPatch = {
        status: before.status,
        reason: before.reason,
        flags: [...before.flags],
        ...(before.status === 'pending' ? { decidedAt: null, decidedBy: null } : {}),
      };
      const updated = await updateRecord(this.deps, record, patch, {
        actorId: by,
        action: 'reopen.restore',
        reason: 'SESSION_REOPENED',
        ip: null,
      });
      if (updated.written) {
        const student = (await store.users.get(session.orgId, record.studentId)) ?? {
          id: record.studentId,
          name: record.studentId,
          studentNumber: null,
        };
        publishRecordChange(this.deps, session, student, updated.record);
      }
    }
  }

  private assertLive(session: AttendanceSession): void {
    assertTransition('extend', effectiveStatus(session, this.deps.now()));
  }

  private async audit(
    session: AttendanceSession,
    by: string,
    action: AuditAction,
    from: unknown,
    to: unknown,
    reason: string | null,
  ): Promise<void> {
    await this.deps.store.audit.append({
      orgId: session.orgId,
      entityType: 'session',
      entityId: session.id,
      sessionId: session.id,
      actorId: by,
      action,
      from,
      to,
      reason,
      ip: null,
      at: this.deps.now(),
    });
  }

  private announce(session: AttendanceSession, subject: Subject): SessionView {
    const view = toSessionView(session, subject, this.deps.now());
    this.deps.events.publish({ type: 'session.changed', orgId: session.orgId, session: view });
    return view;
  }
}

/** The audit entry is closing's, and the record is still as closing left it. */
function isClosingChange(entry: AuditEntry, record: AttendanceRecord): boolean {
  if (entry.action !== 'close.absent' && entry.action !== 'close.settle') return false;
  const to = entry.to as { version?: unknown } | null;
  return to !== null && to.version === record.version;
}
