import { AppError } from '../../shared/app-error.js';
import type { DefaultPolicy, VerificationPolicy } from '../ports/common.js';
import type { OrganisationSettings } from '../ports/organisations.js';
import type { Room } from '../ports/subjects.js';
import type { TeacherDefaultPolicy, TeacherSettings } from '../ports/timetable.js';
import type { PolicyInput } from '../../shared/events.js';
import { POLICY_CHECKS, PRESET_CHECKS, type PolicyChecks } from '../../shared/policy-presets.js';
import { issue } from '../../shared/validation-issues.js';

const MINUTE = 60_000;

/** Built-in session window, when neither the teacher nor the organisation sets one. */
export const DEFAULT_SESSION_MINUTES = 60;
export const DEFAULT_LATE_GRACE_MINUTES = 10;

export interface PolicyDefaults {
  codePeriodS: number;
  /** The teacher's default checks over the organisation's; unset fields keep the built-in defaults. */
  policy?: DefaultPolicy;
}

export interface SessionDefaults {
  sessionMs: number;
  lateGraceMs: number;
  policy: PolicyDefaults;
}

/** The teacher's own defaults that sessionDefaults reads; absent or null fields fall through. */
export type TeacherDefaults = Pick<TeacherSettings, 'defaultPolicy' | 'lateGraceMinutes' | 'codePeriodS'>;

/**
 * What a session gets when the request leaves a value out. The order, first set wins: the
 * request itself (a timetable meeting's preset comes in as the request's preset, see
 * resolvePolicy), the teacher's settings, the organisation's settings, then the server's
 * (CODE_PERIOD_S, the built-in window and grace).
 */
export function sessionDefaults(settings: OrganisationSettings, configCodePeriodS: number, teacher?: TeacherDefaults): SessionDefaults {
  return {
    sessionMs: (settings.sessionMinutes ?? DEFAULT_SESSION_MINUTES) * MINUTE,
    lateGraceMs: (teacher?.lateGraceMinutes ?? settings.lateGraceMinutes ?? DEFAULT_LATE_GRACE_MINUTES) * MINUTE,
    policy: {
      codePeriodS: teacher?.codePeriodS ?? settings.codePeriodS ?? configCodePeriodS,
      policy: teacher ? overTeacherPolicy(settings.defaultPolicy, teacher.defaultPolicy) : settings.defaultPolicy,
    },
  };
}

/**
 * The organisation's default checks with the teacher's laid over them: the teacher's preset
 * stands for all four checks (as a requested preset does), and the teacher's own checks
 * override that preset.
 */
function overTeacherPolicy(org: DefaultPolicy, teacher: TeacherDefaultPolicy): DefaultPolicy {
  const merged: DefaultPolicy = { ...org };
  const preset = teacher.preset ? PRESET_CHECKS[teacher.preset] : undefined;
  for (const check of POLICY_CHECKS) {
    const v = teacher[check] ?? preset?.[check];
    if (v !== undefined) merged[check] = v;
  }
  if (teacher.maxAttempts !== undefined) merged.maxAttempts = teacher.maxAttempts;
  return merged;
}

/** What this deployment can verify; a selfie needs the face engine. */
export interface Capabilities {
  selfie: boolean;
  /** The face engine measures liveness frames; absent means it does not. */
  liveness?: boolean;
}

/**
 * Completes a requested policy with the defaults (the teacher's, then the organisation's,
 * see sessionDefaults), then the built-in ones
 * (geofence when the room has a location, the rotating code, two attempts), and refuses
 * checks that cannot run: a selfie
 * without the face engine, a geofence without a location, a network check without
 * allowed ranges. `room` is where the session is held: the subject's classroom, or a meeting's
 * or session's own room over it (room.ts). Refusing at open time beats rejecting every student later.
 */
export function resolvePolicy(
  input: PolicyInput | undefined,
  room: Room,
  defaults: PolicyDefaults,
  capabilities: Capabilities,
): VerificationPolicy {
  const org = defaults.policy ?? {};
  // A requested preset stands for all four checks, so the default checks give way to it.
  const preset: Partial<PolicyChecks> = input?.preset ? PRESET_CHECKS[input.preset] : {};
  const policy: VerificationPolicy = {
    geofence: input?.geofence ?? preset.geofence ?? org.geofence ?? room.location !== null,
    network: input?.network ?? preset.network ?? org.network ?? false,
    rotatingCode: input?.rotatingCode ?? preset.rotatingCode ?? org.rotatingCode ?? true,
    selfie: input?.selfie ?? preset.selfie ?? org.selfie ?? false,
    codePeriodS: input?.codePeriodS ?? defaults.codePeriodS,
    maxAttempts: input?.maxAttempts ?? org.maxAttempts ?? 2,
    ...(input?.liveness ? { liveness: true } : {}),
  };
  if (policy.liveness && !policy.selfie) {
    const message = 'Liveness is a step of the selfie check; turn the selfie on too.';
    throw new AppError('VALIDATION_FAILED', message, { issues: [issue('policy.liveness', message, 'needsSelfie')] });
  }
  if (policy.liveness && !capabilities.liveness) {
    throw new AppError('POLICY_UNSUPPORTED', 'Liveness challenges are not available on this server.');
  }
  if (policy.selfie && !capabilities.selfie) {
    throw new AppError('POLICY_UNSUPPORTED', 'Selfie verification is not available on this server.');
  }
  if (policy.geofence && room.location === null) throw new AppError('SUBJECT_LOCATION_MISSING');
  if (policy.network && room.allowedIpRanges.length === 0) throw new AppError('SUBJECT_NETWORK_MISSING');
  return policy;
}
