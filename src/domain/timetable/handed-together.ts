import { AppError } from '../../shared/app-error.js';
import { overlaps } from '../sessions/clashes.js';
import type { Subject } from '../ports/subjects.js';
import type { Meeting, Term } from '../ports/timetable.js';
import type { FollowPlan } from './meeting-edits.js';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** A meeting's weekly slot in words: "Thursday 09:00–10:00". */
export const when = (m: Pick<Meeting, 'weekday' | 'startTime' | 'endTime'>): string =>
  `${WEEKDAYS[m.weekday - 1] ?? m.weekday} ${m.startTime}–${m.endTime}`;

/** A meeting's weekly slot, as a double-booking names it. */
export interface WeeklySlot {
  weekday: number;
  startTime: string;
  endTime: string;
}

/**
 * One double-booking a change of first teacher meets, for a page to word in its own language:
 * this subject's meeting (or, for sessions, the day) against which subject's meeting (`details.doubleBookings`).
 */
export interface DoubleBooking {
  code: string;
  meeting: WeeklySlot | null;
  day: string | null;
  withCode: string;
  withMeeting: WeeklySlot | null;
}

export const slotOf = ({ weekday, startTime, endTime }: WeeklySlot): WeeklySlot => ({ weekday, startTime, endTime });

/** One subject of a change of several (a hand-over) as it would go to one teacher: its new first teacher, or a meeting's own teacher. */
export interface SubjectHanded {
  subject: Subject;
  teacherId: string;
  /** Its meetings without a teacher of their own: they follow the first teacher (none for another teacher). */
  meetings: readonly Meeting[];
  /** Its scheduled sessions that would become this teacher's. */
  moves: FollowPlan['moves'];
}

/**
 * Subjects of one change handed to the same teacher, checked against each other as the
 * store cannot yet (it still holds each with its old first teacher): two of them meeting at the
 * same weekday and time in overlapping terms, or with handed sessions overlapping, would
 * double-book that teacher. Each clash refuses the later subject of the pair with
 * TEACHER_DOUBLE_BOOKED naming both; a subject refused already (`refused`) is left out.
 */
export function clashesAmong(
  handed: readonly SubjectHanded[],
  terms: readonly Term[],
  refused: ReadonlyMap<string, AppError>,
): Map<string, AppError> {
  const termOf = new Map(terms.map((t) => [t.id, t]));
  const found = new Map<string, AppError>();
  const open = handed.filter((h) => !refused.has(h.subject.id));
  for (const [j, later] of open.entries()) {
    for (const earlier of open.slice(0, j)) {
      if (earlier.teacherId !== later.teacherId || found.has(later.subject.id)) continue;
      const meetings = meetingClashes(earlier.meetings, later.meetings, termOf);
      const sessions = later.moves.flatMap((b) => earlier.moves.filter((a) => overlaps(a.change, b.change)).map((a) => ({ a, b })));
      if (meetings.length === 0 && sessions.length === 0) continue;
      const doubleBookings: DoubleBooking[] = [
        ...meetings.map(([a, b]) => ({
          code: later.subject.code,
          meeting: slotOf(b),
          day: null,
          withCode: earlier.subject.code,
          withMeeting: slotOf(a),
        })),
        ...[...new Set(sessions.map(({ b }) => b.day))].map((day) => ({
          code: later.subject.code,
          meeting: null,
          day,
          withCode: earlier.subject.code,
          withMeeting: null,
        })),
      ];
      const named = [
        ...meetings.map(([a, b]) => `${earlier.subject.code} ${when(a)} and ${later.subject.code} ${when(b)}`),
        ...sessions.map(({ b }) => `${earlier.subject.code} and ${later.subject.code} on ${b.day}`),
      ];
      found.set(
        later.subject.id,
        new AppError(
          'TEACHER_DOUBLE_BOOKED',
          `A teacher (details.teacherId) would be given two of these subjects at the same time: ${[...new Set(named)].join('; ')}. Send teacherOverlap: true to keep both.`,
          {
            teacherId: later.teacherId,
            subjectIds: [earlier.subject.id, later.subject.id],
            meetingIds: [...new Set(meetings.flatMap(([a, b]) => [a.id, b.id]))],
            sessionIds: [...new Set(sessions.flatMap(({ a, b }) => [a.session.id, b.session.id]))],
            doubleBookings,
            field: 'teacherOverlap',
          },
        ),
      );
    }
  }
  return found;
}

/** Pairs of meetings on the same weekday whose times (half-open, as sessions) and terms overlap. */
function meetingClashes(a: readonly Meeting[], b: readonly Meeting[], termOf: ReadonlyMap<string, Term>): [Meeting, Meeting][] {
  return b.flatMap((mb) =>
    a
      .filter((ma) => {
        if (ma.weekday !== mb.weekday || !(ma.startTime < mb.endTime && mb.startTime < ma.endTime)) return false;
        const ta = termOf.get(ma.termId);
        const tb = termOf.get(mb.termId);
        return ta !== undefined && tb !== undefined && ta.startDay <= tb.endDay && tb.startDay <= ta.endDay;
      })
      .map((ma): [Meeting, Meeting] => [ma, mb]),
  );
}
