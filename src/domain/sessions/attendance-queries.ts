import { AppError } from '../../shared/app-error.js';
import { issue } from '../../shared/validation-issues.js';
import { localIso } from '../calendar.js';
import type { Actor } from '../actor.js';
import type { DomainDeps } from '../deps.js';
import { assertStaffOf, loadSessionForStaff } from './access.js';
import { loadRosterEntries } from './roster-entries.js';
import { effectiveStatus, toSessionView } from './views.js';
import { SESSION_STATES, type RosterEntry, type StaffSessionView } from '../../shared/events.js';
import type { Page, RecordStatus, SessionStatus } from '../ports/common.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import type { DailySummary } from '../ports/summaries.js';

export interface HistoryEntry {
  sessionId: string;
  subjectId: string;
  subjectCode: string;
  subjectName: string;
  day: string;
  startsAt: string;
  status: RecordStatus;
  /** The session's own state: a `cancelled` (voided) one counts in no figure, whatever `status` says. */
  sessionStatus: SessionStatus | null;
  reason: string | null;
  submittedAt: string | null;
  decidedAt: string | null;
  note: string | null;
}

/** One row of an attendance export. */
export interface ExportRow {
  day: string;
  sessionId: string;
  startsAt: string;
  subjectCode: string;
  studentNumber: string | null;
  name: string;
  status: RosterEntry['status'];
  reason: string | null;
  flags: string;
  submittedAt: string | null;
  decidedAt: string | null;
  note: string | null;
  correctionReason: string | null;
  absenceCategory: string | null;
}

/** Longest day range one summaries or export request may cover. */
const MAX_RANGE_DAYS = 400;
/** Sessions read per store call while an organisation export collects its sessions. */
const EXPORT_PAGE = 500;

/** Read side of attendance for the HTTP API: history, records, summaries and exports. */
export class AttendanceQueries {
  constructor(private readonly deps: DomainDeps) {}

  async sessionsOfSubject(
    actor: Actor,
    subjectId: string,
    q: { status?: SessionStatus[] | undefined; from?: string | undefined; to?: string | undefined; limit: number; offset: number },
  ): Promise<Page<StaffSessionView>> {
    const subject = await this.staffSubject(actor, subjectId);
    const page = await this.deps.store.sessions.list(actor.orgId, {
      subjectId,
      limit: q.limit,
      offset: q.offset,
      ...(q.status ? { status: q.status } : {}),
      ...(q.from ? { fromDay: q.from } : {}),
      ...(q.to ? { toDay: q.to } : {}),
    });
    const now = this.deps.now();
    return { items: page.items.map((s) => toSessionView(s, subject, now)), total: page.total };
  }

  async sessionRecords(actor: Actor, sessionId: string): Promise<{ session: StaffSessionView; entries: RosterEntry[] }> {
    const { session, subject } = await loadSessionForStaff(this.deps.store, actor, sessionId);
    return {
      session: toSessionView(session, subject, this.deps.now()),
      entries: await loadRosterEntries(this.deps.store, session, session.status !== 'closed'),
    };
  }

  /** A student's own attendance, newest session first (the store orders by session start). */
  async myHistory(actor: Actor, page: { limit: number; offset: number }): Promise<Page<HistoryEntry>> {
    if (actor.role !== 'student') throw new AppError('FORBIDDEN', 'Only students have an attendance history.');
    const { store } = this.deps;
    const records = await store.records.listByStudent(actor.orgId, actor.id, page);
    const sessions = new Map<string, AttendanceSession>();
    const subjects = new Map<string, Subject>();
    for (const r of records.items) {
      if (!sessions.has(r.sessionId)) {
        const s = await store.sessions.get(actor.orgId, r.sessionId);
        if (s) sessions.set(s.id, s);
      }
      if (!subjects.has(r.subjectId)) {
        const s = await store.subjects.get(actor.orgId, r.subjectId);
        if (s) subjects.set(s.id, s);
      }
    }
    const now = this.deps.now();
    const items = records.items.map((r): HistoryEntry => {
      const session = sessions.get(r.sessionId);
      const subject = subjects.get(r.subjectId);
      return {
        sessionId: r.sessionId,
        subjectId: r.subjectId,
        subjectCode: subject?.code ?? '',
        subjectName: subject?.name ?? '',
        day: session?.day ?? '',
        startsAt: session?.startsAt.toISOString() ?? '',
        status: r.status,
        sessionStatus: session ? effectiveStatus(session, now) : null,
        reason: r.reason,
        submittedAt: r.submittedAt?.toISOString() ?? null,
        decidedAt: r.decidedAt?.toISOString() ?? null,
        note: r.note,
      };
    });
    return { items, total: records.total };
  }

  async summaries(actor: Actor, subjectId: string, from: string, to: string): Promise<DailySummary[]> {
    await this.staffSubject(actor, subjectId);
    assertExportRange(from, to);
    return this.deps.store.summaries.list(actor.orgId, subjectId, from, to);
  }

