import type { AccountToken, RefreshToken } from '../../domain/ports/accounts.js';
import type { AuditEntry } from '../../domain/ports/audit.js';
import type { FaceEnrolment, FaceProposal } from '../../domain/ports/faces.js';
import type { Organisation, OrganisationSettings } from '../../domain/ports/organisations.js';
import type { Consent } from '../../domain/ports/privacy.js';
import type { AttendanceRecord, CheckinLocation, VerificationResult } from '../../domain/ports/records.js';
import type { AttendanceSession } from '../../domain/ports/sessions.js';
import type { Enrolment } from '../../domain/ports/subjects.js';
import type { DailySummary } from '../../domain/ports/summaries.js';
import type { CollectionEntity, CollectionName } from '../../domain/ports/transfer.js';
import type { User } from '../../domain/ports/users.js';
import { ACCOUNT_TOKEN_PURPOSES } from '../../domain/ports/accounts.js';
import { normaliseSettings } from '../../domain/ports/organisations.js';
import { CONSENT_GIVERS, CONSENT_PURPOSES } from '../../domain/ports/privacy.js';
import { RECORD_STATES, ROLES, SESSION_STATES } from '../../shared/events.js';
import { REASON_CODES } from '../../shared/reasons.js';
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES } from '../../shared/audit.js';

/** A row as better-sqlite3 returns it, keyed by column name. */
export type Row = Record<string, unknown>;

/**
 * How one collection is laid out in SQLite: its table, columns, the key an import upserts
 * on, and the mapping both ways. Repositories and the transfer API share these, so an
 * exported entity is exactly what `get` returns.
 */
export interface TableSpec<E> {
  table: string;
  columns: readonly string[];
  /** Columns of the key that `transfer.import` upserts on. */
  key: readonly string[];
  /** Keyless tables: an import skips a row equal to a stored one on these columns. */
  matchOn?: readonly string[];
  /** Columns the store assigns on insert (SQL expression) and an upsert leaves as they are. */
  assigned?: Readonly<Record<string, string>>;
  toRow(e: E): Row;
  fromRow(r: Row): E;
}

export const ms = (d: Date): number => d.getTime();
export const msOrNull = (d: Date | null): number | null => (d === null ? null : d.getTime());
const date = (v: unknown): Date => new Date(v as number);
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as number));
const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));

/**
 * A reader of a column that holds one word of a vocabulary (SQLite has no enum type): a value
 * outside it fails here, naming the column, instead of travelling on mistyped.
 */
function oneOf<T extends string>(words: readonly T[], column: string): (v: unknown) => T {
  const known: ReadonlySet<unknown> = new Set(words);
  return (v) => {
    if (known.has(v)) return v as T;
    throw new Error(`unknown value in column ${column}: ${String(v)}`);
  };
}

const role = oneOf(ROLES, 'users.role');
const sessionStatus = oneOf(SESSION_STATES, 'sessions.status');
const recordStatus = oneOf(RECORD_STATES, 'records.status');
const nullOr =
  <T>(read: (v: unknown) => T) =>
  (v: unknown): T | null =>
    v === null || v === undefined ? null : read(v);
const recordReason = nullOr(oneOf(REASON_CODES, 'records.reason'));
const recordFlag = oneOf(REASON_CODES, 'records.flags');
const verificationReason = nullOr(oneOf(REASON_CODES, 'records.verification.reason'));
const verificationFlag = oneOf(REASON_CODES, 'records.verification.flags');
const auditAction = oneOf(AUDIT_ACTIONS, 'audit.action');
const auditEntityType = oneOf(AUDIT_ENTITY_TYPES, 'audit.entity_type');
const tokenPurpose = oneOf(ACCOUNT_TOKEN_PURPOSES, 'account_tokens.purpose');
const consentPurpose = oneOf(CONSENT_PURPOSES, 'consents.purpose');
const consentGiver = oneOf(CONSENT_GIVERS, 'consents.given_by');

/** A constant list of words as the inside of an SQL `IN (...)` (the words are ours, never input). */
export const sqlWords = (words: readonly string[]): string => words.map((w) => `'${w}'`).join(', ');

export function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

function parse<T>(v: unknown, column: string): T {
  try {
    return JSON.parse(v as string) as T;
  } catch (err) {
    throw new Error(`corrupt JSON in column ${column}`, { cause: err });
  }
}

function parseOrNull<T>(v: unknown, column: string): T | null {
  return v === null || v === undefined ? null : parse<T>(v, column);
}

