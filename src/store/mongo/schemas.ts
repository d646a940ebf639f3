import { Schema, type Types } from 'mongoose';
import { ACCOUNT_TOKEN_PURPOSES, type AccountToken, type RefreshToken } from '../../domain/ports/accounts.js';
import { type AlertRule } from '../../domain/ports/alerts.js';
import { type AuditEntry } from '../../domain/ports/audit.js';
import { EXCUSE_DOCUMENT_TYPES, EXCUSE_STATUSES, type ExcuseDocumentType, type ExcuseStatus } from '../../domain/ports/excuses.js';
import { type FaceEnrolment, type FaceProposal } from '../../domain/ports/faces.js';
import { type Notification } from '../../domain/ports/notifications.js';
import { LOCATION_MODES, SHARED_DEVICE_RULES, type Organisation, type OrganisationSettings } from '../../domain/ports/organisations.js';
import { OUTBOX_STATUSES, type OutboxMail } from '../../domain/ports/outbox.js';
import { CONSENT_GIVERS, CONSENT_PURPOSES, type Consent } from '../../domain/ports/privacy.js';
import { type AttendanceRecord } from '../../domain/ports/records.js';
import { type AttendanceSession } from '../../domain/ports/sessions.js';
import { type Enrolment, type Subject } from '../../domain/ports/subjects.js';
import { type DailySummary } from '../../domain/ports/summaries.js';
import { type User } from '../../domain/ports/users.js';
import { newId } from '../../shared/ids.js';
import { RECORD_STATES, ROLES, SESSION_STATES, VERIFICATION_BANDS, VERIFICATION_STATES } from '../../shared/events.js';
import { POLICY_CHECKS } from '../../shared/policy-presets.js';
import { REASON_CODES } from '../../shared/reasons.js';
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES } from '../../shared/audit.js';
import {
  ALERT_RULE_KINDS,
  EMAIL_CATEGORIES,
  EMAIL_LANGUAGES,
  NOTIFICATION_CATEGORIES,
  type EmailCategory,
  type EmailLanguage,
} from '../../shared/alerts.js';

/**
 * MongoDB document shapes and their schemas, one collection per entity. `_id` is the entity's
 * UUID string (or a composite of its natural key where the entity has no id), so ids survive
 * a copy between stores. Timestamps are written by the adapter, not by mongoose, so that an
 * imported document keeps its original createdAt/updatedAt.
 *
 * Index names double as conflict keys: a duplicate on `email` raises StoreConflictError('email').
 */

/** An entity as stored: its id is the document's `_id`. */
type Doc<E extends { id: string }> = Omit<E, 'id'> & { _id: string };
/** An entity without an id, stored under its natural key (mapping.ts). */
type KeyedDoc<E> = E & { _id: string };

// Indexes are built explicitly at start (models.ts), never implicitly on model compile. No
// command buffering: the store is handed out only once connected, and an outage should fail
// fast with the driver's server-selection error rather than queue in memory.
const base = { versionKey: false as const, autoIndex: false, autoCreate: false, bufferCommands: false, id: false };
const id = { type: String, required: true, default: () => newId() };
const requiredString = { type: String, required: true };
const nullableString = { type: String, default: null };
const nullableDate = { type: Date, default: null };

export type OrganisationDoc = Omit<Doc<Organisation>, 'active' | 'settings'> & {
  /** Absent on documents written before organisations could be deactivated: active. */
  active?: boolean;
  /** Absent or partial on older documents: the missing settings are unset. */
  settings?: Partial<OrganisationSettings>;
};

const organisationSettingsSchema = new Schema(
  {
    sessionMinutes: { type: Number, default: null, min: 1 },
    lateGraceMinutes: { type: Number, default: null, min: 0 },
    codePeriodS: { type: Number, default: null, min: 1 },
    defaultPolicy: {
      type: new Schema(
        {
          ...Object.fromEntries(POLICY_CHECKS.map((check) => [check, Boolean])),
          maxAttempts: { type: Number, min: 1 },
        },
        { _id: false, id: false },
      ),
      default: () => ({}),
    },
    sharedDevice: { type: String, enum: SHARED_DEVICE_RULES, default: 'flag' },
    // Absent on older documents: normaliseSettings gives the default.
    riskThreshold: { type: Number, min: 0, max: 100 },
    // Absent on older documents: off.
    notifyStudent: { type: Boolean },
    notifyGuardians: { type: Boolean },
    // Absent on older documents: normaliseSettings gives the defaults.
    retention: {
      type: new Schema(
        {
          probeDays: { type: Number, min: 0 },
          locationDays: { type: Number, min: 0 },
          locationMode: { type: String, enum: LOCATION_MODES },
          ipDays: { type: Number, min: 0 },
        },
        { _id: false, id: false },
      ),
      default: undefined,
    },
    absenceCategories: {
      type: [
        new Schema(
          { code: requiredString, label: requiredString, authorised: { type: Boolean, required: true } },
          { _id: false, id: false },
        ),
      ],
      default: undefined,
    },
  },
  { _id: false, id: false },
);

