import { addDays, instantAt, isoWeekday } from '../calendar.js';
import type { Holiday, Meeting, Term } from '../ports/timetable.js';
import type { Room } from '../ports/subjects.js';
import { roomOrNull } from '../sessions/room.js';

/** One dated meeting: the session the timetable asks for on that day. */
export interface Slot {
  meetingId: string;
  subjectId: string;
  /** Calendar day in the organisation's time zone. */
  day: string;
  startsAt: Date;
  closesAt: Date;
  teacherId: string | null;
  preset: Meeting['preset'];
  /** The meeting's room over the subject's classroom; null: the classroom. */
  room: Room | null;
}

export interface TimetableInput {
  timezone: string;
  terms: readonly Term[];
  holidays: readonly Holiday[];
  meetings: readonly Meeting[];
  /** Occurrences called off, as `${meetingId}/${day}`. */
  cancelled: ReadonlySet<string>;
}

export const occurrenceKey = (meetingId: string, day: string): string => `${meetingId}/${day}`;

const within = (day: string, range: { startDay: string; endDay: string }) => range.startDay <= day && day <= range.endDay;

/**
 * The sessions a timetable asks for on the days fromDay..toDay (inclusive), ordered by start:
 * each meeting on its weekday inside its term, at its wall-clock times in the organisation's
 * time zone (so a 09:00 meeting stays 09:00 across a daylight-saving change), except on
 * holidays and on occurrences called off.
 */
export function expandTimetable(input: TimetableInput, fromDay: string, toDay: string): Slot[] {
  const terms = new Map(input.terms.map((t) => [t.id, t]));
  const slots: Slot[] = [];
  for (let day = fromDay; day <= toDay; day = addDays(day, 1)) {
    if (input.holidays.some((h) => within(day, h))) continue;
    const weekday = isoWeekday(day);
    for (const m of input.meetings) {
      const term = terms.get(m.termId);
      if (m.weekday !== weekday || !term || !within(day, term)) continue;
      if (input.cancelled.has(occurrenceKey(m.id, day))) continue;
      slots.push(slotOf(m, input.timezone, day));
    }
  }
  return slots.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.meetingId.localeCompare(b.meetingId));
}

/** The session a meeting asks for on `day` (a day of its weekday), in the organisation's zone. */
export function slotOf(m: Meeting, timezone: string, day: string): Slot {
  return {
    meetingId: m.id,
    subjectId: m.subjectId,
    day,
    startsAt: instantAt(timezone, day, m.startTime),
    closesAt: instantAt(timezone, day, m.endTime),
    teacherId: m.teacherId,
    preset: m.preset,
    room: roomOrNull(m.location, m.allowedIpRanges),
  };
}

/** Whether two slots of one occurrence ask for the same session. */
export function sameSlot(a: Slot, b: Slot): boolean {
  return (
    a.startsAt.getTime() === b.startsAt.getTime() &&
    a.closesAt.getTime() === b.closesAt.getTime() &&
    a.teacherId === b.teacherId &&
    a.preset === b.preset &&
    JSON.stringify(a.room) === JSON.stringify(b.room)
  );
}
