import { Schema } from 'mongoose';
import { EXCUSE_DOCUMENT_TYPES, EXCUSE_STATUSES, type Excuse } from '../../domain/ports/excuses.js';
import { base, id, nullableDate, nullableString, requiredString, type Doc } from './common-schemas.js';

// Excuses for absences and their documents; the conventions of common-schemas.ts.

/**
 * An excuse as stored, with its document's bytes (left out of every query but getDocument) and its
 * pending key: pendingScopeKey while it is the student's one pending excuse of its scope, else its
 * own `_id`, so that the plain unique index `pending` holds without a partial index (FerretDB 1.x
 * has none). Missing only before migration 24.
 */
export type ExcuseDoc = Doc<Excuse> & { documentBytes: Buffer | null; pendingKey?: string };

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
    pendingKey: { type: String },
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
// Partial: excuses written before migration 24 (or by a replica of the previous release during a
// rolling deploy) have no key, and MongoDB indexes a missing field as null, so two of them in one
// organisation would refuse the unique index. FerretDB 1.x has no partial index and builds it
// whole (buildIndexes), where a missing field collides with nothing.
excuseSchema.index(
  { orgId: 1, pendingKey: 1 },
  { unique: true, name: 'pending', partialFilterExpression: { pendingKey: { $exists: true } } },
);