  /** Times in the organisation's time zone (ISO 8601 with its offset). */
  async exportSession(actor: Actor, sessionId: string): Promise<ExportRow[]> {
    const { session, subject } = await loadSessionForStaff(this.deps.store, actor, sessionId);
    const zone = await this.timeZone(actor.orgId);
    return (await loadRosterEntries(this.deps.store, session, session.status !== 'closed')).map((e) => toRow(session, subject, e, zone));
  }

  /** Every record of the subject's sessions whose day lies in [from, to], oldest first. */
  async exportSubject(actor: Actor, subjectId: string, from: string, to: string): Promise<ExportRow[]> {
    const subject = await this.staffSubject(actor, subjectId);
    assertExportRange(from, to);
    // A cancelled session was voided: it is in no export of the subject, as in no summary.
    const status = SESSION_STATES.filter((s) => s !== 'cancelled');
    const page = await this.deps.store.sessions.list(actor.orgId, {
      subjectId,
      status,
      fromDay: from,
      toDay: to,
      limit: 10_000,
      offset: 0,
    });
    const zone = await this.timeZone(actor.orgId);
    const rows: ExportRow[] = [];
    for (const session of [...page.items].reverse()) {
      for (const e of await loadRosterEntries(this.deps.store, session, session.status !== 'closed'))
        rows.push(toRow(session, subject, e, zone));
    }
    return rows;
  }

  /**
   * Every record of the organisation's sessions whose day lies in [from, to], oldest first, a
   * session at a time: a school year is over a million rows, so it is streamed, never held.
   * The range and the caller are checked before the first row, so a refusal is a coded error.
   */
  async exportOrganisation(actor: Actor, from: string, to: string): Promise<AsyncIterable<ExportRow[]>> {
    if (actor.role !== 'admin') throw new AppError('FORBIDDEN', 'Only an administrator exports the whole organisation.');
    assertExportRange(from, to);
    const { store } = this.deps;
    const status = SESSION_STATES.filter((s) => s !== 'cancelled');
    const sessions: AttendanceSession[] = [];
    for (let offset = 0; ; offset += EXPORT_PAGE) {
      const page = await store.sessions.list(actor.orgId, { status, fromDay: from, toDay: to, limit: EXPORT_PAGE, offset });
      sessions.push(...page.items);
      if (page.items.length < EXPORT_PAGE) break;
    }
    sessions.reverse();
    const zone = await this.timeZone(actor.orgId);
    const subjects = new Map<string, Subject | null>();
    return (async function* rows() {
      for (const session of sessions) {
        if (!subjects.has(session.subjectId)) subjects.set(session.subjectId, await store.subjects.get(actor.orgId, session.subjectId));
        const subject = subjects.get(session.subjectId);
        if (!subject) continue;
        const entries = await loadRosterEntries(store, session, session.status !== 'closed');
        yield entries.map((e) => toRow(session, subject, e, zone));
      }
    })();
  }

  private async timeZone(orgId: string): Promise<string> {
    return (await this.deps.store.organisations.get(orgId))?.timezone ?? this.deps.settings.defaultTimezone;
  }

  private async staffSubject(actor: Actor, subjectId: string): Promise<Subject> {
    const subject = await this.deps.store.subjects.get(actor.orgId, subjectId);
    if (!subject) throw new AppError('NOT_FOUND', 'No such subject.');
    assertStaffOf(actor, subject);
    return subject;
  }
}

/** The day range of a summaries or export request: in order, at most MAX_RANGE_DAYS days. */
export function assertExportRange(from: string, to: string): void {
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
  if (!(days >= 0)) {
    throw new AppError('VALIDATION_FAILED', '`from` must not be after `to`.', { issues: [issue('to', 'before `from`', 'endBeforeStart')] });
  }
  // Both ends are days of the range: from = to is one day.
  if (days + 1 > MAX_RANGE_DAYS) {
    throw new AppError('VALIDATION_FAILED', `A range covers at most ${MAX_RANGE_DAYS} days.`, {
      issues: [issue('to', `at most ${MAX_RANGE_DAYS} days`, 'rangeTooLong', { maximum: MAX_RANGE_DAYS })],
    });
  }
}

function toRow(session: AttendanceSession, subject: Subject, e: RosterEntry, zone: string): ExportRow {
  const local = (iso: string | null) => (iso === null ? null : localIso(zone, new Date(iso)));
  return {
    day: session.day,
    sessionId: session.id,
    startsAt: localIso(zone, session.startsAt),
    subjectCode: subject.code,
    studentNumber: e.studentNumber,
    name: e.name,
    status: e.status,
    reason: e.reason,
    flags: e.flags.join(' '),
    submittedAt: local(e.submittedAt),
    decidedAt: local(e.decidedAt),
    note: e.note,
    correctionReason: e.correctionReason,
    absenceCategory: e.absenceCategory,
  };
}
