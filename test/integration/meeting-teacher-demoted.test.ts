import { expect } from 'chai';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient } from '../support/sockets.js';

const DAY = 24 * 3_600_000;

// A teacher whose role an admin changes (to student) or whose account is deactivated stays in
// their subjects' teacher lists (a reactivation or a role given back finds them as they were), but
// teaches nothing meanwhile (docs/authorization.md, "A role change or a deactivation"): the
// meeting rule passes over them, so no session is created or tapped in their name, and the
// account reaches none of the classes it taught.
describe('a meeting whose teacher is no longer an active teacher', function () {
  let srv: TestServer;
  // Wednesday 25 March 2026, noon UTC.
  const START = Date.parse('2026-03-25T12:00:00.000Z');
  let now = START;
  const tomorrow = '2026-03-26';
  let demoted: User;
  let colleague: User;
  let subject: Subject;
  let meetingId: string;
  const token = {} as Record<'admin' | 'demoted' | 'colleague', string>;

  beforeEach(async () => {
    now = START;
    srv = await startTestServer({ TIMETABLE_HORIZON_DAYS: '7' }, { clock: () => new Date(now) });
    await srv.app.timetableJob.stop();
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    demoted = await createUser(srv.store, org.id, 'teacher');
    colleague = await createUser(srv.store, org.id, 'teacher');
    // The teacher to be demoted is the subject's first teacher and the meeting's own.
    subject = await createSubject(srv.store, org.id, [demoted.id, colleague.id]);
    token.admin = (await srv.login(admin.email, PASSWORD)).accessToken;
    token.demoted = (await srv.login(demoted.email, PASSWORD)).accessToken;
    token.colleague = (await srv.login(colleague.email, PASSWORD)).accessToken;
    const term = await srv.store.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
    // Thursdays 09:00-10:00.
    const meeting = await srv.request('POST', `/api/v1/subjects/${subject.id}/meetings`, {
      token: token.admin,
      body: { termId: term.id, weekday: 4, startTime: '09:00', endTime: '10:00', teacherId: demoted.id },
    });
    expect(meeting.status, JSON.stringify(meeting.body)).to.equal(201);
    meetingId = meeting.body.id as string;
  });
  afterEach(() => srv.cleanup());

  const demote = {
    'made a student': () =>
      srv.request('PATCH', `/api/v1/users/${demoted.id}`, { token: token.admin, body: { role: 'student', studentNumber: 'S-DEMOTED' } }),
    deactivated: () => srv.request('POST', `/api/v1/users/${demoted.id}/deactivate`, { token: token.admin }),
  } as const;

  for (const how of Object.keys(demote) as (keyof typeof demote)[]) {
    it(`${how}: a colleague's tap and the timetable run make the sessions the remaining teacher's`, async () => {
      const change = await demote[how]();
      expect(change.status, JSON.stringify(change.body)).to.equal(200);
      expect((await srv.store.subjects.get(subject.orgId, subject.id))!.teacherIds).to.deep.equal([demoted.id, colleague.id]);

      const tapped = await srv.request('POST', `/api/v1/meetings/${meetingId}/start`, { token: token.colleague, body: { day: tomorrow } });
      expect(tapped.status, JSON.stringify(tapped.body)).to.equal(200);
      expect(tapped.body.teacherId).to.equal(colleague.id);

      now = START + 7 * DAY;
      expect(await srv.app.timetableJob.tick()).to.equal(true);
      const { items } = await srv.store.sessions.list(subject.orgId, { subjectId: subject.id, limit: 10, offset: 0 });
      const run = items.find((s) => s.day === '2026-04-02');
      expect(run?.teacherId, JSON.stringify(items)).to.equal(colleague.id);
    });
  }

  it('with no active teacher left the run creates nothing in the demoted teacher\u2019s name', async () => {
    const only = await createSubject(srv.store, subject.orgId, [demoted.id]);
    const term = (await srv.store.timetable.listTerms(subject.orgId))[0]!;
    const meeting = await srv.request('POST', `/api/v1/subjects/${only.id}/meetings`, {
      token: token.admin,
      body: { termId: term.id, weekday: 5, startTime: '09:00', endTime: '10:00' },
    });
    expect(meeting.status, JSON.stringify(meeting.body)).to.equal(201);
    expect((await demote.deactivated()).status).to.equal(200);
    expect(await srv.app.timetableJob.tick()).to.equal(true);
    const { items } = await srv.store.sessions.list(subject.orgId, { subjectId: only.id, limit: 10, offset: 0 });
    expect(items).to.deep.equal([]);
  });

  it('made a student: the account is refused FORBIDDEN on the class it taught, over HTTP and over its socket', async () => {
    // A session of the class, scheduled while they taught it.
    expect(await srv.app.timetableJob.tick()).to.equal(true);
    const scheduled = (await srv.store.sessions.list(subject.orgId, { subjectId: subject.id, limit: 10, offset: 0 })).items[0];
    expect(scheduled, 'the run scheduled tomorrow').to.not.equal(undefined);

    expect((await demote['made a student']()).status).to.equal(200);
    // Their token still verifies: their role is read from the store on each request.
    for (const [method, path] of [
      ['GET', `/api/v1/subjects/${subject.id}`],
      ['GET', `/api/v1/subjects/${subject.id}/sessions`],
      ['GET', `/api/v1/sessions/${scheduled!.id}/records`],
      ['GET', `/api/v1/subjects/${subject.id}/meetings`],
      ['POST', `/api/v1/meetings/${meetingId}/start`],
    ] as const) {
      const res = await srv.request(method, path, { token: token.demoted, ...(method === 'POST' ? { body: { day: tomorrow } } : {}) });
      expect([res.status, res.body.error?.code], `${method} ${path}: ${JSON.stringify(res.body)}`).to.deep.equal([403, 'FORBIDDEN']);
    }
    const socket = await connectClient(srv.baseUrl, token.demoted);
    try {
      for (const [event, payload] of [
        ['session:open', { subjectId: subject.id }],
        ['session:close', { sessionId: scheduled!.id }],
        ['session:watch', { sessionId: scheduled!.id }],
        ['session:code', { sessionId: scheduled!.id }],
      ] as const) {
        const ack = await command(socket, event, payload);
        expect(ack.ok ? 'ok' : ack.error.code, `${event}: ${JSON.stringify(ack)}`).to.equal('FORBIDDEN');
      }
    } finally {
      socket.disconnect();
    }
  });
});
