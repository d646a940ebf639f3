/**
 * Reporting benchmark (not a test): a school year of a 2,000-student school written straight
 * into a SQLite file through the store's transfer import (batched transactions, no HTTP), then
 * every report query of the reporting API timed through ReportService, printed as a table.
 *
 *   node --import tsx scripts/bench-reports.ts [--students 2000] [--file bench.db] [--runs 7]
 *
 * With --file the database is kept, and reused when it already exists (generation is skipped).
 * Target: every query under 200 ms at the default size (docs/reports.md).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Actor } from '../src/domain/actor.js';
import { addDays } from '../src/domain/reports/buckets.js';
import { MAX_AUDIT_EXPORT, ReportService } from '../src/domain/reports/report-service.js';
import { countStatuses, summaryCounts } from '../src/shared/counts.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditEntry } from '../src/domain/ports/audit.js';
import type { RecordStatus } from '../src/domain/ports/common.js';
import type { AttendanceRecord } from '../src/domain/ports/records.js';
import type { AttendanceSession } from '../src/domain/ports/sessions.js';
import type { Store } from '../src/domain/ports/store.js';
import type { Enrolment, Subject } from '../src/domain/ports/subjects.js';
import type { DailySummary } from '../src/domain/ports/summaries.js';
import type { CollectionEntity, CollectionName } from '../src/domain/ports/transfer.js';
import type { User } from '../src/domain/ports/users.js';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '2000' },
    file: { type: 'string' },
    runs: { type: 'string', default: '7' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: bench-reports.ts [--students N] [--file PATH] [--runs R]\n');
  process.exit(0);
}
const STUDENTS = Number(args.students);
const RUNS = Number(args.runs);
/** Each student takes this many subjects; each subject has about 150 students. */
const SUBJECTS_PER_STUDENT = 6;
const CLASS_SIZE = 150;
const SUBJECT_COUNT = Math.max(1, Math.round((STUDENTS * SUBJECTS_PER_STUDENT) / CLASS_SIZE));
const TEACHERS = Math.max(1, Math.round(SUBJECT_COUNT / 2));
const FIRST_DAY = '2025-09-01'; // a Monday
const WEEKS = 52;
const TIMEZONE = 'Europe/Berlin';
const BATCH = 5_000;

/** A small deterministic generator, so two runs build the same school. */
let seed = 42;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}

const POLICY = { geofence: true, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 2 };

interface School {
  orgId: string;
  admin: User;
  teachers: User[];
  students: User[];
  subjects: Subject[];
  lastDay: string;
}

async function importAll<C extends CollectionName>(store: Store, c: C, items: CollectionEntity[C][]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await store.transfer.import(c, items.slice(i, i + BATCH));
}

