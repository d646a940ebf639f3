import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Actor } from '../../../src/domain/actor.js';
import { evaluateCheckin } from '../../../src/domain/checkins/evaluate.js';
import type { DomainDeps } from '../../../src/domain/deps.js';
import { EventBus } from '../../../src/domain/events.js';
import { JobRunner } from '../../../src/domain/jobs/job-runner.js';
import { effectiveRoom, roomOrNull } from '../../../src/domain/sessions/room.js';
import { SessionLifecycle } from '../../../src/domain/sessions/session-lifecycle.js';
import { SessionService } from '../../../src/domain/sessions/session-service.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { AttendanceSession } from '../../../src/domain/ports/sessions.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { ClassroomLocation, Subject } from '../../../src/domain/ports/subjects.js';
import type { Meeting } from '../../../src/domain/ports/timetable.js';
import type { User } from '../../../src/domain/ports/users.js';
import { createTimetableSessions } from '../../../src/domain/timetable/timetable-job.js';
import { MEETING_CANCEL_REASONS } from '../../../src/domain/timetable/meeting-edits.js';
import { TimetableService } from '../../../src/domain/timetable/timetable-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { expectCode } from '../../support/expect-code.js';
import { TestClock } from '../../support/live-fixture.js';

const CLASSROOM: ClassroomLocation = { lat: 51.5, lon: -0.12, radiusM: 50 };
// About 1.1 km north of the classroom: the sports hall.
const HALL: ClassroomLocation = { lat: 51.51, lon: -0.12, radiusM: 80 };

