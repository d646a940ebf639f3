import type { SessionRoom } from '../../shared/events.js';
import { tt } from './teacher-text.js';

/**
 * Where a session is held, as the teacher console says it: its own room (a meeting held elsewhere,
 * or a room given at opening), each part falling back to the subject's classroom on its own.
 */
export function roomText(room: SessionRoom | null): string {
  if (!room) return tt('room.none');
  const place = room.location
    ? tt('room.within', { radius: room.location.radiusM, lat: room.location.lat.toFixed(5), lon: room.location.lon.toFixed(5) })
    : tt('room.subjectLocation');
  const networks =
    room.allowedIpRanges.length > 0 ? tt('room.networks', { ranges: room.allowedIpRanges.join(', ') }) : tt('room.subjectNetworks');
  return tt('room.line', { place, networks });
}
