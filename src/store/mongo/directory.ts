import { Types, type QueryFilter } from 'mongoose';
import { newOrganisationEntity, newSubjectEntity, newUserEntity } from '../new-entities.js';
import { LeaseLostError, StoreConflictError } from '../../domain/ports/common.js';
import { fencedFindOneAndUpdate, lostLease, renewFence } from './jobs.js';
import { type OrganisationRepository } from '../../domain/ports/organisations.js';
import {
  type EnrolEntry,
  type EnrolGone,
  type EnrolOutcome,
  type NewSubject,
  type SubjectRepository,
} from '../../domain/ports/subjects.js';
import { type UserRepository } from '../../domain/ports/users.js';
import { isDuplicateKeyError, mapConflicts } from './errors.js';
import { fromAudit, fromEnrolment, fromOrganisation, fromSubject, fromUser, toOrganisation, toSubject, toUser } from './mapping.js';
import { takeBackAuditEntries } from './audit-scrubs.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import { insertEach } from './bulk-inserts.js';
import type { EnrolmentDoc, SubjectDoc } from './subject-schemas.js';
import type { OrganisationDoc, UserDoc } from './organisation-schemas.js';
import { pagedList } from './paged-list.js';
import { bumpStanding } from './standing-versions.js';

// Organisations, users, subjects and enrolments: the org's directory.

const after = { returnDocument: 'after', runValidators: true } as const;

export function organisationRepository(m: Models, clock: () => Date): OrganisationRepository {
  return {
    async create(input) {
      const org = newOrganisationEntity(input, clock());
      await mapConflicts(() => m.organisations.create(fromOrganisation(org)), 'slug');
      return org;
    },
    async list(page) {
      const { skip, limit } = q.pageOptions(page);
      return pagedList(
        () => m.organisations.find({}).sort({ slug: 1 }).skip(skip).limit(limit).lean<OrganisationDoc[]>(),
        () => m.organisations.countDocuments({}),
        page,
        toOrganisation,
      );
    },
    async update(id, patch) {
      const set: Partial<OrganisationDoc> = { ...q.definedOnly(patch) };
      if (patch.settings) set.settings = { ...patch.settings, defaultPolicy: { ...patch.settings.defaultPolicy } };
      const d = await m.organisations.findOneAndUpdate({ _id: id }, { $set: set }, after).lean<OrganisationDoc>();
      if (d && patch.active !== undefined) await bumpStanding(m, [id]);
      return d ? toOrganisation(d) : null;
    },
    async get(id) {
      const d = await m.organisations.findOne({ _id: id }).lean<OrganisationDoc>();
      return d ? toOrganisation(d) : null;
    },
    async getBySlug(slug) {
      const d = await m.organisations.findOne({ slug }).lean<OrganisationDoc>();
      return d ? toOrganisation(d) : null;
    },
    async count() {
      return m.organisations.countDocuments({});
    },
  };
}

