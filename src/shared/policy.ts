/**
 * The verification policy on the wire and in storage, declared once: the zod schemas that
 * validate it and the types derived from them. Browser pages import the types only.
 */
import { z } from 'zod';
import { POLICY_CHECKS, POLICY_PRESETS, type PolicyCheck } from './policy-presets.js';

const checkShape = Object.fromEntries(POLICY_CHECKS.map((check) => [check, z.boolean()])) as Record<PolicyCheck, z.ZodBoolean>;

export const PolicyChecksSchema = z.object(checkShape);

export const VerificationPolicySchema = PolicyChecksSchema.extend({
  /**
   * Active liveness with the selfie: a head turn or blink challenge shown in a few frames.
   * Present only when on, so sessions stored before it read back unchanged.
   */
  liveness: z.boolean().optional(),
  /** Rotating-code period in seconds. */
  codePeriodS: z.number().int(),
  /** How many check-in attempts a student has after a rejection (1 = no retry). */
  maxAttempts: z.number().int(),
});
export type VerificationPolicy = z.infer<typeof VerificationPolicySchema>;

/** A session's policy as clients see it: the checks, and the preset they make or 'custom'. */
export const PolicyViewSchema = z.object({
  preset: z.enum([...POLICY_PRESETS, 'custom']),
  ...VerificationPolicySchema.shape,
  liveness: z.boolean(),
});
export type PolicyView = z.infer<typeof PolicyViewSchema>;

/** What a teacher may ask for when opening a session (session:open). */
export const POLICY_INPUT_LIMITS = { codePeriodS: { min: 5, max: 600 }, maxAttempts: { min: 1, max: 5 } } as const;

const limited = (l: { min: number; max: number }) => z.number().int().min(l.min).max(l.max);

/** A named preset and, when given, checks that override it; everything else comes from defaults. */
export const PolicyInputSchema = z.object({
  preset: z.enum(POLICY_PRESETS).optional(),
  ...PolicyChecksSchema.partial().shape,
  /** With the selfie: a random liveness challenge (turn the head, blink) in a few frames. Default false. */
  liveness: z.boolean().optional(),
  codePeriodS: limited(POLICY_INPUT_LIMITS.codePeriodS).optional(),
  maxAttempts: limited(POLICY_INPUT_LIMITS.maxAttempts).optional(),
});
export type PolicyInput = z.infer<typeof PolicyInputSchema>;

/** The checks a session gets when its teacher names none; an unset field keeps the built-in default. */
export const DefaultPolicySchema = PolicyChecksSchema.extend({ maxAttempts: z.number().int() }).partial();
export type DefaultPolicy = z.infer<typeof DefaultPolicySchema>;
