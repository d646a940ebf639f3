import { z } from 'zod';

/** Validation shared by the subject service and the HTTP schemas. */
export const LocationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  radiusM: z.number().positive().max(10_000).describe('Geofence radius in metres'),
});

export const CidrSchema = z.union([z.cidrv4(), z.cidrv6()]).describe('IPv4 or IPv6 CIDR range, e.g. 10.0.0.0/8');

export const AllowedIpRangesSchema = z.array(CidrSchema).max(100);

export const SubjectCodeSchema = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only');

export const SubjectNameSchema = z.string().trim().min(1).max(200);
