import { AppError } from '../app-error.js';
import type { Subject, VerificationPolicy } from '../../store/types.js';
import type { PolicyInput } from '../../shared/events.js';

export interface PolicyDefaults {
  codePeriodS: number;
}

/** What this deployment can verify; a selfie needs the face engine. */
export interface Capabilities {
  selfie: boolean;
}

/**
 * Completes a requested policy with defaults and refuses checks that cannot run: a selfie
 * without the face engine, a geofence without a classroom location, a network check without
 * allowed ranges. Refusing at open time beats rejecting every student later.
 */
export function resolvePolicy(
  input: PolicyInput | undefined,
  subject: Subject,
  defaults: PolicyDefaults,
  capabilities: Capabilities,
): VerificationPolicy {
  const policy: VerificationPolicy = {
    geofence: input?.geofence ?? subject.location !== null,
    network: input?.network ?? false,
    rotatingCode: input?.rotatingCode ?? true,
    selfie: input?.selfie ?? false,
    codePeriodS: input?.codePeriodS ?? defaults.codePeriodS,
    maxAttempts: input?.maxAttempts ?? 2,
  };
  if (policy.selfie && !capabilities.selfie) {
    throw new AppError('POLICY_UNSUPPORTED', 'Selfie verification is not available on this server.');
  }
  if (policy.geofence && subject.location === null) throw new AppError('SUBJECT_LOCATION_MISSING');
  if (policy.network && subject.allowedIpRanges.length === 0) throw new AppError('SUBJECT_NETWORK_MISSING');
  return policy;
}
