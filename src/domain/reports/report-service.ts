import { emptyCounts, summaryCounts, type SummaryCounts } from '../../shared/counts.js';
import { SESSION_STATES, type SessionState } from '../../shared/events.js';
import type { AuditFilter } from '../ports/audit.js';
import type { Page, RecordStatus } from '../ports/common.js';
import type { StudentSubjectTally, SubjectTotals } from '../ports/reports.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';
import type { User } from '../ports/users.js';
import { normaliseSettings } from '../ports/organisations.js';
import type { Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { issue } from '../../shared/validation-issues.js';
import { dayIn, instantAt } from '../calendar.js';
import { assertStaffOf, loadSessionForStaff } from '../sessions/access.js';
import { nameAuditEntries, type NamedAuditEntry } from './audit-names.js';
import { addDays, monthOf, trendBuckets, weekStart, type BucketSize, type TrendBucket } from './buckets.js';

export { DEFAULT_RISK_THRESHOLD } from '../ports/organisations.js';
/** Longest day range of a trend (a daily trend answers one bucket per day). */
export const MAX_TREND_DAYS = 400;
/** Longest range of the organisation's monthly summary. */
export const MAX_MONTHS = 24;
/** Most audit entries one CSV answers. */
export const MAX_AUDIT_EXPORT = 10_000;

const ALL_DAYS = { from: '0000-01-01', to: '9999-12-31' };
/** Subjects read per store call while listing an organisation's. */
const SUBJECT_PAGE = 1_000;

export interface DayRange {
  from?: string | undefined;
  to?: string | undefined;
}

/** Counts as the one definition in src/shared/counts.ts has them, plus the last check-in. */
export interface AttendanceFigures extends SummaryCounts {
  lastSeenAt: Date | null;
}

export interface StudentSubjectReport extends AttendanceFigures {
  subjectId: string;
  subjectCode: string;
  subjectName: string;
}

export interface SubjectStudentReport extends AttendanceFigures {
  studentId: string;
  name: string;
  studentNumber: string | null;
  /** False for a student with records who has since been unenrolled. */
  enrolled: boolean;
}

export interface SubjectRisk extends SummaryCounts {
  subjectId: string;
  subjectCode: string;
  subjectName: string;
}

export interface Dashboard {
  today: string;
  sessionsToday: Record<SessionState, number> & { total: number };
  live: { openSessions: number; checkins: Record<RecordStatus, number> };
  thisWeek: SummaryCounts & { from: string; to: string };
  lastWeek: SummaryCounts & { from: string; to: string };
}

/** One selector (entity, session or actor) or none (the organisation's), narrowed by actions and by days of the organisation's zone. */
export type AuditQuery = Pick<AuditFilter, 'entityType' | 'entityId' | 'sessionId' | 'actorId' | 'actions'> & {
  /** First day (YYYY-MM-DD, the organisation's zone) whose entries count. */
  fromDay?: string;
  /** Last day counted, inclusive. */
  toDay?: string;
};

export interface ReportDeps {
  store: Store;
  now: () => Date;
  defaultTimezone: string;
}

function figures(t: StudentSubjectTally | undefined): AttendanceFigures {
  const c = emptyCounts();
  if (t) {
    for (const [status, n] of Object.entries(t.byStatus) as [RecordStatus, number][]) {
      c[status] += n;
      c.total += n;
    }
  }
  return { ...summaryCounts(c), lastSeenAt: t?.lastSeenAt ?? null };
}

function totalsCounts(t: Omit<SubjectTotals, 'subjectId'>): SummaryCounts {
  // Summaries already folded pending, rejected and not-yet into absent.
  return summaryCounts({ ...emptyCounts(), present: t.present, late: t.late, absent: t.absent, excused: t.excused, total: t.total });
}

/** Under the threshold, among those who were expected at least once. */
function atRisk(c: SummaryCounts, threshold: number): boolean {
  return c.total - c.excused > 0 && c.percentage < threshold;
}

export function assertReportRange(from: string, to: string): void {
  if (from > to)
    throw new AppError('VALIDATION_FAILED', '`from` must not be after `to`.', { issues: [issue('to', 'before `from`', 'endBeforeStart')] });
}

/** A trend's range: both ends are days of it, so from = to is one day. */
export function assertTrendRange(from: string, to: string): void {
  assertReportRange(from, to);
  if (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`) >= MAX_TREND_DAYS * 86_400_000) {
    throw new AppError('VALIDATION_FAILED', `A trend covers at most ${MAX_TREND_DAYS} days.`, {
      issues: [issue('to', `at most ${MAX_TREND_DAYS} days`, 'rangeTooLong', { maximum: MAX_TREND_DAYS })],
    });
  }
}

/**
 * The reporting API's read side: per-student figures, trends, at-risk lists, the
 * organisation's dashboard and the audit trail. Percentages follow src/shared/counts.ts and
 * count settled (closing or closed) sessions only, as the daily summaries do.
 */
export class ReportService {
  constructor(private readonly deps: ReportDeps) {}

  /** A student's figures per subject: their own, or for staff (teachers see their subjects). */
  async studentSubjects(actor: Actor, studentId: string, range: DayRange): Promise<StudentSubjectReport[]> {
    const { store } = this.deps;
    if (actor.role === 'student' && actor.id !== studentId) throw new AppError('FORBIDDEN', 'Students see only their own figures.');
    const student = await store.users.get(actor.orgId, studentId);
    if (!student || student.role !== 'student') throw new AppError('NOT_FOUND', 'No such student.');
    if (range.from && range.to) assertReportRange(range.from, range.to);
    const tallies = await store.reports.studentTallies(actor.orgId, { studentId, fromDay: range.from, toDay: range.to });
    const subjects = new Map<string, Subject>();
    for (const s of (await store.subjects.list(actor.orgId, { studentId, limit: SUBJECT_PAGE, offset: 0 })).items) subjects.set(s.id, s);
    for (const t of tallies) {
      if (subjects.has(t.subjectId)) continue;
      const s = await store.subjects.get(actor.orgId, t.subjectId);
      // Records of a deleted subject have nothing left to report under.
      if (s) subjects.set(s.id, s);
    }
    let visible = [...subjects.values()];
    if (actor.role === 'teacher') {
      visible = visible.filter((s) => s.teacherIds.includes(actor.id));
      if (visible.length === 0) throw new AppError('NOT_SUBJECT_TEACHER', 'You teach this student in no subject.');
    }
    const bySubject = new Map(tallies.map((t) => [t.subjectId, t]));
    return visible
      .map((s) => ({ subjectId: s.id, subjectCode: s.code, subjectName: s.name, ...figures(bySubject.get(s.id)) }))
      .sort((a, b) => a.subjectCode.localeCompare(b.subjectCode));
  }

  /** Every student of a subject (enrolled, or with records) with their figures, by name. */
  async subjectStudents(actor: Actor, subjectId: string, range: DayRange): Promise<SubjectStudentReport[]> {
    const { store } = this.deps;
    await this.staffSubject(actor, subjectId);
    if (range.from && range.to) assertReportRange(range.from, range.to);
    const [enrolled, tallies] = await Promise.all([
      store.subjects.listEnrolled(actor.orgId, subjectId),
      store.reports.studentTallies(actor.orgId, { subjectId, fromDay: range.from, toDay: range.to }),
    ]);
    const byStudent = new Map(tallies.map((t) => [t.studentId, t]));
    const enrolledSet = new Set(enrolled);
    const ids = [...new Set([...enrolled, ...byStudent.keys()])];
    const users = new Map<string, User>((await store.users.getMany(actor.orgId, ids)).map((u) => [u.id, u]));
    return ids
      .map((id) => {
        const u = users.get(id);
        return {
          studentId: id,
          name: u?.name ?? '',
          studentNumber: u?.studentNumber ?? null,
          enrolled: enrolledSet.has(id),
          ...figures(byStudent.get(id)),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name) || a.studentId.localeCompare(b.studentId));
  }

  /** A subject's attendance per day or per week (Monday to Sunday) over a day range. */
  async subjectTrend(actor: Actor, subjectId: string, from: string, to: string, bucket: BucketSize): Promise<TrendBucket[]> {
    await this.staffSubject(actor, subjectId);
    assertTrendRange(from, to);
    return trendBuckets(await this.deps.store.summaries.list(actor.orgId, subjectId, from, to), bucket);
  }

  /** The threshold a caller asked for, else their organisation's (settings.riskThreshold). */
  async riskThreshold(actor: Actor, requested: number | undefined): Promise<number> {
    if (requested !== undefined) return requested;
    return normaliseSettings((await this.deps.store.organisations.get(actor.orgId))?.settings).riskThreshold;
  }

  /** Subjects under the threshold: the organisation's for admins, their own for teachers; lowest first. */
  async riskSubjects(actor: Actor, threshold: number, range: DayRange): Promise<SubjectRisk[]> {
    const { store } = this.deps;
    if (actor.role === 'student') throw new AppError('FORBIDDEN');
    const from = range.from ?? ALL_DAYS.from;
    const to = range.to ?? ALL_DAYS.to;
    assertReportRange(from, to);
    const subjects = await this.subjectsOf(actor);
    const ids = actor.role === 'admin' ? undefined : [...subjects.keys()];
    const totals = await store.reports.subjectTotals(actor.orgId, from, to, ids);
    const items: SubjectRisk[] = [];
    for (const t of totals) {
      const s = subjects.get(t.subjectId);
      const c = totalsCounts(t);
      if (s && atRisk(c, threshold)) items.push({ subjectId: s.id, subjectCode: s.code, subjectName: s.name, ...c });
    }
    return items.sort((a, b) => a.percentage - b.percentage || a.subjectCode.localeCompare(b.subjectCode));
  }

  /** Students of a subject under the threshold, lowest first. */
  async riskStudents(actor: Actor, subjectId: string, threshold: number, range: DayRange): Promise<SubjectStudentReport[]> {
    const all = await this.subjectStudents(actor, subjectId, range);
    return all.filter((s) => atRisk(s, threshold)).sort((a, b) => a.percentage - b.percentage || a.name.localeCompare(b.name));
  }

  /** Today's sessions, live check-ins and this week's attendance against last week's. */
  async dashboard(actor: Actor): Promise<Dashboard> {
    const { store } = this.deps;
    if (actor.role !== 'admin') throw new AppError('FORBIDDEN');
    const org = await store.organisations.get(actor.orgId);
    const today = dayIn(org?.timezone ?? this.deps.defaultTimezone, this.deps.now());
    const sessionsToday = Object.fromEntries([...SESSION_STATES.map((s) => [s, 0]), ['total', 0]]) as Dashboard['sessionsToday'];
    for (let offset = 0; ; offset += SUBJECT_PAGE) {
      const page = await store.sessions.list(actor.orgId, { fromDay: today, toDay: today, limit: SUBJECT_PAGE, offset });
      for (const s of page.items) {
        sessionsToday[s.status] += 1;
        sessionsToday.total += 1;
      }
      if (offset + SUBJECT_PAGE >= page.total) break;
    }
    const openIds: string[] = [];
    for (let offset = 0; ; offset += SUBJECT_PAGE) {
      const page = await store.sessions.list(actor.orgId, { status: ['open'], limit: SUBJECT_PAGE, offset });
      openIds.push(...page.items.map((s) => s.id));
      if (offset + SUBJECT_PAGE >= page.total) break;
    }
    const monday = weekStart(today);
    const week = (from: string, to: string) => this.organisationTotals(actor.orgId, from, to);
    return {
      today,
      sessionsToday,
      live: { openSessions: openIds.length, checkins: await store.reports.recordStatusCounts(actor.orgId, openIds) },
      thisWeek: await week(monday, today),
      lastWeek: await week(addDays(monday, -7), addDays(monday, -1)),
    };
  }

  /** The organisation's attendance per calendar month of the range, every subject together (admins). */
  async organisationMonths(actor: Actor, from: string, to: string): Promise<Array<SummaryCounts & { from: string; to: string }>> {
    if (actor.role !== 'admin') throw new AppError('FORBIDDEN');
    assertReportRange(from, to);
    const months: { from: string; to: string }[] = [];
    for (let m = monthOf(from); m.from <= to; m = monthOf(addDays(m.to, 1))) {
      if (months.length === MAX_MONTHS) throw new AppError('VALIDATION_FAILED', `A monthly summary covers at most ${MAX_MONTHS} months.`);
      months.push(m);
    }
    return Promise.all(months.map((m) => this.organisationTotals(actor.orgId, m.from, m.to)));
  }

  // Every subject's daily summaries of the range added up.
  private async organisationTotals(orgId: string, from: string, to: string): Promise<SummaryCounts & { from: string; to: string }> {
    const sum = { present: 0, late: 0, absent: 0, excused: 0, total: 0 };
    for (const t of await this.deps.store.reports.subjectTotals(orgId, from, to)) {
      sum.present += t.present;
      sum.late += t.late;
      sum.absent += t.absent;
      sum.excused += t.excused;
      sum.total += t.total;
    }
    return { from, to, ...totalsCounts(sum) };
  }

  /**
   * Audit entries of one record, session, subject or user, made by one user, or (no selector)
   * the organisation's, oldest first, narrowed to some actions and an inclusive range of the
   * organisation's days. Admins read any; teachers those of their subjects' records, sessions
   * and subjects, always through a selector.
   */
  async audit(actor: Actor, q: AuditQuery, page: { limit: number; offset: number }): Promise<Page<NamedAuditEntry>> {
    await this.assertAuditAccess(actor, q);
    const { fromDay, toDay, ...filter } = q;
    if (fromDay !== undefined && toDay !== undefined) assertReportRange(fromDay, toDay);
    // Days begin at the organisation's midnight, whatever offset summer time gives that day.
    const zone = fromDay !== undefined || toDay !== undefined ? await this.timeZone(actor.orgId) : null;
    const { items, total } = await this.deps.store.reports.audit(actor.orgId, {
      ...filter,
      ...(zone !== null && fromDay !== undefined ? { from: instantAt(zone, fromDay, '00:00') } : {}),
      ...(zone !== null && toDay !== undefined ? { before: instantAt(zone, addDays(toDay, 1), '00:00') } : {}),
      ...page,
    });
    const named = await nameAuditEntries(this.deps.store, actor.orgId, items);
    // Actors' addresses are the admins' to read (docs/privacy.md): a teacher's trail of their
    // subject would hand them those of the admins and colleagues who acted on it.
    return { items: actor.role === 'admin' ? named : named.map((e) => ({ ...e, ip: null })), total };
  }

  /** The organisation's time zone, for exports. */
  async timeZone(orgId: string): Promise<string> {
    return (await this.deps.store.organisations.get(orgId))?.timezone ?? this.deps.defaultTimezone;
  }

  private async assertAuditAccess(actor: Actor, q: AuditQuery): Promise<void> {
    const { store } = this.deps;
    if (actor.role === 'admin') return;
    if (actor.role !== 'teacher') throw new AppError('FORBIDDEN');
    if (q.sessionId !== undefined) {
      await loadSessionForStaff(store, actor, q.sessionId);
      return;
    }
    if (q.entityId !== undefined && q.entityType === 'session') {
      await loadSessionForStaff(store, actor, q.entityId);
      return;
    }
    if (q.entityId !== undefined && q.entityType === 'subject') {
      await this.staffSubject(actor, q.entityId);
      return;
    }
    if (q.entityId !== undefined && q.entityType === 'record') {
      const record = await store.records.get(actor.orgId, q.entityId);
      if (!record) throw new AppError('RECORD_NOT_FOUND');
      await loadSessionForStaff(store, actor, record.sessionId);
      return;
    }
    throw new AppError(
      'FORBIDDEN',
      "Only admins read the organisation's whole audit trail and that of users, of the organisation's settings, of excuses and of one user's actions.",
    );
  }

  private async subjectsOf(actor: Actor): Promise<Map<string, Subject>> {
    const subjects = new Map<string, Subject>();
    for (let offset = 0; ; offset += SUBJECT_PAGE) {
      const filter = { limit: SUBJECT_PAGE, offset, ...(actor.role === 'teacher' ? { teacherId: actor.id } : {}) };
      const page = await this.deps.store.subjects.list(actor.orgId, filter);
      for (const s of page.items) subjects.set(s.id, s);
      if (offset + SUBJECT_PAGE >= page.total) break;
    }
    return subjects;
  }

  private async staffSubject(actor: Actor, subjectId: string): Promise<Subject> {
    const subject = await this.deps.store.subjects.get(actor.orgId, subjectId);
    if (!subject) throw new AppError('NOT_FOUND', 'No such subject.');
    assertStaffOf(actor, subject);
    return subject;
  }
}
