import { newTimeOrderedId } from '../../shared/ids.js';
import { newSessionEntity } from '../new-entities.js';
import type { QueryFilter } from 'mongoose';
import { LeaseLostError, StoreConflictError, type LeaseFence } from '../../domain/ports/common.js';
import { fencedFindOneAndUpdate, lostLease, renewFence } from './jobs.js';
import { type RecordRepository, PROXY_PEERS_PER_CRITERION } from '../../domain/ports/records.js';
import { type NewSession, type SessionRepository } from '../../domain/ports/sessions.js';
import { isDuplicateKeyError, mapConflicts } from './errors.js';
import { fromSession, toRecord, toSession } from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import { finishSessionStart, sessionStarts } from './session-starts.js';
import type { RecordDoc } from './record-schemas.js';
import type { SessionDoc } from './session-schemas.js';
import type { UserDoc } from './organisation-schemas.js';
import type { SubjectDoc } from './subject-schemas.js';
import { pagedList } from './paged-list.js';
import { listRecordsOfStudent } from './student-history.js';

// Sessions (with the scheduler's lease) and attendance records. Every write that could race
// is one atomic single-document operation with its precondition in the filter.

const after = { returnDocument: 'after', runValidators: true } as const;

export function sessionRepository(m: Models, clock: () => Date): SessionRepository {
  // Put back only while updatedAt is still the write's own: a session changed since stays.
  const fencedTransition = (
    fence: LeaseFence | undefined,
    orgId: string,
    id: string,
    filter: QueryFilter<SessionDoc>,
    patch: q.TransitionPatch,
  ) => {
    const at = clock();
    return fencedFindOneAndUpdate(m, fence, {
      model: m.sessions,
      filter,
      key: q.byOrgId<SessionDoc>(orgId, id),
      update: q.transitionUpdate(patch, at),
      ours: { updatedAt: at },
    });
  };
  return {
    async create(orgId, input: NewSession, fence) {
      const s = newSessionEntity(orgId, input, clock());
      if (fence) await renewFence(m, fence);
      await mapConflicts(() => m.sessions.create(fromSession(s)), 'id');
      // No transaction holds the leases across the insert: read again after it. Held then, no
      // other owner could have taken one before the session was there for its clash check to see.
      if (fence) {
        const lost = await lostLease(m, fence);
        if (lost !== null) {
          await m.sessions.deleteOne(q.byOrgId<SessionDoc>(orgId, s.id));
          throw new LeaseLostError(lost);
        }
      }
      return s;
    },
    async get(orgId, id) {
      const d = await m.sessions.findOne(q.byOrgId<SessionDoc>(orgId, id)).lean<SessionDoc>();
      return d ? toSession(d) : null;
    },
    async list(orgId, f) {
      const filter = q.sessionListFilter(orgId, f);
      const { skip, limit } = q.pageOptions(f);
      return pagedList(
        () => m.sessions.find(filter).sort(q.SESSION_LIST_SORT).skip(skip).limit(limit).lean<SessionDoc[]>(),
        () => m.sessions.countDocuments(filter),
        f,
        toSession,
      );
    },
    async listActiveForSubjects(orgId, subjectIds) {
      if (subjectIds.length === 0) return [];
      const docs = await m.sessions.find(q.activeSessionsFilter(orgId, subjectIds)).sort(q.ACTIVE_SESSIONS_SORT).lean<SessionDoc[]>();
      return docs.map(toSession);
    },
    async listActiveForTeacher(orgId, teacherId) {
      const docs = await m.sessions.find(q.teacherActiveSessionsFilter(orgId, teacherId)).sort(q.ACTIVE_SESSIONS_SORT).lean<SessionDoc[]>();
      return docs.map(toSession);
    },
    async listActiveForSubjectsDuring(orgId, subjectIds, window) {
      if (subjectIds.length === 0) return [];
      const docs = await m.sessions
        .find(q.activeSessionsDuringFilter(orgId, subjectIds, window))
        .sort(q.ACTIVE_SESSIONS_SORT)
        .lean<SessionDoc[]>();
      return docs.map(toSession);
    },
    async listActiveForTeacherDuring(orgId, teacherId, window, exceptSubjectId) {
      const docs = await m.sessions
        .find(q.teacherActiveSessionsDuringFilter(orgId, teacherId, window, exceptSubjectId))
        .sort(q.ACTIVE_SESSIONS_SORT)
        .lean<SessionDoc[]>();
      return docs.map(toSession);
    },
    async listScheduled(orgId, after) {
      const docs = await m.sessions.find(q.scheduledSessionsFilter(orgId, after)).sort(q.ACTIVE_SESSIONS_SORT).lean<SessionDoc[]>();
      return docs.map(toSession);
    },
    async transition(orgId, id, from, patch, fence) {
      if (from.length === 0) return null;
      if (!fence) {
        const d = await m.sessions
          .findOneAndUpdate(q.transitionFilter(orgId, id, from), q.transitionUpdate(patch, clock()), after)
          .lean<SessionDoc>();
        if (d && patch.startsAt) await finishSessionStart(m, orgId, id, d.startsAt);
        return d ? toSession(d) : null;
      }
      // As create's fence: renewed before, read again after; a lease lost meanwhile puts the
      // fields back as they were, unless the session changed again since.
      await renewFence(m, fence);
      const d = await fencedTransition(fence, orgId, id, q.transitionFilter(orgId, id, from), patch);
      if (d && patch.startsAt) await finishSessionStart(m, orgId, id, d.startsAt);
      return d ? toSession(d) : null;
    },
    async cancelUnstaffed(orgId, id, teacherId, patch, fence) {
      if (fence) await renewFence(m, fence);
      // Read before the write, not after with a put-back: a cancel shown and then undone would
      // be read meanwhile (a teacher's own cancel answered "already cancelled", a meeting edit
      // skipping it). A reactivation landing between this read and the write comes after the
      // cancel the admin asked for; SQLite checks both in its one statement.
      const current = await m.sessions.findOne(q.byOrgId<SessionDoc>(orgId, id), { subjectId: 1 }).lean<SessionDoc>();
      if (!current || (await teacherCanRun(m, orgId, teacherId, current.subjectId))) return null;
      const filter = { ...q.transitionFilter(orgId, id, ['scheduled']), teacherId, subjectId: current.subjectId };
      const d = await fencedTransition(fence, orgId, id, filter, { status: 'cancelled', ...patch });
      return d ? toSession(d) : null;
    },
    async listDue(now, limit) {
      const docs = await m.sessions.find(q.dueSessionsFilter(now)).sort(q.DUE_SORT).limit(limit).lean<SessionDoc[]>();
      return docs.map(toSession);
    },
    async listStarting(now, limit) {
      const docs = await m.sessions.find(q.startingSessionsFilter(now)).sort(q.STARTING_SORT).limit(limit).lean<SessionDoc[]>();
      return docs.map(toSession);
    },
    async nextDueAt() {
      const d = await m.sessions.findOne(q.notClosedFilter(), { closesAt: 1 }).sort(q.NEXT_DUE_SORT).lean<Pick<SessionDoc, 'closesAt'>>();
      return d ? d.closesAt : null;
    },
    async acquireLease(orgId, id, owner, until, now) {
      const res = await m.sessions.updateOne(q.leaseFilter(orgId, id, owner, now), q.leaseUpdate(owner, until));
      return res.matchedCount === 1;
    },
    async renewLease(orgId, id, owner, until) {
      const res = await m.sessions.updateOne(q.releaseLeaseFilter(orgId, id, owner), q.leaseUpdate(owner, until));
      return res.matchedCount === 1;
    },
    async releaseLease(orgId, id, owner) {
      await m.sessions.updateOne(q.releaseLeaseFilter(orgId, id, owner), q.RELEASE_LEASE_UPDATE);
    },
  };
}

