import type { Connection, Model } from 'mongoose';
import type { CollectionName } from '../../domain/ports/transfer.js';
import { auditSchema, type AuditDoc } from './audit-schemas.js';
import { enrolmentSchema, subjectSchema, type EnrolmentDoc, type SubjectDoc } from './subject-schemas.js';
import { faceProposalSchema, faceSchema, type FaceDoc, type FaceProposalDoc } from './face-schemas.js';
import {
  organisationSchema,
  standingVersionSchema,
  userSchema,
  type OrganisationDoc,
  type StandingVersionDoc,
  type UserDoc,
} from './organisation-schemas.js';
import { recordSchema, summarySchema, type RecordDoc, type SummaryDoc } from './record-schemas.js';
import { refreshTokenSchema, type RefreshTokenDoc, accountTokenSchema, type AccountTokenDoc } from './account-schemas.js';
import { sessionSchema, type SessionDoc } from './session-schemas.js';
import { jobSchema, type JobDoc } from './job-schemas.js';
import { consentSchema, type ConsentDoc } from './privacy-schemas.js';
import { excuseSchema, type ExcuseDoc } from './excuse-schemas.js';
import { guardianSchema, type GuardianDoc } from './guardian-schemas.js';
import { oneRosterObjectSchema, type OneRosterObjectDoc } from './oneroster-schemas.js';
import {
  alertRuleSchema,
  type AlertRuleDoc,
  alertStateSchema,
  type AlertStateDoc,
  notificationSchema,
  type NotificationDoc,
  notificationPreferenceSchema,
  type NotificationPreferenceDoc,
} from './alert-schemas.js';
import { outboxSchema, type OutboxDoc } from './outbox-schemas.js';
import {
  holidaySchema,
  meetingSchema,
  occurrenceSchema,
  teacherSettingsSchema,
  termSchema,
  type DayRangeDoc,
  type MeetingDoc,
  type OccurrenceDoc,
  type TeacherSettingsDoc,
} from './timetable-schemas.js';
import {
  webhookAttemptSchema,
  webhookCounterSchema,
  webhookDeliverySchema,
  webhookEndpointSchema,
  type WebhookAttemptDoc,
  type WebhookCounterDoc,
  type WebhookDeliveryDoc,
  type WebhookEndpointDoc,
} from './webhook-schemas.js';

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
  consents: ConsentDoc;
  terms: DayRangeDoc;
  holidays: DayRangeDoc;
  meetings: MeetingDoc;
  occurrences: OccurrenceDoc;
  accountTokens: AccountTokenDoc;
  teacherSettings: TeacherSettingsDoc;
  excuses: ExcuseDoc;
  guardians: GuardianDoc;
  onerosterObjects: OneRosterObjectDoc;
  alertRules: AlertRuleDoc;
  alertStates: AlertStateDoc;
  notifications: NotificationDoc;
  notificationPreferences: NotificationPreferenceDoc;
  outbox: OutboxDoc;
  webhookEndpoints: WebhookEndpointDoc;
  webhookDeliveries: WebhookDeliveryDoc;
  webhookAttempts: WebhookAttemptDoc;
}

