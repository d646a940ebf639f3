import { expect } from 'chai';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient } from '../support/sockets.js';

const MINUTE = 60_000;

// A weekly meeting may name its own teacher, one of its subject's. Once an admin takes that
// teacher off the subject (or hands their subjects to a colleague), they have no say over its
// sessions any more (docs/authorization.md: removal takes effect at once): the meeting's sessions
// are the subject's first teacher's, with that teacher's defaults, whether a colleague taps the
// meeting or the timetable run creates it.
describe('a meeting whose own teacher was taken off its subject', function () {
  let srv: TestServer;
  // Wednesday 25 March 2026, noon UTC.
  const START = Date.parse('2026-03-25T12:00:00.000Z');
  let now = START;
  const tomorrow = '2026-03-26';
  let first: User;
  let removed: User;
  let subject: Subject;
  let meetingId: string;
  const token = {} as Record<'admin' | 'first' | 'removed', string>;

  beforeEach(async () => {
    now = START;
    srv = await startTestServer({ TIMETABLE_HORIZON_DAYS: '7' }, { clock: () => new Date(now) });
    await srv.app.timetableJob.stop();
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    first = await createUser(srv.store, org.id, 'teacher');
    removed = await createUser(srv.store, org.id, 'teacher');
    subject = await createSubject(srv.store, org.id, [first.id, removed.id]);
    token.admin = (await srv.login(admin.email, PASSWORD)).accessToken;
    token.first = (await srv.login(first.email, PASSWORD)).accessToken;
    token.removed = (await srv.login(removed.email, PASSWORD)).accessToken;
    const term = await srv.store.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
    // Thursdays 09:00-10:00, taught by the second teacher.
    const meeting = await srv.request('POST', `/api/v1/subjects/${subject.id}/meetings`, {
      token: token.admin,
      body: { termId: term.id, weekday: 4, startTime: '09:00', endTime: '10:00', teacherId: removed.id },
    });
    expect(meeting.status, JSON.stringify(meeting.body)).to.equal(201);
    meetingId = meeting.body.id as string;
    // Each teacher's own defaults: the first teacher's grace is 5 minutes, the other's 4 hours.
    for (const [who, lateGraceMinutes] of [
      ['first', 5],
      ['removed', 240],
    ] as const) {
      const put = await srv.request('PUT', '/api/v1/timetable/settings', { token: token[who], body: { lateGraceMinutes } });
      expect(put.status).to.equal(200);
    }
  });
  afterEach(() => srv.cleanup());

  /** The session's teacher and its late grace in minutes. */
  const teacherAndGrace = (s: { teacherId: string; startsAt: string; lateAfter: string }) => [
    s.teacherId,
    (Date.parse(s.lateAfter) - Date.parse(s.startsAt)) / MINUTE,
  ];

  for (const how of ['taken off the subject', 'handed over to a colleague'] as const) {
    it(`${how}: a colleague's tap and the timetable run make the sessions the first teacher's, with their defaults`, async () => {
      const change =
        how === 'taken off the subject'
          ? await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, { token: token.admin, body: { teacherIds: [first.id] } })
          : await srv.request('POST', `/api/v1/users/${removed.id}/handover`, {
              token: token.admin,
              body: { toTeacherId: (await createUser(srv.store, subject.orgId, 'teacher')).id },
            });
      expect(change.status, JSON.stringify(change.body)).to.equal(200);
      // The teacher taken off still sets their own defaults: they must reach none of this subject's sessions.
      await srv.request('PUT', '/api/v1/timetable/settings', { token: token.removed, body: { timetableOpen: 'tap' } });

      const tapped = await srv.request('POST', `/api/v1/meetings/${meetingId}/start`, { token: token.first, body: { day: tomorrow } });
      expect(tapped.status, JSON.stringify(tapped.body)).to.equal(200);
      expect(teacherAndGrace(tapped.body)).to.deep.equal([first.id, 5]);

      // The next Thursday's session, from the run: created (not left waiting for a tap nobody may
      // make, nor failed every run), the first teacher's.
      now = START + 7 * 24 * 60 * MINUTE;
      expect(await srv.app.timetableJob.tick()).to.equal(true);
      const { items } = await srv.store.sessions.list(subject.orgId, { subjectId: subject.id, limit: 10, offset: 0 });
      const run = items.find((s) => s.day === '2026-04-02');
      expect(run, JSON.stringify(items)).to.not.equal(undefined);
      expect([run!.teacherId, (run!.lateAfter.getTime() - run!.startsAt.getTime()) / MINUTE]).to.deep.equal([first.id, 5]);
    });
  }

  for (const how of ['taken off the subject', 'handed over to a colleague'] as const) {
    it(`${how}: the meeting's session already scheduled becomes the first teacher's, and the removed teacher reaches nothing of it`, async () => {
      // Tomorrow's session, made by the run while the meeting's own teacher still taught the subject.
      expect(await srv.app.timetableJob.tick()).to.equal(true);
      const scheduled = (await srv.store.sessions.list(subject.orgId, { subjectId: subject.id, limit: 10, offset: 0 })).items.find(
        (s) => s.day === tomorrow,
      );
      expect([scheduled?.teacherId, scheduled?.status]).to.deep.equal([removed.id, 'scheduled']);
      const graceBefore = (scheduled!.lateAfter.getTime() - scheduled!.startsAt.getTime()) / MINUTE;

      const change =
        how === 'taken off the subject'
          ? await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, { token: token.admin, body: { teacherIds: [first.id] } })
          : await srv.request('POST', `/api/v1/users/${removed.id}/handover`, {
              token: token.admin,
              body: { toTeacherId: (await createUser(srv.store, subject.orgId, 'teacher')).id },
            });
      expect(change.status, JSON.stringify(change.body)).to.equal(200);

      // The first teacher's now (the meeting's own teacher teaches the subject no more), keeping its time and grace.
      const after = (await srv.store.sessions.get(subject.orgId, scheduled!.id))!;
      expect([
        after.teacherId,
        after.status,
        after.startsAt.getTime(),
        (after.lateAfter.getTime() - after.startsAt.getTime()) / MINUTE,
      ]).to.deep.equal([first.id, 'scheduled', scheduled!.startsAt.getTime(), graceBefore]);
      const trail = await srv.store.audit.listForEntity(subject.orgId, 'session', scheduled!.id);
      expect(trail.at(-1)).to.deep.include({ action: 'session.reschedule' });

      // The removed teacher: neither the session's records nor the subject's sessions.
      for (const path of [`/api/v1/sessions/${scheduled!.id}/records`, `/api/v1/subjects/${subject.id}/sessions`]) {
        const res = await srv.request('GET', path, { token: token.removed });
        expect([res.status, res.body.error?.code], path).to.deep.equal([403, 'NOT_SUBJECT_TEACHER']);
      }
      // Nor is the session still theirs when they book their own time: a class of another subject
      // they open by hand at that hour is free for them, whereas the first teacher, who holds it
      // now, is told of the double booking.
      const window = { startsAt: scheduled!.startsAt.toISOString(), closesAt: scheduled!.closesAt.toISOString() };
      for (const [who, expected] of [
        ['removed', 'ok'],
        ['first', 'TEACHER_DOUBLE_BOOKED'],
      ] as const) {
        const other = await createSubject(srv.store, subject.orgId, [who === 'first' ? first.id : removed.id]);
        const socket = await connectClient(srv.baseUrl, token[who]);
        try {
          const ack = await command(socket, 'session:open', { subjectId: other.id, ...window });
          expect(ack.ok ? 'ok' : ack.error.code, `${who}: ${JSON.stringify(ack)}`).to.equal(expected);
        } finally {
          socket.disconnect();
        }
      }
    });
  }

  it("taking the meeting's own teacher off is refused TEACHER_DOUBLE_BOOKED where the first teacher, who would take it, meets another class then; teacherOverlap keeps it", async () => {
    const term = (await srv.store.timetable.listTerms(subject.orgId))[0]!;
    const other = await createSubject(srv.store, subject.orgId, [first.id]);
    const theirs = await srv.request('POST', `/api/v1/subjects/${other.id}/meetings`, {
      token: token.first,
      body: { termId: term.id, weekday: 4, startTime: '09:30', endTime: '10:30' },
    });
    expect(theirs.status, JSON.stringify(theirs.body)).to.equal(201);
    const refused = await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, { token: token.admin, body: { teacherIds: [first.id] } });
    expect([refused.status, refused.body.error?.code, refused.body.error?.details?.meetingIds]).to.deep.equal([
      409,
      'TEACHER_DOUBLE_BOOKED',
      [theirs.body.id],
    ]);
    expect((await srv.store.subjects.get(subject.orgId, subject.id))!.teacherIds).to.deep.equal([first.id, removed.id]);
    const kept = await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, {
      token: token.admin,
      body: { teacherIds: [first.id], teacherOverlap: true },
    });
    expect(kept.status, JSON.stringify(kept.body)).to.equal(200);
  });

  it("taken off the subject: the meeting counts against the first teacher's other meetings at its time, no longer the removed teacher's", async () => {
    const changed = await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, { token: token.admin, body: { teacherIds: [first.id] } });
    expect(changed.status).to.equal(200);
    const term = (await srv.store.timetable.listTerms(subject.orgId))[0]!;
    const thursdayNine = { termId: term.id, weekday: 4, startTime: '09:00', endTime: '10:00' };
    for (const [who, status] of [
      ['removed', 201],
      ['first', 409],
    ] as const) {
      const theirs = await createSubject(srv.store, subject.orgId, [who === 'first' ? first.id : removed.id]);
      const res = await srv.request('POST', `/api/v1/subjects/${theirs.id}/meetings`, { token: token[who], body: thursdayNine });
      expect([res.status, res.body.error?.details?.meetingIds], `${who}: ${JSON.stringify(res.body)}`).to.deep.equal(
        status === 409 ? [409, [meetingId]] : [201, undefined],
      );
    }
  });
});
