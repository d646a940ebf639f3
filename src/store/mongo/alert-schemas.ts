import { Schema } from 'mongoose';
import type { AlertRule } from '../../domain/ports/alerts.js';
import type { Notification } from '../../domain/ports/notifications.js';
import {
  ALERT_RULE_KINDS,
  EMAIL_CATEGORIES,
  EMAIL_LANGUAGES,
  type EmailCategory,
  type EmailLanguage,
  NOTIFICATION_CATEGORIES,
} from '../../shared/alerts.js';
import { base, type Doc, id, nullableDate, requiredString } from './common-schemas.js';

// Alert rules and their states, notifications and email preferences; the conventions of common-schemas.ts.

export type AlertRuleDoc = Doc<AlertRule>;

export const alertRuleSchema = new Schema<AlertRuleDoc>(
  {
    _id: id,
    orgId: requiredString,
    kind: { type: String, required: true, enum: ALERT_RULE_KINDS },
    count: { type: Number, required: true },
    thresholdPct: { type: Number, default: null },
    windowDays: { type: Number, default: null },
    createdAt: { type: Date, required: true },
  },
  { ...base, collection: 'alertRules' },
);
alertRuleSchema.index({ orgId: 1, createdAt: 1 }, { name: 'org_created' });

/** Whether a rule is crossed for one (subject, student); `_id` is `orgId|ruleId|subjectId|studentId`. */
export interface AlertStateDoc {
  _id: string;
  orgId: string;
  ruleId: string;
  firing: boolean;
}

export const alertStateSchema = new Schema<AlertStateDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    ruleId: requiredString,
    firing: { type: Boolean, required: true },
  },
  { ...base, collection: 'alertStates' },
);
alertStateSchema.index({ orgId: 1, ruleId: 1 }, { name: 'org_rule' });

export type NotificationDoc = Doc<Notification>;

export const notificationSchema = new Schema<NotificationDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    category: { type: String, required: true, enum: NOTIFICATION_CATEGORIES },
    alert: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
    readAt: nullableDate,
  },
  { ...base, collection: 'notifications' },
);
notificationSchema.index({ orgId: 1, userId: 1, createdAt: -1 }, { name: 'org_user_created' });

export interface NotificationPreferenceDoc {
  /** `orgId|userId`. */
  _id: string;
  orgId: string;
  userId: string;
  /** Null: the organisation's. */
  language: EmailLanguage | null;
  unsubscribed: EmailCategory[];
  updatedAt: Date;
}

export const notificationPreferenceSchema = new Schema<NotificationPreferenceDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    userId: requiredString,
    language: { type: String, default: null, enum: [...EMAIL_LANGUAGES, null] },
    unsubscribed: { type: [String], enum: EMAIL_CATEGORIES, default: [] },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'notificationPreferences' },
);
