/**
 * Organisations and their settings (session defaults, retention, absence categories).
 * The conventions of every port are in ./store.ts.
 */

import { isLanguage, SOURCE_LANGUAGE, type Language } from '../../shared/i18n/languages.js';
import type { DefaultPolicy } from '../../shared/policy.js';
import type { Page, PageQuery } from './common.js';

export interface Organisation {
  id: string;
  name: string;
  /** URL-safe unique handle used at login when an email and password open accounts in several organisations. */
  slug: string;
  /** IANA time zone of its calendar days (daily summaries), pages and exports. */
  timezone: string;
  /** A deactivated organisation's users cannot log in and their requests are refused. */
  active: boolean;
  settings: OrganisationSettings;
  createdAt: Date;
}

/**
 * Session defaults the organisation's admin sets. null (or an unset policy field) falls back
 * to the server's default: the configuration, or the built-in session window.
 */
export interface OrganisationSettings {
  /** Minutes from the start to the automatic close when the teacher gives no closing time. */
  sessionMinutes: number | null;
  /** Minutes after the start before a check-in counts late, when the teacher gives no time. */
  lateGraceMinutes: number | null;
  /** Rotating-code period in seconds, when the teacher gives none. */
  codePeriodS: number | null;
  defaultPolicy: DefaultPolicy;
  /** One device checking in several accounts of a session: flag it for the teacher, or refuse it. */
  sharedDevice: SharedDeviceRule;
  /** How long check-in details are kept (the retention job, src/domain/privacy/retention.ts). */
  retention: RetentionSettings;
  /** Attendance percentage under which reports list a subject or student at risk. */
  riskThreshold: number;
  /** Categories of excused absences (docs/absences.md); unset: DEFAULT_ABSENCE_CATEGORIES (absenceCategoriesOf). */
  absenceCategories?: AbsenceCategory[];
  /** At-risk alerts also go to the student concerned, in-app and by email (docs/notifications.md); absent: off. */
  notifyStudent?: true;
  /** At-risk alerts also go by email to the student's guardian contacts; absent: off. */
  notifyGuardians?: true;
  /** Default language of its emails and pages (a shipped catalog); a user's own choice wins. Absent: English. */
  language?: Language;
}

/** The at-risk threshold of an organisation that sets none, in percent. */
export const DEFAULT_RISK_THRESHOLD = 75;

/** A kind of absence a school distinguishes; `code` is what records, summaries and exports carry. */
export interface AbsenceCategory {
  code: string;
  label: string;
  /** Authorised absences (illness, school trip) as opposed to unauthorised ones. */
  authorised: boolean;
}

export const DEFAULT_ABSENCE_CATEGORIES: readonly AbsenceCategory[] = Object.freeze([
  { code: 'MEDICAL', label: 'Medical', authorised: true },
  { code: 'SCHOOL_TRIP', label: 'School trip', authorised: true },
  { code: 'UNAUTHORISED', label: 'Unauthorised', authorised: false },
]);

/** `never`: a check-in keeps its distance and result, never the device's coordinates. */
export const LOCATION_MODES = ['keep', 'never'] as const;
export type LocationMode = (typeof LOCATION_MODES)[number];

/** Days are counted from the close of the record's session; 0 means at the first run after it. */
export interface RetentionSettings {
  /** Selfie embeddings kept on records for the anti-proxy check. */
  probeDays: number;
  /** Exact coordinates of check-ins; the distance and the in/out result stay. */
  locationDays: number;
  locationMode: LocationMode;
  /** Check-in addresses, then kept as their network (IPv4 /24, IPv6 /48). */
  ipDays: number;
}

export const DEFAULT_RETENTION: RetentionSettings = Object.freeze({ probeDays: 7, locationDays: 30, locationMode: 'keep', ipDays: 30 });

export const SHARED_DEVICE_RULES = ['flag', 'refuse'] as const;
export type SharedDeviceRule = (typeof SHARED_DEVICE_RULES)[number];

export const NO_ORGANISATION_SETTINGS: OrganisationSettings = Object.freeze({
  sessionMinutes: null,
  lateGraceMinutes: null,
  codePeriodS: null,
  defaultPolicy: Object.freeze({}),
  sharedDevice: 'flag',
  retention: DEFAULT_RETENTION,
  riskThreshold: DEFAULT_RISK_THRESHOLD,
}) as OrganisationSettings;

/** The organisation's absence categories, or the defaults when it set none. */
export function absenceCategoriesOf(settings: OrganisationSettings): AbsenceCategory[] {
  const own = settings.absenceCategories;
  return (own && own.length > 0 ? own : DEFAULT_ABSENCE_CATEGORIES).map((c) => ({
    code: c.code,
    label: c.label,
    authorised: c.authorised,
  }));
}

/** Settings read back from storage: missing fields (an older row or document) are unset. */
export function normaliseSettings(raw: Partial<OrganisationSettings> | null | undefined): OrganisationSettings {
  const policy: DefaultPolicy = {};
  for (const [k, v] of Object.entries(raw?.defaultPolicy ?? {})) {
    if (v !== undefined && v !== null) (policy as Record<string, unknown>)[k] = v;
  }
  return {
    sessionMinutes: raw?.sessionMinutes ?? null,
    lateGraceMinutes: raw?.lateGraceMinutes ?? null,
    codePeriodS: raw?.codePeriodS ?? null,
    defaultPolicy: policy,
    sharedDevice: raw?.sharedDevice === 'refuse' ? 'refuse' : 'flag',
    retention: {
      probeDays: raw?.retention?.probeDays ?? DEFAULT_RETENTION.probeDays,
      locationDays: raw?.retention?.locationDays ?? DEFAULT_RETENTION.locationDays,
      locationMode: raw?.retention?.locationMode === 'never' ? 'never' : 'keep',
      ipDays: raw?.retention?.ipDays ?? DEFAULT_RETENTION.ipDays,
    },
    ...(raw?.absenceCategories?.length
      ? { absenceCategories: raw.absenceCategories.map((c) => ({ code: c.code, label: c.label, authorised: c.authorised })) }
      : {}),
    riskThreshold: raw?.riskThreshold ?? DEFAULT_RISK_THRESHOLD,
    ...(raw?.notifyStudent === true ? { notifyStudent: true as const } : {}),
    ...(raw?.notifyGuardians === true ? { notifyGuardians: true as const } : {}),
    // A catalog no longer shipped reads as unset (English) rather than failing the organisation.
    ...(isLanguage(raw?.language) && raw.language !== SOURCE_LANGUAGE ? { language: raw.language } : {}),
  };
}

/** The organisation's default language for emails and pages. */
export function organisationLanguage(settings: Pick<OrganisationSettings, 'language'>): Language {
  return settings.language ?? SOURCE_LANGUAGE;
}

export type NewOrganisation = Pick<Organisation, 'name' | 'slug' | 'timezone'> & Partial<Pick<Organisation, 'active' | 'settings'>>;
export type OrganisationPatch = Partial<Pick<Organisation, 'name' | 'timezone' | 'active' | 'settings'>>;

export interface OrganisationRepository {
  /** Active, with no settings, unless the input says otherwise. Throws StoreConflictError('slug'). */
  create(input: NewOrganisation): Promise<Organisation>;
  get(id: string): Promise<Organisation | null>;
  getBySlug(slug: string): Promise<Organisation | null>;
  /** System-wide, ordered by slug. */
  list(page: PageQuery): Promise<Page<Organisation>>;
  /** Replaces the given fields (settings as a whole); null when there is no such organisation. */
  update(id: string, patch: OrganisationPatch): Promise<Organisation | null>;
  count(): Promise<number>;
}