async function generate(store: Store): Promise<School> {
  const org = await store.organisations.create({ name: 'Bench School', slug: 'bench', timezone: TIMEZONE });
  const created = new Date(`${FIRST_DAY}T06:00:00Z`);
  const user = (role: User['role'], i: number): User => ({
    id: randomUUID(),
    orgId: org.id,
    email: `${role}${i}@bench.test`,
    name: `${role} ${String(i).padStart(5, '0')}`,
    role,
    studentNumber: role === 'student' ? `S${String(i).padStart(6, '0')}` : null,
    passwordHash: null,
    active: true,
    mustChangePassword: false,
    createdAt: created,
    updatedAt: created,
  });
  const admin = user('admin', 0);
  const teachers = Array.from({ length: TEACHERS }, (_, i) => user('teacher', i));
  const students = Array.from({ length: STUDENTS }, (_, i) => user('student', i));
  await importAll(store, 'users', [admin, ...teachers, ...students]);

  const subjects: Subject[] = Array.from({ length: SUBJECT_COUNT }, (_, i) => ({
    id: randomUUID(),
    orgId: org.id,
    code: `SUB${String(i).padStart(3, '0')}`,
    name: `Subject ${i}`,
    teacherIds: [teachers[i % TEACHERS]!.id],
    location: { lat: 52.5, lon: 13.4, radiusM: 100 },
    allowedIpRanges: [],
    archivedAt: null,
    createdAt: created,
    updatedAt: created,
  }));
  await importAll(store, 'subjects', subjects);
  // Student s takes subjects s*6 .. s*6+5 (mod the count): every class about the same size.
  const roster = new Map<string, User[]>(subjects.map((s) => [s.id, []]));
  const enrolments: Enrolment[] = [];
  for (const [i, st] of students.entries()) {
    for (let k = 0; k < SUBJECTS_PER_STUDENT; k++) {
      const subject = subjects[(i * SUBJECTS_PER_STUDENT + k) % SUBJECT_COUNT]!;
      roster.get(subject.id)!.push(st);
      enrolments.push({ orgId: org.id, subjectId: subject.id, studentId: st.id, createdAt: created });
    }
  }
  await importAll(store, 'enrolments', enrolments);
  // Each student attends with their own habit: 55 % to 99 % of the time.
  const habit = new Map(students.map((s) => [s.id, 0.55 + random() * 0.44]));

  const days: string[] = [];
  for (let w = 0; w < WEEKS; w++) for (let d = 0; d < 5; d++) days.push(addDays(FIRST_DAY, w * 7 + d));
  const lastDay = days[days.length - 1]!;

  let sessions: AttendanceSession[] = [];
  let records: AttendanceRecord[] = [];
  let summaries: DailySummary[] = [];
  let audit: AuditEntry[] = [];
  let total = 0;
  const flush = async (force = false) => {
    if (!force && records.length < 50_000) return;
    await importAll(store, 'sessions', sessions);
    await importAll(store, 'records', records);
    await importAll(store, 'summaries', summaries);
    await importAll(store, 'audit', audit);
    total += records.length;
    process.stderr.write(`\r  ${total} records`);
    sessions = [];
    records = [];
    summaries = [];
    audit = [];
  };
  for (const [di, day] of days.entries()) {
    const live = day === lastDay;
    for (const [si, subject] of subjects.entries()) {
      // About two and a half sessions a week per subject.
      if ((di + si) % 2 === 1 && (di + si) % 5 !== 0) continue;
      const startsAt = new Date(`${day}T${String(8 + (si % 8)).padStart(2, '0')}:00:00Z`);
      const closesAt = new Date(startsAt.getTime() + 3_600_000);
      const session: AttendanceSession = {
        id: randomUUID(),
        orgId: org.id,
        subjectId: subject.id,
        teacherId: subject.teacherIds[0]!,
        status: live ? 'open' : 'closed',
        policy: POLICY,
        startsAt,
        lateAfter: new Date(startsAt.getTime() + 600_000),
        closesAt,
        codeSecret: 'c2VjcmV0',
        day,
        createdAt: startsAt,
        updatedAt: closesAt,
        closedAt: live ? null : closesAt,
        closedBy: null,
        leaseOwner: null,
        leaseUntil: null,
        rosterVersion: 0,
        room: null,
        meetingId: null,
        meetingEdit: null,
      };
      sessions.push(session);
      const statuses: RecordStatus[] = [];
      for (const st of roster.get(subject.id)!) {
        const r = random();
        const h = habit.get(st.id)!;
        const status: RecordStatus = live
          ? r < h
            ? 'present'
            : 'pending'
          : r < h * 0.92
            ? 'present'
            : r < h
              ? 'late'
              : r < h + 0.03
                ? 'excused'
                : 'absent';
        const submittedAt =
          status === 'present' || status === 'late' || status === 'pending'
            ? new Date(startsAt.getTime() + Math.floor(r * 1_800_000))
            : null;
        const id = randomUUID();
        records.push({
          id,
          orgId: org.id,
          sessionId: session.id,
          subjectId: subject.id,
          studentId: st.id,
          status,
          reason: null,
          flags: status === 'late' ? ['LATE'] : [],
          distanceM: submittedAt ? 12 : null,
          location: null,
          ip: null,
          attempts: submittedAt ? 1 : 0,
          submittedAt,
          decidedAt: submittedAt,
          decidedBy: null,
          note: null,
          verification: null,
          version: 1,
          rosterVersion: 0,
          createdAt: submittedAt ?? closesAt,
          updatedAt: submittedAt ?? closesAt,
        });
        statuses.push(status);
        // One record in a hundred was corrected by the teacher.
        if (!live && r > 0.99) {
          audit.push({
            id: randomUUID(),
            orgId: org.id,
            entityType: 'record',
            entityId: id,
            sessionId: session.id,
            actorId: subject.teacherIds[0]!,
            action: 'record.mark',
            from: { status: 'absent' },
            to: { status },
            reason: 'MARKED_BY_TEACHER',
            ip: null,
            at: closesAt,
          });
        }
      }
      if (!live) {
        audit.push({
          id: randomUUID(),
          orgId: org.id,
          entityType: 'session',
          entityId: session.id,
          sessionId: session.id,
          actorId: null,
          action: 'session.close',
          from: { status: 'open' },
          to: { status: 'closed' },
          reason: null,
          ip: null,
          at: closesAt,
        });
        summaries.push({ orgId: org.id, subjectId: subject.id, day, ...summaryCounts(countStatuses(statuses)), updatedAt: closesAt });
      }
    }
    await flush();
  }
  await flush(true);
  process.stderr.write('\n');
  return { orgId: org.id, admin, teachers, students, subjects, lastDay };
}

