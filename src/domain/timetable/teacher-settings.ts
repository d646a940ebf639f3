import { AppError } from '../../shared/app-error.js';
import type { PartialInput } from '../../shared/partial-input.js';
import { POLICY_CHECKS, POLICY_PRESETS, type PolicyPreset } from '../../shared/policy-presets.js';
import { checkRange, SETTING_LIMITS } from '../organisations/organisation-service.js';
import { TIMETABLE_OPEN_MODES, type TeacherDefaultPolicy, type TeacherSettings } from '../ports/timetable.js';
import { issue } from '../../shared/validation-issues.js';

/** A change to a teacher's settings: a field left out keeps its value, null unsets it. */
export type TeacherSettingsInput = PartialInput<Omit<TeacherSettings, 'orgId' | 'userId' | 'defaultPolicy'>> & {
  /** Replaces the whole default policy; {} unsets it. */
  defaultPolicy?: PartialInput<TeacherDefaultPolicy> | undefined;
};

/** A value outside `values`: refused as a schema's enum would be. */
function notOneOf(path: string, values: readonly string[]): AppError {
  const message = `one of ${values.join(', ')}`;
  return new AppError('VALIDATION_FAILED', `${path}: ${message}.`, {
    issues: [issue(path, message, 'notOneOf', { values: values.join(', ') })],
  });
}

/**
 * The stored settings with the given fields replaced, checked against the organisation's
 * SETTING_LIMITS: a teacher's default may be no wider than the organisation's own may be.
 */
export function mergeTeacherSettings(current: TeacherSettings, input: TeacherSettingsInput): TeacherSettings {
  const next: TeacherSettings = { ...current, defaultPolicy: { ...current.defaultPolicy } };
  if (input.timetableOpen !== undefined) {
    if (!TIMETABLE_OPEN_MODES.includes(input.timetableOpen)) throw notOneOf('timetableOpen', TIMETABLE_OPEN_MODES);
    next.timetableOpen = input.timetableOpen;
  }
  if (input.lateGraceMinutes !== undefined) {
    next.lateGraceMinutes = checkRange('lateGraceMinutes', input.lateGraceMinutes, SETTING_LIMITS.lateGraceMinutes);
  }
  if (input.codePeriodS !== undefined) next.codePeriodS = checkRange('codePeriodS', input.codePeriodS, SETTING_LIMITS.codePeriodS);
  if (input.defaultPolicy !== undefined) next.defaultPolicy = checkPolicy(input.defaultPolicy);
  return next;
}

function checkPolicy(input: PartialInput<TeacherDefaultPolicy>): TeacherDefaultPolicy {
  const policy: TeacherDefaultPolicy = {};
  if (input.preset !== undefined) {
    if (!POLICY_PRESETS.includes(input.preset)) throw notOneOf('defaultPolicy.preset', POLICY_PRESETS);
    policy.preset = input.preset satisfies PolicyPreset;
  }
  for (const key of POLICY_CHECKS) {
    const v = input[key];
    if (v !== undefined) policy[key] = v;
  }
  if (input.maxAttempts !== undefined) {
    policy.maxAttempts = checkRange('defaultPolicy.maxAttempts', input.maxAttempts, SETTING_LIMITS.maxAttempts)!;
  }
  return policy;
}
