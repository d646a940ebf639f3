import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Actor } from '../../../src/domain/actor.js';
import { JobRunner } from '../../../src/domain/jobs/job-runner.js';
import type { DomainDeps } from '../../../src/domain/deps.js';
import { EventBus } from '../../../src/domain/events.js';
import { ScheduledJob } from '../../../src/domain/jobs/scheduled-job.js';
import { SessionLifecycle } from '../../../src/domain/sessions/session-lifecycle.js';
import { SessionService } from '../../../src/domain/sessions/session-service.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { User } from '../../../src/domain/ports/users.js';
import { CLAIM_STALE_MS, createTimetableSessions, TIMETABLE_JOB } from '../../../src/domain/timetable/timetable-job.js';
import { TimetableService } from '../../../src/domain/timetable/timetable-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { expectCode } from '../../support/expect-code.js';
import { TestClock } from '../../support/live-fixture.js';

// The timetable job over two "nodes": two stores on one SQLite file, one injected clock.

const HOUR = 3_600_000;
// Wednesday 25 March 2026, noon in London; the clocks go forward on Sunday the 29th.
const T0 = Date.parse('2026-03-25T12:00:00.000Z');

interface Node {
  store: Store;
  deps: DomainDeps;
  sessions: SessionService;
  timetable: TimetableService;
}

