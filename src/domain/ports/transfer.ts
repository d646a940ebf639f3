/**
 * Whole-collection copies between stores (SQLite to MongoDB migration, backups).
 * The conventions of every port are in ./store.ts.
 */

import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '../webhooks/webhook-ports.js';
import type { AccountToken, RefreshToken } from './accounts.js';
import type { AlertRule, AlertState } from './alerts.js';
import type { AuditEntry } from './audit.js';
import type { StoredExcuse } from './excuses.js';
import type { FaceEnrolment, FaceProposal } from './faces.js';
import type { GuardianContacts } from './guardians.js';
import type { Notification, NotificationPreferences } from './notifications.js';
import type { OneRosterObject } from './oneroster.js';
import type { Organisation } from './organisations.js';
import type { OutboxMail } from './outbox.js';
import type { Consent } from './privacy.js';
import type { AttendanceRecord } from './records.js';
import type { AttendanceSession } from './sessions.js';
import type { Enrolment, Subject } from './subjects.js';
import type { DailySummary } from './summaries.js';
import type { Holiday, Meeting, Occurrence, TeacherSettings, Term } from './timetable.js';
import type { User } from './users.js';

/**
 * Collections as the transfer API names them (SQLite to MongoDB migration, backups), in an
 * order where each comes after those it refers to. Every SQLite table and MongoDB collection is
 * one of these or named with its reason in UNTRANSFERRED (test/unit/transfer-coverage.test.ts).
 */
export const COLLECTIONS = [
  'organisations',
  'users',
  'subjects',
  'enrolments',
  'terms',
  'holidays',
  'meetings',
  'sessions',
  'occurrences',
  'records',
  'summaries',
  'audit',
  'refreshTokens',
  'accountTokens',
  'faces',
  'faceProposals',
  'consents',
  'teacherSettings',
  'excuses',
  'guardians',
  'onerosterObjects',
  'alertRules',
  'alertStates',
  'notifications',
  'notificationPreferences',
  'outbox',
  'webhookEndpoints',
  'webhookDeliveries',
  'webhookAttempts',
] as const;

export type CollectionName = (typeof COLLECTIONS)[number];

/** What no copy carries, by SQLite table or MongoDB collection, and why. */
export const UNTRANSFERRED: Readonly<Record<string, string>> = {
  jobs: 'leases of scheduled jobs: the new deployment takes them afresh',
  schema_migrations: "each store's own schema history",
  read_versions: "SQLite's change counters of the directory (its triggers): a store without them reads afresh",
  webhookCounters: "MongoDB's last delivery seq: raised by the deliveries' import",
  standingVersions: "MongoDB's standing versions (who may act): moved on by the import of users, organisations and logins",
};

export interface CollectionEntity {
  organisations: Organisation;
  users: User;
  subjects: Subject;
  enrolments: Enrolment;
  terms: Term;
  holidays: Holiday;
  meetings: Meeting;
  sessions: AttendanceSession;
  occurrences: Occurrence;
  records: AttendanceRecord;
  summaries: DailySummary;
  audit: AuditEntry;
  refreshTokens: RefreshToken;
  accountTokens: AccountToken;
  faces: FaceEnrolment;
  faceProposals: FaceProposal;
  consents: Consent;
  teacherSettings: TeacherSettings;
  excuses: StoredExcuse;
  guardians: GuardianContacts;
  onerosterObjects: OneRosterObject;
  alertRules: AlertRule;
  alertStates: AlertState;
  notifications: Notification;
  notificationPreferences: NotificationPreferences;
  outbox: OutboxMail;
  webhookEndpoints: WebhookEndpoint;
  webhookDeliveries: WebhookDelivery;
  webhookAttempts: WebhookAttempt;
}

/**
 * Whole-collection copy between stores with ids preserved. `import` is an idempotent upsert
 * on each entity's id (or natural key where it has no id), so a copy can be re-run.
 */
export interface TransferApi {
  count(collection: CollectionName): Promise<number>;
  export<C extends CollectionName>(collection: C, batchSize: number): AsyncIterable<CollectionEntity[C][]>;
  import<C extends CollectionName>(collection: C, batch: CollectionEntity[C][]): Promise<void>;
}
