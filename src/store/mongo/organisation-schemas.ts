import { Schema } from 'mongoose';
import { LOCATION_MODES, type Organisation, type OrganisationSettings, SHARED_DEVICE_RULES } from '../../domain/ports/organisations.js';
import type { User } from '../../domain/ports/users.js';
import { ROLES } from '../../shared/events.js';
import { POLICY_CHECKS } from '../../shared/policy-presets.js';
import { LANGUAGES } from '../../shared/i18n/languages.js';
import { base, type Doc, id, nullableString, requiredString } from './common-schemas.js';

// Organisations with their settings, and their users; the conventions of common-schemas.ts.

export type OrganisationDoc = Omit<Doc<Organisation>, 'active' | 'settings'> & {
  /** Absent on documents written before organisations could be deactivated: active. */
  active?: boolean;
  /** Absent or partial on older documents: the missing settings are unset. */
  settings?: Partial<OrganisationSettings>;
};

const organisationSettingsSchema = new Schema(
  {
    sessionMinutes: { type: Number, default: null, min: 1 },
    lateGraceMinutes: { type: Number, default: null, min: 0 },
    codePeriodS: { type: Number, default: null, min: 1 },
    defaultPolicy: {
      type: new Schema(
        {
          ...Object.fromEntries(POLICY_CHECKS.map((check) => [check, Boolean])),
          maxAttempts: { type: Number, min: 1 },
        },
        { _id: false, id: false },
      ),
      default: () => ({}),
    },
    sharedDevice: { type: String, enum: SHARED_DEVICE_RULES, default: 'flag' },
    // Absent on older documents: normaliseSettings gives the default.
    riskThreshold: { type: Number, min: 0, max: 100 },
    // Absent on older documents: off.
    notifyStudent: { type: Boolean },
    notifyGuardians: { type: Boolean },
    // Absent: English.
    language: { type: String, enum: LANGUAGES },
    // Absent on older documents: normaliseSettings gives the defaults.
    retention: {
      type: new Schema(
        {
          probeDays: { type: Number, min: 0 },
          locationDays: { type: Number, min: 0 },
          locationMode: { type: String, enum: LOCATION_MODES },
          ipDays: { type: Number, min: 0 },
        },
        { _id: false, id: false },
      ),
      default: undefined,
    },
    absenceCategories: {
      type: [
        new Schema(
          { code: requiredString, label: requiredString, authorised: { type: Boolean, required: true } },
          { _id: false, id: false },
        ),
      ],
      default: undefined,
    },
  },
  { _id: false, id: false },
);

export const organisationSchema = new Schema<OrganisationDoc>(
  {
    _id: id,
    name: requiredString,
    slug: { type: String, required: true, match: /^[a-z0-9][a-z0-9-]*$/ },
    timezone: requiredString,
    active: { type: Boolean, default: true },
    settings: { type: organisationSettingsSchema, default: () => ({}) },
    createdAt: { type: Date, required: true },
  },
  { ...base, collection: 'organisations' },
);
organisationSchema.index({ slug: 1 }, { unique: true, name: 'slug' });

export type UserDoc = Doc<User> & {
  /** `name` lower-cased: the list's sort key (a collation would do, but not every server has one). */
  nameKey: string;
};

export const userSchema = new Schema<UserDoc>(
  {
    _id: id,
    orgId: requiredString,
    email: { type: String, required: true, lowercase: true },
    name: requiredString,
    role: { type: String, required: true, enum: ROLES },
    studentNumber: nullableString,
    passwordHash: nullableString,
    active: { type: Boolean, required: true, default: true },
    // Documents written before this field existed read as false (see toUser).
    mustChangePassword: { type: Boolean, default: false },
    // Documents written before this field existed sort first until backfilled (docs/mongodb.md, upgrading).
    nameKey: requiredString,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'users' },
);
userSchema.index({ orgId: 1, email: 1 }, { unique: true, name: 'email' });
// Login without an organisation slug looks the email up across organisations.
userSchema.index({ email: 1 }, { name: 'email_any_org' });
userSchema.index({ orgId: 1, role: 1, name: 1 }, { name: 'org_role_name' });
userSchema.index({ orgId: 1, nameKey: 1, _id: 1 }, { name: 'org_name_key' });
// users.getByStudentNumbers: an import's rows by student number, 500 a query.
userSchema.index({ orgId: 1, studentNumber: 1 }, { name: 'org_student_number' });

/** `{_id: orgId, version}`: the organisation's standing version (src/domain/ports/read-versions.ts). */
export interface StandingVersionDoc {
  _id: string;
  version: number;
}

export const standingVersionSchema = new Schema<StandingVersionDoc>(
  { _id: requiredString, version: { type: Number, required: true } },
  { ...base, collection: 'standingVersions' },
);
