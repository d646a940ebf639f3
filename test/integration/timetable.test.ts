import { expect } from 'chai';
import { createOrg, createSubject, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, ok } from '../support/sockets.js';

// The timetable through the HTTP API and the application's own job, with its clock injected:
// an admin sets the term and a closure day, a teacher adds weekly meetings, sees the next
// weeks, and the job creates the week's sessions as scheduled sessions at local 09:00.

const MINUTE = 60_000;

describe('timetable (application)', function () {
  let srv: TestServer;
  // Wednesday 25 March 2026, noon in London; the clocks go forward on Sunday the 29th.
  const START = Date.parse('2026-03-25T12:00:00.000Z');
  let now = START;

  // Each case on its own server and clock: a case moves time and spends the job's runs.
  beforeEach(async () => {
    now = START;
    srv = await startTestServer({ TIMETABLE_INTERVAL_MS: '900000', TIMETABLE_HORIZON_DAYS: '7' }, { clock: () => new Date(now) });
    // The node's own checks stop here (its first pass may have run already); the cases drive the runs.
    await srv.app.timetableJob.stop();
  });
  afterEach(async () => {
    await srv.cleanup();
  });

  it('turns weekly meetings into next week’s sessions, skipping the closure day, once; a called-off one is cancelled', async () => {
    const org = await createOrg(srv.store);
    await srv.store.organisations.update(org.id, { timezone: 'Europe/London' });
    const admin = await createUser(srv.store, org.id, 'admin');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const subject = await createSubject(srv.store, org.id, [teacher.id]);
    const asAdmin = { token: (await srv.login(admin.email, PASSWORD, org.slug)).accessToken };
    let asTeacher = { token: (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken };

    const term = await srv.request('POST', '/api/v1/timetable/terms', {
      ...asAdmin,
      body: { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' },
    });
    expect(term.status).to.equal(201);
    expect(
      (
        await srv.request('POST', '/api/v1/timetable/holidays', {
          ...asAdmin,
          body: { name: 'Closure', startDay: '2026-03-30', endDay: '2026-03-30' },
        })
      ).status,
    ).to.equal(201);
    const refused = await srv.request('POST', '/api/v1/timetable/terms', {
      ...asAdmin,
      body: { name: 'Bad', startDay: '2026-09-01', endDay: '2026-08-01' },
    });
    expect([refused.status, refused.body.error.code]).to.deep.equal([400, 'VALIDATION_FAILED']);

    const meetings: Record<string, string> = {};
    for (const weekday of [7, 1]) {
      const res = await srv.request('POST', `/api/v1/subjects/${subject.id}/meetings`, {
        ...asTeacher,
        body: { termId: term.body.id, weekday, startTime: '09:00', endTime: '10:00', preset: 'manual' },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      meetings[weekday] = res.body.id;
    }

    const upcoming = async () =>
      (await srv.request('GET', `/api/v1/subjects/${subject.id}/upcoming?days=14`, asTeacher)).body as Array<{
        day: string;
        startsAt: string;
        state: string;
        sessionId: string | null;
      }>;
    expect((await upcoming()).map((u) => [u.day, u.startsAt, u.state])).to.deep.equal([
      ['2026-03-29', '2026-03-29T08:00:00.000Z', 'planned'],
      ['2026-04-05', '2026-04-05T08:00:00.000Z', 'planned'],
      ['2026-04-06', '2026-04-06T08:00:00.000Z', 'planned'],
    ]);

    now += 16 * MINUTE;
    await srv.app.timetableJob.tick();
    now += 16 * MINUTE;
    expect(await srv.app.timetableJob.tick()).to.equal(true);
    // The clock moved past the access token's life.
    asTeacher = { token: (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken };

    const after = await upcoming();
    expect(after.map((u) => [u.day, u.state])).to.deep.equal([
      ['2026-03-29', 'created'],
      ['2026-04-05', 'planned'],
      ['2026-04-06', 'planned'],
    ]);
    const sessions = (await srv.store.sessions.list(org.id, { subjectId: subject.id, limit: 10, offset: 0 })).items;
    expect(sessions.map((s) => [s.id, s.status, s.startsAt.toISOString(), s.closesAt.toISOString(), s.teacherId])).to.deep.equal([
      [after[0]!.sessionId, 'scheduled', '2026-03-29T08:00:00.000Z', '2026-03-29T09:00:00.000Z', teacher.id],
    ]);

    const cancelled = await srv.request('POST', `/api/v1/meetings/${meetings[7]}/cancel`, { ...asTeacher, body: { day: '2026-03-29' } });
    expect([cancelled.status, cancelled.body.state]).to.deep.equal([200, 'cancelled']);
    expect((await srv.store.sessions.get(org.id, sessions[0]!.id))?.status).to.equal('cancelled');
    const notThatDay = await srv.request('POST', `/api/v1/meetings/${meetings[7]}/start`, { ...asTeacher, body: { day: '2026-03-30' } });
    expect([notThatDay.status, notThatDay.body.error.code]).to.deep.equal([404, 'NOT_FOUND']);
  });

  it("honours a teacher's 'tap' setting: nothing is created ahead, one tap creates the session", async () => {
    const org = await createOrg(srv.store);
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const subject = await createSubject(srv.store, org.id, [teacher.id]);
    let asTeacher = { token: (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken };
    const term = await srv.store.timetable.createTerm(org.id, { name: 'T', startDay: '2026-01-01', endDay: '2026-12-31' });
    const today = new Date(now).toISOString().slice(0, 10);
    const tomorrow = new Date(now + 86_400_000);
    const weekday = tomorrow.getUTCDay() === 0 ? 7 : tomorrow.getUTCDay();
    const meeting = await srv.request('POST', `/api/v1/subjects/${subject.id}/meetings`, {
      ...asTeacher,
      body: { termId: term.id, weekday, startTime: '10:00', endTime: '11:00' },
    });
    expect(meeting.status).to.equal(201);
    const put = await srv.request('PUT', '/api/v1/timetable/settings', { ...asTeacher, body: { timetableOpen: 'tap' } });
    expect(put.body).to.deep.include({ timetableOpen: 'tap' });
    expect((await srv.request('GET', '/api/v1/timetable/settings', asTeacher)).body).to.deep.include({ timetableOpen: 'tap' });

    now += 16 * MINUTE;
    expect(await srv.app.timetableJob.tick()).to.equal(true);
    expect((await srv.store.sessions.list(org.id, { subjectId: subject.id, limit: 10, offset: 0 })).total).to.equal(0);
    asTeacher = { token: (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken };

    const day = tomorrow.toISOString().slice(0, 10);
    expect(day > today).to.equal(true);
    const tap = await srv.request('POST', `/api/v1/meetings/${meeting.body.id}/start`, { ...asTeacher, body: { day } });
    expect(tap.status, JSON.stringify(tap.body)).to.equal(200);
    expect([tap.body.status, tap.body.startsAt]).to.deep.equal(['scheduled', `${day}T10:00:00.000Z`]);
    const again = await srv.request('POST', `/api/v1/meetings/${meeting.body.id}/start`, { ...asTeacher, body: { day } });
    expect(again.body.id).to.equal(tap.body.id);
    expect((await srv.store.sessions.list(org.id, { subjectId: subject.id, limit: 10, offset: 0 })).total).to.equal(1);
  });

  it("applies the teacher's default policy, late grace and code period to sessions opened by hand and by the timetable", async () => {
    const org = await createOrg(srv.store);
    await srv.store.organisations.update(org.id, { timezone: 'UTC' });
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const subject = await createSubject(srv.store, org.id, [teacher.id]);
    const asTeacher = { token: (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken };
    const unset = { timetableOpen: 'auto', defaultPolicy: {}, lateGraceMinutes: null, codePeriodS: null };
    expect((await srv.request('GET', '/api/v1/timetable/settings', asTeacher)).body).to.deep.equal(unset);

    const tooShort = await srv.request('PUT', '/api/v1/timetable/settings', { ...asTeacher, body: { codePeriodS: 4 } });
    expect([tooShort.status, tooShort.body.error.code]).to.deep.equal([400, 'VALIDATION_FAILED']);
    const set = { timetableOpen: 'tap', defaultPolicy: { preset: 'manual', maxAttempts: 4 }, lateGraceMinutes: 3, codePeriodS: 45 };
    const put = await srv.request('PUT', '/api/v1/timetable/settings', {
      ...asTeacher,
      body: { defaultPolicy: set.defaultPolicy, lateGraceMinutes: 3, codePeriodS: 45 },
    });
    expect([put.status, put.body]).to.deep.equal([200, { ...set, timetableOpen: 'auto' }]);
    expect((await srv.request('PUT', '/api/v1/timetable/settings', { ...asTeacher, body: { timetableOpen: 'tap' } })).body).to.deep.equal(
      set,
    );
    expect((await srv.request('GET', '/api/v1/timetable/settings', asTeacher)).body).to.deep.equal(set);

    const socket = await connectClient(srv.baseUrl, asTeacher.token);
    try {
      const byHand = ok(await command(socket, 'session:open', { subjectId: subject.id }));
      expect(Date.parse(byHand.lateAfter) - Date.parse(byHand.startsAt)).to.equal(3 * MINUTE);
      expect(byHand.policy).to.include({ preset: 'manual', codePeriodS: 45, maxAttempts: 4 });
    } finally {
      socket.disconnect();
    }

    const term = await srv.store.timetable.createTerm(org.id, { name: 'T', startDay: '2026-01-01', endDay: '2026-12-31' });
    const tomorrow = new Date(now + 86_400_000);
    const day = tomorrow.toISOString().slice(0, 10);
    const weekday = tomorrow.getUTCDay() === 0 ? 7 : tomorrow.getUTCDay();
    const meeting = await srv.request('POST', `/api/v1/subjects/${subject.id}/meetings`, {
      ...asTeacher,
      body: { termId: term.id, weekday, startTime: '10:00', endTime: '11:00' },
    });
    expect(meeting.status, JSON.stringify(meeting.body)).to.equal(201);
    const tap = await srv.request('POST', `/api/v1/meetings/${meeting.body.id}/start`, { ...asTeacher, body: { day } });
    expect(tap.status, JSON.stringify(tap.body)).to.equal(200);
    expect(tap.body.lateAfter).to.equal(`${day}T10:03:00.000Z`);
    expect(tap.body.policy).to.include({ preset: 'manual', codePeriodS: 45, maxAttempts: 4 });
  });
});
