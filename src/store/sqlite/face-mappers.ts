import type { FaceEnrolment, FaceProposal } from '../../domain/ports/faces.js';
import { date, ms, parse, str, type TableSpec } from './common-mappers.js';

// Rows of reference faces and face proposals; TableSpec and the column readers are in common-mappers.ts.

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
