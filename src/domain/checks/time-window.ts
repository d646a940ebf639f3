/** When a session accepts check-ins. */
export interface TimeWindow {
  /** Check-ins are accepted from here (inclusive). */
  startsAt: Date;
  /** Check-ins strictly after this are late. */
  lateAfter: Date;
  /** Check-ins are refused from here (inclusive). */
  closesAt: Date;
}

export type TimeVerdict = 'early' | 'on-time' | 'late' | 'closed';

export type WindowProblemCode =
  'INVALID_DATE' | 'LATE_BEFORE_START' | 'LATE_AFTER_CLOSE' | 'CLOSES_NOT_AFTER_START' | 'TOO_LONG' | 'ALREADY_CLOSED';

export interface WindowProblem {
  field: keyof TimeWindow;
  code: WindowProblemCode;
  message: string;
  /** TOO_LONG: the longest window accepted, in hours. */
  maxHours?: number;
}

/**
 * Longest window `validateWindow` accepts by default. Every session's window is held to it, and
 * the stores' clash reads rely on that (LONGEST_SESSION_MS): a longer limit here would need them
 * to read further back.
 */
export const MAX_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Where `at` falls: before startsAt 'early'; from startsAt up to and including lateAfter
 * 'on-time'; after lateAfter 'late'; from closesAt 'closed'.
 */
export function evaluateTime(window: TimeWindow, at: Date): TimeVerdict {
  const t = at.getTime();
  if (!Number.isFinite(t)) throw new RangeError('invalid date');
  if (t >= window.closesAt.getTime()) return 'closed';
  if (t < window.startsAt.getTime()) return 'early';
  if (t > window.lateAfter.getTime()) return 'late';
  return 'on-time';
}

/**
 * Problems with a proposed window; empty when it is acceptable. lateAfter must lie within
 * [startsAt, closesAt] (equal to closesAt means nobody is late), closesAt must be after
 * startsAt and at most `maxDurationMs` (default 24 h) later, and, when `now` is given, still
 * in the future.
 */
export function validateWindow(window: TimeWindow, opts: { now?: Date; maxDurationMs?: number } = {}): WindowProblem[] {
  const fields = ['startsAt', 'lateAfter', 'closesAt'] as const;
  const invalid = fields.filter((f) => !Number.isFinite(window[f].getTime()));
  if (invalid.length > 0) {
    return invalid.map((field) => ({ field, code: 'INVALID_DATE', message: `${field} is not a valid date.` }));
  }

  const start = window.startsAt.getTime();
  const late = window.lateAfter.getTime();
  const close = window.closesAt.getTime();
  const maxDurationMs = opts.maxDurationMs ?? MAX_WINDOW_MS;
  const problems: WindowProblem[] = [];

  if (late < start) {
    problems.push({ field: 'lateAfter', code: 'LATE_BEFORE_START', message: 'lateAfter is before startsAt.' });
  }
  if (late > close) {
    problems.push({ field: 'lateAfter', code: 'LATE_AFTER_CLOSE', message: 'lateAfter is after closesAt.' });
  }
  if (close <= start) {
    problems.push({
      field: 'closesAt',
      code: 'CLOSES_NOT_AFTER_START',
      message: 'closesAt must be after startsAt.',
    });
  } else if (close - start > maxDurationMs) {
    const hours = Math.round((maxDurationMs / 3_600_000) * 100) / 100;
    problems.push({
      field: 'closesAt',
      code: 'TOO_LONG',
      message: `The window may last at most ${hours} h.`,
      maxHours: hours,
    });
  }
  if (opts.now !== undefined && close <= opts.now.getTime()) {
    problems.push({ field: 'closesAt', code: 'ALREADY_CLOSED', message: 'closesAt is not in the future.' });
  }
  return problems;
}
