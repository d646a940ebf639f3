import { RECORD_STATUSES, type RecordStatus } from '../../domain/ports/common.js';
import { emptyStatusCounts, type ReportRepository, type StudentSubjectTally, type SubjectTotals } from '../../domain/ports/reports.js';
import { toAudit } from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import type { AuditDoc } from './audit-schemas.js';
import type { ExcuseDoc } from './excuse-schemas.js';
import type { RecordDoc } from './record-schemas.js';
import type { SessionDoc } from './session-schemas.js';
import type { SubjectDoc } from './subject-schemas.js';
import { pagedList } from './paged-list.js';

// Aggregates behind the reporting API, with pipelines FerretDB 1.x runs too: no $lookup, so
// the settled sessions are found first; one $group accumulator ($sum), so last-seen times and
// summary totals are folded here (docs/mongodb.md, differences).

interface TallyGroup {
  _id: { subjectId: string; studentId: string; status: string };
  n: number;
}

/** Sessions read for last-seen times per round, newest first. */
const SEEN_CHUNK = 20;

function isRecordStatus(s: string): s is RecordStatus {
  return (RECORD_STATUSES as readonly string[]).includes(s);
}

export function reportRepository(m: Models): ReportRepository {
  type Settled = { _id: string; startsAt: Date; closesAt: Date };
  async function settled(filter: object): Promise<Settled[]> {
    return m.sessions.find(filter, { _id: 1, startsAt: 1, closesAt: 1 }).sort({ startsAt: -1 }).lean<Settled[]>();
  }

  /**
   * The latest present or late check-in of each wanted key, reading sessions newest first and
   * stopping once no older session can hold a later one (check-ins fall before the close).
   */
  async function lastSeen(orgId: string, sessions: Settled[], wanted: Map<string, StudentSubjectTally>, studentId?: string): Promise<void> {
    let missing = [...wanted.values()].filter((t) => t.byStatus.present + t.byStatus.late > 0).length;
    for (let i = 0; i < sessions.length; i += SEEN_CHUNK) {
      const chunk = sessions.slice(i, i + SEEN_CHUNK);
      const rest = sessions.slice(i);
      const latestClose = Math.max(...rest.map((s) => s.closesAt.getTime()));
      const earliestSeen = Math.min(...[...wanted.values()].map((t) => t.lastSeenAt?.getTime() ?? Infinity));
      if (missing === 0 && latestClose <= earliestSeen) return;
      const docs = await m.records
        .find(
          q.seenRecordsFilter(
            orgId,
            chunk.map((s) => s._id),
            studentId,
          ),
          { subjectId: 1, studentId: 1, submittedAt: 1 },
        )
        .lean<{ subjectId: string; studentId: string; submittedAt: Date | null }[]>();
      for (const d of docs) {
        const t = wanted.get(`${d.subjectId}\u0000${d.studentId}`);
        if (!t || !d.submittedAt) continue;
        if (t.lastSeenAt === null) missing -= 1;
        if (t.lastSeenAt === null || d.submittedAt > t.lastSeenAt) t.lastSeenAt = new Date(d.submittedAt);
      }
    }
  }

  return {
    async studentTallies(orgId, f) {
      let sessions: Settled[];
      if (f.subjectId !== undefined) {
        sessions = await settled(q.settledSessionsFilter(orgId, f));
      } else if (f.studentId === undefined) {
        throw new Error('studentTallies needs a subject or a student');
      } else {
        // A student's sessions are few; the organisation's settled sessions are many.
        const mine = await m.records.distinct('sessionId', { orgId, studentId: f.studentId });
        sessions = await settled(q.settledSessionsFilter(orgId, { ...f, ids: mine.map(String) }));
      }
      if (sessions.length === 0) return [];
      const sessionIds = sessions.map((s) => s._id);
      const groups = await m.records.aggregate<TallyGroup>(q.tallyPipeline(orgId, sessionIds, f.studentId) as never[]);
      const tallies = new Map<string, StudentSubjectTally>();
      for (const g of groups) {
        const { subjectId, studentId, status } = g._id;
        const key = `${subjectId}\u0000${studentId}`;
        let t = tallies.get(key);
        if (!t) {
          t = { subjectId, studentId, byStatus: emptyStatusCounts(), lastSeenAt: null };
          tallies.set(key, t);
        }
        if (!isRecordStatus(status)) continue;
        t.byStatus[status] += g.n;
      }
      await lastSeen(orgId, sessions, tallies, f.studentId);
      return [...tallies.values()];
    },

    async subjectTotals(orgId, fromDay, toDay, subjectIds) {
      if (subjectIds && subjectIds.length === 0) return [];
      const docs = await m.summaries
        .find(q.orgSummaryRangeFilter(orgId, fromDay, toDay, subjectIds), {
          subjectId: 1,
          present: 1,
          late: 1,
          absent: 1,
          excused: 1,
          total: 1,
        })
        .lean<SubjectTotals[]>();
      const totals = new Map<string, SubjectTotals>();
      for (const d of docs) {
        const t = totals.get(d.subjectId) ?? { subjectId: d.subjectId, present: 0, late: 0, absent: 0, excused: 0, total: 0 };
        t.present += d.present;
        t.late += d.late;
        t.absent += d.absent;
        t.excused += d.excused;
        t.total += d.total;
        totals.set(d.subjectId, t);
      }
      return [...totals.values()].sort((a, b) => (a.subjectId < b.subjectId ? -1 : a.subjectId > b.subjectId ? 1 : 0));
    },

    async recordStatusCounts(orgId, sessionIds) {
      const counts = emptyStatusCounts();
      if (sessionIds.length === 0) return counts;
      const rows = await m.records.aggregate<{ _id: string; n: number }>(q.statusCountsPipeline(orgId, sessionIds) as never[]);
      for (const r of rows) if (isRecordStatus(r._id)) counts[r._id] += r.n;
      return counts;
    },

    async audit(orgId, f) {
      const filter = q.auditListFilter(orgId, f);
      return pagedList(
        () => m.audit.find(filter).sort(q.AUDIT_SORT).skip(f.offset).limit(f.limit).lean<AuditDoc[]>(),
        () => m.audit.countDocuments(filter),
        f,
        toAudit,
      );
    },

    async recordRefs(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.records
        .find(q.byOrgIds<RecordDoc>(orgId, ids), { sessionId: 1, studentId: 1 })
        .lean<{ _id: string; sessionId: string; studentId: string }[]>();
      return docs.map((d) => ({ id: d._id, sessionId: d.sessionId, studentId: d.studentId }));
    },

    async sessionRefs(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.sessions
        .find(q.byOrgIds<SessionDoc>(orgId, ids), { subjectId: 1, startsAt: 1 })
        .lean<{ _id: string; subjectId: string; startsAt: Date }[]>();
      return docs.map((d) => ({ id: d._id, subjectId: d.subjectId, startsAt: new Date(d.startsAt) }));
    },

    async subjectRefs(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.subjects
        .find(q.byOrgIds<SubjectDoc>(orgId, ids), { code: 1, name: 1 })
        .lean<{ _id: string; code: string; name: string }[]>();
      return docs.map((d) => ({ id: d._id, code: d.code, name: d.name }));
    },

    async excuseRefs(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.excuses.find(q.byOrgIds<ExcuseDoc>(orgId, ids), { studentId: 1 }).lean<{ _id: string; studentId: string }[]>();
      return docs.map((d) => ({ id: d._id, studentId: d.studentId }));
    },
  };
}
