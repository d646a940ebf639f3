import { requireRole, type Actor } from '../actor.js';
import { localIso } from '../calendar.js';
import { AppError } from '../../shared/app-error.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';

/** Columns of the attendance export, in order (docs/oneroster.md describes each). */
export const ATTENDANCE_COLUMNS = [
  'classSourcedId',
  'classCode',
  'sessionId',
  'sessionDate',
  'sessionStart',
  'userSourcedId',
  'studentNumber',
  'status',
  'reason',
  'checkedInAt',
] as const;
export type AttendanceRow = Record<(typeof ATTENDANCE_COLUMNS)[number], string | null>;

export interface AttendanceExportQuery {
  /** Inclusive calendar-day range of the sessions, in the organisation's zone. */
  from: string;
  to: string;
  subjectId?: string | undefined;
}

/** Sessions read per batch: their records are read together. */
const SESSION_BATCH = 50;

/**
 * Attendance results for the school's information system: one row per student per settled
 * (closing or closed) session of the range, with the sourcedIds of the class and the student
 * where a OneRoster import linked them. Oldest session first.
 */
export class OneRosterAttendanceExport {
  constructor(private readonly deps: { store: Store; defaultTimezone: string }) {}

  /** Checks the query and the actor before the first row, so a refusal is a coded answer, not a broken stream. */
  async open(actor: Actor, q: AttendanceExportQuery): Promise<AsyncIterable<AttendanceRow[]>> {
    requireRole(actor, 'admin');
    if (q.from > q.to) throw new AppError('VALIDATION_FAILED', '`from` is after `to`.');
    const { store } = this.deps;
    if (q.subjectId !== undefined && !(await store.subjects.get(actor.orgId, q.subjectId))) throw new AppError('NOT_FOUND');
    const zone = (await store.organisations.get(actor.orgId))?.timezone ?? this.deps.defaultTimezone;
    return this.rows(actor.orgId, zone, q);
  }

  private async *rows(orgId: string, zone: string, q: AttendanceExportQuery): AsyncGenerator<AttendanceRow[]> {
    const { store } = this.deps;
    const sessions = await this.settledSessions(orgId, q);
    const subjects = new Map<string, { subject: Subject | null; sourcedId: string | null }>();
    for (let i = 0; i < sessions.length; i += SESSION_BATCH) {
      const batch = sessions.slice(i, i + SESSION_BATCH);
      const records = await store.records.listBySessions(
        orgId,
        batch.map((s) => s.id),
      );
      const studentIds = [...new Set(records.map((r) => r.studentId))];
      const users = new Map((await store.users.getMany(orgId, studentIds)).map((u) => [u.id, u]));
      const links = new Map((await store.oneroster.getByEntities(orgId, 'user', studentIds)).map((o) => [o.entityId, o.sourcedId]));
      for (const s of batch) {
        if (!subjects.has(s.subjectId)) {
          const [link] = await store.oneroster.getByEntities(orgId, 'class', [s.subjectId]);
          subjects.set(s.subjectId, { subject: await store.subjects.get(orgId, s.subjectId), sourcedId: link?.sourcedId ?? null });
        }
      }
      const byId = new Map(batch.map((s) => [s.id, s]));
      const rows = records
        .map((r) => {
          const s = byId.get(r.sessionId)!;
          const cls = subjects.get(s.subjectId)!;
          return {
            classSourcedId: cls.sourcedId,
            classCode: cls.subject?.code ?? null,
            sessionId: s.id,
            sessionDate: s.day,
            sessionStart: localIso(zone, s.startsAt),
            userSourcedId: links.get(r.studentId) ?? null,
            studentNumber: users.get(r.studentId)?.studentNumber ?? null,
            status: r.status,
            reason: r.reason,
            checkedInAt: r.submittedAt ? localIso(zone, r.submittedAt) : null,
            order: `${s.startsAt.toISOString()} ${s.id} ${users.get(r.studentId)?.studentNumber ?? ''} ${r.studentId}`,
          };
        })
        .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
        .map(({ order: _order, ...row }) => row);
      yield rows;
    }
  }

  /** Oldest first; the store pages newest first. */
  private async settledSessions(orgId: string, q: AttendanceExportQuery): Promise<AttendanceSession[]> {
    const all: AttendanceSession[] = [];
    for (let offset = 0; ; offset += 200) {
      const page = await this.deps.store.sessions.list(orgId, {
        status: ['closing', 'closed'],
        fromDay: q.from,
        toDay: q.to,
        ...(q.subjectId !== undefined ? { subjectId: q.subjectId } : {}),
        limit: 200,
        offset,
      });
      all.push(...page.items);
      if (page.items.length < 200) break;
    }
    return all.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || (a.id < b.id ? -1 : 1));
  }
}
