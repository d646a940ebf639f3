import { Schema } from 'mongoose';
import { type Consent, CONSENT_GIVERS, CONSENT_PURPOSES } from '../../domain/ports/privacy.js';
import { base, type Doc, id, nullableDate, nullableString, requiredString } from './common-schemas.js';

// Consents; the conventions of common-schemas.ts.

export type ConsentDoc = Doc<Consent>;

export const consentSchema = new Schema<ConsentDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    purpose: { type: String, required: true, enum: CONSENT_PURPOSES },
    textVersion: requiredString,
    givenBy: { type: String, required: true, enum: CONSENT_GIVERS },
    guardianName: nullableString,
    recordedBy: requiredString,
    givenAt: { type: Date, required: true },
    withdrawnAt: nullableDate,
    withdrawnBy: nullableString,
  },
  { ...base, collection: 'consents' },
);
consentSchema.index({ orgId: 1, userId: 1, purpose: 1, givenAt: 1 }, { name: 'org_user_purpose' });
