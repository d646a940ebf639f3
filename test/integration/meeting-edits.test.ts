import { expect } from 'chai';
import { createOrg, createSubject, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, ok } from '../support/sockets.js';

// Meeting rooms and edits through the HTTP API, the socket and the application's own
// timetable job (docs/timetable.md, "Rooms" and "Editing a meeting").

const HALL = { lat: 51.51, lon: -0.12, radiusM: 80 };

describe('meeting rooms and edits (application)', function () {
  let srv: TestServer;
  // Wednesday 25 March 2026, noon in London.
  let now = Date.parse('2026-03-25T12:00:00.000Z');

  before(async () => {
    srv = await startTestServer({ TIMETABLE_INTERVAL_MS: '900000', TIMETABLE_HORIZON_DAYS: '14' }, { clock: () => new Date(now) });
    // The test drives the runs.
    await srv.app.timetableJob.stop();
  });
  after(async () => {
    await srv.cleanup();
  });

  async function runTimetable(): Promise<void> {
    // One run per interval across the deployment: the next run is due an interval later.
    now += 16 * 60_000;
    expect(await srv.app.timetableJob.tick()).to.equal(true);
  }

  it('copies the room to the sessions, moves scheduled sessions with a PATCH, and re-creates them on a new weekday', async () => {
    const org = await createOrg(srv.store);
    await srv.store.organisations.update(org.id, { timezone: 'Europe/London' });
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const subject = await createSubject(srv.store, org.id, [teacher.id]);
    const term = await srv.store.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
    const login = async () => ({ token: (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken });

    let asTeacher = await login();
    // The subject has no classroom location: only the meeting's hall makes the location check possible.
    const created = await srv.request('POST', `/api/v1/subjects/${subject.id}/meetings`, {
      ...asTeacher,
      body: { termId: term.id, weekday: 4, startTime: '09:00', endTime: '10:00', preset: 'location', location: HALL },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body).to.deep.include({ location: HALL, allowedIpRanges: [] });
    const meetingId = created.body.id as string;

    await runTimetable();
    const list = async () => (await srv.store.sessions.list(org.id, { subjectId: subject.id, limit: 20, offset: 0 })).items.reverse();
    const first = await list();
    expect(first.map((s) => [s.day, s.status, s.room, s.meetingId])).to.deep.equal([
      ['2026-03-26', 'scheduled', { location: HALL, allowedIpRanges: [] }, meetingId],
      ['2026-04-02', 'scheduled', { location: HALL, allowedIpRanges: [] }, meetingId],
    ]);

    // The REST session reads say where each session is held.
    const history = await srv.request('GET', `/api/v1/subjects/${subject.id}/sessions`, await login());
    expect(history.status).to.equal(200);
    expect(history.body.items.map((s: { room: unknown }) => s.room)).to.deep.equal([
      { location: HALL, allowedIpRanges: [] },
      { location: HALL, allowedIpRanges: [] },
    ]);

    asTeacher = await login();
    const moved = await srv.request('PATCH', `/api/v1/meetings/${meetingId}`, {
      ...asTeacher,
      body: { startTime: '11:00', endTime: '12:00', allowedIpRanges: ['192.0.2.0/24'] },
    });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(moved.body.meeting).to.deep.include({ startTime: '11:00', endTime: '12:00', location: HALL, allowedIpRanges: ['192.0.2.0/24'] });
    expect(moved.body.rescheduled).to.have.members(first.map((s) => s.id));
    expect(moved.body.cancelled).to.deep.equal([]);
    const second = await list();
    expect(second.map((s) => [s.id, s.status, s.startsAt.toISOString(), s.closesAt.toISOString(), s.room])).to.deep.equal([
      [
        first[0]!.id,
        'scheduled',
        '2026-03-26T11:00:00.000Z',
        '2026-03-26T12:00:00.000Z',
        { location: HALL, allowedIpRanges: ['192.0.2.0/24'] },
      ],
      [
        first[1]!.id,
        'scheduled',
        '2026-04-02T10:00:00.000Z',
        '2026-04-02T11:00:00.000Z',
        { location: HALL, allowedIpRanges: ['192.0.2.0/24'] },
      ],
    ]);
    const audit = await srv.store.audit.listForSession(org.id, first[0]!.id);
    expect(audit.map((e) => e.action)).to.deep.equal(['session.open', 'session.reschedule']);
    const subjectAudit = await srv.store.audit.listForEntity(org.id, 'subject', subject.id);
    expect(subjectAudit.map((e) => e.action)).to.include('meeting.update');

    // Invalid input changes nothing.
    for (const body of [
      { termId: term.id },
      { endTime: '08:00' },
      { location: { lat: 95, lon: 0, radiusM: 10 } },
      { allowedIpRanges: ['nope'] },
    ]) {
      const refused = await srv.request('PATCH', `/api/v1/meetings/${meetingId}`, { ...asTeacher, body });
      expect([refused.status, refused.body.error.code], JSON.stringify(body)).to.deep.equal([400, 'VALIDATION_FAILED']);
    }
    // Without the hall, the subject (no location) cannot run the location check.
    const unfit = await srv.request('PATCH', `/api/v1/meetings/${meetingId}`, { ...asTeacher, body: { location: null } });
    expect([unfit.status, unfit.body.error.code]).to.deep.equal([400, 'SUBJECT_LOCATION_MISSING']);
    expect((await srv.store.timetable.getMeeting(org.id, meetingId))?.startTime).to.equal('11:00');

    const friday = await srv.request('PATCH', `/api/v1/meetings/${meetingId}`, { ...asTeacher, body: { weekday: 5 } });
    expect(friday.status, JSON.stringify(friday.body)).to.equal(200);
    expect(friday.body.cancelled).to.have.members(first.map((s) => s.id));
    const third = await list();
    expect(third.map((s) => s.status)).to.deep.equal(['cancelled', 'cancelled']);
    const cancelAudit = await srv.store.audit.listForSession(org.id, first[0]!.id);
    expect(cancelAudit.at(-1)).to.deep.include({ action: 'session.cancel', reason: 'MEETING_WEEKDAY_CHANGED', actorId: teacher.id });

    await runTimetable();
    const fourth = (await list()).filter((s) => s.status === 'scheduled');
    expect(fourth.map((s) => [s.day, s.startsAt.toISOString()])).to.deep.equal([
      ['2026-03-27', '2026-03-27T11:00:00.000Z'],
      ['2026-04-03', '2026-04-03T10:00:00.000Z'],
    ]);
  });

  it('refuses an edit that moves a session onto another of the subject, naming the clash, unless the teacher says parallel', async () => {
    const org = await createOrg(srv.store);
    await srv.store.organisations.update(org.id, { timezone: 'Europe/London' });
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const subject = await createSubject(srv.store, org.id, [teacher.id]);
    const term = await srv.store.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
    const created = await srv.request('POST', `/api/v1/subjects/${subject.id}/meetings`, {
      token: (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken,
      body: { termId: term.id, weekday: 4, startTime: '09:00', endTime: '10:00', preset: 'manual' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const meetingId = created.body.id as string;
    await runTimetable();
    // After the run (the clock moved past the first token's life).
    const accessToken = (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken;
    const list = async () => (await srv.store.sessions.list(org.id, { subjectId: subject.id, limit: 20, offset: 0 })).items.reverse();
    const [thu26, thu2] = await list();

    // An extra session the teacher scheduled by hand on Thursday 2 April, 11:00 to 12:00 in London.
    const socket = await connectClient(srv.baseUrl, accessToken);
    let extraId: string;
    try {
      const extra = ok(
        await command(socket, 'session:open', {
          subjectId: subject.id,
          startsAt: '2026-04-02T10:00:00.000Z',
          closesAt: '2026-04-02T11:00:00.000Z',
          policy: { preset: 'manual' },
        }),
      );
      extraId = extra.id;
    } finally {
      socket.disconnect();
    }
    const patch = (body: Record<string, unknown>) => srv.request('PATCH', `/api/v1/meetings/${meetingId}`, { token: accessToken, body });

    // Half past ten to half past eleven would put 2 April's session over it: the whole edit is refused.
    const refused = await patch({ startTime: '10:30', endTime: '11:30' });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
    expect(refused.body.error.code).to.equal('SESSION_ALREADY_OPEN');
    expect(refused.body.error.message).to.include('2026-04-02');
    expect(refused.body.error.details).to.deep.equal({
      sessionIds: [extraId],
      clashes: [{ day: '2026-04-02', sessionId: thu2!.id, withSessionId: extraId }],
      field: 'parallel',
    });
    // Nothing changed: the meeting, its sessions (26 March's would have fitted), the audit log.
    expect((await srv.store.timetable.getMeeting(org.id, meetingId))?.startTime).to.equal('09:00');
    expect((await list()).map((s) => [s.id, s.startsAt.toISOString()])).to.deep.equal([
      [thu26!.id, '2026-03-26T09:00:00.000Z'],
      [thu2!.id, '2026-04-02T08:00:00.000Z'],
      [extraId, '2026-04-02T10:00:00.000Z'],
    ]);
    const subjectAudit = await srv.store.audit.listForEntity(org.id, 'subject', subject.id);
    expect(subjectAudit.map((e) => e.action)).not.to.include('meeting.update');

    // Ending as the other begins is no clash (windows are half-open, as on opening).
    const before = await patch({ startTime: '10:00', endTime: '11:00' });
    expect(before.status, JSON.stringify(before.body)).to.equal(200);
    expect(before.body.rescheduled).to.have.members([thu26!.id, thu2!.id]);

    // The teacher confirms: both run side by side.
    const parallel = await patch({ startTime: '10:30', endTime: '11:30', parallel: true });
    expect(parallel.status, JSON.stringify(parallel.body)).to.equal(200);
    expect(parallel.body.meeting).to.include({ startTime: '10:30', endTime: '11:30' });
    expect(parallel.body).to.deep.include({ cancelled: [] });
    expect((await list()).map((s) => [s.id, s.status, s.startsAt.toISOString()])).to.deep.equal([
      [thu26!.id, 'scheduled', '2026-03-26T10:30:00.000Z'],
      [thu2!.id, 'scheduled', '2026-04-02T09:30:00.000Z'],
      [extraId, 'scheduled', '2026-04-02T10:00:00.000Z'],
    ]);
  });

  it("refuses a meeting that double-books its teacher, naming the other subject's meeting, unless teacherOverlap", async () => {
    const org = await createOrg(srv.store);
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const [maths, physics] = [await createSubject(srv.store, org.id, [teacher.id]), await createSubject(srv.store, org.id, [teacher.id])];
    const term = await srv.store.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
    const token = (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken;
    const meeting = (subjectId: string, body: Record<string, unknown>) =>
      srv.request('POST', `/api/v1/subjects/${subjectId}/meetings`, { token, body: { termId: term.id, preset: 'manual', ...body } });

    const first = await meeting(maths.id, { weekday: 4, startTime: '09:00', endTime: '10:00' });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const refused = await meeting(physics.id, { weekday: 4, startTime: '09:30', endTime: '10:30' });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
    expect(refused.body.error).to.deep.include({
      code: 'TEACHER_DOUBLE_BOOKED',
      details: { teacherId: teacher.id, meetingIds: [first.body.id], subjectIds: [maths.id], field: 'teacherOverlap' },
    });
    expect(await srv.store.timetable.listMeetings(org.id, physics.id)).to.deep.equal([]);

    // On Friday it fits; moving it to Thursday is refused the same way, and confirmed it stands.
    const friday = await meeting(physics.id, { weekday: 5, startTime: '09:30', endTime: '10:30' });
    expect(friday.status, JSON.stringify(friday.body)).to.equal(201);
    const patch = (body: Record<string, unknown>) => srv.request('PATCH', `/api/v1/meetings/${friday.body.id}`, { token, body });
    const moved = await patch({ weekday: 4 });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(409);
    expect(moved.body.error.code).to.equal('TEACHER_DOUBLE_BOOKED');
    expect((await srv.store.timetable.getMeeting(org.id, friday.body.id as string))?.weekday).to.equal(5);
    const confirmed = await patch({ weekday: 4, teacherOverlap: true });
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    expect(confirmed.body.meeting).to.include({ weekday: 4 });
    const both = await meeting(physics.id, { weekday: 4, startTime: '09:00', endTime: '09:30', teacherOverlap: true });
    expect(both.status, JSON.stringify(both.body)).to.equal(201);
  });

  it('opens an extra session held elsewhere over the socket, and checks its check-ins against that room', async () => {
    const org = await createOrg(srv.store);
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    const teacherSocket = await connectClient(srv.baseUrl, (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken);
    const studentSocket = await connectClient(srv.baseUrl, (await srv.login(student.email, PASSWORD, org.slug)).accessToken);
    try {
      const open = (extra: Record<string, unknown>) =>
        command(teacherSocket, 'session:open', { subjectId: subject.id, policy: { preset: 'network' }, parallel: true, ...extra });
      // The subject has no networks: a network check needs the room's.
      const refused = await open({});
      expect(refused.ok ? 'ok' : refused.error.code).to.equal('SUBJECT_NETWORK_MISSING');
      const invalid = await open({ allowedIpRanges: ['300.0.0.0/8'] });
      expect(invalid.ok ? 'ok' : invalid.error.code).to.equal('VALIDATION_FAILED');
      const badLocation = await open({ location: { lat: 0, lon: 0, radiusM: 10, extra: 1 } });
      expect(badLocation.ok ? 'ok' : badLocation.error.code).to.equal('VALIDATION_FAILED');

      const here = ok(await open({ allowedIpRanges: ['127.0.0.0/8', '::1/128'], location: HALL }));
      // The staff's session view carries its room: the opening's ack, the teacher's snapshot. The
      // student's join does not: where the room is stays with staff (docs/authorization.md).
      const room = { location: HALL, allowedIpRanges: ['127.0.0.0/8', '::1/128'] };
      expect(here.room).to.deep.equal(room);
      expect(ok(await command(teacherSocket, 'session:watch', { sessionId: here.id })).session.room).to.deep.equal(room);
      expect(ok(await command(studentSocket, 'session:join', { sessionId: here.id })).session).to.not.have.property('room');
      const stored = await srv.store.sessions.get(org.id, here.id);
      expect(stored).to.deep.include({ room: { location: HALL, allowedIpRanges: ['127.0.0.0/8', '::1/128'] }, meetingId: null });
      expect(ok(await command(studentSocket, 'checkin:submit', { sessionId: here.id }))).to.include({ status: 'present' });

      const elsewhere = ok(await open({ allowedIpRanges: ['192.0.2.0/24'] }));
      expect(elsewhere.room, "the subject's classroom location stands").to.deep.equal({
        location: null,
        allowedIpRanges: ['192.0.2.0/24'],
      });
      const classroom = ok(await open({ policy: { preset: 'manual' } }));
      expect(classroom.room, "held in the subject's classroom").to.equal(null);
      expect(ok(await command(studentSocket, 'checkin:submit', { sessionId: elsewhere.id }))).to.include({
        status: 'rejected',
        reason: 'NETWORK_NOT_ALLOWED',
      });
    } finally {
      teacherSocket.disconnect();
      studentSocket.disconnect();
    }
  });
});
