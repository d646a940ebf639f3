import { expect } from 'chai';
import type { AttendanceSession } from '../../../src/domain/ports/sessions.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { Meeting, Term } from '../../../src/domain/ports/timetable.js';
import { clashesAmong, type SubjectHanded } from '../../../src/domain/timetable/handed-together.js';

// Subjects of one hand-over given to the same new first teacher, checked against each other
// (the store still holds each with its old teacher, so the one-subject checks cannot see it).

const term = (id: string, startDay: string, endDay: string) => ({ id, startDay, endDay }) as Term;
const subject = (id: string, code: string) => ({ id, code }) as Subject;
const meeting = (id: string, subjectId: string, termId: string, weekday: number, startTime: string, endTime: string) =>
  ({ id, subjectId, termId, weekday, startTime, endTime, teacherId: null }) as Meeting;
const move = (sessionId: string, day: string, from: string, to: string) => ({
  session: { id: sessionId } as AttendanceSession,
  day,
  change: { startsAt: new Date(`${day}T${from}:00Z`), closesAt: new Date(`${day}T${to}:00Z`) } as SubjectHanded['moves'][number]['change'],
});
const TERMS = [term('spring', '2026-01-05', '2026-04-03'), term('summer', '2026-04-20', '2026-07-10')];

describe("clashesAmong (a hand-over's subjects against each other)", () => {
  it('refuses the later of two subjects handed to one teacher whose handed sessions overlap, naming both', () => {
    const handed: SubjectHanded[] = [
      { subject: subject('a', 'ART'), teacherId: 'cover', meetings: [], moves: [move('s1', '2026-03-05', '09:00', '10:00')] },
      { subject: subject('b', 'BIO'), teacherId: 'cover', meetings: [], moves: [move('s2', '2026-03-05', '09:45', '10:45')] },
    ];
    const refused = clashesAmong(handed, TERMS, new Map());
    expect([...refused.keys()]).to.deep.equal(['b']);
    const err = refused.get('b')!;
    expect(err.code).to.equal('TEACHER_DOUBLE_BOOKED');
    expect(err.message).to.contain('ART and BIO on 2026-03-05');
    expect(err.details).to.include({ teacherId: 'cover' });
    expect(err.details?.['sessionIds']).to.deep.equal(['s1', 's2']);
  });

  it('lets through meetings in terms that do not overlap, sessions end to end, and subjects going to different teachers', () => {
    const handed: SubjectHanded[] = [
      { subject: subject('a', 'ART'), teacherId: 'cover', meetings: [meeting('m1', 'a', 'spring', 4, '09:00', '10:00')], moves: [] },
      { subject: subject('b', 'BIO'), teacherId: 'cover', meetings: [meeting('m2', 'b', 'summer', 4, '09:00', '10:00')], moves: [] },
      { subject: subject('c', 'CHEM'), teacherId: 'cover', meetings: [], moves: [move('s3', '2026-03-05', '10:00', '11:00')] },
      { subject: subject('d', 'DRAMA'), teacherId: 'other', meetings: [meeting('m4', 'd', 'spring', 4, '09:00', '10:00')], moves: [] },
      { subject: subject('e', 'ECON'), teacherId: 'cover', meetings: [], moves: [move('s5', '2026-03-05', '09:00', '10:00')] },
    ];
    // ECON's session meets CHEM's end to end (half-open): no clash; none of the others clash either.
    expect([...clashesAmong(handed, TERMS, new Map()).keys()]).to.deep.equal([]);
  });
});
