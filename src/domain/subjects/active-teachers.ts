import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';

/**
 * The subject as the meeting rule reads it (meetingTeacherId): its teachers who can teach now,
 * active accounts with the teacher role, in their order. An account an admin made a student or
 * an admin, or deactivated, stays in `teacherIds` (given back its role, or reactivated, it finds
 * its classes as they were) but no session is created or tapped in its name meanwhile
 * (docs/authorization.md, "A role change or a deactivation").
 */
export async function withActiveTeachers<S extends Pick<Subject, 'teacherIds'>>(
  store: Store,
  orgId: string,
  subject: S | null | undefined,
): Promise<S | null> {
  if (!subject) return null;
  if (subject.teacherIds.length === 0) return subject;
  const standings = await store.users.getStandings(orgId, [...subject.teacherIds]);
  const teaching = new Set(standings.filter((u) => u.active && u.role === 'teacher').map((u) => u.id));
  if (teaching.size === subject.teacherIds.length) return subject;
  return { ...subject, teacherIds: subject.teacherIds.filter((id) => teaching.has(id)) };
}