/** The transferable collections, and those no copy carries (UNTRANSFERRED in src/domain/ports/transfer.ts). */
export type Models = { [C in CollectionName]: Model<CollectionDoc[C]> } & {
  jobs: Model<JobDoc>;
  webhookCounters: Model<WebhookCounterDoc>;
  standingVersions: Model<StandingVersionDoc>;
};

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
  consents: consentSchema,
  terms: termSchema,
  holidays: holidaySchema,
  meetings: meetingSchema,
  occurrences: occurrenceSchema,
  accountTokens: accountTokenSchema,
  teacherSettings: teacherSettingsSchema,
  excuses: excuseSchema,
  guardians: guardianSchema,
  onerosterObjects: oneRosterObjectSchema,
  alertRules: alertRuleSchema,
  alertStates: alertStateSchema,
  notifications: notificationSchema,
  notificationPreferences: notificationPreferenceSchema,
  outbox: outboxSchema,
  webhookEndpoints: webhookEndpointSchema,
  webhookDeliveries: webhookDeliverySchema,
  webhookAttempts: webhookAttemptSchema,
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
    consents: conn.model<ConsentDoc>('Consent', consentSchema),
    accountTokens: conn.model<AccountTokenDoc>('AccountToken', accountTokenSchema),
    jobs: conn.model<JobDoc>('Job', jobSchema),
    excuses: conn.model<ExcuseDoc>('Excuse', excuseSchema),
    guardians: conn.model<GuardianDoc>('Guardian', guardianSchema),
    terms: conn.model<DayRangeDoc>('Term', termSchema),
    holidays: conn.model<DayRangeDoc>('Holiday', holidaySchema),
    meetings: conn.model<MeetingDoc>('Meeting', meetingSchema),
    occurrences: conn.model<OccurrenceDoc>('Occurrence', occurrenceSchema),
    teacherSettings: conn.model<TeacherSettingsDoc>('TeacherSettings', teacherSettingsSchema),
    webhookEndpoints: conn.model<WebhookEndpointDoc>('WebhookEndpoint', webhookEndpointSchema),
    webhookDeliveries: conn.model<WebhookDeliveryDoc>('WebhookDelivery', webhookDeliverySchema),
    webhookAttempts: conn.model<WebhookAttemptDoc>('WebhookAttempt', webhookAttemptSchema),
    webhookCounters: conn.model<WebhookCounterDoc>('WebhookCounter', webhookCounterSchema),
    standingVersions: conn.model<StandingVersionDoc>('StandingVersion', standingVersionSchema),
    onerosterObjects: conn.model<OneRosterObjectDoc>('OneRosterObject', oneRosterObjectSchema),
    alertRules: conn.model<AlertRuleDoc>('AlertRule', alertRuleSchema),
    alertStates: conn.model<AlertStateDoc>('AlertState', alertStateSchema),
    notifications: conn.model<NotificationDoc>('Notification', notificationSchema),
    notificationPreferences: conn.model<NotificationPreferenceDoc>('NotificationPreference', notificationPreferenceSchema),
    outbox: conn.model<OutboxDoc>('Outbox', outboxSchema),
  };
}

const NOT_IMPLEMENTED = 238;

/** Index options some servers answer NotImplemented to (FerretDB 1.x): the index is built without them. */
const OPTIONAL_INDEX_OPTIONS = ['expireAfterSeconds', 'partialFilterExpression'] as const;

function isNotImplemented(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === NOT_IMPLEMENTED;
}

/**
 * Builds every declared index. `createIndex` rather than `syncIndexes`: it never drops an
 * index, so a replica still running the previous release keeps the indexes it relies on
 * during a rolling deploy; stale indexes are removed by hand. A server that has no TTL or no
 * partial indexes (it answers NotImplemented, as FerretDB 1.x does) gets the same index without
 * that option: expired tokens then stay until the token purge job, and a partial index holds
 * every document (docs/mongodb.md). Resolves to the names (`collection.index`) of the indexes
 * built without an option they declare.
 */
export async function buildIndexes(models: Models): Promise<string[]> {
  const reduced: string[] = [];
  for (const model of Object.values(models) as unknown as Array<Pick<Model<unknown>, 'schema' | 'collection'>>) {
    // createIndex also creates the collection when it is missing.
    for (const [fields, declared] of model.schema.indexes()) {
      const options = { ...declared } as Record<string, unknown>;
      try {
        await model.collection.createIndex(fields as Record<string, 1 | -1>, options);
      } catch (err) {
        if (!isNotImplemented(err) || !OPTIONAL_INDEX_OPTIONS.some((o) => options[o] !== undefined)) throw err;
        for (const o of OPTIONAL_INDEX_OPTIONS) delete options[o];
        await model.collection.createIndex(fields as Record<string, 1 | -1>, options);
        reduced.push(`${model.collection.collectionName}.${String(options['name'])}`);
      }
    }
  }
  return reduced;
}
