import { AppError } from '../../shared/app-error.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { LeaseFence, SessionStatus } from '../ports/common.js';
import type { AttendanceSession, SessionTransitionPatch } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';

/** Why a session in some status may not take a transition: the client's error code, and a message when it needs one. */
type Refusal = ErrorCode | { code: ErrorCode; message: string };

interface TransitionRule {
  /** The statuses the transition starts from. */
  from: readonly SessionStatus[];
  /** The status it ends in; null keeps the status (an extension). */
  to: SessionStatus | null;
  /** Refusals by status; a status neither in `from` nor here is refused SESSION_TRANSITION_REFUSED. */
  refused: Partial<Record<SessionStatus, Refusal>>;
}

const CLOSING_RETRY: Refusal = { code: 'RECORD_CHANGED', message: 'The session is closing; retry in a moment.' };

/**
 * Every change of a session's status, written once (docs/protocol.md §11). Each is applied as a
 * compare-and-set on the status in the store, so two nodes racing for one transition have
 * exactly one winner, and only the winner audits and announces it.
 */
export const SESSION_TRANSITIONS = {
  /** The start time passed (the scheduler). */
  start: {
    from: ['scheduled'],
    to: 'open',
    refused: { cancelled: 'SESSION_CANCELLED', closing: 'SESSION_CLOSED', closed: 'SESSION_CLOSED' },
  },
  /** Closing begins: check-ins are refused from here. */
  close: { from: ['scheduled', 'open'], to: 'closing', refused: { cancelled: 'SESSION_CANCELLED' } },
  /** Closing's steps are done. */
  finishClose: { from: ['closing'], to: 'closed', refused: { cancelled: 'SESSION_CANCELLED' } },
  /** Void: final. */
  cancel: { from: ['scheduled', 'open', 'closed'], to: 'cancelled', refused: { closing: CLOSING_RETRY } },
  /** New closesAt and/or lateAfter. */
  extend: {
    from: ['scheduled', 'open'],
    to: null,
    refused: {
      cancelled: 'SESSION_CANCELLED',
      closing: { code: 'SESSION_CLOSED', message: 'The session is closed; reopen it first.' },
      closed: { code: 'SESSION_CLOSED', message: 'The session is closed; reopen it first.' },
    },
  },
  /** Its meeting changed before it opened: new times, teacher, checks or room (docs/timetable.md). */
  reschedule: {
    from: ['scheduled'],
    to: null,
    refused: {
      open: { code: 'SESSION_ALREADY_OPEN', message: 'The session has already opened.' },
      cancelled: 'SESSION_CANCELLED',
      closing: 'SESSION_CLOSED',
      closed: 'SESSION_CLOSED',
    },
  },
  /** Within the reopen window. */
  reopen: {
    from: ['closed'],
    to: 'open',
    refused: { cancelled: 'SESSION_CANCELLED', closing: CLOSING_RETRY, scheduled: 'SESSION_NOT_CLOSED', open: 'SESSION_NOT_CLOSED' },
  },
} as const satisfies Record<string, TransitionRule>;

export type SessionTransition = keyof typeof SESSION_TRANSITIONS;

type TransitionPatch = Omit<SessionTransitionPatch, 'status'>;

export function canTransition(transition: SessionTransition, status: SessionStatus): boolean {
  return (SESSION_TRANSITIONS[transition].from as readonly SessionStatus[]).includes(status);
}

/** Throws the transition's coded refusal unless a session in `status` may take it. */
export function assertTransition(transition: SessionTransition, status: SessionStatus): void {
  if (canTransition(transition, status)) return;
  const rule: TransitionRule = SESSION_TRANSITIONS[transition];
  const refusal = rule.refused[status];
  if (refusal === undefined) throw new AppError('SESSION_TRANSITION_REFUSED', undefined, { transition, status });
  if (typeof refusal === 'string') throw new AppError(refusal);
  throw new AppError(refusal.code, refusal.message);
}

/**
 * Applies the transition when the stored status is one of `from` (by default every status the
 * table allows; a caller that read the session narrows it to what it read). Returns the updated
 * session, or null when the status was another: someone else moved it first.
 */
export async function applyTransition(
  store: Store,
  session: Pick<AttendanceSession, 'orgId' | 'id'>,
  transition: SessionTransition,
  patch: TransitionPatch = {},
  from?: readonly SessionStatus[],
  fence?: LeaseFence,
): Promise<AttendanceSession | null> {
  const rule: TransitionRule = SESSION_TRANSITIONS[transition];
  const statuses = from ?? rule.from;
  for (const status of statuses) assertTransition(transition, status);
  return store.sessions.transition(
    session.orgId,
    session.id,
    [...statuses],
    { ...patch, ...(rule.to === null ? {} : { status: rule.to }) },
    fence,
  );
}