// Nested dates are kept as epoch ms inside the JSON columns.
type StoredLocation = Omit<CheckinLocation, 'timestamp'> & { timestamp: number };
type StoredVerification = Omit<VerificationResult, 'completedAt'> & { completedAt: number | null };

export function locationToJson(l: CheckinLocation | null): string | null {
  if (l === null) return null;
  const stored: StoredLocation = { lat: l.lat, lon: l.lon, accuracyM: l.accuracyM, timestamp: ms(l.timestamp) };
  return JSON.stringify(stored);
}

export function verificationToJson(v: VerificationResult | null): string | null {
  if (v === null) return null;
  const stored: StoredVerification = { ...v, flags: [...v.flags], completedAt: msOrNull(v.completedAt) };
  return JSON.stringify(stored);
}

/** Reference photos in one BLOB: u32 count, u32 length of each, then the bytes. */
export function encodePhotos(photos: Buffer[] | null): Buffer | null {
  if (photos === null) return null;
  const head = Buffer.alloc(4 * (photos.length + 1));
  head.writeUInt32LE(photos.length, 0);
  photos.forEach((p, i) => head.writeUInt32LE(p.length, 4 * (i + 1)));
  return Buffer.concat([head, ...photos]);
}

export function decodePhotos(blob: unknown): Buffer[] | null {
  if (blob === null || blob === undefined) return null;
  const buf = blob as Buffer;
  const n = buf.readUInt32LE(0);
  const out: Buffer[] = [];
  let at = 4 * (n + 1);
  for (let i = 0; i < n; i++) {
    const len = buf.readUInt32LE(4 * (i + 1));
    out.push(Buffer.from(buf.subarray(at, at + len)));
    at += len;
  }
  return out;
}

export const organisations: TableSpec<Organisation> = {
  table: 'organisations',
  columns: ['id', 'name', 'slug', 'timezone', 'active', 'settings', 'created_at'],
  key: ['id'],
  toRow: (o) => ({
    id: o.id,
    name: o.name,
    slug: o.slug,
    timezone: o.timezone,
    active: o.active ? 1 : 0,
    settings: JSON.stringify(o.settings),
    created_at: ms(o.createdAt),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    name: str(r.name),
    slug: str(r.slug),
    timezone: str(r.timezone),
    active: r.active === 1,
    settings: normaliseSettings(parse<Partial<OrganisationSettings>>(r.settings, 'organisations.settings')),
    createdAt: date(r.created_at),
  }),
};

export const users: TableSpec<User> = {
  table: 'users',
  columns: [
    'id',
    'org_id',
    'email',
    'name',
    'role',
    'student_number',
    'password_hash',
    'active',
    'must_change_password',
    'created_at',
    'updated_at',
  ],
  key: ['id'],
  toRow: (u) => ({
    id: u.id,
    org_id: u.orgId,
    email: u.email.toLowerCase(),
    name: u.name,
    role: u.role,
    student_number: u.studentNumber,
    password_hash: u.passwordHash,
    active: u.active ? 1 : 0,
    must_change_password: u.mustChangePassword ? 1 : 0,
    created_at: ms(u.createdAt),
    updated_at: ms(u.updatedAt),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    email: str(r.email),
    name: str(r.name),
    role: role(r.role),
    studentNumber: strOrNull(r.student_number),
    passwordHash: strOrNull(r.password_hash),
    active: r.active === 1,
    mustChangePassword: r.must_change_password === 1,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }),
};