export function userRepository(m: Models, clock: () => Date): UserRepository {
  return {
    async create(orgId, input) {
      const u = newUserEntity(orgId, input, clock());
      await mapConflicts(() => m.users.create(fromUser(u)), 'email');
      return u;
    },
    async createMany(orgId, inputs) {
      const now = clock();
      const all = inputs.map((i) => newUserEntity(orgId, i, now));
      if (new Set(all.map((u) => u.email)).size !== all.length) throw new StoreConflictError('email');
      if (all.length === 0) return [];
      try {
        await m.users.insertMany(all.map(fromUser), { ordered: true });
      } catch (err) {
        // No multi-document transaction on a standalone server: undo what this call inserted,
        // which is safe because the ids are fresh.
        await m.users.deleteMany(
          q.byOrgIds<UserDoc>(
            orgId,
            all.map((u) => u.id),
          ),
        );
        throw isDuplicateKeyError(err) ? new StoreConflictError('email') : err;
      }
      return all;
    },
    async createEach(orgId, inputs) {
      const now = clock();
      const all = inputs.map((i) => newUserEntity(orgId, i, now));
      if (all.length === 0) return [];
      // The ids are fresh: one found under its id after a resend is this call's.
      const outcomes = await insertEach(m.users, all.map(fromUser), () => true);
      return all.map((u, k) => {
        const o = outcomes[k]!;
        if (o.stored) return u;
        if (o.duplicate) return new StoreConflictError('email');
        throw o.error;
      });
    },
    async get(orgId, id) {
      const d = await m.users.findOne(q.byOrgId<UserDoc>(orgId, id)).lean<UserDoc>();
      return d ? toUser(d) : null;
    },
    async getMany(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.users.find(q.byOrgIds<UserDoc>(orgId, ids)).lean<UserDoc[]>();
      return docs.map(toUser);
    },
    async getNames(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.users
        .find(q.byOrgIds<UserDoc>(orgId, ids))
        .select({ name: 1, studentNumber: 1 })
        .lean<Pick<UserDoc, '_id' | 'name' | 'studentNumber'>[]>();
      return docs.map((d) => ({ id: d._id, name: d.name, studentNumber: d.studentNumber ?? null }));
    },
    async getStandings(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.users
        .find(q.byOrgIds<UserDoc>(orgId, ids))
        .select({ role: 1, active: 1, mustChangePassword: 1 })
        .lean<Pick<UserDoc, '_id' | 'role' | 'active' | 'mustChangePassword'>[]>();
      // Documents written before mustChangePassword existed read as false, as in toUser.
      return docs.map((d) => ({ id: d._id, role: d.role, active: d.active, mustChangePassword: d.mustChangePassword ?? false }));
    },
    async getByEmail(orgId, email) {
      const d = await m.users.findOne(q.userByEmailFilter(orgId, email)).lean<UserDoc>();
      return d ? toUser(d) : null;
    },
    async getByEmails(orgId, emails) {
      if (emails.length === 0) return [];
      const docs = await m.users.find(q.usersByEmailsFilter(orgId, emails)).lean<UserDoc[]>();
      return docs.map(toUser);
    },
    async getByStudentNumbers(orgId, numbers) {
      if (numbers.length === 0) return [];
      const docs = await m.users.find(q.usersByStudentNumbersFilter(orgId, numbers)).lean<UserDoc[]>();
      return docs.map(toUser);
    },
    async findByEmailAnyOrg(email) {
      const docs = await m.users.find(q.userByEmailAnyOrgFilter(email)).sort(q.CREATED_SORT).lean<UserDoc[]>();
      return docs.map(toUser);
    },
    async list(orgId, f) {
      const filter = q.userListFilter(orgId, f);
      const { skip, limit } = q.pageOptions(f);
      return pagedList(
        () => m.users.find(filter).sort(q.USER_LIST_SORT).skip(skip).limit(limit).lean<UserDoc[]>(),
        () => m.users.countDocuments(filter),
        f,
        toUser,
      );
    },
    async update(orgId, id, patch) {
      const d = await mapConflicts(
        () => m.users.findOneAndUpdate(q.byOrgId<UserDoc>(orgId, id), q.userUpdate(patch, clock()), after).lean<UserDoc>(),
        'email',
      );
      if (d && (patch.active !== undefined || patch.role !== undefined || patch.mustChangePassword !== undefined)) {
        await bumpStanding(m, [orgId]);
      }
      return d ? toUser(d) : null;
    },
  };
}

