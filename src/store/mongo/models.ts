import type { Connection, Model } from 'mongoose';
import type { CollectionName } from '../types.js';
import {
  auditSchema,
  enrolmentSchema,
  faceProposalSchema,
  faceSchema,
  organisationSchema,
  recordSchema,
  refreshTokenSchema,
  sessionSchema,
  subjectSchema,
  summarySchema,
  userSchema,
  type AuditDoc,
  type EnrolmentDoc,
  type FaceDoc,
  type FaceProposalDoc,
  type OrganisationDoc,
  type RecordDoc,
  type RefreshTokenDoc,
  type SessionDoc,
  type SubjectDoc,
  type SummaryDoc,
  type UserDoc,
  accountTokenSchema,
  type AccountTokenDoc,
} from './schemas.js';

/** Raw document type of each collection. */
export interface CollectionDoc {
  organisations: OrganisationDoc;
  users: UserDoc;
  subjects: SubjectDoc;
  enrolments: EnrolmentDoc;
  sessions: SessionDoc;
  records: RecordDoc;
  summaries: SummaryDoc;
  audit: AuditDoc;
  refreshTokens: RefreshTokenDoc;
  faces: FaceDoc;
  faceProposals: FaceProposalDoc;
}

/** The transferable collections, and the short-lived set-password links (never copied). */
export type Models = { [C in CollectionName]: Model<CollectionDoc[C]> } & { accountTokens: Model<AccountTokenDoc> };

/** Schema of each collection, by the transfer API's collection name. */
export const SCHEMAS = {
  organisations: organisationSchema,
  users: userSchema,
  subjects: subjectSchema,
  enrolments: enrolmentSchema,
  sessions: sessionSchema,
  records: recordSchema,
  summaries: summarySchema,
  audit: auditSchema,
  refreshTokens: refreshTokenSchema,
  faces: faceSchema,
  faceProposals: faceProposalSchema,
} as const;

/**
 * Compiles the models on a dedicated connection (never the global mongoose default), so that
 * several stores, e.g. the two ends of a migration, can live in one process.
 */
export function createModels(conn: Connection): Models {
  return {
    organisations: conn.model<OrganisationDoc>('Organisation', organisationSchema),
    users: conn.model<UserDoc>('User', userSchema),
    subjects: conn.model<SubjectDoc>('Subject', subjectSchema),
    enrolments: conn.model<EnrolmentDoc>('Enrolment', enrolmentSchema),
    sessions: conn.model<SessionDoc>('Session', sessionSchema),
    records: conn.model<RecordDoc>('Record', recordSchema),
    summaries: conn.model<SummaryDoc>('Summary', summarySchema),
    audit: conn.model<AuditDoc>('Audit', auditSchema),
    refreshTokens: conn.model<RefreshTokenDoc>('RefreshToken', refreshTokenSchema),
    faces: conn.model<FaceDoc>('Face', faceSchema),
    faceProposals: conn.model<FaceProposalDoc>('FaceProposal', faceProposalSchema),
    accountTokens: conn.model<AccountTokenDoc>('AccountToken', accountTokenSchema),
  };
}

/**
 * Builds every declared index. `createIndexes` rather than `syncIndexes`: it never drops an
 * index, so a replica still running the previous release keeps the indexes it relies on
 * during a rolling deploy; stale indexes are removed by hand.
 */
export async function buildIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models)) {
    // createIndexes also creates the collection when it is missing.
    await model.createIndexes();
  }
}
