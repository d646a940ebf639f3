/**
 * Named verification policies (docs/protocol.md §5.1): what a teacher picks when opening a
 * session, and what the student page says before the tap. Browser-safe: no Node imports.
 */
export const POLICY_PRESETS = ['manual', 'network', 'location', 'location-code', 'location-code-selfie'] as const;
export type PolicyPreset = (typeof POLICY_PRESETS)[number];

/** The checks a session can run on a check-in, in the order pages and documents list them. */
export const POLICY_CHECKS = ['geofence', 'network', 'rotatingCode', 'selfie'] as const;
export type PolicyCheck = (typeof POLICY_CHECKS)[number];
/** With the selfie, an active liveness challenge may be asked too: it is part of no preset. */
export type PolicyChecks = Record<PolicyCheck, boolean> & { liveness?: boolean | undefined };

export const PRESET_CHECKS: Record<PolicyPreset, PolicyChecks> = {
  manual: { geofence: false, network: false, rotatingCode: false, selfie: false },
  network: { geofence: false, network: true, rotatingCode: false, selfie: false },
  location: { geofence: true, network: false, rotatingCode: false, selfie: false },
  'location-code': { geofence: true, network: false, rotatingCode: true, selfie: false },
  'location-code-selfie': { geofence: true, network: false, rotatingCode: true, selfie: true },
};

export const PRESET_LABELS: Record<PolicyPreset, string> = {
  manual: 'No checks (tap to check in)',
  network: 'School network only',
  location: 'Location in the classroom',
  'location-code': 'Location + code on the screen',
  'location-code-selfie': 'Location + code + selfie',
};

/** The preset these checks make, or 'custom' for a combination no preset names. */
export function presetOf(checks: PolicyChecks): PolicyPreset | 'custom' {
  for (const name of POLICY_PRESETS) {
    const p = PRESET_CHECKS[name];
    if (POLICY_CHECKS.every((check) => p[check] === checks[check])) return name;
  }
  return 'custom';
}

/** A GPS fix is asked for only when the geofence runs; no other check reads it. */
export function needsLocation(checks: PolicyChecks): boolean {
  return checks.geofence;
}

/** What the student must give, in words, in the order the page asks for it. */
export function policyNeeds(checks: PolicyChecks): string[] {
  const needs: string[] = [];
  if (checks.geofence) needs.push('your location (inside the classroom)');
  if (checks.network) needs.push('the school network');
  if (checks.rotatingCode) needs.push('the code on the screen');
  if (checks.selfie) needs.push(checks.liveness ? 'a selfie and a short head turn or blink' : 'a selfie');
  return needs;
}
