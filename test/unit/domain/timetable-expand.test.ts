import { expect } from 'chai';
import { instantAt } from '../../../src/domain/calendar.js';
import { expandTimetable, occurrenceKey, type TimetableInput } from '../../../src/domain/timetable/expand.js';
import type { Holiday, Meeting, Term } from '../../../src/domain/ports/timetable.js';

// Timetable expansion: wall-clock meetings in the organisation's time zone, over daylight-saving
// changes, holidays and called-off occurrences.

const created = new Date(0);
const term: Term = { id: 't1', orgId: 'o', name: 'Spring', startDay: '2026-03-01', endDay: '2026-11-30', createdAt: created };
const sunday: Meeting = {
  id: 'm-sun',
  orgId: 'o',
  subjectId: 's',
  termId: 't1',
  weekday: 7,
  startTime: '09:00',
  endTime: '10:30',
  teacherId: null,
  preset: null,
  location: null,
  allowedIpRanges: [],
  revision: 0,
  createdAt: created,
};
const monday: Meeting = { ...sunday, id: 'm-mon', weekday: 1 };

function input(over: Partial<TimetableInput> = {}): TimetableInput {
  return { timezone: 'Europe/London', terms: [term], holidays: [], meetings: [sunday, monday], cancelled: new Set(), ...over };
}

describe('timetable expansion', () => {
  it('keeps a 09:00 meeting at 09:00 local across the March change (UTC 09:00, then 08:00)', () => {
    // Clocks go forward on Sunday 29 March 2026 at 01:00 UTC.
    const slots = expandTimetable(input({ meetings: [sunday] }), '2026-03-22', '2026-04-05');
    expect(slots.map((s) => [s.day, s.startsAt.toISOString(), s.closesAt.toISOString()])).to.deep.equal([
      ['2026-03-22', '2026-03-22T09:00:00.000Z', '2026-03-22T10:30:00.000Z'],
      ['2026-03-29', '2026-03-29T08:00:00.000Z', '2026-03-29T09:30:00.000Z'],
      ['2026-04-05', '2026-04-05T08:00:00.000Z', '2026-04-05T09:30:00.000Z'],
    ]);
  });

  it('keeps it at 09:00 local across the October change (UTC 08:00, then 09:00)', () => {
    // Clocks go back on Sunday 25 October 2026 at 01:00 UTC.
    const slots = expandTimetable(input({ meetings: [sunday] }), '2026-10-18', '2026-10-25');
    expect(slots.map((s) => s.startsAt.toISOString())).to.deep.equal(['2026-10-18T08:00:00.000Z', '2026-10-25T09:00:00.000Z']);
  });

  it('creates nothing on a holiday or a called-off occurrence, and nothing outside the term', () => {
    const easter: Holiday = {
      id: 'h',
      orgId: 'o',
      name: 'Easter Monday',
      startDay: '2026-04-06',
      endDay: '2026-04-06',
      createdAt: created,
    };
    const slots = expandTimetable(
      input({ holidays: [easter], cancelled: new Set([occurrenceKey('m-sun', '2026-04-12')]) }),
      '2026-04-05',
      '2026-04-13',
    );
    expect(slots.map((s) => `${s.meetingId} ${s.day}`)).to.deep.equal(['m-sun 2026-04-05', 'm-mon 2026-04-13']);
    expect(expandTimetable(input(), '2026-02-22', '2026-02-28')).to.deep.equal([]);
  });

  it('reads a wall time the spring change skips as just after it, and a repeated one as its first', () => {
    expect(instantAt('Europe/London', '2026-03-29', '01:30').toISOString()).to.equal('2026-03-29T01:30:00.000Z');
    expect(instantAt('Europe/London', '2026-10-25', '01:30').toISOString()).to.equal('2026-10-25T00:30:00.000Z');
    expect(instantAt('America/New_York', '2026-03-08', '09:00').toISOString()).to.equal('2026-03-08T13:00:00.000Z');
  });
});
