import { StoreConflictError, type DefaultPolicy, type Page, type PageQuery } from '../ports/common.js';
import {
  LOCATION_MODES,
  type Organisation,
  type OrganisationPatch,
  type OrganisationSettings,
  type RetentionSettings,
  type SharedDeviceRule,
} from '../ports/organisations.js';
import { type Store } from '../ports/store.js';
import { requireRole, systemActor, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { audit } from '../audit-log.js';
import { canonicalTimeZone } from '../calendar.js';
import type { AuditAction } from '../../shared/audit.js';
import { POLICY_CHECKS } from '../../shared/policy-presets.js';
import type { PartialInput } from '../../shared/partial-input.js';
import { isLanguage, LANGUAGES, SOURCE_LANGUAGE, type Language } from '../../shared/i18n/languages.js';
import { issue, type IssueCode } from '../../shared/validation-issues.js';

/** What the API shows of an organisation. */
export interface OrganisationView {
  id: string;
  name: string;
  slug: string;
  timezone: string;
  active: boolean;
  settings: OrganisationSettings;
}

/** A settings change: the fields given replace the stored ones; null unsets a field. */
export interface SettingsInput {
  sessionMinutes?: number | null | undefined;
  lateGraceMinutes?: number | null | undefined;
  codePeriodS?: number | null | undefined;
  /** Replaces the whole default policy; {} unsets it. */
  defaultPolicy?: DefaultPolicy | undefined;
  sharedDevice?: SharedDeviceRule | undefined;
  /** The fields given replace the stored ones. */
  retention?: PartialInput<RetentionSettings> | undefined;
  riskThreshold?: number | undefined;
  notifyStudent?: boolean | undefined;
  notifyGuardians?: boolean | undefined;
  /** Default language of emails and pages, one of the shipped catalogs. */
  language?: Language | undefined;
}

export interface UpdateOrganisationInput {
  name?: string | undefined;
  timezone?: string | undefined;
  settings?: SettingsInput | undefined;
}

export interface CreateOrganisationInput {
  name: string;
  slug: string;
  timezone: string;
}

/** Bounds of the settings, shared by the route schemas and the checks below. */
export const SETTING_LIMITS = {
  sessionMinutes: { min: 1, max: 24 * 60 },
  lateGraceMinutes: { min: 0, max: 24 * 60 },
  codePeriodS: { min: 5, max: 600 },
  maxAttempts: { min: 1, max: 5 },
  /** Retention periods in days from the session's close. */
  retentionDays: { min: 0, max: 3650 },
  /** The at-risk threshold, in percent. */
  riskThreshold: { min: 0, max: 100 },
} as const;

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface OrganisationServiceDeps {
  store: Store;
  clock: () => Date;
}

/**
 * Organisations: their admins read and change name, time zone and session defaults over the
 * API; the operator (scripts/admin.ts) creates, renames, deactivates and lists them. Every
 * change leaves an audit entry in the organisation.
 */
export class OrganisationService {
  constructor(private readonly deps: OrganisationServiceDeps) {}

  /** Any user of the organisation. */
  async get(actor: Actor): Promise<OrganisationView> {
    return toView(await this.load(actor.orgId));
  }

  /** The organisation's admin. */
  async update(actor: Actor, input: UpdateOrganisationInput): Promise<OrganisationView> {
    requireRole(actor, 'admin');
    const before = await this.load(actor.orgId);
    const patch: OrganisationPatch = {};
    if (input.name !== undefined) patch.name = checkName(input.name);
    if (input.timezone !== undefined) patch.timezone = checkTimeZone(input.timezone);
    if (input.settings !== undefined) patch.settings = mergeSettings(before.settings, input.settings);
    return this.apply(actor, before, patch, 'organisation.update');
  }

  // ----- operator (the admin CLI); `tool` names it in the audit entries -----

  async create(tool: string, input: CreateOrganisationInput): Promise<OrganisationView> {
    const slug = input.slug.trim().toLowerCase();
    if (!SLUG_PATTERN.test(slug)) {
      throw invalid('slug', 'lower-case letters, digits and hyphens, starting with a letter or digit, at most 63');
    }
    const name = checkName(input.name);
    const timezone = checkTimeZone(input.timezone);
    let org: Organisation;
    try {
      org = await this.deps.store.organisations.create({ name, slug, timezone });
    } catch (err) {
      if (err instanceof StoreConflictError && err.key === 'slug') throw new AppError('ORGANISATION_SLUG_TAKEN');
      throw err;
    }
    await audit(this.deps.store, systemActor(org.id, tool), this.deps.clock(), {
      entityType: 'organisation',
      entityId: org.id,
      action: 'organisation.create',
      from: null,
      to: { name, slug, timezone },
    });
    return toView(org);
  }

  async list(page: PageQuery): Promise<Page<OrganisationView>> {
    const found = await this.deps.store.organisations.list(page);
    return { items: found.items.map(toView), total: found.total };
  }

  async getBySlug(slug: string): Promise<OrganisationView> {
    return toView(await this.loadBySlug(slug));
  }

  async rename(tool: string, slug: string, name: string): Promise<OrganisationView> {
    const before = await this.loadBySlug(slug);
    return this.apply(systemActor(before.id, tool), before, { name: checkName(name) }, 'organisation.update');
  }

  /** Deactivated: its users cannot log in and their requests are refused ORGANISATION_DISABLED. */
  async setActive(tool: string, slug: string, active: boolean): Promise<OrganisationView> {
    const before = await this.loadBySlug(slug);
    return this.apply(systemActor(before.id, tool), before, { active }, active ? 'organisation.activate' : 'organisation.deactivate');
  }

  private async apply(actor: Actor, before: Organisation, patch: OrganisationPatch, action: AuditAction): Promise<OrganisationView> {
    const after = await this.deps.store.organisations.update(before.id, patch);
    if (!after) throw new AppError('NOT_FOUND');
    const fields = Object.keys(patch) as (keyof OrganisationPatch)[];
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'organisation',
      entityId: before.id,
      action,
      from: Object.fromEntries(fields.map((f) => [f, before[f]])),
      to: Object.fromEntries(fields.map((f) => [f, after[f]])),
    });
    return toView(after);
  }

  private async load(id: string): Promise<Organisation> {
    const org = await this.deps.store.organisations.get(id);
    if (!org) throw new AppError('NOT_FOUND');
    return org;
  }

  private async loadBySlug(slug: string): Promise<Organisation> {
    const org = await this.deps.store.organisations.getBySlug(slug.trim().toLowerCase());
    if (!org) throw new AppError('NOT_FOUND', `No organisation with slug ${slug}.`);
    return org;
  }
}

