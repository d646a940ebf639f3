import { Schema } from 'mongoose';
import type { AttendanceRecord } from '../../domain/ports/records.js';
import type { DailySummary } from '../../domain/ports/summaries.js';
import { RECORD_STATES, VERIFICATION_BANDS, VERIFICATION_STATES } from '../../shared/events.js';
import { REASON_CODES } from '../../shared/reasons.js';
import { base, DAY, type Doc, id, type KeyedDoc, nullableDate, nullableString, requiredString } from './common-schemas.js';

// Attendance records and the daily summaries counted from them; the conventions of common-schemas.ts.

/**
 * `sessionStartsAt` is the record's session's start, kept on the record so that a student's
 * history is one indexed range read (student-history.ts); null while its session is unknown.
 */
export type RecordDoc = Doc<AttendanceRecord> & { sessionStartsAt?: Date | null };

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
    // A copy of the session's startsAt: written with the record, rewritten on the session's
    // records whenever its start moves (session-starts.ts), backfilled by migration 17.
    sessionStartsAt: nullableDate,
    // Below 0 only between a batch's insert and its stamp (record-batch.ts); read as 0.
    rosterVersion: { type: Number, required: true, default: 0 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'records' },
);
recordSchema.index({ sessionId: 1, studentId: 1 }, { unique: true, name: 'record' });
recordSchema.index({ orgId: 1, sessionId: 1, rosterVersion: 1 }, { name: 'org_session_roster' });
// A student's history, newest session first, ties by record id: a page is a range of it.
recordSchema.index({ orgId: 1, studentId: 1, sessionStartsAt: -1, _id: -1 }, { name: 'org_student_session_start' });

// The records whose selfie verification is still queued (a handful at any time), oldest
// submission first: the once-a-minute search for verifications lost with their node reads them
// here rather than every record of the last day's sessions (migration 22). Partial on MongoDB; a
// server without partial indexes (FerretDB 1.x) gets it whole (buildIndexes), which still serves
// the query by its equality prefix.
export const QUEUED_VERIFICATION_FILTER = { status: 'pending', 'verification.state': 'queued' } as const;
recordSchema.index(
  { status: 1, 'verification.state': 1, submittedAt: 1, _id: 1 },
  { name: 'verification_queued', partialFilterExpression: QUEUED_VERIFICATION_FILTER },
);

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