export const organisationSchema = new Schema<OrganisationDoc>(
  {
    _id: id,
    name: requiredString,
    slug: { type: String, required: true, match: /^[a-z0-9][a-z0-9-]*$/ },
    timezone: requiredString,
    active: { type: Boolean, default: true },
    settings: { type: organisationSettingsSchema, default: () => ({}) },
    createdAt: { type: Date, required: true },
  },
  { ...base, collection: 'organisations' },
);
organisationSchema.index({ slug: 1 }, { unique: true, name: 'slug' });

export type UserDoc = Doc<User> & {
  /** `name` lower-cased: the list's sort key (a collation would do, but not every server has one). */
  nameKey: string;
};

export const userSchema = new Schema<UserDoc>(
  {
    _id: id,
    orgId: requiredString,
    email: { type: String, required: true, lowercase: true },
    name: requiredString,
    role: { type: String, required: true, enum: ROLES },
    studentNumber: nullableString,
    passwordHash: nullableString,
    active: { type: Boolean, required: true, default: true },
    // Documents written before this field existed read as false (see toUser).
    mustChangePassword: { type: Boolean, default: false },
    // Documents written before this field existed sort first until backfilled (docs/mongodb.md, upgrading).
    nameKey: requiredString,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'users' },
);
userSchema.index({ orgId: 1, email: 1 }, { unique: true, name: 'email' });
// Login without an organisation slug looks the email up across organisations.
userSchema.index({ email: 1 }, { name: 'email_any_org' });
userSchema.index({ orgId: 1, role: 1, name: 1 }, { name: 'org_role_name' });
userSchema.index({ orgId: 1, nameKey: 1, _id: 1 }, { name: 'org_name_key' });

export const locationSchema = new Schema(
  {
    lat: { type: Number, required: true, min: -90, max: 90 },
    lon: { type: Number, required: true, min: -180, max: 180 },
    radiusM: { type: Number, required: true, min: 0 },
  },
  { _id: false, id: false },
);

export type SubjectDoc = Doc<Subject>;

export const subjectSchema = new Schema<SubjectDoc>(
  {
    _id: id,
    orgId: requiredString,
    code: requiredString,
    name: requiredString,
    teacherIds: { type: [String], default: [] },
    location: { type: locationSchema, default: null },
    allowedIpRanges: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'subjects' },
);
subjectSchema.index({ orgId: 1, code: 1 }, { unique: true, name: 'code' });
subjectSchema.index({ orgId: 1, teacherIds: 1 }, { name: 'org_teacher' });

export type EnrolmentDoc = KeyedDoc<Enrolment>;

/** Enrolment is its own collection: an array inside the subject would race and grow unbounded. */
export const enrolmentSchema = new Schema<EnrolmentDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    subjectId: requiredString,
    studentId: requiredString,
    createdAt: { type: Date, required: true },
  },
  { ...base, collection: 'enrolments' },
);
enrolmentSchema.index({ subjectId: 1, studentId: 1 }, { unique: true, name: 'enrolment' });
enrolmentSchema.index({ orgId: 1, subjectId: 1, studentId: 1 }, { name: 'org_subject_student' });
enrolmentSchema.index({ orgId: 1, studentId: 1 }, { name: 'org_student' });

export type SessionDoc = Doc<AttendanceSession>;

const policySchema = new Schema(
  {
    ...Object.fromEntries(POLICY_CHECKS.map((check) => [check, { type: Boolean, required: true }])),
    // Present only when on: sessions stored before it read back unchanged.
    liveness: { type: Boolean, default: undefined },
    codePeriodS: { type: Number, required: true, min: 1 },
    maxAttempts: { type: Number, required: true, min: 1 },
  },
  { _id: false, id: false },
);

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A session's own room (src/domain/sessions/room.ts); each part unset falls back to the subject's. */
const roomSchema = new Schema(
  {
    location: { type: locationSchema, default: null },
    allowedIpRanges: { type: [String], default: [] },
  },
  { _id: false, id: false },
);

