import { Schema } from 'mongoose';
import { POLICY_CHECKS, POLICY_PRESETS } from '../../shared/policy-presets.js';
import { TIMETABLE_OPEN_MODES, type TeacherDefaultPolicy } from '../../domain/ports/timetable.js';
import type { ClassroomLocation } from '../../domain/ports/subjects.js';
import { base, id, requiredString } from './common-schemas.js';
import { locationSchema } from './subject-schemas.js';

// Timetable documents (docs/timetable.md); the conventions of common-schemas.ts.

/** A term or a holiday: a named inclusive range of calendar days. */
export interface DayRangeDoc {
  _id: string;
  orgId: string;
  name: string;
  startDay: string;
  endDay: string;
  createdAt: Date;
}

const dayRangeFields = {
  _id: id,
  orgId: requiredString,
  name: requiredString,
  startDay: requiredString,
  endDay: requiredString,
  createdAt: { type: Date, required: true },
};

export const termSchema = new Schema<DayRangeDoc>(dayRangeFields, { ...base, collection: 'terms' });
termSchema.index({ orgId: 1, startDay: 1 }, { name: 'org_start' });
export const holidaySchema = new Schema<DayRangeDoc>(dayRangeFields, { ...base, collection: 'holidays' });
holidaySchema.index({ orgId: 1, startDay: 1 }, { name: 'org_start' });

export interface MeetingDoc {
  _id: string;
  orgId: string;
  subjectId: string;
  termId: string;
  weekday: number;
  startTime: string;
  endTime: string;
  teacherId: string | null;
  preset: string | null;
  /** Absent on meetings stored before rooms: the subject's. */
  location?: ClassroomLocation | null;
  allowedIpRanges?: string[];
  /** Absent on meetings stored before migration 19 (which backfills it): 0. */
  revision?: number;
  /**
   * meetingNaturalKey of its fields, kept with every write of them: unique in the organisation,
   * so that of two equal adds at once one is stored (absent before migration 26, which backfills it).
   */
  naturalKey?: string;
  createdAt: Date;
}

export const meetingSchema = new Schema<MeetingDoc>(
  {
    _id: id,
    orgId: requiredString,
    subjectId: requiredString,
    termId: requiredString,
    weekday: { type: Number, required: true, min: 1, max: 7 },
    startTime: requiredString,
    endTime: requiredString,
    teacherId: { type: String, default: null },
    preset: { type: String, default: null, enum: [...POLICY_PRESETS, null] },
    location: { type: locationSchema, default: null },
    allowedIpRanges: { type: [String], default: [] },
    revision: { type: Number, default: 0 },
    naturalKey: { type: String },
    createdAt: { type: Date, required: true },
  },
  { ...base, collection: 'meetings' },
);
meetingSchema.index({ orgId: 1, subjectId: 1 }, { name: 'org_subject' });
// Partial: MongoDB indexes a missing field as null, and meetings written before migration 26 (or
// by the previous release during a rolling deploy) have none.
meetingSchema.index(
  { orgId: 1, naturalKey: 1 },
  { name: 'meeting', unique: true, partialFilterExpression: { naturalKey: { $exists: true } } },
);

/** `_id` is `${meetingId}/${day}`: the key that makes a timetable session be created once. */
export interface OccurrenceDoc {
  _id: string;
  orgId: string;
  meetingId: string;
  day: string;
  subjectId: string;
  state: 'claimed' | 'created' | 'cancelled';
  sessionId: string | null;
  updatedAt: Date;
}

export const occurrenceSchema = new Schema<OccurrenceDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    meetingId: requiredString,
    day: requiredString,
    subjectId: requiredString,
    state: { type: String, required: true, enum: ['claimed', 'created', 'cancelled'] },
    sessionId: { type: String, default: null },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'occurrences' },
);
occurrenceSchema.index({ orgId: 1, meetingId: 1, day: 1 }, { name: 'org_meeting_day' });

/** `_id` is `${orgId}/${userId}`. The session defaults are absent on documents written before them: unset. */
export interface TeacherSettingsDoc {
  _id: string;
  orgId: string;
  userId: string;
  timetableOpen: string;
  defaultPolicy?: TeacherDefaultPolicy;
  lateGraceMinutes?: number | null;
  codePeriodS?: number | null;
}

export const teacherSettingsSchema = new Schema<TeacherSettingsDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    userId: requiredString,
    timetableOpen: { type: String, required: true, enum: [...TIMETABLE_OPEN_MODES] },
    defaultPolicy: {
      type: new Schema(
        {
          preset: { type: String, enum: [...POLICY_PRESETS] },
          ...Object.fromEntries(POLICY_CHECKS.map((check) => [check, Boolean])),
          maxAttempts: { type: Number, min: 1 },
        },
        { _id: false, id: false },
      ),
      default: () => ({}),
    },
    lateGraceMinutes: { type: Number, default: null, min: 0 },
    codePeriodS: { type: Number, default: null, min: 1 },
  },
  { ...base, collection: 'teacherSettings' },
);
