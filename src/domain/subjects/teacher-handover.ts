import { requireRole, type Actor } from '../actor.js';
import { audit } from '../audit-log.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';
import { AppError } from '../../shared/app-error.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { SubjectService } from './subject-service.js';

/** More subjects than any one teacher teaches: the whole list is read at once. */
const TEACHER_SUBJECTS_MAX = 1000;

/** One subject a hand-over changed: its teachers before and after, what a hand back compares and restores. */
export interface HandedSubject {
  subjectId: string;
  code: string;
  before: string[];
  after: string[];
}

/** A hand-over not yet handed back, as its audit entry (`user.handover` on the absent teacher) holds it. */
export interface PendingHandover {
  id: string;
  toTeacherId: string;
  keepAbsent: boolean;
  at: Date;
  subjects: HandedSubject[];
}

export interface HandOverInput {
  toTeacherId: string;
  /** Some of the absent teacher's subjects; all of them when absent. */
  subjectIds?: string[] | undefined;
  /** The absent teacher stays a teacher of each subject, after the colleague (who becomes first). */
  keepAbsent: boolean;
  /** Keep the change where it double-books the colleague (or, handing back, the returning teacher). */
  teacherOverlap: boolean;
}

interface Refusal {
  subjectId: string;
  code: string;
  error: string;
  message: string;
}

/**
 * A teacher away for a while: their subjects handed to a colleague at once, and handed back on
 * their return, exactly as they were. Each subject changes through SubjectService.update, so the
 * first-teacher rule (meetings and scheduled sessions follow the new first teacher) and its
 * double-booking refusal hold as for one subject. All or nothing: the store has no transaction
 * across subjects, so on any refusal the subjects already changed are put back as they were
 * (their own `subject.update` entries say so) and the answer names every subject that refused.
 */
export class TeacherHandover {
  constructor(private readonly deps: { store: Store; clock: () => Date; subjects: SubjectService }) {}

  /** The teacher's subjects, by code. */
  async subjectsOf(actor: Actor, teacherId: string): Promise<Subject[]> {
    await this.requireTeacher(actor, teacherId);
    return this.taught(actor, teacherId);
  }

  async pending(actor: Actor, teacherId: string): Promise<PendingHandover | null> {
    await this.requireTeacher(actor, teacherId);
    return this.lastPending(actor, teacherId);
  }