export const sessionSchema = new Schema<SessionDoc>(
  {
    _id: id,
    orgId: requiredString,
    subjectId: requiredString,
    teacherId: requiredString,
    status: { type: String, required: true, enum: SESSION_STATES },
    policy: { type: policySchema, required: true },
    startsAt: { type: Date, required: true },
    lateAfter: { type: Date, required: true },
    closesAt: { type: Date, required: true },
    codeSecret: requiredString,
    day: { type: String, required: true, match: DAY },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    closedAt: nullableDate,
    closedBy: nullableString,
    leaseOwner: nullableString,
    leaseUntil: nullableDate,
    rosterVersion: { type: Number, required: true, min: 0, default: 0 },
    // Absent on sessions stored before rooms: the subject's classroom, opened by hand.
    room: { type: roomSchema, default: null },
    meetingId: nullableString,
  },
  { ...base, collection: 'sessions' },
);
sessionSchema.index({ orgId: 1, subjectId: 1, day: 1 }, { name: 'org_subject_day' });
// The scheduler's due scan (system-wide): status then closesAt.
sessionSchema.index({ status: 1, closesAt: 1 }, { name: 'status_closes_at' });
sessionSchema.index({ orgId: 1, createdAt: -1 }, { name: 'org_created' });

export type RecordDoc = Doc<AttendanceRecord>;

const checkinLocationSchema = new Schema(
  {
    lat: { type: Number, required: true, min: -90, max: 90 },
    lon: { type: Number, required: true, min: -180, max: 180 },
    accuracyM: { type: Number, required: true, min: 0 },
    timestamp: { type: Date, required: true },
  },
  { _id: false, id: false },
);

const reasonCode = { type: String, default: null, enum: [...REASON_CODES, null] };
const reasonCodes = { type: [{ type: String, enum: REASON_CODES }], default: [] };

const verificationSchema = new Schema(
  {
    state: { type: String, required: true, enum: VERIFICATION_STATES },
    band: { type: String, enum: [...VERIFICATION_BANDS, null], default: null },
    distance: { type: Number, default: null },
    flags: reasonCodes,
    reason: reasonCode,
    completedAt: nullableDate,
    // The selfie's embedding, server-side only, for the in-session anti-proxy comparison.
    probe: { type: [Number], default: undefined },
  },
  { _id: false, id: false },
);

/** One document per (session, student): never an array inside the session. */
export const recordSchema = new Schema<RecordDoc>(
  {
    _id: id,
    orgId: requiredString,
    sessionId: requiredString,
    subjectId: requiredString,
    studentId: requiredString,
    status: { type: String, required: true, enum: RECORD_STATES },
    reason: reasonCode,
    flags: reasonCodes,
    distanceM: { type: Number, default: null },
    location: { type: checkinLocationSchema, default: null },
    ip: nullableString,
    attempts: { type: Number, required: true, min: 0, default: 0 },
    submittedAt: nullableDate,
    decidedAt: nullableDate,
    decidedBy: nullableString,
    note: nullableString,
    correctionReason: nullableString,
    absenceCategory: nullableString,
    deviceId: nullableString,
    userAgent: nullableString,
    verification: { type: verificationSchema, default: null },
    version: { type: Number, required: true, min: 0, default: 0 },
    rosterVersion: { type: Number, required: true, min: 0, default: 0 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'records' },
);
recordSchema.index({ sessionId: 1, studentId: 1 }, { unique: true, name: 'record' });
recordSchema.index({ orgId: 1, sessionId: 1 }, { name: 'org_session' });
recordSchema.index({ orgId: 1, studentId: 1, createdAt: -1 }, { name: 'org_student_created' });

export type SummaryDoc = KeyedDoc<DailySummary>;

const count = { type: Number, required: true, min: 0 };

export const summarySchema = new Schema<SummaryDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    subjectId: requiredString,
    day: { type: String, required: true, match: DAY },
    present: count,
    late: count,
    absent: count,
    excused: count,
    total: count,
    percentage: { type: Number, required: true, min: 0, max: 100 },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'summaries' },
);
summarySchema.index({ subjectId: 1, day: 1 }, { unique: true, name: 'summary' });
summarySchema.index({ orgId: 1, subjectId: 1, day: 1 }, { name: 'org_subject_day' });
// Reports add up a day range over every subject of the organisation.
summarySchema.index({ orgId: 1, day: 1 }, { name: 'org_day' });