export const subjects: TableSpec<CollectionEntity['subjects']> = {
  table: 'subjects',
  columns: ['id', 'org_id', 'code', 'name', 'teacher_ids', 'location', 'allowed_ip_ranges', 'created_at', 'updated_at'],
  key: ['id'],
  toRow: (s) => ({
    id: s.id,
    org_id: s.orgId,
    code: s.code,
    name: s.name,
    teacher_ids: JSON.stringify(s.teacherIds),
    location: json(s.location),
    allowed_ip_ranges: JSON.stringify(s.allowedIpRanges),
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

export const sessions: TableSpec<AttendanceSession> = {
  table: 'sessions',
  columns: [
    'id',
    'org_id',
    'subject_id',
    'teacher_id',
    'status',
    'policy',
    'starts_at',
    'late_after',
    'closes_at',
    'code_secret',
    'day',
    'created_at',
    'updated_at',
    'closed_at',
    'closed_by',
    'lease_owner',
    'lease_until',
    'roster_version',
    'room',
    'meeting_id',
  ],
  key: ['id'],
  toRow: (s) => ({
    id: s.id,
    org_id: s.orgId,
    subject_id: s.subjectId,
    teacher_id: s.teacherId,
    status: s.status,
    policy: JSON.stringify(s.policy),
    starts_at: ms(s.startsAt),
    late_after: ms(s.lateAfter),
    closes_at: ms(s.closesAt),
    code_secret: s.codeSecret,
    day: s.day,
    created_at: ms(s.createdAt),
    updated_at: ms(s.updatedAt),
    closed_at: msOrNull(s.closedAt),
    closed_by: s.closedBy,
    lease_owner: s.leaseOwner,
    lease_until: msOrNull(s.leaseUntil),
    roster_version: s.rosterVersion,
    room: s.room === null ? null : JSON.stringify(s.room),
    meeting_id: s.meetingId,
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    subjectId: str(r.subject_id),
    teacherId: str(r.teacher_id),
    status: sessionStatus(r.status),
    policy: parse(r.policy, 'sessions.policy'),
    startsAt: date(r.starts_at),
    lateAfter: date(r.late_after),
    closesAt: date(r.closes_at),
    codeSecret: str(r.code_secret),
    day: str(r.day),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    closedAt: dateOrNull(r.closed_at),
    closedBy: strOrNull(r.closed_by),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: dateOrNull(r.lease_until),
    rosterVersion: r.roster_version as number,
    room: parseOrNull(r.room, 'sessions.room'),
    meetingId: strOrNull(r.meeting_id),
  }),
};

export const records: TableSpec<AttendanceRecord> = {
  table: 'records',
  columns: [
    'id',
    'org_id',
    'session_id',
    'subject_id',
    'student_id',
    'status',
    'reason',
    'flags',
    'distance_m',
    'location',
    'ip',
    'attempts',
    'submitted_at',
    'decided_at',
    'decided_by',
    'note',
    'correction_reason',
    'absence_category',
    'device_id',
    'user_agent',
    'verification',
    'version',
    'roster_version',
    'created_at',
    'updated_at',
  ],
  key: ['id'],
  toRow: (x) => ({
    id: x.id,
    org_id: x.orgId,
    session_id: x.sessionId,
    subject_id: x.subjectId,
    student_id: x.studentId,
    status: x.status,
    reason: x.reason,
    flags: JSON.stringify(x.flags),
    distance_m: x.distanceM,
    location: locationToJson(x.location),
    ip: x.ip,
    attempts: x.attempts,
    submitted_at: msOrNull(x.submittedAt),
    decided_at: msOrNull(x.decidedAt),
    decided_by: x.decidedBy,
    note: x.note,
    correction_reason: x.correctionReason ?? null,
    absence_category: x.absenceCategory ?? null,
    device_id: x.deviceId ?? null,
    user_agent: x.userAgent ?? null,
    verification: verificationToJson(x.verification),
    version: x.version,
    roster_version: x.rosterVersion,
    created_at: ms(x.createdAt),
    updated_at: ms(x.updatedAt),
  }),
  fromRow: (r) => {
    const loc = parseOrNull<StoredLocation>(r.location, 'records.location');
    const ver = parseOrNull<StoredVerification>(r.verification, 'records.verification');
    return {
      id: str(r.id),
      orgId: str(r.org_id),
      sessionId: str(r.session_id),
      subjectId: str(r.subject_id),
      studentId: str(r.student_id),
      status: recordStatus(r.status),
      reason: recordReason(r.reason),
      flags: parse<unknown[]>(r.flags, 'records.flags').map(recordFlag),
      distanceM: numOrNull(r.distance_m),
      location: loc && { ...loc, timestamp: new Date(loc.timestamp) },
      ip: strOrNull(r.ip),
      attempts: r.attempts as number,
      submittedAt: dateOrNull(r.submitted_at),
      decidedAt: dateOrNull(r.decided_at),
      decidedBy: strOrNull(r.decided_by),
      note: strOrNull(r.note),
      ...(r.correction_reason == null ? {} : { correctionReason: str(r.correction_reason) }),
      ...(r.absence_category == null ? {} : { absenceCategory: str(r.absence_category) }),
      ...(r.device_id == null ? {} : { deviceId: str(r.device_id) }),
      ...(r.user_agent == null ? {} : { userAgent: str(r.user_agent) }),
      verification: ver && {
        ...ver,
        flags: ver.flags.map(verificationFlag),
        reason: verificationReason(ver.reason),
        completedAt: dateOrNull(ver.completedAt),
      },
      version: r.version as number,
      rosterVersion: r.roster_version as number,
      createdAt: date(r.created_at),
      updatedAt: date(r.updated_at),
    };
  },
};

export const summaries: TableSpec<DailySummary> = {
  table: 'summaries',
  columns: ['org_id', 'subject_id', 'day', 'present', 'late', 'absent', 'excused', 'total', 'percentage', 'updated_at'],
  key: ['subject_id', 'day'],
  toRow: (s) => ({
    org_id: s.orgId,
    subject_id: s.subjectId,
    day: s.day,
    present: s.present,
    late: s.late,
    absent: s.absent,
    excused: s.excused,
    total: s.total,
    percentage: s.percentage,
    updated_at: ms(s.updatedAt),
  }),
  fromRow: (r) => ({
    orgId: str(r.org_id),
    subjectId: str(r.subject_id),
    day: str(r.day),
    present: r.present as number,
    late: r.late as number,
    absent: r.absent as number,
    excused: r.excused as number,
    total: r.total as number,
    percentage: r.percentage as number,
    updatedAt: date(r.updated_at),
  }),
};

export const audit: TableSpec<AuditEntry> = {
  table: 'audit',
  columns: ['id', 'org_id', 'entity_type', 'entity_id', 'session_id', 'actor_id', 'action', 'from_json', 'to_json', 'reason', 'ip', 'at'],
  key: ['id'],
  toRow: (a) => ({
    id: a.id,
    org_id: a.orgId,
    entity_type: a.entityType,
    entity_id: a.entityId,
    session_id: a.sessionId,
    actor_id: a.actorId,
    action: a.action,
    from_json: json(a.from),
    to_json: json(a.to),
    reason: a.reason,
    ip: a.ip,
    at: ms(a.at),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    entityType: auditEntityType(r.entity_type),
    entityId: str(r.entity_id),
    sessionId: strOrNull(r.session_id),
    actorId: strOrNull(r.actor_id),
    action: auditAction(r.action),
    from: parseOrNull<unknown>(r.from_json, 'audit.from_json'),
    to: parseOrNull<unknown>(r.to_json, 'audit.to_json'),
    reason: strOrNull(r.reason),
    ip: strOrNull(r.ip),
    at: date(r.at),
  }),
};

export const refreshTokens: TableSpec<RefreshToken> = {
  table: 'refresh_tokens',
  columns: [
    'id',
    'org_id',
    'user_id',
    'family_id',
    'token_hash',
    'expires_at',
    'created_at',
    'rotated_at',
    'revoked_at',
    'user_agent',
    'ip',
  ],
  key: ['id'],
  toRow: (t) => ({
    id: t.id,
    org_id: t.orgId,
    user_id: t.userId,
    family_id: t.familyId,
    token_hash: t.tokenHash,
    expires_at: ms(t.expiresAt),
    created_at: ms(t.createdAt),
    rotated_at: msOrNull(t.rotatedAt),
    revoked_at: msOrNull(t.revokedAt),
    user_agent: t.userAgent,
    ip: t.ip,
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    userId: str(r.user_id),
    familyId: str(r.family_id),
    tokenHash: str(r.token_hash),
    expiresAt: date(r.expires_at),
    createdAt: date(r.created_at),
    rotatedAt: dateOrNull(r.rotated_at),
    revokedAt: dateOrNull(r.revoked_at),
    userAgent: strOrNull(r.user_agent),
    ip: strOrNull(r.ip),
  }),
};

export const accountTokens: TableSpec<AccountToken> = {
  table: 'account_tokens',
  columns: ['id', 'org_id', 'user_id', 'purpose', 'token_hash', 'expires_at', 'created_at', 'used_at'],
  key: ['id'],
  toRow: (t) => ({
    id: t.id,
    org_id: t.orgId,
    user_id: t.userId,
    purpose: t.purpose,
    token_hash: t.tokenHash,
    expires_at: ms(t.expiresAt),
    created_at: ms(t.createdAt),
    used_at: msOrNull(t.usedAt),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    userId: str(r.user_id),
    purpose: tokenPurpose(r.purpose),
    tokenHash: str(r.token_hash),
    expiresAt: date(r.expires_at),
    createdAt: date(r.created_at),
    usedAt: dateOrNull(r.used_at),
  }),
};

export const faces: TableSpec<FaceEnrolment> = {
  table: 'faces',
  columns: ['org_id', 'user_id', 'model_id', 'model_version', 'embeddings', 'photos', 'updated_at'],
  key: ['org_id', 'user_id'],
  toRow: (f) => ({
    org_id: f.orgId,
    user_id: f.userId,
    model_id: f.modelId,
    model_version: f.modelVersion,
    embeddings: JSON.stringify(f.embeddings),
    photos: encodePhotos(f.photos),
    updated_at: ms(f.updatedAt),
  }),
  fromRow: (r) => ({
    orgId: str(r.org_id),
    userId: str(r.user_id),
    modelId: str(r.model_id),
    modelVersion: str(r.model_version),
    embeddings: parse<number[][]>(r.embeddings, 'faces.embeddings'),
    photos: decodePhotos(r.photos),
    updatedAt: date(r.updated_at),
  }),
};

export const faceProposals: TableSpec<FaceProposal> = {
  table: 'face_proposals',
  columns: ['org_id', 'user_id', 'model_id', 'model_version', 'embeddings', 'photos', 'proposed_by', 'created_at'],
  key: ['org_id', 'user_id'],
  toRow: (f) => ({
    org_id: f.orgId,
    user_id: f.userId,
    model_id: f.modelId,
    model_version: f.modelVersion,
    embeddings: JSON.stringify(f.embeddings),
    photos: encodePhotos(f.photos),
    proposed_by: f.proposedBy,
    created_at: ms(f.createdAt),
  }),
  fromRow: (r) => ({
    orgId: str(r.org_id),
    userId: str(r.user_id),
    modelId: str(r.model_id),
    modelVersion: str(r.model_version),
    embeddings: parse<number[][]>(r.embeddings, 'face_proposals.embeddings'),
    photos: decodePhotos(r.photos) ?? [],
    proposedBy: str(r.proposed_by),
    createdAt: date(r.created_at),
  }),
};

export const consents: TableSpec<Consent> = {
  table: 'consents',
  columns: [
    'id',
    'org_id',
    'user_id',
    'purpose',
    'text_version',
    'given_by',
    'guardian_name',
    'recorded_by',
    'given_at',
    'withdrawn_at',
    'withdrawn_by',
  ],
  key: ['id'],
  toRow: (c) => ({
    id: c.id,
    org_id: c.orgId,
    user_id: c.userId,
    purpose: c.purpose,
    text_version: c.textVersion,
    given_by: c.givenBy,
    guardian_name: c.guardianName,
    recorded_by: c.recordedBy,
    given_at: ms(c.givenAt),
    withdrawn_at: msOrNull(c.withdrawnAt),
    withdrawn_by: c.withdrawnBy,
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    userId: str(r.user_id),
    purpose: consentPurpose(r.purpose),
    textVersion: str(r.text_version),
    givenBy: consentGiver(r.given_by),
    guardianName: strOrNull(r.guardian_name),
    recordedBy: str(r.recorded_by),
    givenAt: date(r.given_at),
    withdrawnAt: dateOrNull(r.withdrawn_at),
    withdrawnBy: strOrNull(r.withdrawn_by),
  }),
};

/** The first collections' tables; transfer-tables.ts adds the later ones. */
export const CORE_TABLES = {
  organisations,
  users,
  subjects,
  enrolments,
  sessions,
  records,
  summaries,
  audit,
  refreshTokens,
  accountTokens,
  faces,
  faceProposals,
  consents,
} satisfies { [C in CollectionName]?: TableSpec<CollectionEntity[C]> };

/** `INSERT INTO t (cols) VALUES (@cols)`, optionally upserting on the spec's key. */
export function insertSql(spec: TableSpec<unknown>, upsert: boolean): string {
  const cols = spec.columns.join(', ');
  const vals = spec.columns.map((c) => spec.assigned?.[c] ?? `@${c}`).join(', ');
  if (upsert && spec.matchOn) {
    const same = spec.matchOn.map((c) => `${c} = @${c}`).join(' AND ');
    return `INSERT INTO ${spec.table} (${cols}) SELECT ${vals} WHERE NOT EXISTS (SELECT 1 FROM ${spec.table} WHERE ${same})`;
  }
  const base = `INSERT INTO ${spec.table} (${cols}) VALUES (${vals})`;
  if (!upsert) return base;
  const set = spec.columns.filter((c) => !spec.key.includes(c) && !spec.assigned?.[c]).map((c) => `${c} = excluded.${c}`);
  return `${base} ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET ${set.join(', ')}`;
}
