import type { Page, PageQuery } from '../../domain/ports/common.js';
import type { AttendanceRecord } from '../../domain/ports/records.js';
import { toRecord } from './mapping.js';
import type { Models } from './models.js';
import { pagedList } from './paged-list.js';
import * as q from './queries.js';
import type { RecordDoc } from './record-schemas.js';

// A student's records in session order, newest session first, as the SQLite adapter's join sorts.
// FerretDB has no $lookup: each record carries its session's start (`sessionStartsAt`, kept right
// by session-starts.ts), so a page is one range of the org_student_session_start index, and the
// count is sent only for a full page (paged-list.ts). A record whose session is unknown (null)
// sorts last, as SQLite's NULLS LAST; the record id breaks ties so pages neither repeat nor skip.

export async function listRecordsOfStudent(m: Models, orgId: string, studentId: string, page: PageQuery): Promise<Page<AttendanceRecord>> {
  const filter = q.recordsOfStudentFilter(orgId, studentId);
  return pagedList(
    () => m.records.find(filter).sort(q.STUDENT_HISTORY_SORT).skip(page.offset).limit(page.limit).lean<RecordDoc[]>(),
    () => m.records.countDocuments(filter),
    page,
    toRecord,
  );
}
