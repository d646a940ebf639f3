import { Schema } from 'mongoose';
import type { Enrolment, Subject } from '../../domain/ports/subjects.js';
import { base, type Doc, id, type KeyedDoc, requiredString } from './common-schemas.js';

// Subjects, their classroom location, and enrolments; the conventions of common-schemas.ts.

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
    archivedAt: { type: Date, default: null },
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
