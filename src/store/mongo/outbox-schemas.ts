import { Schema } from 'mongoose';
import { OUTBOX_STATUSES, type OutboxMail } from '../../domain/ports/outbox.js';
import { OUTBOX_CATEGORIES } from '../../shared/alerts.js';
import { base, type Doc, id, nullableDate, nullableString, requiredString } from './common-schemas.js';

// The email outbox; the conventions of common-schemas.ts.

export type OutboxDoc = Doc<OutboxMail>;

export const outboxSchema = new Schema<OutboxDoc>(
  {
    _id: id,
    orgId: requiredString,
    category: { type: String, required: true, enum: OUTBOX_CATEGORIES },
    userId: nullableString,
    to: requiredString,
    subject: requiredString,
    text: requiredString,
    html: requiredString,
    headers: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, required: true, enum: OUTBOX_STATUSES },
    attempts: { type: Number, required: true },
    lastError: nullableString,
    nextAttemptAt: { type: Date, required: true },
    claimedBy: nullableString,
    claimUntil: nullableDate,
    createdAt: { type: Date, required: true },
    sentAt: nullableDate,
  },
  { ...base, collection: 'outbox', minimize: false },
);
outboxSchema.index({ status: 1, nextAttemptAt: 1 }, { name: 'due' });
outboxSchema.index({ orgId: 1, createdAt: -1 }, { name: 'org_created' });