export type AuditDoc = Doc<AuditEntry> & {
  /** Insertion order among entries with the same `at` (ObjectIds grow monotonically). */
  seq: Types.ObjectId;
};

export const auditSchema = new Schema<AuditDoc>(
  {
    _id: id,
    orgId: requiredString,
    entityType: { type: String, required: true, enum: AUDIT_ENTITY_TYPES },
    entityId: requiredString,
    sessionId: nullableString,
    actorId: nullableString,
    action: { type: String, required: true, enum: AUDIT_ACTIONS },
    from: { type: Schema.Types.Mixed, default: null },
    to: { type: Schema.Types.Mixed, default: null },
    reason: nullableString,
    ip: nullableString,
    at: { type: Date, required: true },
    seq: { type: Schema.Types.ObjectId, required: true },
  },
  { ...base, collection: 'audit', minimize: false },
);
auditSchema.index({ orgId: 1, entityType: 1, entityId: 1, at: 1, seq: 1 }, { name: 'org_entity_at' });
auditSchema.index({ orgId: 1, sessionId: 1, at: 1, seq: 1 }, { name: 'org_session_at' });
auditSchema.index({ orgId: 1, actorId: 1, at: 1, seq: 1 }, { name: 'org_actor_at' });

export type RefreshTokenDoc = Doc<RefreshToken>;

/**
 * Expired tokens stay a week before MongoDB's TTL monitor removes them, so that reuse of a
 * recently expired token is still recognised; deleteExpired() removes them sooner on demand.
 */
export const REFRESH_TOKEN_TTL_GRACE_S = 7 * 86_400;

export const refreshTokenSchema = new Schema<RefreshTokenDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    familyId: requiredString,
    tokenHash: requiredString,
    expiresAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    rotatedAt: nullableDate,
    revokedAt: nullableDate,
    userAgent: nullableString,
    ip: nullableString,
  },
  { ...base, collection: 'refreshTokens' },
);
refreshTokenSchema.index({ tokenHash: 1 }, { unique: true, name: 'tokenHash' });
refreshTokenSchema.index({ familyId: 1 }, { name: 'family' });
refreshTokenSchema.index({ orgId: 1, userId: 1 }, { name: 'org_user' });
refreshTokenSchema.index({ expiresAt: 1 }, { name: 'expires_ttl', expireAfterSeconds: REFRESH_TOKEN_TTL_GRACE_S });

export type AccountTokenDoc = Doc<AccountToken>;

/** Set-password links are worthless once expired: MongoDB removes them a day later. */
export const accountTokenSchema = new Schema<AccountTokenDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    purpose: { type: String, required: true, enum: ACCOUNT_TOKEN_PURPOSES },
    tokenHash: requiredString,
    expiresAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    usedAt: nullableDate,
  },
  { ...base, collection: 'accountTokens' },
);
accountTokenSchema.index({ tokenHash: 1 }, { unique: true, name: 'tokenHash' });
accountTokenSchema.index({ orgId: 1, userId: 1 }, { name: 'org_user' });
accountTokenSchema.index({ expiresAt: 1 }, { name: 'expires_ttl', expireAfterSeconds: 86_400 });

export type FaceDoc = KeyedDoc<Omit<FaceEnrolment, 'embeddings'>> & {
  /** One vector per photo, each as float64 little-endian bytes (mapping.ts). */
  embeddings: Buffer[];
};

function isFiniteVector(b: Buffer): boolean {
  if (b.length === 0 || b.length % 8 !== 0) return false;
  for (let i = 0; i < b.length; i += 8) if (!Number.isFinite(b.readDoubleLE(i))) return false;
  return true;
}

/**
 * Face embeddings, of an enrolment or a proposal: one non-empty vector per photo, each stored as
 * the bytes of a Float64Array (exact, compact, and no array nested in an array, which not every
 * wire-compatible server stores; documents written as number[][] are still read, docs/mongodb.md).
 */
