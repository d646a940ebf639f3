import type { Page, PageQuery } from '../../domain/ports/common.js';
import type { AttendanceRecord } from '../../domain/ports/records.js';
import { toRecord } from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import type { RecordDoc } from './record-schemas.js';
import type { SessionDoc } from './session-schemas.js';

// A student's records in session order, newest session first, as the SQLite adapter's join sorts.
// Records do not carry their session's start (it may still move while the session is scheduled),
// and FerretDB has no $lookup: the student's record keys come from org_student_created, their
// sessions' starts from _id, both narrow projections; the page's records are then read by _id.

type RecordKey = Pick<RecordDoc, '_id' | 'sessionId'>;
type SessionStart = Pick<SessionDoc, '_id' | 'startsAt'>;

export async function listRecordsOfStudent(m: Models, orgId: string, studentId: string, page: PageQuery): Promise<Page<AttendanceRecord>> {
  const keys = await m.records.find(q.recordsOfStudentFilter(orgId, studentId), { _id: 1, sessionId: 1 }).lean<RecordKey[]>();
  if (keys.length === 0) return { items: [], total: 0 };
  const sessionIds = [...new Set(keys.map((k) => k.sessionId))];
  const starts = await m.sessions.find(q.byOrgIds<SessionDoc>(orgId, sessionIds), { _id: 1, startsAt: 1 }).lean<SessionStart[]>();
  const startOf = new Map(starts.map((s) => [s._id, s.startsAt.getTime()]));
  // A record whose session is gone sorts last; the record id breaks ties so pages neither repeat nor skip.
  const ordered = keys
    .map((k) => ({ id: k._id, start: startOf.get(k.sessionId) ?? Number.NEGATIVE_INFINITY }))
    .sort((a, b) => b.start - a.start || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const pageIds = ordered.slice(page.offset, page.offset + page.limit).map((k) => k.id);
  if (pageIds.length === 0) return { items: [], total: keys.length };
  const docs = await m.records.find(q.byOrgIds<RecordDoc>(orgId, pageIds)).lean<RecordDoc[]>();
  const byId = new Map(docs.map((d) => [d._id, d]));
  // A record deleted between the two reads is left out of the page rather than invented.
  const items = pageIds.flatMap((id) => {
    const d = byId.get(id);
    return d ? [toRecord(d)] : [];
  });
  return { items, total: keys.length };
}
