import type { AttendanceSession } from '../ports/sessions.js';
import type { ClassroomLocation, Room, Subject } from '../ports/subjects.js';

/**
 * Where a session's check-ins are checked (docs/timetable.md, "Rooms"): the location and the
 * networks of the session's own room, each falling back on its own to the subject's
 * classroom. A meeting held elsewhere sets a room that its sessions copy; an extra session
 * opened by hand may name one too.
 */
export function effectiveRoom(subject: Room, room: Room | null): Room {
  return {
    location: room?.location ?? subject.location,
    allowedIpRanges: room && room.allowedIpRanges.length > 0 ? room.allowedIpRanges : subject.allowedIpRanges,
  };
}

/** The room a session is checked against: its own over its subject's. */
export function sessionRoom(session: Pick<AttendanceSession, 'room'>, subject: Pick<Subject, 'location' | 'allowedIpRanges'>): Room {
  return effectiveRoom(subject, session.room);
}

/**
 * A room as a session or meeting keeps it: null when it sets nothing (the subject's classroom
 * then stands), so an unset room and an empty one read the same.
 */
export function roomOrNull(location: ClassroomLocation | null | undefined, allowedIpRanges: readonly string[] | undefined): Room | null {
  const ranges = [...new Set(allowedIpRanges ?? [])];
  if (!location && ranges.length === 0) return null;
  return { location: location ? { lat: location.lat, lon: location.lon, radiusM: location.radiusM } : null, allowedIpRanges: ranges };
}