export function toView(o: Organisation): OrganisationView {
  return { id: o.id, name: o.name, slug: o.slug, timezone: o.timezone, active: o.active, settings: o.settings };
}

function invalid(path: string, message: string, code: IssueCode = 'invalid', params: Record<string, string | number> = {}): AppError {
  return new AppError('VALIDATION_FAILED', `${path}: ${message}.`, { issues: [issue(path, message, code, params)] });
}

function checkName(name: string): string {
  const t = name.trim();
  if (t.length < 1) throw invalid('name', 'from 1 to 200 characters', 'required');
  if (t.length > 200) throw invalid('name', 'from 1 to 200 characters', 'tooLong', { maximum: 200 });
  return t;
}

export function checkTimeZone(name: string): string {
  const tz = canonicalTimeZone(name.trim());
  if (!tz) throw invalid('timezone', `unknown time zone ${name}`, 'timeZone');
  return tz;
}

/** The value when it is null or an integer within the limits; VALIDATION_FAILED at `path` otherwise. */
export function checkRange(path: string, value: number | null, limits: { min: number; max: number }): number | null {
  if (value === null) return null;
  const message = `an integer from ${limits.min} to ${limits.max}, or null`;
  if (!Number.isInteger(value)) throw invalid(path, message, 'notInteger');
  if (value < limits.min) throw invalid(path, message, 'tooSmall', { minimum: limits.min });
  if (value > limits.max) throw invalid(path, message, 'tooBig', { maximum: limits.max });
  return value;
}

/** The stored settings with the given fields replaced, each checked against SETTING_LIMITS. */
export function mergeSettings(current: OrganisationSettings, input: SettingsInput): OrganisationSettings {
  const next: OrganisationSettings = { ...current, defaultPolicy: { ...current.defaultPolicy } };
  if (input.sessionMinutes !== undefined) {
    next.sessionMinutes = checkRange('settings.sessionMinutes', input.sessionMinutes, SETTING_LIMITS.sessionMinutes);
  }
  if (input.lateGraceMinutes !== undefined) {
    next.lateGraceMinutes = checkRange('settings.lateGraceMinutes', input.lateGraceMinutes, SETTING_LIMITS.lateGraceMinutes);
  }
  if (input.codePeriodS !== undefined) {
    next.codePeriodS = checkRange('settings.codePeriodS', input.codePeriodS, SETTING_LIMITS.codePeriodS);
  }
  if (input.defaultPolicy !== undefined) {
    const policy: DefaultPolicy = {};
    for (const key of POLICY_CHECKS) {
      const v = input.defaultPolicy[key];
      if (v !== undefined) policy[key] = v;
    }
    if (input.defaultPolicy.maxAttempts !== undefined) {
      policy.maxAttempts = checkRange('settings.defaultPolicy.maxAttempts', input.defaultPolicy.maxAttempts, SETTING_LIMITS.maxAttempts)!;
    }
    next.defaultPolicy = policy;
  }
  if (input.sharedDevice !== undefined) next.sharedDevice = input.sharedDevice;
  if (input.retention !== undefined) next.retention = mergeRetention(current.retention, input.retention);
  if (input.riskThreshold !== undefined)
    next.riskThreshold = checkRange('settings.riskThreshold', input.riskThreshold, SETTING_LIMITS.riskThreshold)!;
  // Stored only when on: absent is off, so older organisations need no migration.
  for (const key of ['notifyStudent', 'notifyGuardians'] as const) {
    if (input[key] === true) next[key] = true;
    else if (input[key] === false) delete next[key];
  }
  if (input.language !== undefined) {
    // Checked here too: a caller other than the route (a script) must not store a language no catalog serves.
    if (!isLanguage(input.language))
      throw invalid('settings.language', `one of ${LANGUAGES.join(', ')}`, 'notOneOf', { values: LANGUAGES.join(', ') });
    if (input.language === SOURCE_LANGUAGE) delete next.language;
    else next.language = input.language;
  }
  return next;
}

function mergeRetention(current: RetentionSettings, input: PartialInput<RetentionSettings>): RetentionSettings {
  const next = { ...current };
  for (const key of ['probeDays', 'locationDays', 'ipDays'] as const) {
    const v = input[key];
    if (v !== undefined) next[key] = checkRange(`settings.retention.${key}`, v, SETTING_LIMITS.retentionDays)!;
  }
  if (input.locationMode !== undefined) {
    if (!LOCATION_MODES.includes(input.locationMode))
      throw invalid('settings.retention.locationMode', `one of ${LOCATION_MODES.join(', ')}`, 'notOneOf', {
        values: LOCATION_MODES.join(', '),
      });
    next.locationMode = input.locationMode;
  }
  return next;
}
