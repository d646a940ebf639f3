import { Types } from 'mongoose';
import type { AccountToken, RefreshToken } from '../../domain/ports/accounts.js';
import type { AuditEntry } from '../../domain/ports/audit.js';
import type { FaceEnrolment, FaceProposal } from '../../domain/ports/faces.js';
import type { Organisation } from '../../domain/ports/organisations.js';
import type { Consent } from '../../domain/ports/privacy.js';
import type { AttendanceRecord } from '../../domain/ports/records.js';
import type { AttendanceSession } from '../../domain/ports/sessions.js';
import type { ClassroomLocation, Enrolment, Subject } from '../../domain/ports/subjects.js';
import type { DailySummary } from '../../domain/ports/summaries.js';
import type { CollectionEntity, CollectionName } from '../../domain/ports/transfer.js';
import type { User } from '../../domain/ports/users.js';
import { normaliseSettings } from '../../domain/ports/organisations.js';
import type { CollectionDoc } from './models.js';
import * as LATER from './transfer-mapping.js';
import { toBuffer } from './binary.js';

export { toBuffer };
import type { AuditDoc } from './audit-schemas.js';
import type { ConsentDoc } from './privacy-schemas.js';
import type { EnrolmentDoc, SubjectDoc } from './subject-schemas.js';
import type { FaceDoc, FaceProposalDoc } from './face-schemas.js';
import type { OrganisationDoc, UserDoc } from './organisation-schemas.js';
import type { RecordDoc, SummaryDoc } from './record-schemas.js';
import type { RefreshTokenDoc, AccountTokenDoc } from './account-schemas.js';
import type { SessionDoc } from './session-schemas.js';

/**
 * Pure conversions between lean MongoDB documents and store entities. Entities without an id
 * get a deterministic `_id` made of their natural key, so a re-run import upserts in place.
 */

export const enrolmentId = (subjectId: string, studentId: string): string => `${subjectId}:${studentId}`;
export const summaryId = (subjectId: string, day: string): string => `${subjectId}:${day}`;
export const faceId = (orgId: string, userId: string): string => `${orgId}:${userId}`;

const orNull = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);

/** An embedding as stored: the little-endian bytes of its float64 values. */
export function fromVector(v: readonly number[]): Buffer {
  const b = Buffer.alloc(v.length * 8);
  v.forEach((x, i) => b.writeDoubleLE(x, i * 8));
  return b;
}

/** A stored embedding back to numbers; a number[] written by an earlier release is read as it is. */
export function toVector(v: unknown): number[] {
  if (Array.isArray(v)) return v.map(Number);
  const b = toBuffer(v);
  return Array.from({ length: b.length / 8 }, (_, i) => b.readDoubleLE(i * 8));
}

export function toOrganisation(d: OrganisationDoc): Organisation {
  return {
    id: d._id,
    name: d.name,
    slug: d.slug,
    timezone: d.timezone,
    active: d.active ?? true,
    settings: normaliseSettings(d.settings),
    createdAt: d.createdAt,
  };
}

export function fromOrganisation(e: Organisation): OrganisationDoc {
  return {
    _id: e.id,
    name: e.name,
    slug: e.slug,
    timezone: e.timezone,
    active: e.active,
    settings: { ...e.settings, defaultPolicy: { ...e.settings.defaultPolicy } },
    createdAt: e.createdAt,
  };
}

export function toUser(d: UserDoc): User {
  return {
    id: d._id,
    orgId: d.orgId,
    email: d.email,
    name: d.name,
    role: d.role,
    studentNumber: orNull(d.studentNumber),
    passwordHash: orNull(d.passwordHash),
    active: d.active,
    mustChangePassword: d.mustChangePassword ?? false,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** The users list's sort key: the name ignoring case, as SQLite's `ulower(name)`. */
export const nameKeyOf = (name: string): string => name.toLowerCase();

export function fromUser(e: User): UserDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest, email: e.email.toLowerCase(), nameKey: nameKeyOf(e.name) };
}

export function toSubject(d: SubjectDoc): Subject {
  return {
    id: d._id,
    orgId: d.orgId,
    code: d.code,
    name: d.name,
    teacherIds: [...(d.teacherIds ?? [])],
    location: locationOf(d.location),
    allowedIpRanges: [...(d.allowedIpRanges ?? [])],
    archivedAt: d.archivedAt ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function fromSubject(e: Subject): SubjectDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest };
}

