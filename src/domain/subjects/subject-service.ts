import type { LeavingTeacherSessions } from './leaving-teacher.js';
import type { z } from 'zod';
import { StoreConflictError, type LeaseFence } from '../ports/common.js';
import { type Store } from '../ports/store.js';
import {
  type ClassroomLocation,
  type EnrolOutcome,
  type StudentSubject,
  type Subject,
  type SubjectPatch,
  type TeacherSwap,
} from '../ports/subjects.js';
import { requireRole, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { EventPublisher } from '../events.js';
import { audit, auditEntry, type ActorEntry } from '../audit-log.js';
import { toPublicUser, type PublicUser } from '../users/public-user.js';
import type { User } from '../ports/users.js';
import { chunked } from '../users/user-lookup.js';
import { AllowedIpRangesSchema, LocationSchema } from './subject-input.js';
import type { AuditAction } from '../../shared/audit.js';
import { subjectRoomSessionIds } from './room-sessions.js';
import { assertInUse } from './subject-archive.js';
import type { FirstTeacherChange, TeacherChange } from '../timetable/first-teacher.js';
import type { DoubleBooking } from '../timetable/handed-together.js';
import type { SlotFence } from '../sessions/slot-locks.js';
import { issueDetails } from '../../shared/validation-issues.js';

export interface SubjectServiceDeps {
  store: Store;
  clock: () => Date;
  events: EventPublisher;
  /** How long after closing a session may be reopened; DEFAULT_REOPEN_WINDOW_MS when absent. */
  reopenWindowMs?: number | undefined;
  /** Checks and carries out a change of the first teacher (its meetings and sessions); absent: teachers change alone. */
  firstTeacher?: Pick<FirstTeacherChange, 'run' | 'followEach'> | undefined;
  /** Hands over the scheduled sessions a teacher taken off a subject still holds of it (by hand: the meetings' follow firstTeacher). */
  leavingTeacher?: Pick<LeavingTeacherSessions, 'handOver'> | undefined;
}

export interface CreateSubjectInput {
  code: string;
  name: string;
  /** Admins choose; a teacher creates subjects they alone teach (omitted or themself only). */
  teacherIds?: string[] | undefined;
  location?: ClassroomLocation | null | undefined;
  allowedIpRanges?: string[] | undefined;
}

export interface UpdateSubjectInput {
  code?: string | undefined;
  name?: string | undefined;
  /** Admins only. */
  teacherIds?: string[] | undefined;
  /** Keep the change even where it double-books the new first teacher (FirstTeacherChange). */
  teacherOverlap?: boolean | undefined;
}

export interface ListSubjectsInput {
  limit: number;
  offset: number;
  q?: string | undefined;
  /** Admins only; teachers always see the subjects they teach, students their enrolled ones. */
  teacherId?: string | undefined;
  /** True: only archived subjects; absent or false: only those in use (last year's are out of the way). */
  archived?: boolean | undefined;
}

/**
 * Subjects, their teachers, enrolments, classroom location and allowed networks. Admins
 * manage every subject of their organisation; teachers only the subjects they teach.
 */
export class SubjectService {
  constructor(private readonly deps: SubjectServiceDeps) {}

  async create(actor: Actor, input: CreateSubjectInput): Promise<Subject> {
    requireRole(actor, 'admin', 'teacher');
    const named = unique(input.teacherIds ?? []);
    if (actor.role === 'teacher' && named.some((id) => id !== actor.id)) {
      // Naming a colleague would hand them the subject's timetable, sessions and alerts unasked:
      // choosing who teaches is an admin's, at creation as on a change.
      throw new AppError('FORBIDDEN', 'A teacher creates subjects they alone teach; only an admin names other teachers.');
    }
    const teacherIds = actor.role === 'teacher' ? [actor.id] : named;
    await this.checkTeachers(actor.orgId, teacherIds);
    const subject = await this.mapConflict(() =>
      this.deps.store.subjects.create(actor.orgId, {
        code: input.code.trim(),
        name: input.name.trim(),
        teacherIds,
        location: input.location ? parse(LocationSchema, input.location, 'location') : null,
        allowedIpRanges: parse(AllowedIpRangesSchema, input.allowedIpRanges ?? [], 'allowedIpRanges'),
      }),
    );
    await this.audit(actor, subject.id, 'subject.create', null, subject);
    this.publishAssigned(actor, subject.id, subject.teacherIds, []);
    return subject;
  }

  /** A student's list holds student views: the classroom's location and networks stay with staff. */
  async list(actor: Actor, input: ListSubjectsInput): Promise<{ items: (Subject | StudentSubject)[]; total: number }> {
    const filter = { limit: input.limit, offset: input.offset, archived: input.archived === true, ...(input.q ? { q: input.q } : {}) };
    if (actor.role === 'student') {
      const page = await this.deps.store.subjects.list(actor.orgId, { ...filter, studentId: actor.id });
      return { items: page.items.map(toStudentSubject), total: page.total };
    }
    if (actor.role === 'teacher') return this.deps.store.subjects.list(actor.orgId, { ...filter, teacherId: actor.id });
    return this.deps.store.subjects.list(actor.orgId, { ...filter, ...(input.teacherId ? { teacherId: input.teacherId } : {}) });
  }

  get(actor: Actor, id: string): Promise<Subject> {
    return this.loadManaged(actor, id);
  }

  async update(actor: Actor, id: string, input: UpdateSubjectInput): Promise<Subject> {
    const before = await this.loadManaged(actor, id);
    const patch: SubjectPatch = {};
    if (input.code !== undefined) patch.code = input.code.trim();
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.teacherIds !== undefined) {
      if (actor.role !== 'admin') throw new AppError('FORBIDDEN', 'Only an admin changes the teachers of a subject.');
      patch.teacherIds = unique(input.teacherIds);
      await this.checkTeachers(actor.orgId, patch.teacherIds);
    }
    const { teacherIds } = patch;
    // When the teachers change, the audit's before and the teachers this change removes are the
    // subject as FirstTeacherChange read it under the locks: a change another admin made between
    // the access check above and the locks is the one this replaces.
    let replaced = before;
    const write = (fence?: LeaseFence, current: Subject | null = before) => {
      if (!current) throw new AppError('NOT_FOUND');
      replaced = current;
      return this.applyPatch(actor, current, patch, 'subject.update', fence);
    };
    const after =
      teacherIds !== undefined && this.deps.firstTeacher
        ? await this.deps.firstTeacher.run(actor, id, teacherIds, input.teacherOverlap === true, write)
        : await write();
    const kept = new Set(after.teacherIds);
    await this.announceRemoved(
      actor,
      before.id,
      [],
      replaced.teacherIds.filter((t) => !kept.has(t)),
    );
    this.publishAssigned(actor, before.id, after.teacherIds, replaced.teacherIds);
    await this.handOverLeft(
      actor,
      replaced.teacherIds.filter((t) => !kept.has(t)).map((t) => [t, [id]]),
    );
    return after;
  }

  /**
   * The scheduled sessions each teacher taken off these subjects still holds of them, handed to a
   * teacher of the subject free then, else audited `session.unstaffed` (LeavingTeacherSessions),
   * once the change's locks are released.
   */
  async handOverLeft(actor: Actor, left: readonly (readonly [string, readonly string[]])[]): Promise<void> {
    for (const [teacherId, subjectIds] of left) await this.deps.leavingTeacher?.handOver(actor, teacherId, subjectIds);
  }

  /**
   * Several subjects' teachers changed as one (a teacher's hand-over), under the locks the caller
   * holds (firstTeacherLocks): every subject checked first under the first-teacher rule, then
   * written together (store.subjects.setTeachersEach), each only while its teachers are still
   * `from`. Refused (TEACHER_DOUBLE_BOOKED, or CONFLICT for one changed since): nothing is
   * written, and `details.refused` names each subject. One `subject.update` entry per subject,
   * and the caller's `entries` (a hand-over's own), written by the store with the subjects.
   */
  async setTeachersEach(
    actor: Actor,
    swaps: readonly TeacherSwap[],
    teacherOverlap: boolean,
    fence: SlotFence,
    entries: readonly ActorEntry[] = [],
  ): Promise<Subject[]> {
    requireRole(actor, 'admin');
    await this.checkTeachers(actor.orgId, unique(swaps.flatMap((w) => [...w.to])));
    const changes: TeacherChange[] = swaps.map((w) => ({ subjectId: w.id, teacherIds: w.to }));
    const checked = this.deps.firstTeacher ? await this.deps.firstTeacher.followEach(actor, changes, teacherOverlap, fence) : null;
    const refused = swaps.flatMap((w) => {
      const err = checked?.refused.get(w.id);
      return err ? [{ subjectId: w.id, error: err }] : [];
    });
    if (refused.length > 0) throw await this.refusal(actor, refused);
    let after: Subject[];
    try {
      const at = this.deps.clock();
      const audited = [
        ...swaps.map((w): ActorEntry => ({
          entityType: 'subject',
          entityId: w.id,
          action: 'subject.update',
          from: { teacherIds: w.from },
          to: { teacherIds: w.to },
        })),
        ...entries,
      ].map((e) => auditEntry(actor, at, e));
      after = await this.deps.store.subjects.setTeachersEach(actor.orgId, swaps, await fence(), audited);
    } catch (err) {
      if (!(err instanceof StoreConflictError) || !err.key.startsWith('teacherIds:')) throw err;
      const subjectId = err.key.slice('teacherIds:'.length);
      throw await this.refusal(actor, [{ subjectId, error: new AppError('CONFLICT', 'Its teachers changed meanwhile.') }]);
    }
    for (const [i, w] of swaps.entries()) {
      const kept = new Set(w.to);
      await this.announceRemoved(
        actor,
        w.id,
        [],
        w.from.filter((t) => !kept.has(t)),
      );
      this.publishAssigned(actor, w.id, after[i]!.teacherIds, w.from);
    }
    return after;
  }

  /** One answer for several subjects refused: each named with its code, the first one's error code the answer's. */
  private async refusal(actor: Actor, refused: { subjectId: string; error: AppError }[]): Promise<AppError> {
    const found = new Map(
      (
        await this.deps.store.subjects.getMany(
          actor.orgId,
          refused.map((r) => r.subjectId),
        )
      ).map((s) => [s.id, s.code]),
    );
    return subjectsRefused(
      refused.map((r) => {
        const doubleBookings = r.error.details?.['doubleBookings'] as DoubleBooking[] | undefined;
        return {
          subjectId: r.subjectId,
          code: found.get(r.subjectId) ?? '?',
          error: r.error.code,
          message: r.error.message,
          ...(doubleBookings ? { doubleBookings } : {}),
        };
      }),
    );
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const before = await this.loadManaged(actor, id);
    // Read first: the sessions go with the subject.
    const live = await this.roomSessionIds(actor.orgId, id);
    const enrolled = await this.deps.store.subjects.listEnrolled(actor.orgId, id);
    if (!(await this.deps.store.subjects.delete(actor.orgId, id))) throw new AppError('NOT_FOUND');
    await this.audit(actor, id, 'subject.delete', before, null);
    this.publishRemoved(actor, id, live, enrolled, before.teacherIds);
  }

  async setLocation(actor: Actor, id: string, location: ClassroomLocation | null): Promise<Subject> {
    const before = await this.loadManaged(actor, id);
    const value = location === null ? null : parse(LocationSchema, location, 'location');
    return this.applyPatch(actor, before, { location: value }, 'subject.location');
  }

  async setNetwork(actor: Actor, id: string, allowedIpRanges: string[]): Promise<Subject> {
    const before = await this.loadManaged(actor, id);
    const ranges = unique(parse(AllowedIpRangesSchema, allowedIpRanges, 'allowedIpRanges'));
    return this.applyPatch(actor, before, { allowedIpRanges: ranges }, 'subject.network');
  }

  async listStudents(actor: Actor, id: string, page: { limit: number; offset: number }): Promise<{ items: PublicUser[]; total: number }> {
    await this.loadManaged(actor, id);
    const ids = await this.deps.store.subjects.listEnrolled(actor.orgId, id);
    const users = await this.deps.store.users.getMany(actor.orgId, ids);
    users.sort((a, b) => (a.studentNumber ?? '').localeCompare(b.studentNumber ?? '') || a.email.localeCompare(b.email));
    return { items: users.slice(page.offset, page.offset + page.limit).map(toPublicUser), total: users.length };
  }

  /**
   * All or nothing: any id that is not an active student of the organisation rejects the request.
   * One deactivated or removed between that check and the write is refused by the store alone
   * (the others are enrolled): the answer names them in `refusedStudentIds`, present only then, so
   * the answer of every other call keeps the shape clients were written against.
   */
  async enrol(actor: Actor, id: string, studentIds: string[]): Promise<{ enrolled: number; total: number; refusedStudentIds?: string[] }> {
    const subject = await this.loadManaged(actor, id);
    assertInUse([subject]);
    const ids = unique(studentIds);
    const found = await this.deps.store.users.getMany(actor.orgId, ids);
    const students = new Set(found.filter((u) => u.role === 'student').map((u) => u.id));
    const unknown = ids.filter((s) => !students.has(s));
    if (unknown.length > 0) {
      throw new AppError('VALIDATION_FAILED', 'Some ids are not students of this organisation.', { unknownStudentIds: unknown });
    }
    refuseDeactivated(found);
    const outcome = (await this.writeEnrolments(actor, new Map([[id, ids]]))).get(id)!;
    // Deleted or archived by another admin since the check: answered as it would have been before it.
    if (outcome.gone === 'deleted') throw new AppError('NOT_FOUND');
    if (outcome.gone === 'archived') throw new AppError('SUBJECT_ARCHIVED', undefined, { subjectIds: [id] });
    const total = (await this.deps.store.subjects.listEnrolled(actor.orgId, id)).length;
    return outcome.refused.length === 0
      ? { enrolled: outcome.added, total }
      : { enrolled: outcome.added, total, refusedStudentIds: outcome.refused };
  }

  /**
   * enrol for several subjects at once (a class at a time): the students of all of them are
   * checked with one read per LOOKUP_CHUNK ids rather than one per subject, which on MongoDB was
   * a scan of the users each. All or nothing as enrol, before anything is written; a student
   * deactivated or removed after that check is refused by the store alone, as enrol says.
   * Answers, per subject, what was enrolled and refused.
   */
  async enrolEach(actor: Actor, bySubject: ReadonlyMap<string, readonly string[]>): Promise<Map<string, EnrolOutcome>> {
    const ids = unique([...bySubject.values()].flat());
    const found: User[] = [];
    for (const part of chunked(ids)) found.push(...(await this.deps.store.users.getMany(actor.orgId, part)));
    const students = new Set(found.filter((u) => u.role === 'student').map((u) => u.id));
    const unknown = ids.filter((s) => !students.has(s));
    if (unknown.length > 0) {
      throw new AppError('VALIDATION_FAILED', 'Some ids are not students of this organisation.', { unknownStudentIds: unknown });
    }
    refuseDeactivated(found);
    return this.enrolChecked(actor, bySubject);
  }

  /**
   * An import's enrolments, its students checked with its file (every row's before any write):
   * no second all-or-nothing check, which would refuse the request after its subjects were
   * created. The store refuses, each on its own, a student deactivated or removed since; the
   * answer names them per subject for the import to say which rows they were on.
   */
  async enrolChecked(actor: Actor, bySubject: ReadonlyMap<string, readonly string[]>): Promise<Map<string, EnrolOutcome>> {
    const subjects: Subject[] = [];
    for (const id of bySubject.keys()) subjects.push(await this.loadManaged(actor, id));
    assertInUse(subjects);
    return this.writeEnrolments(actor, bySubject);
  }

  /**
   * The store's write of each subject's enrolments with their audit entries (one write: none left
   * unaudited by a crash after it), announced for those it enrolled. One store call for all the
   * subjects: on MongoDB one read of the students for all of them rather than two per subject,
   * each a scan of the users on FerretDB. A subject deleted or archived since the caller's check
   * enrols nobody: its outcome says `gone`.
   */
  private async writeEnrolments(actor: Actor, bySubject: ReadonlyMap<string, readonly string[]>): Promise<Map<string, EnrolOutcome>> {
    const lists = new Map([...bySubject].map(([id, studentIds]) => [id, unique([...studentIds])]));
    const befores = new Map<string, Set<string>>();
    for (const [id, list] of lists) befores.set(id, await this.enrolledAmong(actor.orgId, id, list));
    const at = this.deps.clock();
    const outcomes = await this.deps.store.subjects.enrolMany(actor.orgId, lists, (id, studentIds) =>
      auditEntry(actor, at, { entityType: 'subject', entityId: id, action: 'subject.enrol', from: null, to: { studentIds } }),
    );
    for (const [id, list] of lists) {
      const outcome = outcomes.get(id)!;
      if (outcome.gone) continue;
      const refused = new Set(outcome.refused);
      const written = list.filter((s) => !refused.has(s));
      if (written.length > 0) this.publishAdded(actor, id, written, befores.get(id)!);
    }
    return outcomes;
  }

  /**
   * The subjects one student is enrolled in, by code: the admin's view of a student who moves to
   * another class or arrives late, which no subject's own list answers without opening them all.
   */
  async subjectsOfStudent(actor: Actor, studentId: string): Promise<Subject[]> {
    await this.requireUser(actor, studentId);
    const enrolments = await this.deps.store.subjects.enrolmentsOf(actor.orgId, [studentId]);
    const subjects = await this.deps.store.subjects.getMany(
      actor.orgId,
      enrolments.map((e) => e.subjectId),
    );
    return subjects.sort((a, b) => a.code.localeCompare(b.code));
  }

  /**
   * Enrols one student in the subjects of these exact codes, as enrolEach does (audit, rooms). All
   * or nothing: a code no subject has refuses the request with the codes in details.unknownCodes.
   * Answers the student's subjects afterwards.
   */
  async enrolStudentByCodes(actor: Actor, studentId: string, codes: readonly string[]): Promise<Subject[]> {
    refuseDeactivated([await this.requireUser(actor, studentId)]);
    const wanted = unique([...codes]);
    const found = await this.deps.store.subjects.getByCodes(actor.orgId, wanted);
    const known = new Set(found.map((s) => s.code));
    const unknownCodes = wanted.filter((c) => !known.has(c));
    if (unknownCodes.length > 0) throw new AppError('VALIDATION_FAILED', 'No subject has some of these codes.', { unknownCodes });
    await this.enrolEach(actor, new Map(found.map((s) => [s.id, [studentId]])));
    return this.subjectsOfStudent(actor, studentId);
  }

  /**
   * Takes one student out of several subjects at once, all or nothing (a leaver, a student moving
   * class): ids that are not subjects of the organisation refuse the request with
   * details.unknownSubjectIds and nothing is removed; then one store statement removes them all.
   * Audited on each subject left (`subject.unenrol`), as removing from the subject. Answers the
   * student's subjects afterwards.
   */
  async unenrolStudentFrom(actor: Actor, studentId: string, subjectIds: readonly string[]): Promise<Subject[]> {
    await this.requireUser(actor, studentId);
    const ids = unique([...subjectIds]);
    const found = new Set((await this.deps.store.subjects.getMany(actor.orgId, ids)).map((s) => s.id));
    const unknownSubjectIds = ids.filter((id) => !found.has(id));
    if (unknownSubjectIds.length > 0) {
      throw new AppError('VALIDATION_FAILED', 'Some ids are not subjects of this organisation.', { unknownSubjectIds });
    }
    const wanted = new Set(ids);
    const leaving = (await this.deps.store.subjects.enrolmentsOf(actor.orgId, [studentId])).filter((e) => wanted.has(e.subjectId));
    await this.deps.store.subjects.unenrolStudent(actor.orgId, studentId, ids);
    for (const { subjectId } of leaving) {
      await this.audit(actor, subjectId, 'subject.unenrol', { studentIds: [studentId] }, null);
      await this.announceRemoved(actor, subjectId, [studentId], []);
    }
    return this.subjectsOfStudent(actor, studentId);
  }

  private async requireUser(actor: Actor, id: string): Promise<User> {
    requireRole(actor, 'admin');
    const user = await this.deps.store.users.get(actor.orgId, id);
    if (!user) throw new AppError('NOT_FOUND');
    return user;
  }

  /** Ids that were not enrolled are reported back, not treated as errors. */
  async unenrol(actor: Actor, id: string, studentIds: string[]): Promise<{ removed: number; notEnrolledIds: string[]; total: number }> {
    await this.loadManaged(actor, id);
    const ids = unique(studentIds);
    const current = new Set(await this.deps.store.subjects.listEnrolled(actor.orgId, id));
    const notEnrolledIds = ids.filter((s) => !current.has(s));
    const removed = await this.deps.store.subjects.unenrol(actor.orgId, id, ids);
    const removedIds = ids.filter((s) => current.has(s));
    await this.audit(actor, id, 'subject.unenrol', { studentIds: removedIds }, null);
    await this.announceRemoved(actor, id, removedIds, []);
    return { removed, notEnrolledIds, total: current.size - removed };
  }

  private async enrolledAmong(orgId: string, subjectId: string, studentIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunked(studentIds))
      for (const s of await this.deps.store.subjects.enrolledAmong(orgId, subjectId, part)) found.add(s);
    return found;
  }

  // Open sockets of the students it adds join the subject's room at once, on every node
  // (socket-server.ts), rather than at their page's next listing: without a live session to
  // list, that was their next reconnect, and the sessions opened meanwhile went unheard. Only
  // those not enrolled before (read before the write: of two concurrent enrolments, the first
  // to be written read the student absent): an import run again does not make every connected
  // page list its sessions again.
  private publishAdded(actor: Actor, subjectId: string, studentIds: readonly string[], before: ReadonlySet<string>): void {
    const added = studentIds.filter((s) => !before.has(s));
    if (added.length === 0) return;
    this.deps.events.publish({ type: 'subject.enrolled', orgId: actor.orgId, subjectId, studentIds: added });
  }

  // A teacher's open page lists its subjects once, at load: without this, one given a subject
  // meanwhile could not open its sessions until a reload. Only those it adds (against the subject
  // the write replaced): a change of name alone, or the same teachers again, tells nobody.
  private publishAssigned(actor: Actor, subjectId: string, teacherIds: readonly string[], before: readonly string[]): void {
    const had = new Set(before);
    const added = teacherIds.filter((t) => !had.has(t));
    if (added.length === 0) return;
    this.deps.events.publish({ type: 'subject.assigned', orgId: actor.orgId, subjectId, teacherIds: added });
  }

  // Open sockets of people who lost the subject leave its rooms (socket-server.ts): the subject's
  // own (students hear its openings there) even when no session is live, and those of its
  // sessions that may still broadcast, a closed one too as long as it may be reopened.
  private async announceRemoved(actor: Actor, subjectId: string, studentIds: string[], teacherIds: string[]): Promise<void> {
    if (studentIds.length === 0 && teacherIds.length === 0) return;
    this.publishRemoved(actor, subjectId, await this.roomSessionIds(actor.orgId, subjectId), studentIds, teacherIds);
  }

  private publishRemoved(actor: Actor, subjectId: string, sessionIds: string[], studentIds: string[], teacherIds: string[]): void {
    if (studentIds.length === 0 && sessionIds.length === 0) return;
    this.deps.events.publish({
      type: 'subject.access-changed',
      orgId: actor.orgId,
      subjectId,
      sessionIds,
      removedStudentIds: studentIds,
      removedTeacherIds: teacherIds,
    });
  }

  private roomSessionIds(orgId: string, subjectId: string): Promise<string[]> {
    return subjectRoomSessionIds(this.deps.store, orgId, subjectId, this.deps.clock(), this.deps.reopenWindowMs);
  }

  /** The subject, if the actor may manage it: NOT_FOUND outside the org, NOT_SUBJECT_TEACHER for other teachers. */
  private async loadManaged(actor: Actor, id: string): Promise<Subject> {
    requireRole(actor, 'admin', 'teacher');
    const subject = await this.deps.store.subjects.get(actor.orgId, id);
    if (!subject) throw new AppError('NOT_FOUND');
    if (actor.role === 'teacher' && !subject.teacherIds.includes(actor.id)) throw new AppError('NOT_SUBJECT_TEACHER');
    return subject;
  }

  private async applyPatch(actor: Actor, before: Subject, patch: SubjectPatch, action: AuditAction, fence?: LeaseFence): Promise<Subject> {
    const after = await this.mapConflict(() => this.deps.store.subjects.update(actor.orgId, before.id, patch, fence));
    if (!after) throw new AppError('NOT_FOUND');
    const keys = Object.keys(patch) as Array<keyof SubjectPatch>;
    await this.audit(actor, before.id, action, pick(before, keys), pick(after, keys));
    return after;
  }

  private async checkTeachers(orgId: string, teacherIds: string[]): Promise<void> {
    if (teacherIds.length === 0) return;
    const found = await this.deps.store.users.getMany(orgId, teacherIds);
    const teachers = new Set(found.filter((u) => u.role === 'teacher').map((u) => u.id));
    const unknown = teacherIds.filter((t) => !teachers.has(t));
    if (unknown.length > 0) {
      throw new AppError('VALIDATION_FAILED', 'Some ids are not teachers of this organisation.', { unknownTeacherIds: unknown });
    }
  }

  private audit(actor: Actor, id: string, action: AuditAction, from: unknown, to: unknown): Promise<void> {
    return audit(this.deps.store, actor, this.deps.clock(), { entityType: 'subject', entityId: id, action, from, to });
  }

  private async mapConflict<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof StoreConflictError && err.key === 'code') throw new AppError('SUBJECT_CODE_TAKEN');
      throw err;
    }
  }
}

