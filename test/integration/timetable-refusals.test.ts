import { expect } from 'chai';
import { createUser } from '../support/fixtures.js';
import { useSchoolServer } from '../support/school-server.js';

const API = '/api/v1';

// A timetable change refused for what the server knows (a term gone, a teacher not of the
// subject, a day the class does not meet) names the rule with its own issue code, so the admin
// console words it in the reader's language rather than "not a valid value".
describe('timetable refusals name their rule', function () {
  this.timeout(20_000);
  const school = useSchoolServer(['admin']);

  it('a meeting in no term, with a teacher of another subject, cancelled on a day it does not meet', async () => {
    const { srv, org, subject, tokens } = school();
    const token = tokens.admin;
    const issuesOf = (res: { body: { error: { details: { issues: unknown[] } } } }) => res.body.error.details.issues;
    const meeting = { weekday: 1, startTime: '09:00', endTime: '10:00' };

    const noTerm = await srv.request('POST', `${API}/subjects/${subject.id}/meetings`, { token, body: { termId: 'gone', ...meeting } });
    expect(noTerm.status).to.equal(404);
    expect(issuesOf(noTerm)).to.deep.equal([{ path: 'termId', message: 'no such term', code: 'notFound', params: {} }]);

    const term = await srv.request('POST', `${API}/timetable/terms`, {
      token,
      body: { name: 'Spring', startDay: '2026-03-02', endDay: '2026-06-30' },
    });
    expect(term.status).to.equal(201);
    const stranger = await createUser(srv.store, org.id, 'teacher');
    const notTheirs = await srv.request('POST', `${API}/subjects/${subject.id}/meetings`, {
      token,
      body: { termId: term.body.id, ...meeting, teacherId: stranger.id },
    });
    expect(notTheirs.status).to.equal(400);
    expect(issuesOf(notTheirs)).to.deep.equal([
      { path: 'teacherId', message: 'not a teacher of the subject', code: 'notSubjectTeacher', params: {} },
    ]);

    const created = await srv.request('POST', `${API}/subjects/${subject.id}/meetings`, {
      token,
      body: { termId: term.body.id, ...meeting },
    });
    expect(created.status).to.equal(201);
    // 2026-03-03 is a Tuesday: the Monday class does not meet.
    const tuesday = await srv.request('POST', `${API}/meetings/${created.body.id}/cancel`, { token, body: { day: '2026-03-03' } });
    expect(tuesday.status).to.equal(404);
    expect(issuesOf(tuesday)).to.deep.equal([{ path: 'day', message: 'no meeting that day', code: 'noMeetingThatDay', params: {} }]);
  });
});