export function toEnrolment(d: EnrolmentDoc): Enrolment {
  return { orgId: d.orgId, subjectId: d.subjectId, studentId: d.studentId, createdAt: d.createdAt };
}

export function fromEnrolment(e: Enrolment): EnrolmentDoc {
  return { _id: enrolmentId(e.subjectId, e.studentId), ...e };
}

export function toSession(d: SessionDoc): AttendanceSession {
  const p = d.policy;
  return {
    id: d._id,
    orgId: d.orgId,
    subjectId: d.subjectId,
    teacherId: d.teacherId,
    status: d.status,
    policy: {
      geofence: p.geofence,
      network: p.network,
      rotatingCode: p.rotatingCode,
      selfie: p.selfie,
      ...(p.liveness ? { liveness: true } : {}),
      codePeriodS: p.codePeriodS,
      maxAttempts: p.maxAttempts,
    },
    startsAt: d.startsAt,
    lateAfter: d.lateAfter,
    closesAt: d.closesAt,
    codeSecret: d.codeSecret,
    day: d.day,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    closedAt: orNull(d.closedAt),
    closedBy: orNull(d.closedBy),
    leaseOwner: orNull(d.leaseOwner),
    leaseUntil: orNull(d.leaseUntil),
    // Documents written before roster versions moved to the store have none.
    rosterVersion: d.rosterVersion ?? 0,
    room: d.room ? { location: locationOf(d.room.location), allowedIpRanges: [...(d.room.allowedIpRanges ?? [])] } : null,
    meetingId: orNull(d.meetingId),
    meetingEdit: orNull(d.meetingEdit),
  };
}

/** A stored classroom location as a plain value (mongoose may hand back a subdocument), or null. */
export function locationOf(l: ClassroomLocation | null | undefined): ClassroomLocation | null {
  return l ? { lat: l.lat, lon: l.lon, radiusM: l.radiusM } : null;
}

export function fromSession(e: AttendanceSession): SessionDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest };
}

export function toRecord(d: RecordDoc): AttendanceRecord {
  const v = d.verification;
  const l = d.location;
  return {
    id: d._id,
    orgId: d.orgId,
    sessionId: d.sessionId,
    subjectId: d.subjectId,
    studentId: d.studentId,
    status: d.status,
    reason: orNull(d.reason),
    flags: [...(d.flags ?? [])],
    distanceM: orNull(d.distanceM),
    location: l ? { lat: l.lat, lon: l.lon, accuracyM: l.accuracyM, timestamp: l.timestamp } : null,
    ip: orNull(d.ip),
    attempts: d.attempts,
    submittedAt: orNull(d.submittedAt),
    decidedAt: orNull(d.decidedAt),
    decidedBy: orNull(d.decidedBy),
    note: orNull(d.note),
    ...(d.correctionReason == null ? {} : { correctionReason: d.correctionReason }),
    ...(d.absenceCategory == null ? {} : { absenceCategory: d.absenceCategory }),
    ...(d.deviceId == null ? {} : { deviceId: d.deviceId }),
    ...(d.userAgent == null ? {} : { userAgent: d.userAgent }),
    verification: v
      ? {
          state: v.state,
          band: orNull(v.band),
          distance: orNull(v.distance),
          flags: [...(v.flags ?? [])],
          reason: orNull(v.reason),
          completedAt: orNull(v.completedAt),
          ...(v.probe && v.probe.length > 0 ? { probe: [...v.probe] } : {}),
        }
      : null,
    version: d.version,
    // Below 0: a batch's placeholder not yet stamped (record-batch.ts), as 0 is for one record.
    rosterVersion: Math.max(d.rosterVersion ?? 0, 0),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function fromRecord(e: AttendanceRecord): RecordDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest };
}

export function toSummary(d: SummaryDoc): DailySummary {
  return {
    orgId: d.orgId,
    subjectId: d.subjectId,
    day: d.day,
    present: d.present,
    late: d.late,
    absent: d.absent,
    excused: d.excused,
    total: d.total,
    percentage: d.percentage,
    updatedAt: d.updatedAt,
  };
}

export function fromSummary(e: DailySummary): SummaryDoc {
  return { _id: summaryId(e.subjectId, e.day), ...e };
}

export function toAudit(d: AuditDoc): AuditEntry {
  return {
    id: d._id,
    orgId: d.orgId,
    entityType: d.entityType,
    entityId: d.entityId,
    sessionId: orNull(d.sessionId),
    actorId: orNull(d.actorId),
    action: d.action,
    from: orNull(d.from),
    to: orNull(d.to),
    reason: orNull(d.reason),
    ip: orNull(d.ip),
    at: d.at,
  };
}