/** One subject of several that refused a change made to them all. */
export interface SubjectRefusal {
  subjectId: string;
  code: string;
  error: ErrorCode;
  message: string;
  /** A TEACHER_DOUBLE_BOOKED refusal's clashes, each named: which meeting (or day) against which subject's. */
  doubleBookings?: DoubleBooking[];
}

/** Nothing was changed: every subject that refused, named in the message and in `details.refused`; the answer's code the first's unless given. */
export function subjectsRefused(refused: readonly SubjectRefusal[], code: ErrorCode = refused[0]!.error): AppError {
  const named = refused.map((r) => `${r.code}: ${r.message}`).join('; ');
  return new AppError(code, `Nothing was changed; ${refused.length} subject(s) refused. ${named}`, { refused });
}

/**
 * A deactivated student cannot log in to check in, and every close of an enrolled one records an
 * absence: enrolling them is a mistake (a leaver's row, a number typed wrong), refused by name.
 */
function refuseDeactivated(users: readonly User[]): void {
  const deactivatedStudentIds = users.filter((u) => u.role === 'student' && !u.active).map((u) => u.id);
  if (deactivatedStudentIds.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'Some students are deactivated: reactivate them before enrolling them.', {
      deactivatedStudentIds,
    });
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new AppError('VALIDATION_FAILED', undefined, { ...issueDetails(r.error.issues, path) });
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

function pick(s: Subject, keys: Array<keyof SubjectPatch>): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, s[k]]));
}

function toStudentSubject(subject: Subject): StudentSubject {
  const { location: _location, allowedIpRanges: _ranges, ...rest } = subject;
  return rest;
}
