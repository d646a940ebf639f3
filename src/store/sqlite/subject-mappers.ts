import type { Enrolment } from '../../domain/ports/subjects.js';
import type { CollectionEntity } from '../../domain/ports/transfer.js';
import { date, json, ms, parse, parseOrNull, str, type TableSpec } from './common-mappers.js';

// Rows of subjects and enrolments; TableSpec and the column readers are in common-mappers.ts.

export const subjects: TableSpec<CollectionEntity['subjects']> = {
  table: 'subjects',
  columns: ['id', 'org_id', 'code', 'name', 'teacher_ids', 'location', 'allowed_ip_ranges', 'archived_at', 'created_at', 'updated_at'],
  key: ['id'],
  toRow: (s) => ({
    id: s.id,
    org_id: s.orgId,
    code: s.code,
    name: s.name,
    teacher_ids: JSON.stringify(s.teacherIds),
    location: json(s.location),
    allowed_ip_ranges: JSON.stringify(s.allowedIpRanges),
    archived_at: s.archivedAt === null ? null : ms(s.archivedAt),
    created_at: ms(s.createdAt),
    updated_at: ms(s.updatedAt),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    code: str(r.code),
    name: str(r.name),
    teacherIds: parse<string[]>(r.teacher_ids, 'subjects.teacher_ids'),
    location: parseOrNull(r.location, 'subjects.location'),
    allowedIpRanges: parse<string[]>(r.allowed_ip_ranges, 'subjects.allowed_ip_ranges'),
    archivedAt: r.archived_at === null ? null : date(r.archived_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }),
};

export const enrolments: TableSpec<Enrolment> = {
  table: 'enrolments',
  columns: ['org_id', 'subject_id', 'student_id', 'created_at'],
  key: ['subject_id', 'student_id'],
  toRow: (e) => ({ org_id: e.orgId, subject_id: e.subjectId, student_id: e.studentId, created_at: ms(e.createdAt) }),
  fromRow: (r) => ({
    orgId: str(r.org_id),
    subjectId: str(r.subject_id),
    studentId: str(r.student_id),
    createdAt: date(r.created_at),
  }),
};