/** `seq` orders entries that share `at`; an import keeps the export's order by passing fresh ones in sequence. */
export function fromAudit(e: AuditEntry, seq: Types.ObjectId = new Types.ObjectId()): AuditDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest, from: e.from ?? null, to: e.to ?? null, seq };
}

export function toRefreshToken(d: RefreshTokenDoc): RefreshToken {
  return {
    id: d._id,
    orgId: d.orgId,
    userId: d.userId,
    familyId: d.familyId,
    tokenHash: d.tokenHash,
    expiresAt: d.expiresAt,
    createdAt: d.createdAt,
    rotatedAt: orNull(d.rotatedAt),
    revokedAt: orNull(d.revokedAt),
    userAgent: orNull(d.userAgent),
    ip: orNull(d.ip),
  };
}

export function toAccountToken(d: AccountTokenDoc): AccountToken {
  return {
    id: d._id,
    orgId: d.orgId,
    userId: d.userId,
    purpose: d.purpose,
    tokenHash: d.tokenHash,
    expiresAt: d.expiresAt,
    createdAt: d.createdAt,
    usedAt: orNull(d.usedAt),
  };
}

export function fromAccountToken(e: AccountToken): AccountTokenDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest };
}

export function fromRefreshToken(e: RefreshToken): RefreshTokenDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest };
}

export function toFace(d: FaceDoc): FaceEnrolment {
  return {
    orgId: d.orgId,
    userId: d.userId,
    modelId: d.modelId,
    modelVersion: d.modelVersion,
    embeddings: d.embeddings.map(toVector),
    photos: d.photos ? d.photos.map(toBuffer) : null,
    updatedAt: d.updatedAt,
  };
}

export function fromFace(e: FaceEnrolment): FaceDoc {
  return { _id: faceId(e.orgId, e.userId), ...e, embeddings: e.embeddings.map(fromVector) };
}

export function toFaceProposal(d: FaceProposalDoc): FaceProposal {
  return {
    orgId: d.orgId,
    userId: d.userId,
    modelId: d.modelId,
    modelVersion: d.modelVersion,
    embeddings: d.embeddings.map(toVector),
    photos: d.photos.map(toBuffer),
    proposedBy: d.proposedBy,
    createdAt: d.createdAt,
  };
}

export function fromFaceProposal(e: FaceProposal): FaceProposalDoc {
  return { _id: faceId(e.orgId, e.userId), ...e, embeddings: e.embeddings.map(fromVector) };
}

export function toConsent(d: ConsentDoc): Consent {
  return {
    id: d._id,
    orgId: d.orgId,
    userId: d.userId,
    purpose: d.purpose,
    textVersion: d.textVersion,
    givenBy: d.givenBy,
    guardianName: orNull(d.guardianName),
    recordedBy: d.recordedBy,
    givenAt: d.givenAt,
    withdrawnAt: orNull(d.withdrawnAt),
    withdrawnBy: orNull(d.withdrawnBy),
  };
}

export function fromConsent(e: Consent): ConsentDoc {
  const { id, ...rest } = e;
  return { _id: id, ...rest };
}

type ToEntity = { [C in CollectionName]: (d: CollectionDoc[C]) => CollectionEntity[C] };
type FromEntity = { [C in CollectionName]: (e: CollectionEntity[C]) => CollectionDoc[C] };

export const TO_ENTITY: ToEntity = {
  organisations: toOrganisation,
  users: toUser,
  subjects: toSubject,
  enrolments: toEnrolment,
  sessions: toSession,
  records: toRecord,
  summaries: toSummary,
  audit: toAudit,
  refreshTokens: toRefreshToken,
  faces: toFace,
  faceProposals: toFaceProposal,
  consents: toConsent,
  ...Object.fromEntries(Object.entries(LATER).map(([c, p]) => [c, p.to])),
} as ToEntity;

export const FROM_ENTITY: FromEntity = {
  organisations: fromOrganisation,
  users: fromUser,
  subjects: fromSubject,
  enrolments: fromEnrolment,
  sessions: fromSession,
  records: fromRecord,
  summaries: fromSummary,
  audit: (e) => fromAudit(e),
  refreshTokens: fromRefreshToken,
  faces: fromFace,
  faceProposals: fromFaceProposal,
  consents: fromConsent,
  ...Object.fromEntries(Object.entries(LATER).map(([c, p]) => [c, p.from])),
} as FromEntity;