describe('meeting rooms', () => {
  describe('effectiveRoom', () => {
    const subject = { location: CLASSROOM, allowedIpRanges: ['10.0.0.0/8'] };

    it("falls back to the subject's location and networks, each on its own", () => {
      expect(effectiveRoom(subject, null)).to.deep.equal(subject);
      expect(effectiveRoom(subject, { location: HALL, allowedIpRanges: [] })).to.deep.equal({
        location: HALL,
        allowedIpRanges: ['10.0.0.0/8'],
      });
      expect(effectiveRoom(subject, { location: null, allowedIpRanges: ['192.168.1.0/24'] })).to.deep.equal({
        location: CLASSROOM,
        allowedIpRanges: ['192.168.1.0/24'],
      });
      expect(effectiveRoom({ location: null, allowedIpRanges: [] }, null)).to.deep.equal({ location: null, allowedIpRanges: [] });
    });

    it('keeps a room that sets nothing as null, and drops repeated ranges', () => {
      expect(roomOrNull(null, [])).to.equal(null);
      expect(roomOrNull(undefined, undefined)).to.equal(null);
      expect(roomOrNull(null, ['10.0.0.0/8', '10.0.0.0/8'])).to.deep.equal({ location: null, allowedIpRanges: ['10.0.0.0/8'] });
    });
  });

  describe('check-in evaluation', () => {
    const at = new Date('2026-03-26T09:05:00.000Z');
    const subject: Subject = {
      id: 's',
      orgId: 'o',
      code: 'PE1',
      name: 'PE',
      teacherIds: ['t'],
      location: CLASSROOM,
      allowedIpRanges: ['10.0.0.0/8'],
      archivedAt: null,
      createdAt: at,
      updatedAt: at,
    };
    const session = (room: AttendanceSession['room']): AttendanceSession => ({
      id: 'x',
      orgId: 'o',
      subjectId: 's',
      teacherId: 't',
      status: 'open',
      policy: { geofence: true, network: true, rotatingCode: false, selfie: false, codePeriodS: 15, maxAttempts: 2 },
      startsAt: new Date('2026-03-26T09:00:00.000Z'),
      lateAfter: new Date('2026-03-26T09:10:00.000Z'),
      closesAt: new Date('2026-03-26T10:00:00.000Z'),
      codeSecret: 'c'.repeat(43),
      day: '2026-03-26',
      room,
      meetingId: null,
      meetingEdit: null,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      closedBy: null,
      leaseOwner: null,
      leaseUntil: null,
      rosterVersion: 0,
    });
    const fixAt = (l: ClassroomLocation) => ({ lat: l.lat, lon: l.lon, accuracyM: 10, timestamp: at });
    const check = (room: AttendanceSession['room'], where: ClassroomLocation, ip: string) =>
      evaluateCheckin(session(room), subject, { location: fixAt(where), code: undefined, ip }, at, 120);

    it("checks a session with a room against the room's location, and the subject's networks it does not override", () => {
      const room = { location: HALL, allowedIpRanges: [] };
      expect(check(room, HALL, '10.1.2.3')).to.include({ status: 'present', reason: null });
      expect(check(room, CLASSROOM, '10.1.2.3')).to.include({ status: 'rejected', reason: 'GEOFENCE_OUTSIDE' });
      expect(check(room, HALL, '192.168.1.5')).to.include({ status: 'rejected', reason: 'NETWORK_NOT_ALLOWED' });
    });

    it("checks a session without a room against the subject's classroom", () => {
      expect(check(null, CLASSROOM, '10.1.2.3')).to.include({ status: 'present' });
      expect(check(null, HALL, '10.1.2.3')).to.include({ status: 'rejected', reason: 'GEOFENCE_OUTSIDE' });
    });

    it("checks a room's own networks in place of the subject's", () => {
      const room = { location: null, allowedIpRanges: ['192.168.1.0/24'] };
      expect(check(room, CLASSROOM, '192.168.1.5')).to.include({ status: 'present' });
      expect(check(room, CLASSROOM, '10.1.2.3')).to.include({ status: 'rejected', reason: 'NETWORK_NOT_ALLOWED' });
    });
  });

  describe('timetable sessions and meeting edits', () => {
    // Wednesday 25 March 2026, noon in London.
    const T0 = Date.parse('2026-03-25T12:00:00.000Z');
    let dir: string;
    let clock: TestClock;
    let store: Store;
    let deps: DomainDeps;
    let sessions: SessionService;
    let timetable: TimetableService;
    let org: Organisation;
    let teacher: User;
    let other: User;
    let subject: Subject;
    let meeting: Meeting;

    const actor = (u: User): Actor => ({ id: u.id, orgId: org.id, role: u.role });
    const listSessions = async () =>
      (await store.sessions.list(org.id, { subjectId: subject.id, limit: 100, offset: 0 })).items.sort(
        (x, y) => x.startsAt.getTime() - y.startsAt.getTime(),
      );

    beforeEach(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'meeting-rooms-'));
      clock = new TestClock(T0);
      store = await createSqliteStore({ path: path.join(dir, 'store.db') });
      deps = {
        store,
        events: new EventBus((err) => {
          throw err;
        }),
        logger: pino({ level: 'silent' }),
        now: clock.now,
        jobs: new JobRunner(pino({ level: 'silent' })),
        capabilities: { selfie: false },
        settings: { codePeriodS: 15, locationMaxAgeS: 120, defaultTimezone: 'UTC' },
      };
      sessions = new SessionService(deps);
      timetable = new TimetableService(deps, sessions, new SessionLifecycle(deps));
      org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'Europe/London' });
      const user = (email: string) =>
        store.users.create(org.id, { email, name: email, role: 'teacher', studentNumber: null, passwordHash: null, active: true });
      teacher = await user('t@test');
      other = await user('o@test');
      subject = await store.subjects.create(org.id, {
        code: 'PE1',
        name: 'PE',
        teacherIds: [teacher.id, other.id],
        location: CLASSROOM,
        allowedIpRanges: [],
      });
      const term = await timetable.createTerm(
        { id: 'admin', orgId: org.id, role: 'admin' },
        { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' },
      );
      // Thursdays 09:00 to 10:00 in the sports hall, with the location check.
      meeting = await timetable.createMeeting(actor(teacher), subject.id, {
        termId: term.id,
        weekday: 4,
        startTime: '09:00',
        endTime: '10:00',
        preset: 'location',
        location: HALL,
      });
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("copies the meeting's room to the sessions created from it, and names the meeting", async () => {
      expect(meeting).to.deep.include({ location: HALL, allowedIpRanges: [] });
      await createTimetableSessions(deps, sessions, clock.now(), 14);
      const created = await listSessions();
      expect(created.map((s) => [s.day, s.room, s.meetingId])).to.deep.equal([
        ['2026-03-26', { location: HALL, allowedIpRanges: [] }, meeting.id],
        ['2026-04-02', { location: HALL, allowedIpRanges: [] }, meeting.id],
      ]);
    });

    it('moves the scheduled sessions to the new times and room, and audits the edit and each move', async () => {
      await createTimetableSessions(deps, sessions, clock.now(), 14);
      const before = await listSessions();
      const result = await timetable.updateMeeting(actor(teacher), meeting.id, {
        startTime: '10:30',
        endTime: '11:15',
        location: null,
        allowedIpRanges: ['192.168.1.0/24'],
        teacherId: other.id,
      });
      expect(result.meeting).to.deep.include({ startTime: '10:30', endTime: '11:15', location: null, allowedIpRanges: ['192.168.1.0/24'] });
      expect(result.rescheduled).to.have.members(before.map((s) => s.id));
      expect(result.cancelled).to.deep.equal([]);
      const after = await listSessions();
      expect(
        after.map((s) => [s.status, s.startsAt.toISOString(), s.lateAfter.toISOString(), s.closesAt.toISOString(), s.teacherId]),
      ).to.deep.equal([
        // The grace (10 minutes from the start) goes with the start.
        ['scheduled', '2026-03-26T10:30:00.000Z', '2026-03-26T10:40:00.000Z', '2026-03-26T11:15:00.000Z', other.id],
        ['scheduled', '2026-04-02T09:30:00.000Z', '2026-04-02T09:40:00.000Z', '2026-04-02T10:15:00.000Z', other.id],
      ]);
      // Without the hall, the location check is the subject's classroom's; the networks are the room's.
      expect(after[0]!.room).to.deep.equal({ location: null, allowedIpRanges: ['192.168.1.0/24'] });
      expect(after[0]!.policy.geofence).to.equal(true);

      const entries = await store.audit.listForSession(org.id, after[0]!.id);
      const move = entries.find((e) => e.action === 'session.reschedule');
      expect(move).to.deep.include({ actorId: teacher.id, reason: 'MEETING_CHANGED' });
      const subjectLog = await store.audit.listForEntity(org.id, 'subject', subject.id);
      const edit = subjectLog.find((e) => e.action === 'meeting.update');
      expect(edit?.from).to.deep.include({ startTime: '09:00', endTime: '10:00', teacherId: null });
      expect(edit?.to).to.deep.include({ startTime: '10:30', endTime: '11:15', teacherId: other.id });
    });

    it('cancels the scheduled sessions when the weekday changes, and the next run creates the new days', async () => {
      await createTimetableSessions(deps, sessions, clock.now(), 14);
      const before = await listSessions();
      const result = await timetable.updateMeeting(actor(teacher), meeting.id, { weekday: 5 });
      expect(result.cancelled).to.have.members(before.map((s) => s.id));
      for (const s of before) {
        const entries = await store.audit.listForSession(org.id, s.id);
        expect(entries.find((e) => e.action === 'session.cancel')?.reason).to.equal(MEETING_CANCEL_REASONS.weekday);
      }
      expect((await createTimetableSessions(deps, sessions, clock.now(), 14)).created).to.equal(2);
      const live = (await listSessions()).filter((s) => s.status === 'scheduled');
      expect(live.map((s) => s.day)).to.deep.equal(['2026-03-27', '2026-04-03']);

      // Back to Thursday: the old days are free again.
      await timetable.updateMeeting(actor(teacher), meeting.id, { weekday: 4 });
      await createTimetableSessions(deps, sessions, clock.now(), 14);
      const again = (await listSessions()).filter((s) => s.status === 'scheduled');
      expect(again.map((s) => s.day)).to.deep.equal(['2026-03-26', '2026-04-02']);
    });

    it('leaves an open session and a session scheduled by hand that stands for the meeting', async () => {
      // By hand, before the run: the run takes it as the meeting's session of that Thursday.
      const byHand = await sessions.open(actor(teacher), {
        subjectId: subject.id,
        startsAt: '2026-04-02T08:00:00.000Z',
        closesAt: '2026-04-02T09:00:00.000Z',
      });
      await createTimetableSessions(deps, sessions, clock.now(), 14);
      // Thursday's session has started: it keeps what it opened with.
      clock.set(new Date('2026-03-26T09:30:00.000Z'));
      const result = await timetable.updateMeeting(actor(teacher), meeting.id, { endTime: '10:30' });
      expect(result).to.deep.include({ rescheduled: [], cancelled: [] });
      const [opened, hand] = await listSessions();
      expect(opened!.closesAt.toISOString()).to.equal('2026-03-26T10:00:00.000Z');
      expect(hand!.id).to.equal(byHand.id);
      expect(hand!.closesAt.toISOString()).to.equal('2026-04-02T09:00:00.000Z');
    });

    it('refuses an edit the room cannot run, and one by a teacher of another subject', async () => {
      await expectCode(timetable.updateMeeting(actor(teacher), meeting.id, { preset: 'network' }), 'SUBJECT_NETWORK_MISSING');
      const stranger = await store.users.create(org.id, {
        email: 's@test',
        name: 'Stranger',
        role: 'teacher',
        studentNumber: null,
        passwordHash: null,
        active: true,
      });
      await expectCode(timetable.updateMeeting(actor(stranger), meeting.id, { startTime: '08:00' }), 'NOT_SUBJECT_TEACHER');
      expect(await store.timetable.getMeeting(org.id, meeting.id)).to.deep.include({ startTime: '09:00', preset: 'location' });
    });
  });
});