describe('timetable job', () => {
  let dir: string;
  let clock: TestClock;
  let a: Node;
  let b: Node;
  let org: Organisation;
  let teacher: User;
  let subject: Subject;

  async function node(file: string): Promise<Node> {
    const store = await createSqliteStore({ path: file });
    const deps: DomainDeps = {
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
    const sessions = new SessionService(deps);
    return { store, deps, sessions, timetable: new TimetableService(deps, sessions, new SessionLifecycle(deps)) };
  }

  const actor = (u: User): Actor => ({ id: u.id, orgId: org.id, role: u.role });
  const sessionsOf = async (store: Store) =>
    (await store.sessions.list(org.id, { subjectId: subject.id, limit: 100, offset: 0 })).items.sort(
      (x, y) => x.startsAt.getTime() - y.startsAt.getTime(),
    );

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'timetable-job-'));
    clock = new TestClock(T0);
    const file = path.join(dir, 'store.db');
    a = await node(file);
    b = await node(file);
    org = await a.store.organisations.create({ name: 'School', slug: 'school', timezone: 'Europe/London' });
    teacher = await a.store.users.create(org.id, {
      email: 't@test',
      name: 'Teacher',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    subject = await a.store.subjects.create(org.id, {
      code: 'MAT1',
      name: 'Maths',
      teacherIds: [teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    const admin: Actor = { id: 'admin', orgId: org.id, role: 'admin' };
    const term = await a.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
    for (const weekday of [4, 7]) {
      await a.timetable.createMeeting(actor(teacher), subject.id, {
        termId: term.id,
        weekday,
        startTime: '09:00',
        endTime: '10:00',
        preset: 'manual',
      });
    }
  });
  afterEach(async () => {
    await a.store.close();
    await b.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two nodes running at once create each dated meeting once, as scheduled sessions at local 09:00 across the DST change', async () => {
    const [ra, rb] = await Promise.all([
      createTimetableSessions(a.deps, a.sessions, clock.now(), 7),
      createTimetableSessions(b.deps, b.sessions, clock.now(), 7),
    ]);
    expect(ra.created + rb.created).to.equal(2);
    const sessions = await sessionsOf(a.store);
    expect(sessions.map((s) => [s.status, s.startsAt.toISOString(), s.closesAt.toISOString(), s.teacherId])).to.deep.equal([
      ['scheduled', '2026-03-26T09:00:00.000Z', '2026-03-26T10:00:00.000Z', teacher.id],
      ['scheduled', '2026-03-29T08:00:00.000Z', '2026-03-29T09:00:00.000Z', teacher.id],
    ]);
    const audit = await a.store.audit.listForSession(org.id, sessions[0]!.id);
    expect(audit.map((e) => [e.action, e.actorId, e.reason])).to.deep.equal([['session.open', null, 'timetable']]);

    // A later run, on either node, finds nothing left to create.
    clock.advance(HOUR);
    expect((await createTimetableSessions(b.deps, b.sessions, clock.now(), 7)).created).to.equal(0);
    expect(await sessionsOf(b.store)).to.have.length(2);
  });

  it('leaves to the next run a meeting edited after the run read it, instead of creating the old session', async () => {
    const [thursday] = (await a.timetable.meetings(actor(teacher), subject.id)).filter((m) => m.weekday === 4);
    // The edit lands between the run's read of the meetings and its claim of Thursday's occurrence.
    const claim = a.store.timetable.claimOccurrence.bind(a.store.timetable);
    a.store.timetable.claimOccurrence = async (orgId, key, ...rest) => {
      if (key.meetingId === thursday!.id)
        await a.store.timetable.updateMeeting(orgId, thursday!.id, { startTime: '11:00', endTime: '12:00' });
      return claim(orgId, key, ...rest);
    };
    expect(await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).to.deep.equal({
      created: 1,
      waiting: 0,
      failed: 0,
      doubleBooked: 0,
    });
    expect((await sessionsOf(a.store)).map((s) => s.startsAt.toISOString())).to.deep.equal(['2026-03-29T08:00:00.000Z']);

    a.store.timetable.claimOccurrence = claim;
    expect((await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).created).to.equal(1);
    expect((await sessionsOf(a.store)).map((s) => [s.startsAt.toISOString(), s.closesAt.toISOString()])).to.deep.equal([
      ['2026-03-26T11:00:00.000Z', '2026-03-26T12:00:00.000Z'],
      ['2026-03-29T08:00:00.000Z', '2026-03-29T09:00:00.000Z'],
    ]);
  });

  it('runs on one node per interval through the job lease', async () => {
    const runs: string[] = [];
    const job = (n: Node, owner: string) =>
      new ScheduledJob(n.store, n.deps.logger, clock.now, { name: TIMETABLE_JOB, owner, intervalMs: HOUR }, async (now) => {
        runs.push(owner);
        await createTimetableSessions(n.deps, n.sessions, now, 7);
      });
    expect(await Promise.all([job(a, 'a').tick(), job(b, 'b').tick()])).to.deep.equal([true, false]);
    expect(runs).to.deep.equal(['a']);
    expect(await sessionsOf(a.store)).to.have.length(2);
  });

  it('creates nothing on a holiday or a called-off meeting', async () => {
    const admin: Actor = { id: 'admin', orgId: org.id, role: 'admin' };
    await a.timetable.createHoliday(admin, { name: 'Closure', startDay: '2026-03-26', endDay: '2026-03-26' });
    const [sunday] = (await a.timetable.meetings(actor(teacher), subject.id)).filter((m) => m.weekday === 7);
    await a.timetable.cancelOccurrence(actor(teacher), sunday!.id, '2026-03-29');
    expect(await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).to.deep.equal({
      created: 0,
      waiting: 0,
      failed: 0,
      doubleBooked: 0,
    });
    expect(await sessionsOf(a.store)).to.deep.equal([]);
    const upcoming = await a.timetable.upcoming(actor(teacher), subject.id, 7);
    expect(upcoming.map((u) => [u.day, u.state])).to.deep.equal([['2026-03-29', 'cancelled']]);
  });

  it("creates nothing for an archived subject's meetings, nor on a tap, and creates again once it is unarchived", async () => {
    await a.store.subjects.update(org.id, subject.id, { archivedAt: clock.now() });
    expect(await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).to.deep.equal({
      created: 0,
      waiting: 0,
      failed: 0,
      doubleBooked: 0,
    });
    const [thursday] = (await a.timetable.meetings(actor(teacher), subject.id)).filter((m) => m.weekday === 4);
    await expectCode(a.timetable.start(actor(teacher), thursday!.id, '2026-03-26'), 'SUBJECT_ARCHIVED');
    expect(await sessionsOf(a.store)).to.deep.equal([]);
    await a.store.subjects.update(org.id, subject.id, { archivedAt: null });
    expect((await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).created).to.equal(2);
  });

  it('calling off a meeting whose session exists cancels that session', async () => {
    await createTimetableSessions(a.deps, a.sessions, clock.now(), 7);
    const [thursday] = await a.timetable.meetings(actor(teacher), subject.id);
    const slot = await a.timetable.cancelOccurrence(actor(teacher), thursday!.id, '2026-03-26');
    const session = await a.store.sessions.get(org.id, slot.sessionId!);
    expect(session?.status).to.equal('cancelled');
  });

  it("leaves a 'tap' teacher's meetings for one tap, which creates the session once", async () => {
    await a.timetable.updateSettings(actor(teacher), { timetableOpen: 'tap' });
    expect(await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).to.deep.equal({
      created: 0,
      waiting: 2,
      failed: 0,
      doubleBooked: 0,
    });
    expect(await sessionsOf(a.store)).to.deep.equal([]);
    const [thursday] = await a.timetable.meetings(actor(teacher), subject.id);
    const first = await a.timetable.start(actor(teacher), thursday!.id, '2026-03-26');
    const again = await b.timetable.start(actor(teacher), thursday!.id, '2026-03-26');
    expect(again.id).to.equal(first.id);
    expect(first.startsAt).to.equal('2026-03-26T09:00:00.000Z');
    expect(await sessionsOf(a.store)).to.have.length(1);
    await expectCode(a.timetable.start(actor(teacher), thursday!.id, '2026-03-27'), 'NOT_FOUND');
  });

  it("takes over a dead run's claim once it is stale, and only then", async () => {
    const [thursday] = await a.timetable.meetings(actor(teacher), subject.id);
    const key = { meetingId: thursday!.id, day: '2026-03-26', subjectId: subject.id };
    expect(await a.store.timetable.claimOccurrence(org.id, key, clock.now(), new Date(T0 - CLAIM_STALE_MS))).to.equal(true);
    expect((await createTimetableSessions(b.deps, b.sessions, clock.now(), 7)).created).to.equal(1);
    clock.advance(CLAIM_STALE_MS + 1);
    expect((await createTimetableSessions(b.deps, b.sessions, clock.now(), 7)).created).to.equal(1);
    expect(await sessionsOf(a.store)).to.have.length(2);
  });

  for (const [how, patch] of [
    ['made a student', { role: 'student', studentNumber: 'S1' }],
    ['deactivated', { active: false }],
  ] as const) {
    it(`creates no session in the name of a teacher ${how}, and the co-teacher's once they teach the subject`, async () => {
      await a.store.users.update(org.id, teacher.id, patch);
      expect((await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).created).to.equal(0);
      expect(await sessionsOf(a.store)).to.deep.equal([]);

      const colleague = await a.store.users.create(org.id, {
        email: 'c@test',
        name: 'Colleague',
        role: 'teacher',
        studentNumber: null,
        passwordHash: null,
        active: true,
      });
      await a.store.subjects.update(org.id, subject.id, { teacherIds: [teacher.id, colleague.id] });
      expect((await createTimetableSessions(a.deps, a.sessions, clock.now(), 7)).created).to.equal(2);
      expect((await sessionsOf(a.store)).map((s) => s.teacherId)).to.deep.equal([colleague.id, colleague.id]);
    });
  }
});