export function subjectRepository(m: Models, clock: () => Date): SubjectRepository {
  const activeStudents = async (orgId: string, ids: readonly string[]): Promise<Set<string>> => {
    if (ids.length === 0) return new Set();
    const docs = await m.users
      .find({ ...q.byOrgIds<UserDoc>(orgId, ids), role: 'student', active: true }, { _id: 1 })
      .lean<Pick<UserDoc, '_id'>[]>();
    return new Set(docs.map((d) => d._id));
  };
  /** Whether each of these subjects is in use (null), archived (its date), or none of the organisation's (left out). */
  const subjectStates = async (orgId: string, ids: readonly string[]): Promise<Map<string, Date | null>> => {
    const docs = await m.subjects
      .find(q.byOrgIds<SubjectDoc>(orgId, [...ids]), { _id: 1, archivedAt: 1 })
      .lean<Pick<SubjectDoc, '_id' | 'archivedAt'>[]>();
    return new Map(docs.map((d) => [d._id, d.archivedAt ?? null]));
  };
  const goneOf = (states: ReadonlyMap<string, Date | null>, id: string): EnrolGone | undefined =>
    !states.has(id) ? 'deleted' : states.get(id) !== null ? 'archived' : undefined;
  /**
   * The enrolments of several subjects (an import's classes) with one read of each kind for all
   * of them: the subjects and the students (before the insert and, for those inserted, after it),
   * the enrolments already there, and one unordered insert. Reads by anything but `_id` alone are
   * scans on FerretDB (docs/mongodb.md): a class at a time made an import of 10 classes 50
   * commands, 20 of them reads of the users.
   */
  const enrolMany = async (
    orgId: string,
    bySubject: ReadonlyMap<string, readonly string[]>,
    entry?: EnrolEntry,
  ): Promise<Map<string, EnrolOutcome>> => {
    const outcomes = new Map<string, EnrolOutcome>([...bySubject.keys()].map((id) => [id, { added: 0, refused: [] }]));
    if (bySubject.size === 0) return outcomes;
    // A subject of another organisation (or none), or archived, enrols nobody.
    const before = await subjectStates(orgId, [...bySubject.keys()]);
    for (const id of bySubject.keys()) {
      const gone = goneOf(before, id);
      if (gone) outcomes.set(id, { added: 0, refused: [], gone });
    }
    const subjects = [...bySubject]
      .filter(([id, ids]) => ids.length > 0 && !goneOf(before, id))
      .map(([id, ids]) => [id, [...new Set(ids)]] as const);
    if (subjects.length === 0) return outcomes;
    const everyone = [...new Set(subjects.flatMap(([, ids]) => ids))];
    const able = await activeStudents(orgId, everyone);
    const pair = (subjectId: string, studentId: string) => `${subjectId}/${studentId}`;
    const present = new Set(
      (
        await m.enrolments
          .find({ orgId, subjectId: { $in: subjects.map(([id]) => id) }, studentId: { $in: everyone } }, { subjectId: 1, studentId: 1 })
          .lean<Pick<EnrolmentDoc, 'subjectId' | 'studentId'>[]>()
      ).map((r) => pair(r.subjectId, r.studentId)),
    );
    const now = clock();
    const fresh = subjects.flatMap(([subjectId, ids]) =>
      ids
        .filter((id) => able.has(id) && !present.has(pair(subjectId, id)))
        .map((studentId) => fromEnrolment({ orgId, subjectId, studentId, createdAt: now })),
    );
    for (const [subjectId, ids] of subjects) outcomes.set(subjectId, { added: 0, refused: ids.filter((id) => !able.has(id)) });
    // The entries first, as the enrolments' intent (no transaction): a node dying after them
    // leaves them over an enrolment made in part or not at all, never an enrolment unaudited.
    const intents = entry ? await writeIntents(subjects, able, entry) : new Map<string, Intent>();
    if (fresh.length === 0) return outcomes;
    // Inserts, not an upsert each (a scan and a transaction per student on FerretDB: a class of
    // 50 took a second). One enrolled by a concurrent call meanwhile is refused by the unique
    // key, which means it exists, as wanted: only this call's inserts are counted.
    const inserted = await insertEach(m.enrolments, fresh);
    const failed = inserted.find((o) => !o.stored && !o.duplicate);
    if (failed && 'error' in failed) {
      await takeBackAuditEntries(
        m,
        [...intents.values()].map((i) => i.id),
      );
      throw failed.error;
    }
    const stored = fresh.filter((_, i) => inserted[i]!.stored);
    // No transaction: a student deactivated or erased, or a subject deleted or archived, between
    // the reads above and the insert is seen now, and this call's enrolments of them taken back
    // (an erasure deletes the account before its enrolments' last sweep, privacy.ts, and a
    // subject's deletion the subject before its enrolments: one of the two always sees the
    // other). Only the students and subjects this call inserted are read again, once for all.
    const still = await activeStudents(orgId, [...new Set(stored.map((d) => d.studentId))]);
    const after = await subjectStates(orgId, [...new Set(stored.map((d) => d.subjectId))]);
    const redone: Array<[string, string[]]> = [];
    for (const [subjectId, ids] of subjects) {
      const mine = stored.filter((d) => d.subjectId === subjectId).map((d) => d.studentId);
      if (mine.length === 0) continue;
      const gone = goneOf(after, subjectId);
      const late = gone ? mine : mine.filter((id) => !still.has(id));
      if (late.length > 0) await m.enrolments.deleteMany(q.enrolmentFilter(orgId, subjectId, late));
      if (gone) {
        outcomes.set(subjectId, { added: 0, refused: [], gone });
      } else {
        const refused = outcomes.get(subjectId)!.refused;
        outcomes.set(subjectId, { added: mine.length - late.length, refused: [...refused, ...late] });
      }
      if (late.length > 0 && intents.has(subjectId))
        redone.push([subjectId, gone ? [] : ids.filter((id) => able.has(id) && !late.includes(id))]);
    }
    await redoIntents(intents, redone, entry);
    return outcomes;
  };
  type Intent = { id: string };
  /** Each subject's entry for the students it is to enrol (the active ones), inserted at once. */
  const writeIntents = async (
    subjects: ReadonlyArray<readonly [string, readonly string[]]>,
    able: ReadonlySet<string>,
    entry: EnrolEntry,
  ): Promise<Map<string, Intent>> => {
    const intents = new Map<string, Intent>();
    const docs = [];
    for (const [subjectId, ids] of subjects) {
      const written = ids.filter((id) => able.has(id));
      if (written.length === 0) continue;
      const id = newTimeOrderedId();
      intents.set(subjectId, { id });
      docs.push(fromAudit({ id, ...entry(subjectId, written) }, new Types.ObjectId()));
    }
    if (docs.length > 0) await m.audit.insertMany(docs, { ordered: true });
    return intents;
  };
  /**
   * The entries of the subjects whose enrolment was taken back in part or whole: one naming what
   * was written inserted first (none when nothing was), then the intent taken back.
   */
  const redoIntents = async (intents: ReadonlyMap<string, Intent>, redone: Array<[string, string[]]>, entry?: EnrolEntry) => {
    if (!entry || redone.length === 0) return;
    const docs = redone
      .filter(([, written]) => written.length > 0)
      .map(([subjectId, written]) => fromAudit({ id: newTimeOrderedId(), ...entry(subjectId, written) }, new Types.ObjectId()));
    if (docs.length > 0) await m.audit.insertMany(docs, { ordered: true });
    await takeBackAuditEntries(
      m,
      redone.map(([subjectId]) => intents.get(subjectId)!.id),
    );
  };
  return {
    async create(orgId, input: NewSubject) {
      const s = newSubjectEntity(orgId, input, clock());
      await mapConflicts(() => m.subjects.create(fromSubject(s)), 'code');
      return s;
    },
    async get(orgId, id) {
      const d = await m.subjects.findOne(q.byOrgId<SubjectDoc>(orgId, id)).lean<SubjectDoc>();
      return d ? toSubject(d) : null;
    },
    async getMany(orgId, ids) {
      if (ids.length === 0) return [];
      const docs = await m.subjects.find(q.byOrgIds<SubjectDoc>(orgId, [...ids])).lean<SubjectDoc[]>();
      return docs.map(toSubject);
    },
    async getByCodes(orgId, codes) {
      if (codes.length === 0) return [];
      const docs = await m.subjects.find({ orgId, code: { $in: [...codes] } }).lean<SubjectDoc[]>();
      return docs.map(toSubject);
    },
    async list(orgId, f) {
      let enrolled: string[] | null = null;
      if (f.studentId !== undefined) {
        const rows = await m.enrolments
          .find(q.enrolmentsOfStudentFilter(orgId, f.studentId), { subjectId: 1 })
          .lean<Pick<EnrolmentDoc, 'subjectId'>[]>();
        enrolled = rows.map((r) => r.subjectId);
      }
      const filter = q.subjectListFilter(orgId, f, enrolled);
      const { skip, limit } = q.pageOptions(f);
      return pagedList(
        () => m.subjects.find(filter).sort(q.SUBJECT_LIST_SORT).skip(skip).limit(limit).lean<SubjectDoc[]>(),
        () => m.subjects.countDocuments(filter),
        f,
        toSubject,
      );
    },
    async update(orgId, id, patch, fence) {
      const filter = q.byOrgId<SubjectDoc>(orgId, id);
      if (!fence) {
        const d = await mapConflicts(
          () => m.subjects.findOneAndUpdate(filter, q.subjectUpdate(patch, clock()), after).lean<SubjectDoc>(),
          'code',
        );
        return d ? toSubject(d) : null;
      }
      // As a fenced meeting edit: renewed before, read again after; a lease lost meanwhile puts
      // the patched fields back, only while they are still this write's (a change by the lease's
      // new holder, written since, stays).
      await renewFence(m, fence);
      const update = q.subjectUpdate(patch, clock());
      const ours = q.definedOnly(patch) as QueryFilter<SubjectDoc>;
      const d = await fencedFindOneAndUpdate(m, fence, { model: m.subjects, filter, key: filter, update, ours, conflictKey: 'code' });
      return d ? toSubject(d) : null;
    },
    async setTeachersEach(orgId, swaps, fence, entries = []) {
      // No multi-document transaction on a standalone server: each subject written only while its
      // teachers are still `from`, and on a refusal (or a lease lost) those written put back, only
      // while they are still this call's (a change made since by someone else stays). The audit
      // entries go first, as the change's intent: a node dying after them leaves them over a
      // change made in part or not at all, whereas one dying before them writes nothing.
      if (fence) await renewFence(m, fence);
      const now = clock();
      const auditIds = entries.map(() => newTimeOrderedId());
      if (entries.length > 0) {
        await m.audit.insertMany(
          entries.map((entry, i) => fromAudit({ id: auditIds[i]!, ...entry }, new Types.ObjectId())),
          { ordered: true },
        );
      }
      const done: { swap: (typeof swaps)[number]; before: SubjectDoc }[] = [];
      // The subjects put back before their entries are taken back: never a change left without them.
      const undo = async () => {
        for (const { swap, before } of done.reverse()) {
          await m.subjects.updateOne(
            { ...q.byOrgId<SubjectDoc>(orgId, swap.id), teacherIds: [...swap.to], updatedAt: now },
            { $set: { teacherIds: [...swap.from], updatedAt: before.updatedAt } },
          );
        }
        await takeBackAuditEntries(m, auditIds);
      };
      for (const swap of swaps) {
        const before = await m.subjects
          .findOneAndUpdate(
            { ...q.byOrgId<SubjectDoc>(orgId, swap.id), teacherIds: [...swap.from] },
            { $set: { teacherIds: [...swap.to], updatedAt: now } },
            { returnDocument: 'before' },
          )
          .lean<SubjectDoc>();
        if (!before) {
          await undo();
          throw new StoreConflictError(`teacherIds:${swap.id}`);
        }
        done.push({ swap, before });
      }
      const lost = fence ? await lostLease(m, fence) : null;
      if (lost !== null) {
        await undo();
        throw new LeaseLostError(lost);
      }
      return done.map(({ swap, before }) => toSubject({ ...before, teacherIds: [...swap.to], updatedAt: now }));
    },
    async delete(orgId, id) {
      const res = await m.subjects.deleteOne(q.byOrgId<SubjectDoc>(orgId, id));
      if (res.deletedCount !== 1) return false;
      await m.enrolments.deleteMany(q.enrolmentsOfSubjectFilter(orgId, id));
      return true;
    },
    async enrol(orgId, subjectId, studentIds) {
      return (await enrolMany(orgId, new Map([[subjectId, studentIds]]))).get(subjectId)!;
    },
    enrolMany,
    async unenrol(orgId, subjectId, studentIds) {
      if (studentIds.length === 0) return 0;
      const res = await m.enrolments.deleteMany(q.enrolmentFilter(orgId, subjectId, studentIds));
      return res.deletedCount;
    },
    async unenrolStudent(orgId, studentId, subjectIds) {
      if (subjectIds.length === 0) return 0;
      // One command: FerretDB runs it as one DELETE of them all.
      const res = await m.enrolments.deleteMany({ ...q.enrolmentsOfStudentFilter(orgId, studentId), subjectId: { $in: [...subjectIds] } });
      return res.deletedCount;
    },
    async listEnrolled(orgId, subjectId) {
      const rows = await m.enrolments
        .find(q.enrolmentsOfSubjectFilter(orgId, subjectId), { studentId: 1 })
        .sort(q.ENROLMENT_SORT)
        .lean<Pick<EnrolmentDoc, 'studentId'>[]>();
      return rows.map((r) => r.studentId);
    },
    async isEnrolled(orgId, subjectId, studentId) {
      return (await m.enrolments.exists(q.enrolmentFilter(orgId, subjectId, studentId))) !== null;
    },
    async enrolledAmong(orgId, subjectId, studentIds) {
      if (studentIds.length === 0) return [];
      const rows = await m.enrolments
        .find(q.enrolmentFilter(orgId, subjectId, studentIds), { studentId: 1 })
        .lean<Pick<EnrolmentDoc, 'studentId'>[]>();
      return rows.map((r) => r.studentId);
    },
    async enrolmentsOf(orgId, studentIds) {
      if (studentIds.length === 0) return [];
      const rows = await m.enrolments
        .find(q.enrolmentsOfStudentsFilter(orgId, studentIds), { studentId: 1, subjectId: 1 })
        .lean<Pick<EnrolmentDoc, 'studentId' | 'subjectId'>[]>();
      return rows.map((r) => ({ studentId: r.studentId, subjectId: r.subjectId }));
    },
  };
}