/**
 * How far below the last version seen listPeerMarksSince reads again: a change whose record is
 * written but whose version is not yet stamped is still read unless this many later versions
 * were stamped meanwhile (several group commits of other nodes within one write's round trips).
 */
export const PEER_MARK_VERSION_OVERLAP = 512;

export function recordRepository(m: Models, clock: () => Date): Omit<RecordRepository, 'writeBatch'> {
  const byKey = (orgId: string, sessionId: string, studentId: string) =>
    m.records.findOne(q.recordKeyFilter(orgId, sessionId, studentId)).lean<RecordDoc>();
  // No multi-document transaction (a standalone server has none): the record is written first,
  // then the session's counter is incremented and the value kept on the record (only while no
  // later change replaced it). Versions are handed out once each, and never for a write that
  // did not happen; a crash in between leaves that change without a roster update, which
  // snapshots include anyway. A record whose session document is missing gets 0.
  const stampRosterVersion = async (orgId: string, record: RecordDoc): Promise<number> => {
    const s = await m.sessions
      .findOneAndUpdate({ _id: record.sessionId, orgId }, q.ROSTER_VERSION_INC, { returnDocument: 'after' })
      .lean<Pick<SessionDoc, 'rosterVersion' | 'startsAt'>>();
    const rosterVersion = s?.rosterVersion ?? 0;
    // The session's start again, read after the record's write: a move of the session between
    // the start read for the insert and the insert itself did not see this record.
    const start = s ? { sessionStartsAt: s.startsAt } : {};
    await m.records.updateOne({ _id: record._id, orgId, version: record.version }, { $set: { rosterVersion, ...start } });
    return rosterVersion;
  };
  const repo: Omit<RecordRepository, 'writeBatch'> = {
    async insertIfAbsent(orgId, input) {
      const filter = q.recordKeyFilter(orgId, input.sessionId, input.studentId);
      const start = (await sessionStarts(m, orgId, [input.sessionId])).get(input.sessionId) ?? null;
      const update = q.recordInsertIfAbsentUpdate(orgId, newTimeOrderedId(), input, clock(), start);
      try {
        const res = await m.records.findOneAndUpdate(filter, update, {
          upsert: true,
          returnDocument: 'after',
          includeResultMetadata: true,
          runValidators: true,
          lean: true,
        });
        const doc = res.value as RecordDoc | null;
        if (!doc) throw new Error('upsert returned no document');
        const created = res.lastErrorObject?.updatedExisting !== true;
        if (!created) return { record: toRecord(doc), created };
        return { record: { ...toRecord(doc), rosterVersion: await stampRosterVersion(orgId, doc) }, created };
      } catch (err) {
        // Two concurrent upserts may both miss and race to insert: the loser gets E11000 on
        // the unique (sessionId, studentId) and reads the winner's record.
        if (!isDuplicateKeyError(err)) throw err;
        const d = await byKey(orgId, input.sessionId, input.studentId);
        // The key is held by a record of another organisation.
        if (!d) throw new StoreConflictError('record');
        return { record: toRecord(d), created: false };
      }
    },
    async get(orgId, id) {
      const d = await m.records.findOne(q.byOrgId<RecordDoc>(orgId, id)).lean<RecordDoc>();
      return d ? toRecord(d) : null;
    },
    async getForStudent(orgId, sessionId, studentId) {
      const d = await byKey(orgId, sessionId, studentId);
      return d ? toRecord(d) : null;
    },
    async getForStudents(orgId, sessionId, studentIds) {
      if (studentIds.length === 0) return [];
      const docs = await m.records.find(q.recordsOfStudentsFilter(orgId, sessionId, studentIds)).lean<RecordDoc[]>();
      return docs.map(toRecord);
    },
    async getForSessionStudents(orgId, keys) {
      if (keys.length === 0) return [];
      const bySession = new Map<string, string[]>();
      for (const k of keys) bySession.set(k.sessionId, [...(bySession.get(k.sessionId) ?? []), k.studentId]);
      const filters = [...bySession].map(([sessionId, studentIds]) => q.recordsOfStudentsFilter(orgId, sessionId, studentIds));
      const docs = await m.records.find(filters.length === 1 ? filters[0]! : { $or: filters }).lean<RecordDoc[]>();
      return docs.map(toRecord);
    },
    async listBySession(orgId, sessionId) {
      const docs = await m.records.find(q.recordsOfSessionsFilter(orgId, sessionId)).sort(q.RECORD_SORT).lean<RecordDoc[]>();
      return docs.map(toRecord);
    },
    async listPeerMarksSince(orgId, sessionId, afterRosterVersion) {
      const session = q.recordsOfSessionsFilter(orgId, sessionId);
      // A version is stamped after its record is written (stampRosterVersion): a record just
      // inserted still holds 0 (or a batch's placeholder below 0, record-batch.ts), and a record just updated still carries its old version while
      // later ones may already be stamped. Both are read again: versions up to 0, and an overlap below
      // the last version seen.
      const filter =
        afterRosterVersion === null
          ? session
          : {
              ...session,
              $or: [{ rosterVersion: { $gt: afterRosterVersion - PEER_MARK_VERSION_OVERLAP } }, { rosterVersion: { $lte: 0 } }],
            };
      const docs = await m.records
        .find(filter)
        .select({ rosterVersion: 1, studentId: 1, deviceId: 1, ip: 1, userAgent: 1, location: 1 })
        .lean<RecordDoc[]>();
      // Counted after the read, not in one snapshot: a record written in between makes the
      // count differ, and the caller reads the session again.
      const count = await m.records.countDocuments(session);
      return {
        count,
        marks: docs.map((d) => ({
          id: d._id,
          rosterVersion: Math.max(d.rosterVersion ?? 0, 0),
          studentId: d.studentId,
          deviceId: d.deviceId ?? null,
          ip: d.ip ?? null,
          userAgent: d.userAgent ?? null,
          location: d.location ? { lat: d.location.lat, lon: d.location.lon } : null,
        })),
      };
    },
    async listPeerMarkChanges(orgId, wants) {
      // Each session as listPeerMarksSince reads it (no snapshot across reads to share).
      return Promise.all(wants.map((w) => repo.listPeerMarksSince(orgId, w.sessionId, w.afterRosterVersion)));
    },
    async listProxyPeers(orgId, sessionId, probe) {
      // A few documents per criterion, however many students share a school address or a room.
      const batches = await Promise.all(
        q.proxyPeerFilters(orgId, sessionId, probe).map((f) => m.records.find(f).limit(PROXY_PEERS_PER_CRITERION).lean<RecordDoc[]>()),
      );
      const seen = new Set<string>();
      return batches
        .flat()
        .filter((d) => !seen.has(d._id) && seen.add(d._id))
        .map(toRecord);
    },
    async listBySessions(orgId, sessionIds) {
      if (sessionIds.length === 0) return [];
      const docs = await m.records.find(q.recordsOfSessionsFilter(orgId, sessionIds)).sort(q.RECORD_SORT).lean<RecordDoc[]>();
      return docs.map(toRecord);
    },
    async listQueuedVerifications({ submittedBefore, sessionsClosingFrom }, limit) {
      // From the records still queued (the partial index verification_queued, migration 22: a
      // handful at any time) to their sessions, as SQLite does; reading the recent sessions'
      // records instead read every record of the last day's sessions. A page whose sessions are
      // older (left for the teacher's review) is followed by the next one.
      const found: RecordDoc[] = [];
      let next: { submittedAt: Date; _id: string } | null = null;
      for (;;) {
        const docs: RecordDoc[] = await m.records
          .find(q.queuedVerificationsFilter(submittedBefore, next))
          .sort(q.QUEUED_VERIFICATION_SORT)
          .limit(limit)
          .lean<RecordDoc[]>();
        if (docs.length === 0) break;
        const sessionIds = [...new Set(docs.map((d) => d.sessionId))];
        const recent = await m.sessions
          .find(q.recentSessionsAmongFilter(sessionIds, sessionsClosingFrom), { _id: 1, orgId: 1 })
          .lean<Pick<SessionDoc, '_id' | 'orgId'>[]>();
        const keys = new Set(recent.map((s) => `${s.orgId}/${s._id}`));
        found.push(...docs.filter((d) => keys.has(`${d.orgId}/${d.sessionId}`)));
        if (found.length >= limit || docs.length < limit) break;
        const last: RecordDoc = docs[docs.length - 1]!;
        next = { submittedAt: last.submittedAt!, _id: last._id };
      }
      return found.slice(0, limit).map(toRecord);
    },
    listByStudent: (orgId, studentId, page) => listRecordsOfStudent(m, orgId, studentId, page),
    async update(orgId, id, expectedVersion, patch) {
      const d = await m.records
        .findOneAndUpdate(q.recordVersionFilter(orgId, id, expectedVersion), q.recordVersionedUpdate(patch, clock()), after)
        .lean<RecordDoc>();
      return d ? { ...toRecord(d), rosterVersion: await stampRosterVersion(orgId, d) } : null;
    },
    async remove(orgId, id, expectedVersion) {
      const d = await m.records.findOneAndDelete(q.recordVersionFilter(orgId, id, expectedVersion)).lean<RecordDoc>();
      if (!d) return false;
      await m.sessions.updateOne({ _id: d.sessionId, orgId }, q.ROSTER_VERSION_INC);
      return true;
    },
  };
  return repo;
}

/** Whether the account is an active teacher of the subject (the rule of src/domain/subjects/unstaffed-sessions.ts canRun). */
async function teacherCanRun(m: Models, orgId: string, teacherId: string, subjectId: string): Promise<boolean> {
  const [user, subject] = await Promise.all([
    m.users.findOne(q.byOrgId<UserDoc>(orgId, teacherId)).select({ role: 1, active: 1 }).lean<Pick<UserDoc, 'role' | 'active'>>(),
    m.subjects.findOne(q.byOrgId<SubjectDoc>(orgId, subjectId)).select({ teacherIds: 1 }).lean<Pick<SubjectDoc, 'teacherIds'>>(),
  ]);
  return user !== null && user.active && user.role === 'teacher' && subject !== null && subject.teacherIds.includes(teacherId);
}