const embeddingsField = {
  type: [Buffer],
  required: true,
  validate: {
    validator: (v: Buffer[]) => v.length > 0 && v.every(isFiniteVector),
    message: 'embeddings must be non-empty vectors of finite float64 numbers',
  },
};

export const faceSchema = new Schema<FaceDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    userId: requiredString,
    modelId: requiredString,
    modelVersion: requiredString,
    embeddings: embeddingsField,
    photos: { type: [Buffer], default: undefined },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'faces' },
);
faceSchema.index({ orgId: 1, userId: 1 }, { unique: true, name: 'face' });

export type FaceProposalDoc = KeyedDoc<Omit<FaceProposal, 'embeddings'>> & { embeddings: Buffer[] };

export const faceProposalSchema = new Schema<FaceProposalDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    userId: requiredString,
    modelId: requiredString,
    modelVersion: requiredString,
    embeddings: embeddingsField,
    photos: { type: [Buffer], required: true },
    proposedBy: requiredString,
    createdAt: { type: Date, required: true },
  },
  { ...base, collection: 'faceProposals' },
);
faceProposalSchema.index({ orgId: 1, userId: 1 }, { unique: true, name: 'face' });
faceProposalSchema.index({ orgId: 1, createdAt: 1 }, { name: 'org_created' });

/** Lease of a scheduled system job, one document per job name (`_id`). */
export interface JobDoc {
  _id: string;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastRunAt: Date | null;
}

export const jobSchema = new Schema<JobDoc>(
  {
    _id: requiredString,
    leaseOwner: nullableString,
    leaseUntil: nullableDate,
    lastRunAt: nullableDate,
  },
  { ...base, collection: 'jobs' },
);

export type ConsentDoc = Doc<Consent>;

export const consentSchema = new Schema<ConsentDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    purpose: { type: String, required: true, enum: CONSENT_PURPOSES },
    textVersion: requiredString,
    givenBy: { type: String, required: true, enum: CONSENT_GIVERS },
    guardianName: nullableString,
    recordedBy: requiredString,
    givenAt: { type: Date, required: true },
    withdrawnAt: nullableDate,
    withdrawnBy: nullableString,
  },
  { ...base, collection: 'consents' },
);
consentSchema.index({ orgId: 1, userId: 1, purpose: 1, givenAt: 1 }, { name: 'org_user_purpose' });

export interface OneRosterObjectDoc {
  /** `${orgId}:${kind}:${sourcedId}`: the natural key, so a put is one upsert. */
  _id: string;
  orgId: string;
  kind: 'org' | 'academicSession' | 'class' | 'user';
  sourcedId: string;
  entityId: string | null;
  /** entityId, or `_id` when there is none: unique without a partial index (FerretDB 1.x has none). */
  entityKey: string;
  data: Record<string, string>;
  updatedAt: Date;
}

export const oneRosterObjectSchema = new Schema<OneRosterObjectDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    kind: { type: String, required: true, enum: ['org', 'academicSession', 'class', 'user'] },
    sourcedId: requiredString,
    entityId: nullableString,
    entityKey: requiredString,
    data: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'onerosterObjects', minimize: false },
);
oneRosterObjectSchema.index({ orgId: 1, kind: 1, sourcedId: 1 }, { name: 'org_kind_sourced', unique: true });
// One sourcedId per local entity of a kind.
oneRosterObjectSchema.index({ orgId: 1, kind: 1, entityKey: 1 }, { name: 'oneroster', unique: true });