  async handOver(actor: Actor, fromId: string, input: HandOverInput): Promise<PendingHandover> {
    await this.requireTeacher(actor, fromId);
    if (input.toTeacherId === fromId)
      throw new AppError('VALIDATION_FAILED', 'Hand the subjects to another teacher.', { field: 'toTeacherId' });
    const to = await this.deps.store.users.get(actor.orgId, input.toTeacherId);
    // A deactivated colleague cannot log in to run the sessions that would become theirs.
    if (to?.role !== 'teacher' || !to.active) {
      throw new AppError('VALIDATION_FAILED', 'Hand the subjects to an active teacher of this organisation.', {
        unknownTeacherIds: [input.toTeacherId],
      });
    }
    if (await this.lastPending(actor, fromId)) {
      throw new AppError('CONFLICT', 'This teacher has subjects handed over already: hand them back first.');
    }
    const taught = await this.taught(actor, fromId);
    const wanted = input.subjectIds ? new Set(input.subjectIds) : null;
    if (wanted) {
      const theirs = new Set(taught.map((s) => s.id));
      const notTheirs = [...wanted].filter((id) => !theirs.has(id));
      if (notTheirs.length > 0) {
        throw new AppError('VALIDATION_FAILED', 'Some subjects are not taught by this teacher.', { notTaughtSubjectIds: notTheirs });
      }
    }
    const changes = taught
      .filter((s) => !wanted || wanted.has(s.id))
      .map((s) => ({ subjectId: s.id, code: s.code, before: s.teacherIds, after: coverTeachers(s.teacherIds, fromId, input) }));
    if (changes.length === 0)
      throw new AppError('VALIDATION_FAILED', 'This teacher teaches no subject to hand over.', { field: 'subjectIds' });
    await this.applyAll(actor, changes, input.teacherOverlap);
    const entry = { toTeacherId: input.toTeacherId, keepAbsent: input.keepAbsent, subjects: changes };
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'user',
      entityId: fromId,
      action: 'user.handover',
      from: null,
      to: entry,
    });
    const made = await this.lastPending(actor, fromId);
    if (!made) throw new AppError('INTERNAL', 'The hand-over was written but its audit entry is not found.');
    return made;
  }

  /**
   * Restores each subject of the last hand-over to its teachers before it. A subject whose
   * teachers changed since (another admin's edit) is not guessed at: it refuses the hand back,
   * named, and nothing is restored.
   */
  async handBack(actor: Actor, teacherId: string, teacherOverlap: boolean): Promise<PendingHandover> {
    await this.requireTeacher(actor, teacherId);
    const pending = await this.lastPending(actor, teacherId);
    if (!pending) throw new AppError('NOT_FOUND', 'Nothing of this teacher is handed over.');
    const refused: Refusal[] = [];
    for (const s of pending.subjects) {
      const current = await this.deps.store.subjects.get(actor.orgId, s.subjectId);
      if (!current) refused.push({ subjectId: s.subjectId, code: s.code, error: 'NOT_FOUND', message: 'The subject was deleted.' });
      else if (!sameIds(current.teacherIds, s.after)) {
        refused.push({
          subjectId: s.subjectId,
          code: current.code,
          error: 'CONFLICT',
          message: 'Its teachers changed since the hand-over.',
        });
      }
    }
    if (refused.length > 0) throw refusal(refused, 'CONFLICT');
    const back = pending.subjects.map((s) => ({ ...s, before: s.after, after: s.before }));
    await this.applyAll(actor, back, teacherOverlap);
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'user',
      entityId: teacherId,
      action: 'user.handback',
      from: null,
      to: { handoverId: pending.id, subjects: back },
    });
    return pending;
  }

  /** Each change in turn; on any refusal those made are undone (newest first) and every refusal is named. */
  private async applyAll(actor: Actor, changes: HandedSubject[], teacherOverlap: boolean): Promise<void> {
    const done: HandedSubject[] = [];
    const refused: Refusal[] = [];
    for (const c of changes) {
      try {
        await this.deps.subjects.update(actor, c.subjectId, { teacherIds: c.after, teacherOverlap });
        done.push(c);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        refused.push({ subjectId: c.subjectId, code: c.code, error: err.code, message: err.message });
      }
    }
    if (refused.length === 0) return;
    // Undone with teacherOverlap: the teachers it restores held these slots a moment ago.
    for (const c of done.reverse()) await this.deps.subjects.update(actor, c.subjectId, { teacherIds: c.before, teacherOverlap: true });
    throw refusal(refused, refused[0]!.error as ErrorCode);
  }

  private async taught(actor: Actor, teacherId: string): Promise<Subject[]> {
    const { items } = await this.deps.store.subjects.list(actor.orgId, { teacherId, limit: TEACHER_SUBJECTS_MAX, offset: 0 });
    return items.sort((a, b) => a.code.localeCompare(b.code));
  }

  private async lastPending(actor: Actor, teacherId: string): Promise<PendingHandover | null> {
    const trail = await this.deps.store.audit.listForEntity(actor.orgId, 'user', teacherId);
    const handedBack = new Set(trail.filter((e) => e.action === 'user.handback').map((e) => (e.to as { handoverId: string }).handoverId));
    const last = trail.filter((e) => e.action === 'user.handover').at(-1);
    if (!last || handedBack.has(last.id)) return null;
    const to = last.to as Omit<PendingHandover, 'id' | 'at'>;
    return { id: last.id, at: last.at, toTeacherId: to.toTeacherId, keepAbsent: to.keepAbsent, subjects: to.subjects };
  }

  private async requireTeacher(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const user = await this.deps.store.users.get(actor.orgId, id);
    if (!user) throw new AppError('NOT_FOUND');
    if (user.role !== 'teacher') throw new AppError('VALIDATION_FAILED', 'This user is not a teacher.', { unknownTeacherIds: [id] });
  }
}

/** The colleague takes the absent teacher's place (first, where they were first), the absent one kept right after or removed. */
function coverTeachers(teacherIds: readonly string[], fromId: string, input: HandOverInput): string[] {
  const next = teacherIds.flatMap((t) => (t !== fromId ? [t] : input.keepAbsent ? [input.toTeacherId, fromId] : [input.toTeacherId]));
  return [...new Set(next)];
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function refusal(refused: Refusal[], code: ErrorCode): AppError {
  const named = refused.map((r) => `${r.code}: ${r.message}`).join('; ');
  return new AppError(code, `Nothing was changed; ${refused.length} subject(s) refused. ${named}`, { refused });
}
