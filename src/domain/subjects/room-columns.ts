import { type ClassroomLocation } from '../ports/subjects.js';
import { rowProblem, type RowProblem } from '../../shared/row-problems.js';
import { CidrSchema, LocationSchema, MAX_ALLOWED_NETWORKS } from './subject-input.js';

/**
 * The optional classroom columns of an imported row (a subject's classroom, a meeting's room):
 * `latitude`, `longitude`, `radius_m` (all three or none) and `allowed_networks` (several to a
 * cell, separated by spaces, commas or semicolons). Checked by the schemas the subject form's
 * fields go through, so an imported classroom is one the form would have taken.
 */
export const ROOM_COLUMNS = ['latitude', 'longitude', 'radius_m', 'allowed_networks'] as const;

export interface RoomCells {
  location: ClassroomLocation | null;
  allowedIpRanges: string[];
  problems: RowProblem[];
}

const NETWORK_SEPARATORS = /[\s,;]+/;

/** A number cell: `,` read as the decimal point too (a French spreadsheet writes 48,85), else NaN. */
function numberCell(cell: string): number {
  const text = cell.replace(',', '.');
  return /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
}

export function readRoomCells(fields: Record<string, string | undefined>): RoomCells {
  const problems: RowProblem[] = [];
  const [lat, lon, radius] = (['latitude', 'longitude', 'radius_m'] as const).map((c) => (fields[c] ?? '').trim());
  let location: ClassroomLocation | null = null;
  const given = [lat, lon, radius].filter((c) => c !== '').length;
  if (given > 0 && given < 3) problems.push(rowProblem('roomIncomplete'));
  else if (given === 3) {
    const candidate = { lat: numberCell(lat!), lon: numberCell(lon!), radiusM: numberCell(radius!) };
    const parsed = LocationSchema.safeParse(candidate);
    if (parsed.success) location = parsed.data;
    else {
      const bad = new Set(parsed.error.issues.map((i) => i.path[0]));
      if (bad.has('lat')) problems.push(rowProblem('latitudeInvalid'));
      if (bad.has('lon')) problems.push(rowProblem('longitudeInvalid'));
      if (bad.has('radiusM')) problems.push(rowProblem('radiusInvalid'));
    }
  }
  const networks = [...new Set((fields.allowed_networks ?? '').split(NETWORK_SEPARATORS).filter(Boolean))];
  const invalid = networks.filter((n) => !CidrSchema.safeParse(n).success).length;
  if (networks.length > MAX_ALLOWED_NETWORKS) problems.push(rowProblem('tooManyNetworks', { max: MAX_ALLOWED_NETWORKS }));
  else if (invalid > 0) problems.push(rowProblem('networksInvalid', { count: invalid }));
  return { location, allowedIpRanges: problems.length > 0 ? [] : networks, problems };
}
