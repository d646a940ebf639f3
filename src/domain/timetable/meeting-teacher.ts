import type { Subject } from '../ports/subjects.js';
import type { Meeting } from '../ports/timetable.js';

/**
 * Whose a meeting's sessions are: its own teacher's while they teach its subject, else its
 * subject's first teacher's. A teacher an admin took off the subject (or whose subjects were
 * handed to a colleague) keeps no say over its sessions: neither their defaults (checks, late
 * grace, code period) nor whether they open at their time or wait for a tap
 * (docs/authorization.md: a removal takes effect at once). Undefined when the subject is gone
 * or has no teacher.
 */
export function meetingTeacherId(
  meeting: Pick<Meeting, 'teacherId'>,
  subject: Pick<Subject, 'teacherIds'> | null | undefined,
): string | undefined {
  if (!subject) return undefined;
  const own = meeting.teacherId;
  return own !== null && subject.teacherIds.includes(own) ? own : subject.teacherIds[0];
}
