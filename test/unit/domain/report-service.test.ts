import { expect } from 'chai';
import { AppError } from '../../../src/shared/app-error.js';
import type { Actor } from '../../../src/domain/actor.js';
import { monthOf, trendBuckets, weekStart } from '../../../src/domain/reports/buckets.js';
import { ReportService } from '../../../src/domain/reports/report-service.js';
import { recomputeDailySummary } from '../../../src/domain/summaries/summary-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { RecordStatus } from '../../../src/domain/ports/common.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { AttendanceSession } from '../../../src/domain/ports/sessions.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { DailySummary } from '../../../src/domain/ports/summaries.js';
import type { User } from '../../../src/domain/ports/users.js';
import { createSubject, createUser } from '../../support/fixtures.js';

const actor = (u: User): Actor => ({ id: u.id, orgId: u.orgId, role: u.role });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return (err as AppError).code;
  }
  return expect.fail('expected a coded error');
}

describe('reports: trend buckets', () => {
  const s = (day: string, present: number, late: number, absent: number, excused: number): DailySummary => ({
    orgId: 'o',
    subjectId: 'x',
    day,
    present,
    late,
    absent,
    excused,
    total: present + late + absent + excused,
    percentage: 0,
    updatedAt: new Date(0),
  });

  it('folds days into calendar months, across a year and a leap February', () => {
    const days = [s('2024-02-05', 3, 0, 1, 0), s('2024-02-29', 1, 0, 0, 0), s('2024-03-01', 0, 0, 2, 0), s('2025-01-31', 2, 2, 0, 0)];
    expect(trendBuckets(days, 'month').map((b) => [b.from, b.to, b.days, b.percentage])).to.deep.equal([
      ['2024-02-01', '2024-02-29', 2, 80],
      ['2024-03-01', '2024-03-31', 1, 0],
      ['2025-01-01', '2025-01-31', 1, 100],
    ]);
    expect(monthOf('2026-12-15')).to.deep.equal({ from: '2026-12-01', to: '2026-12-31' });
  });

  it('starts weeks on Monday', () => {
    expect(weekStart('2026-03-02')).to.equal('2026-03-02'); // a Monday
    expect(weekStart('2026-03-08')).to.equal('2026-03-02'); // the Sunday after
    expect(weekStart('2026-03-09')).to.equal('2026-03-09');
    expect(weekStart('2026-01-01')).to.equal('2025-12-29'); // across a year
  });

  it('adds days into weeks and takes the percentage of the sums, not the mean of percentages', () => {
    const days = [s('2026-03-02', 9, 0, 1, 0), s('2026-03-04', 1, 0, 9, 0), s('2026-03-06', 2, 1, 0, 5), s('2026-03-10', 0, 1, 1, 0)];
    expect(trendBuckets(days, 'week')).to.deep.equal([
      { from: '2026-03-02', to: '2026-03-08', days: 3, present: 12, late: 1, absent: 10, excused: 5, total: 28, percentage: 56.5 },
      { from: '2026-03-09', to: '2026-03-15', days: 1, present: 0, late: 1, absent: 1, excused: 0, total: 2, percentage: 50 },
    ]);
    expect(trendBuckets(days, 'day').map((b) => [b.from, b.to, b.percentage])).to.deep.equal([
      ['2026-03-02', '2026-03-02', 90],
      ['2026-03-04', '2026-03-04', 10],
      ['2026-03-06', '2026-03-06', 100],
      ['2026-03-10', '2026-03-10', 50],
    ]);
  });
});

