import { LANGUAGES, type Language } from './i18n/languages.js';

/**
 * Alert rules an organisation can set (docs/notifications.md):
 * - `consecutive-absences`: the student's last `count` settled sessions of a subject were all missed;
 * - `low-attendance`: attendance under `thresholdPct` over the last `windowDays` days (once at least `count` sessions were held);
 * - `repeated-lateness`: at least `count` late arrivals in the last `windowDays` days.
 */
export const ALERT_RULE_KINDS = ['consecutive-absences', 'low-attendance', 'repeated-lateness'] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];

/** Kinds of in-app notification a user receives. */
export const NOTIFICATION_CATEGORIES = ['alert'] as const;
export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number];

/** Kinds of email; a user unsubscribes from each on its own (the link in every email). */
export const EMAIL_CATEGORIES = ['alert', 'digest'] as const;
export type EmailCategory = (typeof EMAIL_CATEGORIES)[number];

/**
 * Kinds of email in the outbox: the notification categories, plus the account emails
 * (an invitation, a password reset the user asked for, one an admin sent), whose
 * set-password link is made at each attempt.
 */
export const ACCOUNT_EMAIL_CATEGORIES = ['invitation', 'reset', 'admin-reset'] as const;
export type AccountEmailCategory = (typeof ACCOUNT_EMAIL_CATEGORIES)[number];
export const OUTBOX_CATEGORIES = [...EMAIL_CATEGORIES, ...ACCOUNT_EMAIL_CATEGORIES] as const;
export type OutboxCategory = (typeof OUTBOX_CATEGORIES)[number];
/**
 * Emails a person is waiting for at the screen (a reset they asked for, or one an admin sent
 * them): claimed before every other due email, so that a bulk invitation queued under
 * MAIL_MAX_PER_MINUTE does not hold them back for the time it takes to drain.
 */
export const URGENT_OUTBOX_CATEGORIES = ['reset', 'admin-reset'] as const satisfies readonly AccountEmailCategory[];
export const isAccountEmailCategory = (c: OutboxCategory): c is AccountEmailCategory =>
  (ACCOUNT_EMAIL_CATEGORIES as readonly string[]).includes(c);

/** Languages of emails: the shipped catalogs (a user's preference, else the organisation's language). */
export const EMAIL_LANGUAGES = LANGUAGES;
export type EmailLanguage = Language;

/** What an alert says: which rule crossed, for whom, in which subject, with the value seen. */
export interface AlertPayload {
  ruleId: string;
  rule: AlertRuleKind;
  subjectId: string;
  subjectCode: string;
  subjectName: string;
  studentId: string;
  studentName: string;
  count: number;
  thresholdPct: number | null;
  windowDays: number | null;
  /** The value that crossed: absences in a row, attendance percentage, or lates in the window. */
  observed: number;
}

/** One entry of a user's notification list, as the API and the socket send it. */
export interface NotificationView {
  id: string;
  category: NotificationCategory;
  alert: AlertPayload;
  createdAt: string;
  readAt: string | null;
}
