import type { ClassroomLocation, GeoPoint } from '../ports/subjects.js';

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

/** Accuracy above this (metres) is never trusted to decide; see `evaluateGeofence`. */
export const DEFAULT_MAX_ACCURACY_M = 500;

/**
 * Browsers and Android report accuracy as a ~68% radius. Doubling it gives a ~95% radius; for a
 * circular normal error the exact factor is about 1.6, so 2 errs on the side of review.
 */
export const ACCURACY_95_FACTOR = 2;

export type GeofenceReason = 'GEOFENCE_OK' | 'GEOFENCE_OUTSIDE' | 'GEOFENCE_IMPRECISE';

export interface GeofenceResult {
  outcome: 'pass' | 'fail' | 'review';
  reason: GeofenceReason;
  /** Distance from the classroom centre, rounded to 0.1 m; NaN when an input was not a number. */
  distanceM: number;
}

export interface LocationFix {
  lat: number;
  lon: number;
  /** Reported horizontal accuracy in metres (68% radius). */
  accuracyM: number;
}

const toRad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in metres between two points (haversine, spherical Earth). */
export function haversineM(a: GeoPoint, b: GeoPoint): number {
  const dLat = toRad(b.lat - a.lat);
  const dLon = toRad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.sin(dLon / 2) ** 2;
  // Rounding can push h a hair above 1 for antipodal points, and asin(>1) is NaN.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, Math.max(0, h))));
}

/**
 * Decides whether a location fix is inside the classroom circle.
 *
 * With d the distance to the centre, r the radius, a the reported accuracy (68%) and
 * a95 = 2a (~95% radius):
 * - review (GEOFENCE_IMPRECISE) when a > maxAccuracyM (default 500 m), whatever d is;
 * - pass when d + a95 <= r (the whole uncertainty circle is inside), or when d <= r and a <= r
 *   (the practical rule: indoor fixes of 10-30 m are normal, so a student whose reported
 *   position is in the room with an accuracy no coarser than the room passes);
 * - fail (GEOFENCE_OUTSIDE) when d - a95 > r (the whole uncertainty circle is outside);
 * - review (GEOFENCE_IMPRECISE) otherwise.
 * Input ranges are validated upstream; a non-finite or negative number here gives review.
 */
export function evaluateGeofence(classroom: ClassroomLocation, fix: LocationFix, opts?: { maxAccuracyM?: number }): GeofenceResult {
  const maxAccuracyM = opts?.maxAccuracyM ?? DEFAULT_MAX_ACCURACY_M;
  // Each number tested in turn, not as an array of them: this runs once per check-in.
  const finite =
    Number.isFinite(classroom.lat) &&
    Number.isFinite(classroom.lon) &&
    Number.isFinite(classroom.radiusM) &&
    Number.isFinite(fix.lat) &&
    Number.isFinite(fix.lon) &&
    Number.isFinite(fix.accuracyM);
  if (!finite || fix.accuracyM < 0 || classroom.radiusM < 0) {
    return { outcome: 'review', reason: 'GEOFENCE_IMPRECISE', distanceM: Number.NaN };
  }

  const d = haversineM(classroom, fix);
  const distanceM = Math.round(d * 10) / 10;
  const r = classroom.radiusM;
  const a = fix.accuracyM;
  const a95 = a * ACCURACY_95_FACTOR;

  if (!(a <= maxAccuracyM)) return { outcome: 'review', reason: 'GEOFENCE_IMPRECISE', distanceM };
  if (d + a95 <= r || (d <= r && a <= r)) return { outcome: 'pass', reason: 'GEOFENCE_OK', distanceM };
  if (d - a95 > r) return { outcome: 'fail', reason: 'GEOFENCE_OUTSIDE', distanceM };
  return { outcome: 'review', reason: 'GEOFENCE_IMPRECISE', distanceM };
}
