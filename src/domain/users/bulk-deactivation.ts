import { requireRole, type Actor } from '../actor.js';
import type { LeavingTeacherSessions } from '../subjects/leaving-teacher.js';
import { auditMany } from '../audit-log.js';
import type { EventPublisher } from '../events.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import type { SubjectService } from '../subjects/subject-service.js';
import { AppError } from '../../shared/app-error.js';
import { chunked } from './user-lookup.js';

/** As many users as one request deactivates: a year group of a large school, with room to spare. */
export const DEACTIVATE_USERS_MAX = 1_000;

export interface BulkDeactivationOutcome {
  /** Deactivated by this request: each login ended, audited as user.deactivate. */
  deactivatedIds: string[];
  /** Listed but deactivated already: left as they were. */
  alreadyInactiveIds: string[];
  /** Listed but no user of the organisation (another school's, or deleted): nothing done. */
  notFoundIds: string[];
  /** The admin's own id, if listed: nobody deactivates themself, the rest are done all the same. */
  selfId: string | null;
  /** With removeFromSubjects: enrolments removed, over every subject in use (archived ones keep their class list). */
  unenrolled: number;
}

/**
 * Leavers deactivated at once (a year group, a list of student numbers). Per id, not all or
 * nothing: an admin working from a leavers' list wants everyone else done when one name is
 * stale, and the answer says which ids were not acted on and why, so they can be looked at.
 * Each account ends exactly as the single deactivation does: refresh tokens revoked, set-password
 * links voided, and its open sockets cut on every node through the access-changed event.
 */
export class BulkDeactivation {
  constructor(
    private readonly deps: {
      store: Store;
      clock: () => Date;
      events: EventPublisher;
      subjects: SubjectService;
      leavingTeacher: Pick<LeavingTeacherSessions, 'handOver'>;
    },
  ) {}

  async run(actor: Actor, ids: readonly string[], removeFromSubjects: boolean): Promise<BulkDeactivationOutcome> {
    requireRole(actor, 'admin');
    const wanted = [...new Set(ids)];
    if (wanted.length > DEACTIVATE_USERS_MAX) {
      throw new AppError('VALIDATION_FAILED', `At most ${DEACTIVATE_USERS_MAX} users at once.`, { field: 'userIds' });
    }
    const { store, clock, events } = this.deps;
    const found = new Map<string, User>();
    for (const part of chunked(wanted)) for (const u of await store.users.getMany(actor.orgId, part)) found.set(u.id, u);
    const outcome: BulkDeactivationOutcome = {
      deactivatedIds: [],
      alreadyInactiveIds: [],
      notFoundIds: wanted.filter((id) => !found.has(id)),
      selfId: found.has(actor.id) ? actor.id : null,
      unenrolled: 0,
    };
    const now = clock();
    const targets = [...found.values()].filter((u) => u.id !== actor.id);
    for (const user of targets) {
      if (!user.active) {
        outcome.alreadyInactiveIds.push(user.id);
        continue;
      }
      const after = await store.users.update(actor.orgId, user.id, { active: false });
      if (!after) {
        outcome.notFoundIds.push(user.id);
        continue;
      }
      await store.refreshTokens.revokeAllForUser(actor.orgId, user.id, now);
      await store.accountTokens.voidForUser(actor.orgId, user.id, now);
      events.publish({ type: 'user.access-changed', orgId: actor.orgId, userId: user.id, code: 'ACCOUNT_DISABLED' });
      outcome.deactivatedIds.push(user.id);
    }
    await auditMany(
      store,
      actor,
      now,
      outcome.deactivatedIds.map((id) => ({
        entityType: 'user' as const,
        entityId: id,
        action: 'user.deactivate' as const,
        from: { active: true },
        to: { active: false },
      })),
    );
    // No class run in the name of a deactivated teacher (LeavingTeacherSessions).
    const deactivated = new Set(outcome.deactivatedIds);
    for (const user of targets)
      if (user.role === 'teacher' && deactivated.has(user.id)) await this.deps.leavingTeacher.handOver(actor, user.id);
    if (removeFromSubjects) {
      outcome.unenrolled = await this.unenrolStudents(
        actor,
        targets.filter((u) => u.role === 'student').map((u) => u.id),
      );
    }
    return outcome;
  }

  /** Through SubjectService.unenrol, a subject at a time: audited and announced as an admin's removal. */
  private async unenrolStudents(actor: Actor, studentIds: readonly string[]): Promise<number> {
    const bySubject = new Map<string, string[]>();
    for (const part of chunked(studentIds)) {
      for (const e of await this.deps.store.subjects.enrolmentsOf(actor.orgId, part)) {
        bySubject.set(e.subjectId, [...(bySubject.get(e.subjectId) ?? []), e.studentId]);
      }
    }
    const inUse = new Set<string>();
    for (const part of chunked([...bySubject.keys()])) {
      for (const s of await this.deps.store.subjects.getMany(actor.orgId, part)) if (s.archivedAt === null) inUse.add(s.id);
    }
    let removed = 0;
    for (const [subjectId, ids] of bySubject) {
      if (inUse.has(subjectId)) removed += (await this.deps.subjects.unenrol(actor, subjectId, ids)).removed;
    }
    return removed;
  }
}
