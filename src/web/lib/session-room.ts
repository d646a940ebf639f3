import type { SessionRoom } from '../../shared/events.js';

/**
 * Where a session is held, as the teacher console says it: its own room (a meeting held elsewhere,
 * or a room given at opening), each part falling back to the subject's classroom on its own.
 */
export function roomText(room: SessionRoom | null): string {
  if (!room) return "Room: the subject's classroom (its location and networks).";
  const place = room.location
    ? `within ${room.location.radiusM} m of ${room.location.lat.toFixed(5)}, ${room.location.lon.toFixed(5)}`
    : "at the subject's classroom location";
  const networks = room.allowedIpRanges.length > 0 ? `networks ${room.allowedIpRanges.join(', ')}` : "the classroom's networks";
  return `Room: ${place}; ${networks}.`;
}