async function load(store: Store): Promise<School> {
  const org = await store.organisations.getBySlug('bench');
  if (!org) throw new Error('the file holds no bench organisation; remove it to regenerate');
  const all = await store.users.list(org.id, { limit: 100_000, offset: 0 });
  const subjects = (await store.subjects.list(org.id, { limit: 100_000, offset: 0 })).items;
  const last = (await store.sessions.list(org.id, { limit: 1, offset: 0 })).items[0]!;
  return {
    orgId: org.id,
    admin: all.items.find((u) => u.role === 'admin')!,
    teachers: all.items.filter((u) => u.role === 'teacher'),
    students: all.items.filter((u) => u.role === 'student'),
    subjects,
    lastDay: last.day,
  };
}

/** Wall-clock median and max, and the median CPU time of the process (user + system): the machine may be shared. */
async function time(runs: number, fn: () => Promise<unknown>): Promise<{ median: number; max: number; cpu: number; size: number }> {
  const samples: number[] = [];
  const cpu: number[] = [];
  let size = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const out = await fn();
    samples.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1_000);
    size = Array.isArray(out)
      ? out.length
      : typeof out === 'object' && out && 'items' in out
        ? (out as { items: unknown[] }).items.length
        : 1;
  }
  samples.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const mid = Math.floor(samples.length / 2);
  return { median: samples[mid]!, max: samples[samples.length - 1]!, cpu: cpu[mid]!, size };
}

