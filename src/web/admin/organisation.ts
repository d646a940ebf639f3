/** Organisation settings: name, time zone, session defaults, the shared-device rule, retention and who hears of alerts (GET/PATCH /organisation). */
import { apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h, useTimeZone } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { jsonBody } from './fetch-all.js';
import { LANGUAGE_NAMES, LANGUAGES, type Language } from '../../shared/i18n/languages.js';

const CHECKS = ['geofence', 'rotatingCode', 'network', 'selfie'] as const;
type Check = (typeof CHECKS)[number];

interface Organisation {
  name: string;
  timezone: string;
  settings: {
    sessionMinutes: number | null;
    lateGraceMinutes: number | null;
    codePeriodS: number | null;
    defaultPolicy: Partial<Record<Check, boolean>> & { maxAttempts?: number };
    sharedDevice: 'flag' | 'refuse';
    retention: { probeDays: number; locationDays: number; locationMode: 'keep' | 'never'; ipDays: number };
    riskThreshold: number;
    notifyStudent?: boolean;
    notifyGuardians?: boolean;
    language?: Language;
  };
}

function zones(current: string): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return all.includes(current) ? all : [current, ...all];
}

const input = (id: string) => byId<HTMLInputElement>(id);
const numberOrNull = (id: string) => (input(id).value === '' ? null : Number(input(id).value));

function fill(org: Organisation): void {
  input('org-name').value = org.name;
  byId<HTMLSelectElement>('org-timezone').replaceChildren(
    ...zones(org.timezone).map((z) => h('option', { value: z, selected: z === org.timezone }, z)),
  );
  input('org-minutes').value = org.settings.sessionMinutes?.toString() ?? '';
  input('org-grace').value = org.settings.lateGraceMinutes?.toString() ?? '';
  input('org-period').value = org.settings.codePeriodS?.toString() ?? '';
  const policy = org.settings.defaultPolicy;
  for (const check of CHECKS)
    byId<HTMLSelectElement>(`org-${check}`).value = policy[check] === undefined ? '' : policy[check] ? 'on' : 'off';
  input('org-attempts').value = policy.maxAttempts?.toString() ?? '';
  byId<HTMLSelectElement>('org-shared-device').value = org.settings.sharedDevice;
  const retention = org.settings.retention;
  input('org-probe-days').value = retention.probeDays.toString();
  input('org-location-days').value = retention.locationDays.toString();
  byId<HTMLSelectElement>('org-location-mode').value = retention.locationMode;
  input('org-ip-days').value = retention.ipDays.toString();
  input('org-risk-threshold').value = org.settings.riskThreshold.toString();
  input('org-notify-student').checked = org.settings.notifyStudent === true;
  input('org-notify-guardians').checked = org.settings.notifyGuardians === true;
  const language = org.settings.language ?? 'en';
  byId<HTMLSelectElement>('org-language').replaceChildren(
    ...LANGUAGES.map((l) => h('option', { value: l, selected: l === language, lang: l }, LANGUAGE_NAMES[l])),
  );
}

export async function loadOrganisation(): Promise<void> {
  fill(await apiJson<Organisation>('api/v1/organisation'));
}

export function bindOrganisation(): void {
  const form = byId<HTMLFormElement>('org-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Only the checks chosen are sent: one left on "built-in" keeps following the built-in rule.
    const defaultPolicy: Partial<Record<Check, boolean>> & { maxAttempts?: number } = {};
    for (const check of CHECKS) {
      const value = byId<HTMLSelectElement>(`org-${check}`).value;
      if (value) defaultPolicy[check] = value === 'on';
    }
    const attempts = numberOrNull('org-attempts');
    if (attempts !== null) defaultPolicy.maxAttempts = attempts;
    const body = {
      name: input('org-name').value.trim(),
      timezone: byId<HTMLSelectElement>('org-timezone').value,
      settings: {
        sessionMinutes: numberOrNull('org-minutes'),
        lateGraceMinutes: numberOrNull('org-grace'),
        codePeriodS: numberOrNull('org-period'),
        defaultPolicy,
        sharedDevice: byId<HTMLSelectElement>('org-shared-device').value,
        retention: {
          probeDays: Number(input('org-probe-days').value),
          locationDays: Number(input('org-location-days').value),
          locationMode: byId<HTMLSelectElement>('org-location-mode').value,
          ipDays: Number(input('org-ip-days').value),
        },
        riskThreshold: Number(input('org-risk-threshold').value),
        notifyStudent: input('org-notify-student').checked,
        notifyGuardians: input('org-notify-guardians').checked,
        language: byId<HTMLSelectElement>('org-language').value,
      },
    };
    byId('org-error').textContent = '';
    apiJson<Organisation>('api/v1/organisation', jsonBody('PATCH', body))
      .then((org) => {
        fill(org);
        useTimeZone(org.timezone);
        announce(byId('org-status'), at('org.saved'));
      })
      .catch((err: unknown) => (byId('org-error').textContent = errorText(err, byId('org-form'))));
  });
}