describe('reports: service', () => {
  let store: Store;
  let org: Organisation;
  let teacher: User;
  let otherTeacher: User;
  let admin: User;
  let alice: User;
  let bob: User;
  let math: Subject;
  let art: Subject;
  let now: Date;
  let reports: ReportService;

  async function session(subject: Subject, day: string, status: AttendanceSession['status'] = 'closed'): Promise<AttendanceSession> {
    const startsAt = new Date(`${day}T09:00:00Z`);
    return store.sessions.create(org.id, {
      subjectId: subject.id,
      teacherId: subject.teacherIds[0]!,
      status,
      policy: { geofence: false, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 2 },
      startsAt,
      lateAfter: new Date(startsAt.getTime() + 600_000),
      closesAt: new Date(startsAt.getTime() + 3_600_000),
      codeSecret: 'c2VjcmV0',
      day,
    });
  }
  async function mark(sess: AttendanceSession, student: User, status: RecordStatus, submittedAt: Date | null = null) {
    await store.records.insertIfAbsent(org.id, {
      sessionId: sess.id,
      subjectId: sess.subjectId,
      studentId: student.id,
      status,
      reason: null,
      flags: [],
      distanceM: null,
      location: null,
      ip: null,
      attempts: 1,
      submittedAt,
      decidedAt: null,
      decidedBy: null,
      note: null,
      verification: null,
    });
  }

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'Pacific/Auckland' });
    teacher = await createUser(store, org.id, 'teacher', { password: null });
    otherTeacher = await createUser(store, org.id, 'teacher', { password: null });
    admin = await createUser(store, org.id, 'admin', { password: null });
    alice = (await store.users.update(org.id, (await createUser(store, org.id, 'student', { password: null })).id, {
      name: 'Alice',
    })) as User;
    bob = (await store.users.update(org.id, (await createUser(store, org.id, 'student', { password: null })).id, { name: 'Bob' })) as User;
    math = await createSubject(store, org.id, [teacher.id], [alice.id, bob.id]);
    art = await createSubject(store, org.id, [otherTeacher.id], [alice.id]);
    now = new Date('2026-03-11T12:00:00Z');
    reports = new ReportService({ store, now: () => now, defaultTimezone: 'UTC' });

    // Math: four settled sessions and one cancelled; alice 2 present, 1 late, 1 excused; bob 1 present, 3 absent.
    const days = ['2026-03-02', '2026-03-03', '2026-03-09', '2026-03-10'];
    const aliceStatus: RecordStatus[] = ['present', 'late', 'excused', 'present'];
    const bobStatus: RecordStatus[] = ['present', 'absent', 'rejected', 'absent'];
    for (const [i, day] of days.entries()) {
      const sess = await session(math, day);
      await mark(sess, alice, aliceStatus[i]!, aliceStatus[i] === 'excused' ? null : new Date(`${day}T09:0${i}:00Z`));
      await mark(sess, bob, bobStatus[i]!, bobStatus[i] === 'present' ? new Date(`${day}T09:05:00Z`) : null);
      await recomputeDailySummary(store, org.id, math.id, day);
    }
    const cancelled = await session(math, '2026-03-04', 'cancelled');
    await mark(cancelled, bob, 'present', new Date('2026-03-04T09:00:00Z'));
    const artSession = await session(art, '2026-03-03');
    await mark(artSession, alice, 'absent');
    await recomputeDailySummary(store, org.id, art.id, '2026-03-03');
  });
  afterEach(() => store.close());

  it("gives a student their own figures per subject, with the counts definition's percentage and the last check-in", async () => {
    const items = await reports.studentSubjects(actor(alice), alice.id, {});
    const bySubject = Object.fromEntries(items.map((i) => [i.subjectId, i]));
    expect(bySubject[math.id]).to.deep.include({ present: 2, late: 1, absent: 0, excused: 1, total: 4, percentage: 100 });
    expect(bySubject[math.id]!.lastSeenAt).to.deep.equal(new Date('2026-03-10T09:03:00Z'));
    expect(bySubject[art.id]).to.deep.include({ present: 0, absent: 1, total: 1, percentage: 0, lastSeenAt: null });
    expect(await code(reports.studentSubjects(actor(bob), alice.id, {}))).to.equal('FORBIDDEN');
  });

  it('shows a teacher only the subjects they teach the student in', async () => {
    expect((await reports.studentSubjects(actor(teacher), alice.id, {})).map((i) => i.subjectId)).to.deep.equal([math.id]);
    expect((await reports.studentSubjects(actor(admin), alice.id, {})).map((i) => i.subjectId)).to.have.members([math.id, art.id]);
    const loner = await createUser(store, org.id, 'teacher', { password: null });
    expect(await code(reports.studentSubjects(actor(loner), alice.id, {}))).to.equal('NOT_SUBJECT_TEACHER');
    expect(await code(reports.studentSubjects(actor(admin), teacher.id, {}))).to.equal('NOT_FOUND');
  });

  it("adds up per student to the subject's daily summaries (cancelled sessions count in neither)", async () => {
    const students = await reports.subjectStudents(actor(teacher), math.id, {});
    expect(students.map((s) => [s.name, s.present, s.late, s.absent, s.excused, s.percentage])).to.deep.equal([
      ['Alice', 2, 1, 0, 1, 100],
      ['Bob', 1, 0, 3, 0, 25],
    ]);
    const [week] = await reports.subjectTrend(actor(teacher), math.id, '2026-03-01', '2026-03-31', 'day').then((d) => [
      d.reduce(
        (a, b) => ({
          present: a.present + b.present,
          late: a.late + b.late,
          absent: a.absent + b.absent,
          excused: a.excused + b.excused,
        }),
        { present: 0, late: 0, absent: 0, excused: 0 },
      ),
    ]);
    expect(week).to.deep.equal({ present: 3, late: 1, absent: 3, excused: 1 });
    const ranged = await reports.subjectStudents(actor(teacher), math.id, { from: '2026-03-09', to: '2026-03-10' });
    expect(ranged.find((s) => s.studentId === bob.id)).to.deep.include({ absent: 2, total: 2, percentage: 0 });
    expect(await code(reports.subjectStudents(actor(otherTeacher), math.id, {}))).to.equal('NOT_SUBJECT_TEACHER');
  });

  it('gives weekly trend buckets from the daily summaries', async () => {
    const weeks = await reports.subjectTrend(actor(teacher), math.id, '2026-03-01', '2026-03-31', 'week');
    expect(weeks.map((w) => [w.from, w.days, w.total, w.percentage])).to.deep.equal([
      ['2026-03-02', 2, 4, 75],
      ['2026-03-09', 2, 4, 33.3],
    ]);
    expect(await code(reports.subjectTrend(actor(teacher), math.id, '2026-03-31', '2026-03-01', 'day'))).to.equal('VALIDATION_FAILED');
  });

  it('sums every subject of the organisation per calendar month, for admins only', async () => {
    const months = await reports.organisationMonths(actor(admin), '2026-02-10', '2026-03-31');
    // March: math's 8 expected (alice 3 of 3 without the excused, bob 1 of 4) and art's 1 absent.
    expect(months).to.deep.equal([
      { from: '2026-02-01', to: '2026-02-28', present: 0, late: 0, absent: 0, excused: 0, total: 0, percentage: 0 },
      { from: '2026-03-01', to: '2026-03-31', present: 3, late: 1, absent: 4, excused: 1, total: 9, percentage: 50 },
    ]);
    expect(await code(reports.organisationMonths(actor(teacher), '2026-03-01', '2026-03-31'))).to.equal('FORBIDDEN');
    expect(await code(reports.organisationMonths(actor(admin), '2024-01-01', '2026-03-31'))).to.equal('VALIDATION_FAILED');
  });

  it('lists students and subjects under the threshold, lowest first', async () => {
    expect((await reports.riskStudents(actor(teacher), math.id, 75, {})).map((s) => s.name)).to.deep.equal(['Bob']);
    expect((await reports.riskStudents(actor(teacher), math.id, 100.1, {})).map((s) => s.name)).to.deep.equal(['Bob', 'Alice']);
    // Math: (3 + 1) / (8 - 1) = 57.1 %; art: 0 %.
    expect((await reports.riskSubjects(actor(admin), 75, {})).map((s) => [s.subjectId, s.percentage])).to.deep.equal([
      [art.id, 0],
      [math.id, 57.1],
    ]);
    expect((await reports.riskSubjects(actor(teacher), 75, {})).map((s) => s.subjectId)).to.deep.equal([math.id]);
    // The range counts only its days: art had no session then, math 1 / (4 - 1) = 33.3 %.
    expect(
      (await reports.riskSubjects(actor(admin), 50, { from: '2026-03-09', to: '2026-03-10' })).map((s) => [s.subjectId, s.percentage]),
    ).to.deep.equal([[math.id, 33.3]]);
    expect(await reports.riskSubjects(actor(admin), 30, { from: '2026-03-09', to: '2026-03-10' })).to.deep.equal([]);
  });

  it("counts the dashboard's days in the organisation's time zone", async () => {
    // 12:00 UTC on 11 March is already 01:00 on 12 March in Auckland.
    await session(math, '2026-03-12', 'open');
    await session(math, '2026-03-11', 'open');
    const live = await session(art, '2026-03-12', 'scheduled');
    await mark(live, alice, 'pending');
    const d = await reports.dashboard(actor(admin));
    expect(d.today).to.equal('2026-03-12');
    expect(d.sessionsToday).to.deep.include({ open: 1, scheduled: 1, total: 2 });
    expect(d.live.openSessions).to.equal(2);
    expect(d.thisWeek).to.deep.include({
      from: '2026-03-09',
      to: '2026-03-12',
      present: 1,
      late: 0,
      absent: 2,
      excused: 1,
      total: 4,
      percentage: 33.3,
    });
    expect(d.lastWeek).to.deep.include({ from: '2026-03-02', to: '2026-03-08', total: 5, percentage: 60 });
    expect(await code(reports.dashboard(actor(teacher)))).to.equal('FORBIDDEN');
  });

  it("lets a teacher read only their subjects' audit trail", async () => {
    const [sess] = (await store.sessions.list(org.id, { subjectId: math.id, limit: 1, offset: 0 })).items;
    await store.audit.append({
      orgId: org.id,
      entityType: 'session',
      entityId: sess!.id,
      sessionId: sess!.id,
      actorId: teacher.id,
      action: 'session.close',
      from: null,
      to: null,
      reason: null,
      ip: null,
      at: now,
    });
    expect((await reports.audit(actor(teacher), { sessionId: sess!.id }, { limit: 10, offset: 0 })).total).to.equal(1);
    expect(await code(reports.audit(actor(otherTeacher), { sessionId: sess!.id }, { limit: 10, offset: 0 }))).to.equal(
      'NOT_SUBJECT_TEACHER',
    );
    expect(await code(reports.audit(actor(teacher), { actorId: teacher.id }, { limit: 10, offset: 0 }))).to.equal('FORBIDDEN');
    expect(await code(reports.audit(actor(teacher), { entityType: 'record', entityId: 'nope' }, { limit: 10, offset: 0 }))).to.equal(
      'RECORD_NOT_FOUND',
    );
    expect((await reports.audit(actor(admin), { actorId: teacher.id }, { limit: 10, offset: 0 })).total).to.equal(1);
  });
});