async function main(): Promise<void> {
  const dir = args.file ? null : mkdtempSync(path.join(tmpdir(), 'bench-reports-'));
  const file = args.file ?? path.join(dir!, 'bench.db');
  const reuse = existsSync(file);
  const store = await createSqliteStore({ path: file });
  try {
    let school: School;
    if (reuse) {
      process.stderr.write(`reusing ${file}\n`);
      school = await load(store);
    } else {
      process.stderr.write(`generating ${STUDENTS} students, ${SUBJECT_COUNT} subjects, ${WEEKS} weeks into ${file}\n`);
      const t = performance.now();
      school = await generate(store);
      process.stderr.write(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    }
    process.stdout.write(
      `records ${await store.transfer.count('records')}, sessions ${await store.transfer.count('sessions')}, ` +
        `summaries ${await store.transfer.count('summaries')}, audit ${await store.transfer.count('audit')}\n\n`,
    );
    const now = new Date(`${school.lastDay}T11:00:00Z`);
    const reports = new ReportService({ store, now: () => now, defaultTimezone: TIMEZONE });
    const as = (u: User): Actor => ({ id: u.id, orgId: u.orgId, role: u.role });
    const subject = school.subjects[Math.floor(school.subjects.length / 2)]!;
    const teacher = school.teachers.find((t) => t.id === subject.teacherIds[0])!;
    const student = school.students[Math.floor(school.students.length / 3)]!;
    const from = addDays(school.lastDay, -364);
    const closedSession = (await store.sessions.list(school.orgId, { subjectId: subject.id, status: ['closed'], limit: 1, offset: 0 }))
      .items[0]!;
    const corrected = (await store.reports.audit(school.orgId, { actorId: teacher.id, limit: 1, offset: 0 })).items[0];
    const orgAudit = (await store.reports.audit(school.orgId, { limit: 1, offset: 0 })).total;

    const cases: [string, () => Promise<unknown>][] = [
      ['(a) student: own figures per subject', () => reports.studentSubjects(as(student), student.id, {})],
      ['(a) teacher: a student, their subjects', () => reports.studentSubjects(as(teacher), student.id, {})],
      ['(a) subject: every student, whole year', () => reports.subjectStudents(as(teacher), subject.id, {})],
      [
        '(a) subject: every student, one month',
        () => reports.subjectStudents(as(teacher), subject.id, { from: addDays(school.lastDay, -30), to: school.lastDay }),
      ],
      ['(b) trend: daily, 365 days', () => reports.subjectTrend(as(teacher), subject.id, from, school.lastDay, 'day')],
      ['(b) trend: weekly, 365 days', () => reports.subjectTrend(as(teacher), subject.id, from, school.lastDay, 'week')],
      ['(c) at-risk subjects: admin, whole year', () => reports.riskSubjects(as(school.admin), 80, {})],
      [
        '(c) at-risk subjects: teacher, one term',
        () => reports.riskSubjects(as(teacher), 80, { from: addDays(school.lastDay, -90), to: school.lastDay }),
      ],
      ['(c) at-risk students of a subject', () => reports.riskStudents(as(teacher), subject.id, 75, {})],
      ['(d) dashboard', () => reports.dashboard(as(school.admin))],
      ['(e) audit: one session', () => reports.audit(as(teacher), { sessionId: closedSession.id }, { limit: 50, offset: 0 })],
      [
        '(e) audit: one record',
        () => reports.audit(as(teacher), { entityType: 'record', entityId: corrected?.entityId ?? 'none' }, { limit: 50, offset: 0 }),
      ],
      ['(e) audit: by user, a deep page', () => reports.audit(as(school.admin), { actorId: teacher.id }, { limit: 50, offset: 200 })],
      // The admin audit page's default: the organisation's newest entries (the last page of the answer).
      [
        '(e) audit: organisation, newest page',
        () => reports.audit(as(school.admin), {}, { limit: 50, offset: Math.max(0, orgAudit - 50) }),
      ],
      [
        '(e) audit: organisation, one action, a week',
        () =>
          reports.audit(
            as(school.admin),
            { actions: ['record.mark'], fromDay: addDays(school.lastDay, -6), toDay: school.lastDay },
            {
              limit: 50,
              offset: 0,
            },
          ),
      ],
      // The audit CSV's largest answer, as stored (ids) and as answered (named, one query per kind): the cost of the names.
      ['(e) audit: CSV-sized page, ids only (store)', () => store.reports.audit(school.orgId, { limit: MAX_AUDIT_EXPORT, offset: 0 })],
      ['(e) audit: CSV-sized page, named', () => reports.audit(as(school.admin), {}, { limit: MAX_AUDIT_EXPORT, offset: 0 })],
    ];
    const rows: string[][] = [];
    for (const [name, fn] of cases) {
      await fn(); // warm the statement cache and the page cache
      const r = await time(RUNS, fn);
      rows.push([name, r.median.toFixed(1), r.max.toFixed(1), r.cpu.toFixed(1), String(r.size), r.median < 200 ? 'ok' : 'SLOW']);
    }
    const header = ['query', 'median ms', 'max ms', 'median CPU ms', 'items', '< 200 ms'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |\n`;
    process.stdout.write(line(header));
    process.stdout.write(`|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|\n`);
    for (const r of rows) process.stdout.write(line(r));
  } finally {
    await store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
