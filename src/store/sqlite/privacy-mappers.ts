import { type Consent, CONSENT_GIVERS, CONSENT_PURPOSES } from '../../domain/ports/privacy.js';
import { date, dateOrNull, ms, msOrNull, oneOf, str, strOrNull, type TableSpec } from './common-mappers.js';

// Rows of consents; TableSpec and the column readers are in common-mappers.ts.

const consentPurpose = oneOf(CONSENT_PURPOSES, 'consents.purpose');
const consentGiver = oneOf(CONSENT_GIVERS, 'consents.given_by');

export const consents: TableSpec<Consent> = {
  table: 'consents',
  columns: [
    'id',
    'org_id',
    'user_id',
    'purpose',
    'text_version',
    'given_by',
    'guardian_name',
    'recorded_by',
    'given_at',
    'withdrawn_at',
    'withdrawn_by',
  ],
  key: ['id'],
  toRow: (c) => ({
    id: c.id,
    org_id: c.orgId,
    user_id: c.userId,
    purpose: c.purpose,
    text_version: c.textVersion,
    given_by: c.givenBy,
    guardian_name: c.guardianName,
    recorded_by: c.recordedBy,
    given_at: ms(c.givenAt),
    withdrawn_at: msOrNull(c.withdrawnAt),
    withdrawn_by: c.withdrawnBy,
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    userId: str(r.user_id),
    purpose: consentPurpose(r.purpose),
    textVersion: str(r.text_version),
    givenBy: consentGiver(r.given_by),
    guardianName: strOrNull(r.guardian_name),
    recordedBy: str(r.recorded_by),
    givenAt: date(r.given_at),
    withdrawnAt: dateOrNull(r.withdrawn_at),
    withdrawnBy: strOrNull(r.withdrawn_by),
  }),
};
