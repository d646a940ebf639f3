import { Schema } from 'mongoose';
import type { FaceEnrolment, FaceProposal } from '../../domain/ports/faces.js';
import { base, type KeyedDoc, requiredString } from './common-schemas.js';

// Reference faces: enrolments and pending proposals; the conventions of common-schemas.ts.

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