export interface ExcuseDoc {
  _id: string;
  orgId: string;
  studentId: string;
  submittedBy: string;
  subjectId: string | null;
  sessionId: string | null;
  fromDay: string;
  toDay: string;
  category: string;
  text: string;
  document: { fileName: string; contentType: ExcuseDocumentType; size: number } | null;
  /** The document's bytes; left out of every query but getDocument. */
  documentBytes: Buffer | null;
  status: ExcuseStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const excuseSchema = new Schema<ExcuseDoc>(
  {
    _id: id,
    orgId: requiredString,
    studentId: requiredString,
    submittedBy: requiredString,
    subjectId: nullableString,
    sessionId: nullableString,
    fromDay: requiredString,
    toDay: requiredString,
    category: requiredString,
    text: { type: String, default: '' },
    document: {
      type: new Schema(
        {
          fileName: requiredString,
          contentType: { type: String, required: true, enum: EXCUSE_DOCUMENT_TYPES },
          size: { type: Number, required: true, min: 0 },
        },
        { _id: false, id: false },
      ),
      default: null,
    },
    documentBytes: { type: Buffer, default: null },
    status: { type: String, required: true, enum: EXCUSE_STATUSES },
    decidedBy: nullableString,
    decidedAt: nullableDate,
    decisionNote: nullableString,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'excuses' },
);
excuseSchema.index({ orgId: 1, studentId: 1, createdAt: -1 }, { name: 'org_student_created' });
excuseSchema.index({ orgId: 1, subjectId: 1, createdAt: -1 }, { name: 'org_subject_created' });

export interface GuardianDoc {
  /** `orgId:studentId`: one document per student. */
  _id: string;
  orgId: string;
  studentId: string;
  contacts: Array<{ name: string; relation: string; email: string; language: string }>;
  /** `<category>:<email key>` of each unsubscribe; absent on documents written before guardians could unsubscribe. */
  unsubscribed?: string[];
  updatedAt: Date;
}

export const guardianSchema = new Schema<GuardianDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    studentId: requiredString,
    contacts: {
      type: [
        new Schema(
          { name: requiredString, relation: requiredString, email: requiredString, language: requiredString },
          { _id: false, id: false },
        ),
      ],
      default: [],
    },
    unsubscribed: { type: [String], default: undefined },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'guardians' },
);
export type AlertRuleDoc = Doc<AlertRule>;

export const alertRuleSchema = new Schema<AlertRuleDoc>(
  {
    _id: id,
    orgId: requiredString,
    kind: { type: String, required: true, enum: ALERT_RULE_KINDS },
    count: { type: Number, required: true },
    thresholdPct: { type: Number, default: null },
    windowDays: { type: Number, default: null },
    createdAt: { type: Date, required: true },
  },
  { ...base, collection: 'alertRules' },
);
alertRuleSchema.index({ orgId: 1, createdAt: 1 }, { name: 'org_created' });

/** Whether a rule is crossed for one (subject, student); `_id` is `orgId|ruleId|subjectId|studentId`. */
export interface AlertStateDoc {
  _id: string;
  orgId: string;
  ruleId: string;
  firing: boolean;
}

export const alertStateSchema = new Schema<AlertStateDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    ruleId: requiredString,
    firing: { type: Boolean, required: true },
  },
  { ...base, collection: 'alertStates' },
);
alertStateSchema.index({ orgId: 1, ruleId: 1 }, { name: 'org_rule' });

export type NotificationDoc = Doc<Notification>;

export const notificationSchema = new Schema<NotificationDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    category: { type: String, required: true, enum: NOTIFICATION_CATEGORIES },
    alert: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    readAt: nullableDate,
  },
  { ...base, collection: 'notifications' },
);
notificationSchema.index({ orgId: 1, userId: 1, createdAt: -1 }, { name: 'org_user_created' });

export interface NotificationPreferenceDoc {
  /** `orgId|userId`. */
  _id: string;
  orgId: string;
  userId: string;
  language: EmailLanguage;
  unsubscribed: EmailCategory[];
  updatedAt: Date;
}

export const notificationPreferenceSchema = new Schema<NotificationPreferenceDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    userId: requiredString,
    language: { type: String, required: true, enum: EMAIL_LANGUAGES },
    unsubscribed: { type: [String], enum: EMAIL_CATEGORIES, default: [] },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'notificationPreferences' },
);

export type OutboxDoc = Doc<OutboxMail>;

export const outboxSchema = new Schema<OutboxDoc>(
  {
    _id: id,
    orgId: requiredString,
    category: { type: String, required: true, enum: EMAIL_CATEGORIES },
    to: requiredString,
    subject: requiredString,
    text: requiredString,
    html: requiredString,
    headers: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, required: true, enum: OUTBOX_STATUSES },
    attempts: { type: Number, required: true },
    lastError: nullableString,
    nextAttemptAt: { type: Date, required: true },
    claimedBy: nullableString,
    claimUntil: nullableDate,
    createdAt: { type: Date, required: true },
    sentAt: nullableDate,
  },
  { ...base, collection: 'outbox', minimize: false },
);
outboxSchema.index({ status: 1, nextAttemptAt: 1 }, { name: 'due' });
outboxSchema.index({ orgId: 1, createdAt: -1 }, { name: 'org_created' });
