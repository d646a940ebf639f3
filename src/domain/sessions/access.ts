import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';

export interface SessionContext {
  session: AttendanceSession;
  subject: Subject;
}

/** Loads a session and its subject inside the actor's organisation. */
export async function loadSession(store: Store, actor: Actor, sessionId: string): Promise<SessionContext> {
  const session = await store.sessions.get(actor.orgId, sessionId);
  if (!session) throw new AppError('SESSION_NOT_FOUND');
  const subject = await store.subjects.get(actor.orgId, session.subjectId);
  // A session whose subject was deleted is as good as gone.
  if (!subject) throw new AppError('SESSION_NOT_FOUND');
  return { session, subject };
}

export function assertStaffOf(actor: Actor, subject: Subject): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'teacher' && subject.teacherIds.includes(actor.id)) return;
  if (actor.role === 'teacher') throw new AppError('NOT_SUBJECT_TEACHER');
  throw new AppError('FORBIDDEN');
}

export async function assertEnrolled(store: Store, actor: Actor, subject: Subject): Promise<void> {
  if (actor.role !== 'student') throw new AppError('FORBIDDEN', 'Only students check in.');
  if (!(await store.subjects.isEnrolled(actor.orgId, subject.id, actor.id))) throw new AppError('NOT_ENROLLED');
}

/** Loads a session for its subject's staff (teachers, admins); FORBIDDEN for a student, enrolled or not. */
export async function loadSessionForStaff(store: Store, actor: Actor, sessionId: string): Promise<SessionContext> {
  const ctx = await loadSession(store, actor, sessionId);
  assertStaffOf(actor, ctx.subject);
  return ctx;
}
