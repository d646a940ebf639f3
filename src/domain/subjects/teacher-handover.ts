import { requireRole, type Actor } from '../actor.js';
import type { Store } from '../ports/store.js';
import type { Subject, TeacherSwap } from '../ports/subjects.js';
import { AppError } from '../../shared/app-error.js';
import { withSlotLocks, type SlotFence, type SlotLockKey } from '../sessions/slot-locks.js';
import { firstTeacherLocks } from '../timetable/first-teacher.js';
import { subjectsRefused, type SubjectRefusal, type SubjectService } from './subject-service.js';

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

/**
 * A teacher away for a while: their subjects handed to a colleague at once, and handed back on
 * their return, exactly as they were. The first-teacher rule (meetings and scheduled sessions
 * follow the new first teacher) and its double-booking refusal hold as for one subject, every
 * subject checked before any is written (SubjectService.setTeachersEach); the subjects are then
 * written as one store change, one `subject.update` entry each, with the teacher's `user.handover`
 * (or `user.handback`) entry in the same store call, so a node dying cannot leave the change
 * without it. A hand back restores what stands as the hand-over left it and passes over a subject
 * already as before it (on MongoDB the entry is written first: a hand-over cut short by a node
 * dying stays pending, and handing it back puts right what it wrote). All or nothing: any refusal
 * writes nothing and names every subject that refused. One hand-over at a time per teacher: the
 * check and the writes run under the teacher's hand-over lock (a store lease), on every node.
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
    const planned = await this.handedOver(actor, fromId, input);
    const made = await this.locked(actor, fromId, planned, input.teacherOverlap, async (fence) => {
      // Under the teacher's hand-over lock: of two admins handing over at once, on any nodes, the
      // second finds the first's hand-over here.
      if (await this.lastPending(actor, fromId)) {
        throw new AppError('CONFLICT', 'This teacher has subjects handed over already: hand them back first.');
      }
      const changes = await this.handedOver(actor, fromId, input);
      if (!sameChanges(changes, planned)) throw new AppError('CONFLICT', "This teacher's subjects changed meanwhile: try again.");
      // Written by the store with the subjects (store.subjects.setTeachersEach): never a hand-over without its entry.
      await this.deps.subjects.setTeachersEach(actor, swapsOf(changes), input.teacherOverlap, fence, [
        {
          entityType: 'user',
          entityId: fromId,
          action: 'user.handover',
          from: null,
          to: { toTeacherId: input.toTeacherId, keepAbsent: input.keepAbsent, subjects: changes },
        },
      ]);
      const made = await this.lastPending(actor, fromId);
      if (!made) throw new AppError('INTERNAL', 'The hand-over was written but its audit entry is not found.');
      return made;
    });
    // Sessions the absent teacher scheduled by hand in the subjects they left (the meetings' followed the change).
    if (!input.keepAbsent) await this.deps.subjects.handOverLeft(actor, [[fromId, made.subjects.map((s) => s.subjectId)]]);
    return made;
  }

  /**
   * Restores each subject of the last hand-over to its teachers before it. A subject whose
   * teachers changed since (another admin's edit) is not guessed at: it refuses the hand back,
   * named, and nothing is restored.
   */
  async handBack(actor: Actor, teacherId: string, teacherOverlap: boolean): Promise<PendingHandover> {
    await this.requireTeacher(actor, teacherId);
    const planned = await this.lastPending(actor, teacherId);
    if (!planned) throw new AppError('NOT_FOUND', 'Nothing of this teacher is handed over.');
    const back = await this.locked(actor, teacherId, backOf(planned), teacherOverlap, async (fence) => {
      const pending = await this.lastPending(actor, teacherId);
      // Handed back meanwhile by another admin (or handed back and over again: not the one planned).
      if (pending?.id !== planned.id) throw new AppError('NOT_FOUND', 'Nothing of this teacher is handed over.');
      const refused: SubjectRefusal[] = [];
      const handed: HandedSubject[] = [];
      const current = new Map(
        (
          await this.deps.store.subjects.getMany(
            actor.orgId,
            pending.subjects.map((s) => s.subjectId),
          )
        ).map((s) => [s.id, s]),
      );
      for (const s of pending.subjects) {
        const now = current.get(s.subjectId);
        if (!now) refused.push({ subjectId: s.subjectId, code: s.code, error: 'NOT_FOUND', message: 'The subject was deleted.' });
        else if (sameIds(now.teacherIds, s.after)) handed.push(s);
        // As before the hand-over already: nothing to restore (on MongoDB, a hand-over whose node
        // died before writing it, its entry written first; or restored by hand since).
        else if (!sameIds(now.teacherIds, s.before)) {
          refused.push({ subjectId: s.subjectId, code: now.code, error: 'CONFLICT', message: 'Its teachers changed since the hand-over.' });
        }
      }
      if (refused.length > 0) throw subjectsRefused(refused, 'CONFLICT');
      const back = backOf({ ...pending, subjects: handed });
      await this.deps.subjects.setTeachersEach(actor, swapsOf(back), teacherOverlap, fence, [
        { entityType: 'user', entityId: teacherId, action: 'user.handback', from: null, to: { handoverId: pending.id, subjects: back } },
      ]);
      return pending;
    });
    // Sessions scheduled by hand by whoever the hand back takes off a subject (the colleague).
    const left = new Map<string, string[]>();
    for (const h of back.subjects) {
      for (const t of h.after.filter((id) => !h.before.includes(id))) left.set(t, [...(left.get(t) ?? []), h.subjectId]);
    }
    await this.deps.subjects.handOverLeft(actor, [...left]);
    return back;
  }

  /** The subjects a hand-over would change, as they stand. */
  private async handedOver(actor: Actor, fromId: string, input: HandOverInput): Promise<HandedSubject[]> {
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
    return changes;
  }

  /**
   * `work` under the teacher's hand-over lock (one at a time, on every node) and the locks the
   * subjects' change takes (firstTeacherLocks), all in one withSlotLocks so none is taken twice.
   */
  private locked<T>(
    actor: Actor,
    teacherId: string,
    changes: readonly HandedSubject[],
    teacherOverlap: boolean,
    work: (fence: SlotFence) => Promise<T>,
  ): Promise<T> {
    const keys: SlotLockKey[] = [
      { kind: 'handover', id: teacherId },
      ...firstTeacherLocks(
        changes.map((c) => ({ subjectId: c.subjectId, teacherIds: c.after })),
        teacherOverlap,
      ),
    ];
    return withSlotLocks({ store: this.deps.store, now: this.deps.clock }, actor.orgId, keys, work);
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

function swapsOf(changes: readonly HandedSubject[]): TeacherSwap[] {
  return changes.map((c) => ({ id: c.subjectId, from: c.before, to: c.after }));
}

/** A hand back: each subject from its teachers after the hand-over to those before it. */
function backOf(pending: PendingHandover): HandedSubject[] {
  return pending.subjects.map((s) => ({ ...s, before: s.after, after: s.before }));
}

function sameChanges(a: readonly HandedSubject[], b: readonly HandedSubject[]): boolean {
  return a.length === b.length && a.every((c, i) => c.subjectId === b[i]!.subjectId && sameIds(c.before, b[i]!.before));
}
