import { Schema } from 'mongoose';
import type { AttendanceSession } from '../../domain/ports/sessions.js';
import { SESSION_STATES } from '../../shared/events.js';
import { POLICY_CHECKS } from '../../shared/policy-presets.js';
import { base, DAY, type Doc, id, nullableDate, nullableString, requiredString } from './common-schemas.js';
import { locationSchema } from './subject-schemas.js';

// Attendance sessions, their policy and room; the conventions of common-schemas.ts.

export type SessionDoc = Doc<AttendanceSession> & {
  /** Left by earlier releases' erasures, by their key; migration 16 removes them. */
  rosterClaims?: Record<string, number>;
  /** The last erasure's claim of a roster version (erase-records.ts); absent until one. */
  rosterClaim?: { token: string; version: number };
  /** Set by a move of `startsAt` until its records carry it (session-starts.ts); absent or null otherwise. */
  startMovePending?: boolean | null;
};

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
    // Earlier releases' claims by erasure key, removed by migration 16; read by it only.
    rosterClaims: { type: Schema.Types.Mixed, default: undefined },
    // The last erasure's claim, {token, version} (erase-records.ts claimRosterVersions).
    rosterClaim: { type: Schema.Types.Mixed, default: undefined },
    // A move whose records do not carry the new start yet (session-starts.ts finishSessionStart).
    startMovePending: { type: Boolean, default: undefined },
    // Absent on sessions stored before rooms: the subject's classroom, opened by hand.
    room: { type: roomSchema, default: null },
    meetingId: nullableString,
    // The meeting edit that cancelled it (AttendanceSession.meetingEdit); migration 20 set it on older sessions.
    meetingEdit: nullableString,
  },
  { ...base, collection: 'sessions' },
);
sessionSchema.index({ orgId: 1, subjectId: 1, day: 1 }, { name: 'org_subject_day' });
// The scheduler's due scan (system-wide): status then closesAt.
sessionSchema.index({ status: 1, closesAt: 1 }, { name: 'status_closes_at' });
sessionSchema.index({ orgId: 1, createdAt: -1 }, { name: 'org_created' });
// One class at a time per teacher: a teacher's open and scheduled sessions (listActiveForTeacher),
// those of a window as a range of starts (listActiveForTeacherDuring, every clash check; migration
// 28, which dropped org_teacher_status, its prefix).
sessionSchema.index({ orgId: 1, teacherId: 1, status: 1, startsAt: 1 }, { name: 'org_teacher_status_starts' });
// One session of a subject at a time: the subject's active sessions of a window (listActiveForSubjectsDuring),
// and all of them (listActiveForSubjects: a live list), without its closed ones (migration 28).
sessionSchema.index({ orgId: 1, subjectId: 1, status: 1, startsAt: 1 }, { name: 'org_subject_status_starts' });
// The organisation's upcoming classes (listScheduled): the admins' list of sessions left without a teacher (migration 27).
sessionSchema.index({ orgId: 1, status: 1, startsAt: 1, _id: 1 }, { name: 'org_status_starts' });
