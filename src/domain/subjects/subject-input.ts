import { z } from 'zod';
import { isValidCidr } from '../checks/network.js';
import { issueRule } from '../../shared/validation-issues.js';
import { codedPattern } from '../../shared/coded-pattern.js';

/** Validation shared by the subject service and the HTTP schemas. */
export const LocationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  radiusM: z.number().positive().max(10_000).describe('Geofence radius in metres'),
});

/** As the network check reads it (docs/protocol.md §9): a CIDR range, or a bare address meaning /32 or /128. */
export const CidrSchema = z
  .string()
  .trim()
  .min(2)
  .max(64)
  .refine(isValidCidr, issueRule('cidr', 'Expected an IPv4 or IPv6 CIDR range or a bare address.'))
  .describe('IPv4 or IPv6 CIDR range, e.g. 10.0.0.0/8, or a bare address (= /32 or /128)');

/** Networks a classroom or room lists. */
export const MAX_ALLOWED_NETWORKS = 100;

export const AllowedIpRangesSchema = z.array(CidrSchema).max(MAX_ALLOWED_NETWORKS);

export const SubjectCodeSchema = codedPattern(
  z.string().trim().min(1).max(32),
  /^[A-Za-z0-9._-]+$/,
  'codeCharacters',
  'letters, digits, dot, dash and underscore only',
);

export const SubjectNameSchema = z.string().trim().min(1).max(200);
