import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { isDuplicateKeyError } from './errors.js';
import { moveOccurrences } from './meeting-merge.js';
import { fromVector, nameKeyOf, toBuffer } from './mapping.js';
import type { SchemaMigrated } from '../schema-migration.js';
import { runMigrations, type MigrationLedger, type MigrationLock, type VersionedMigration } from './migration-runner.js';
import { buildIndexes, type Models } from './models.js';
import { copySessionStarts } from './session-starts.js';
import { UNAUDITED_CANCEL } from '../../domain/ports/sessions.js';
import { pendingScopeKey } from '../../domain/ports/excuses.js';
import type { ExcuseDoc } from './excuse-schemas.js';
import type { MeetingDoc } from './timetable-schemas.js';
import { canonicalRanges, meetingNaturalKey } from '../../domain/ports/timetable.js';
import type { PolicyPreset } from '../../shared/policy-presets.js';

type Db = NonNullable<Connection['db']>;

export interface MongoMigrationContext {
  db: Db;
  models: Models;
}

export type MongoMigration = VersionedMigration<MongoMigrationContext>;

/** Which migrations a database has: `{_id: version, name, appliedAt}`. */
export const LEDGER_COLLECTION = 'schema_migrations';
/** The one lock document, `{_id: 'migrations', owner, until}`. */
export const LOCK_COLLECTION = 'schema_migrations_lock';
const LOCK_ID = 'migrations';
const BATCH = 500;

/** Stored embeddings with old number[] vectors converted to float64 bytes; null when none were old. */
export function binaryEmbeddings(stored: readonly unknown[]): Buffer[] | null {
  if (!stored.some((v) => Array.isArray(v))) return null;
  return stored.map((v) => (Array.isArray(v) ? fromVector(v.map(Number)) : toBuffer(v)));
}

async function convertEmbeddings(db: Db, collection: string): Promise<void> {
  const coll = db.collection<{ _id: string; embeddings: unknown[] }>(collection);
  // Photos are left out of the scan: only the vectors are read.
  for await (const doc of coll.find({}, { projection: { embeddings: 1 } })) {
    const converted = Array.isArray(doc.embeddings) ? binaryEmbeddings(doc.embeddings) : null;
    if (!converted) continue;
    // Only if unchanged since read: a put in between already wrote the new form.
    await coll.updateOne({ _id: doc._id, embeddings: doc.embeddings }, { $set: { embeddings: converted } });
  }
}

/**
 * Append-only, like SQLite's migrations: never edit or reorder an entry that has shipped.
 * A release that declares a new index adds an entry that calls buildIndexes again (it only
 * creates what is missing and never drops an index).
 */
export const MONGO_MIGRATIONS: readonly MongoMigration[] = [
  {
    version: 1,
    name: 'collections and indexes',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 2,
    name: 'users: backfill nameKey',
    // In code, not $toLower, which lower-cases ASCII only: the key must be the one mapping.ts writes.
    up: async ({ db }) => {
      const users = db.collection<{ _id: string; name: string; nameKey?: string }>('users');
      let batch: Array<{ updateOne: { filter: { _id: string; nameKey: { $exists: false } }; update: { $set: { nameKey: string } } } }> = [];
      const flush = async () => {
        if (batch.length > 0) await users.bulkWrite(batch, { ordered: false });
        batch = [];
      };
      for await (const u of users.find({ nameKey: { $exists: false } }, { projection: { name: 1 } })) {
        batch.push({
          updateOne: { filter: { _id: u._id, nameKey: { $exists: false } }, update: { $set: { nameKey: nameKeyOf(u.name) } } },
        });
        if (batch.length >= BATCH) await flush();
      }
      await flush();
    },
  },
  {
    version: 3,
    name: 'faces: number[] embeddings to float64 bytes',
    up: async ({ db }) => {
      await convertEmbeddings(db, 'faces');
      await convertEmbeddings(db, 'faceProposals');
    },
  },
  {
    version: 4,
    // Declared in the *-schemas.ts files since version 1 ran: summaries by day and audit by actor (reports),
    // consents by user (privacy).
    name: 'report and consent indexes',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 6,
    // Declared in timetable-schemas.ts: terms, holidays, meetings, occurrences (docs/timetable.md).
    name: 'timetable collections and indexes',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 7,
    name: 'webhook collections and indexes',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 8,
    name: 'alert rules, alert states, notifications, email preferences and the email outbox: collections and indexes',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 9,
    name: 'excuses and guardians collections and indexes',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 10,
    name: 'oneroster objects and their unique keys',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 11,
    // Declared in session-schemas.ts: a teacher's open and scheduled sessions (one class at a time).
    name: 'sessions by teacher',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 12,
    // Declared in record-schemas.ts: the records of a session changed since a roster version
    // (records.listPeerMarksSince, the group commit's proxy-signal index).
    name: 'records by session and roster version',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 13,
    // Declared in audit-schemas.ts: the organisation's audit trail by time (org_at).
    name: "the organisation's audit trail by time",
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 14,
    // org_session is a prefix of org_session_roster (12), which serves every query it served; a
    // record write paid for both (docs/multi-node.md, "What a check-in costs the record writer").
    name: 'one index of records by session',
    up: async ({ db }) => {
      const records = db.collection('records');
      if (await records.indexExists('org_session')) await records.dropIndex('org_session');
    },
  },
  {
    version: 15,
    // Declared in organisation-schemas.ts: users.getByStudentNumbers (an import's rows by number).
    name: 'users by student number',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 16,
    // The roster claim keys earlier releases' erasures left on their sessions (one per erasure of
    // one of a session's students; erase-records.ts now removes its own). A previous release's
    // erasure claiming at this moment may miss its keys: it then takes those sessions' versions by
    // $inc, leaving a version unused, which clients meet as a gap and resync (docs/protocol.md §8).
    name: 'roster claims left on sessions removed',
    up: async ({ db }) => {
      await db.collection('sessions').updateMany({ rosterClaims: { $exists: true } }, { $unset: { rosterClaims: '' } });
    },
  },
  {
    version: 17,
    // Declared in record-schemas.ts: org_student_session_start, a student's history as one range
    // read, and the session's start it sorts on, copied onto each record written before it
    // existed (only where it differs, so a second run writes nothing).
    name: "records carry their session's start",
    up: async ({ models }) => {
      await buildIndexes(models);
      await backfillSessionStarts(models);
    },
  },
  {
    version: 18,
    // org_student_created served a student's history before migration 17. Every query of records
    // by student now filters on (orgId, studentId) and sorts by nothing else than
    // org_student_session_start's keys (erasure, reports, history), a prefix of that index; a
    // record write paid for both.
    name: "records by student and creation dropped, a prefix of the history's index",
    up: async ({ db }) => {
      const records = db.collection('records');
      if (await records.indexExists('org_student_created')) await records.dropIndex('org_student_created');
    },
  },
  {
    version: 19,
    // How many edits of a meeting have completed, moved in the same write as the edit; until now
    // counted from the subject's meeting.update audit entries on every edit and refusal. Backfilled
    // from that count, so an edit in progress across the upgrade keeps its key (edit-trail.ts).
    name: "a meeting's revision",
    up: async ({ models }) => {
      const cursor = models.meetings
        .find({ revision: { $exists: false } }, { _id: 1, orgId: 1, subjectId: 1 })
        .lean()
        .cursor();
      try {
        for await (const meeting of cursor) {
          const { _id, orgId, subjectId } = meeting as { _id: string; orgId: string; subjectId: string };
          const filter = { orgId, entityType: 'subject' as const, entityId: subjectId, action: 'meeting.update' as const, 'from.id': _id };
          const revision = await models.audit.countDocuments(filter);
          await models.meetings.updateOne({ orgId, _id, revision: { $exists: false } }, { $set: { revision } });
        }
      } finally {
        await cursor.close();
      }
    },
  },
  {
    version: 20,
    // Until now only the cancellation's audit entry carried the mark of the meeting edit that
    // cancelled a session, written after the session: a crash in between left the edit's
    // cancellation unmarked. Backfilled from that entry; a session of a meeting cancelled with no
    // entry at all is marked UNAUDITED_CANCEL (src/domain/ports/sessions.ts), as nothing tells
    // whether an edit or a hand cancel stopped there.
    name: "a session's mark of the meeting edit that cancelled it",
    up: async ({ models }) => {
      const cursor = models.sessions
        .find({ status: 'cancelled', meetingId: { $ne: null }, meetingEdit: { $exists: false } }, { _id: 1, orgId: 1 })
        .lean()
        .cursor();
      try {
        for await (const session of cursor) {
          const { _id, orgId } = session as { _id: string; orgId: string };
          const last = await models.audit
            .findOne({ orgId, sessionId: _id, action: 'session.cancel' }, { to: 1 })
            .sort({ at: -1, seq: -1 })
            .lean<{ to?: { meetingEdit?: unknown } | null }>();
          const mark = last === null ? UNAUDITED_CANCEL : typeof last.to?.meetingEdit === 'string' ? last.to.meetingEdit : null;
          await models.sessions.updateOne({ orgId, _id, meetingEdit: { $exists: false } }, { $set: { meetingEdit: mark } });
        }
      } finally {
        await cursor.close();
      }
    },
  },
  {
    version: 21,
    // A new school year: subjects written before archiving existed are in use (archivedAt null),
    // stated on each document so that the lists' filter reads one form.
    name: "a subject's archiving",
    up: async ({ models }) => {
      await models.subjects.updateMany({ archivedAt: { $exists: false } }, { $set: { archivedAt: null } });
    },
  },
  {
    version: 22,
    // Declared in record-schemas.ts: the records whose selfie verification is still queued, read
    // once a minute by the search for verifications lost with their node (a partial index where
    // the server has them; SQLite's migration 36).
    name: 'records whose selfie verification is queued',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 24,
    // A double tap on "Send" gave a student two pending excuses of one scope, each to be decided.
    // Each excuse gets its pending key (excuse-schemas.ts): the oldest pending excuse of a scope
    // its scope's key, the others (later ones pending, decided ones) their own id; then the unique
    // index. (Version 23 was never used: numbers were handed out before the changes met.)
    name: "a student's one pending excuse of a scope",
    up: async ({ models }) => {
      await backfillPendingKeys(models);
      await buildIndexes(models);
    },
  },
  {
    version: 25,
    // Declared in audit-schemas.ts: a roll-over retried reads its new subjects' subject.rollover
    // entries; through org_entity_at that was each subject's whole trail (SQLite's migration 39).
    name: "subjects' roll-over entries",
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 26,
    // Two imports of one week at once each read "not there yet" and both added every meeting.
    // Each meeting gets its natural key (timetable-schemas.ts) and its networks as a sorted set;
    // of equal meetings the oldest stays and takes the days the others' occurrences held that it
    // does not hold itself, the rest going with them, and their sessions name it; occurrences of
    // meetings deleted before deletes took them go too; then the unique index (SQLite's migration 40).
    name: "a meeting once in its organisation; a deleted meeting's occurrences gone with it",
    up: async ({ models }) => {
      await dedupeMeetings(models);
      await buildIndexes(models);
    },
  },
  {
    version: 27,
    // Declared in session-schemas.ts: the admins' list of sessions left without a teacher reads
    // the organisation's scheduled sessions (listScheduled; SQLite's migration 42).
    name: 'scheduled sessions of an organisation',
    up: async ({ models }) => {
      await buildIndexes(models);
    },
  },
  {
    version: 28,
    // Declared in session-schemas.ts: every clash check read all of a teacher's (or a subject's)
    // open and scheduled sessions, the whole horizon, for the few overlapping its window; both are
    // now a range of starts (SQLite's migration 43). org_teacher_status is a prefix of the
    // teacher's new index, which serves every query it served; a session write paid for both.
    name: "a teacher's and a subject's active sessions by start",
    up: async ({ db, models }) => {
      await buildIndexes(models);
      const sessions = db.collection('sessions');
      if (await sessions.indexExists('org_teacher_status')) await sessions.dropIndex('org_teacher_status');
    },
  },
];

async function dedupeMeetings(models: Models): Promise<void> {
  const keepers = new Map<string, string>();
  /** Each deleted duplicate's keeper: its sessions are re-pointed once the meetings are done. */
  const dropped = new Map<string, string>();
  const cursor = models.meetings.find({}).sort({ createdAt: 1, _id: 1 }).lean<MeetingDoc[]>().cursor({ batchSize: BATCH });
  try {
    for await (const found of cursor) {
      const doc = found as MeetingDoc;
      const allowedIpRanges = canonicalRanges(doc.allowedIpRanges ?? []);
      const naturalKey = meetingNaturalKey({
        ...doc,
        teacherId: doc.teacherId ?? null,
        preset: (doc.preset ?? null) as PolicyPreset | null,
        location: doc.location ?? null,
        allowedIpRanges,
      });
      const inOrg = `${doc.orgId}\n${naturalKey}`;
      const keeper = keepers.get(inOrg);
      if (keeper === undefined) {
        keepers.set(inOrg, doc._id);
        await models.meetings.updateOne({ _id: doc._id }, { $set: { naturalKey, allowedIpRanges } });
        continue;
      }
      await moveOccurrences(models, doc.orgId, doc._id, keeper);
      await models.meetings.deleteOne({ _id: doc._id });
      dropped.set(doc._id, keeper);
    }
  } finally {
    await cursor.close();
  }
  await repointSessions(models, dropped);
  await deleteOrphanOccurrences(models);
}

/**
 * A session made from a deleted duplicate names the keeper instead: an edit or delete of the
 * meeting that stays still follows that day's session. No index holds sessions by meeting, so
 * one scan per BATCH duplicates rather than one per duplicate.
 */
async function repointSessions(models: Models, dropped: ReadonlyMap<string, string>): Promise<void> {
  const ids = [...dropped.keys()];
  for (let i = 0; i < ids.length; i += BATCH) {
    const sessions = models.sessions
      .find({ meetingId: { $in: ids.slice(i, i + BATCH) } }, { _id: 1, meetingId: 1 })
      .lean<{ _id: string; meetingId: string }[]>()
      .cursor({ batchSize: BATCH });
    let batch: Array<{ updateOne: { filter: { _id: string; meetingId: string }; update: { $set: { meetingId: string } } } }> = [];
    const flush = async () => {
      if (batch.length > 0) await models.sessions.bulkWrite(batch, { ordered: false });
      batch = [];
    };
    try {
      for await (const found of sessions) {
        const s = found as { _id: string; meetingId: string };
        batch.push({
          updateOne: { filter: { _id: s._id, meetingId: s.meetingId }, update: { $set: { meetingId: dropped.get(s.meetingId)! } } },
        });
        if (batch.length >= BATCH) await flush();
      }
      await flush();
    } finally {
      await sessions.close();
    }
  }
}

/**
 * Occurrences of meetings deleted before deletes took them, one organisation at a time: the
 * filter holds that organisation's meeting ids, never every occurrence, which grow with every
 * meeting-day over the years (the org_meeting_day index serves it).
 */
async function deleteOrphanOccurrences(models: Models): Promise<void> {
  for (const orgId of (await models.occurrences.distinct('orgId')) as string[]) {
    const meetingIds = (await models.meetings.find({ orgId }, { _id: 1 }).lean()).map((d) => d._id);
    await models.occurrences.deleteMany({ orgId, meetingId: { $nin: meetingIds } });
  }
}

/** A duplicate's occurrences to its keeper: the days the keeper holds stay its own, the others move. */
async function backfillPendingKeys(models: Models): Promise<void> {
  type Scope = Pick<ExcuseDoc, '_id' | 'orgId' | 'status' | 'studentId' | 'sessionId' | 'subjectId' | 'fromDay' | 'toDay'>;
  const cursor = models.excuses
    .find(
      { pendingKey: { $exists: false } },
      { _id: 1, orgId: 1, status: 1, studentId: 1, sessionId: 1, subjectId: 1, fromDay: 1, toDay: 1 },
    )
    .sort({ createdAt: 1, _id: 1 })
    .lean<Scope[]>()
    .cursor({ batchSize: BATCH });
  const taken = new Set<string>();
  let batch: Array<{ updateOne: { filter: { _id: string }; update: { $set: { pendingKey: string } } } }> = [];
  const flush = async () => {
    if (batch.length > 0) await models.excuses.bulkWrite(batch, { ordered: false });
    batch = [];
  };
  try {
    for await (const doc of cursor) {
      const e = doc as Scope;
      const scopeKey = pendingScopeKey({ ...e, sessionId: e.sessionId ?? null, subjectId: e.subjectId ?? null });
      const inOrg = `${e.orgId}\n${scopeKey}`;
      const key = e.status === 'pending' && !taken.has(inOrg) ? scopeKey : e._id;
      if (key === scopeKey) taken.add(inOrg);
      batch.push({ updateOne: { filter: { _id: e._id }, update: { $set: { pendingKey: key } } } });
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } finally {
    await cursor.close();
  }
}

async function backfillSessionStarts(models: Models): Promise<void> {
  const cursor = models.sessions
    .find({ startsAt: { $type: 'date' } }, { _id: 1, orgId: 1, startsAt: 1 })
    .lean<{ _id: string; orgId: string; startsAt: Date }[]>()
    .cursor({ batchSize: BATCH });
  let batch: { _id: string; orgId: string; startsAt: Date }[] = [];
  try {
    for await (const s of cursor) {
      batch.push(s as { _id: string; orgId: string; startsAt: Date });
      if (batch.length === BATCH) {
        await copySessionStarts(models, batch);
        batch = [];
      }
    }
    await copySessionStarts(models, batch);
  } finally {
    await cursor.close();
  }
}

export function mongoLedger(db: Db): MigrationLedger {
  const coll = db.collection<{ _id: number; name: string; appliedAt: Date }>(LEDGER_COLLECTION);
  return {
    async appliedVersions() {
      const docs = await coll.find({}).toArray();
      return new Set(docs.map((d) => d._id));
    },
    async record(version, name, appliedAt) {
      await coll.updateOne({ _id: version }, { $setOnInsert: { name, appliedAt } }, { upsert: true });
    },
  };
}

/**
 * The lock as one document taken with a conditional upsert: the filter matches only when the
 * lock is expired or already ours, so a held lock makes the upsert insert a second `_id` and
 * fail with a duplicate key, which means "not acquired". Atomic on MongoDB (one document).
 */
export function mongoLock(db: Db): MigrationLock {
  const coll = db.collection<{ _id: string; owner: string; until: Date }>(LOCK_COLLECTION);
  return {
    async acquire(owner, until, now) {
      try {
        await coll.updateOne({ _id: LOCK_ID, $or: [{ until: { $lt: now } }, { owner }] }, { $set: { owner, until } }, { upsert: true });
        return true;
      } catch (err) {
        if (isDuplicateKeyError(err)) return false;
        throw err;
      }
    },
    async release(owner) {
      await coll.deleteOne({ _id: LOCK_ID, owner });
    },
  };
}

export interface MongoMigrateOptions {
  migrations?: readonly MongoMigration[];
  lockMs?: number;
  pollMs?: number;
  waitMs?: number;
  onApplied?: (version: number) => void;
  migrated?: (m: SchemaMigrated) => void;
}

/** Brings the database to the latest version, one node at a time; resolves to the versions this node applied. */
export async function migrateMongo(db: Db, models: Models, opts: MongoMigrateOptions = {}): Promise<number[]> {
  return runMigrations({ db, models }, opts.migrations ?? MONGO_MIGRATIONS, mongoLedger(db), mongoLock(db), {
    owner: `${hostname()}:${process.pid}:${randomUUID()}`,
    lockMs: opts.lockMs ?? 60_000,
    pollMs: opts.pollMs ?? 500,
    waitMs: opts.waitMs ?? 15 * 60_000,
    onApplied: opts.onApplied,
    migrated: opts.migrated,
  });
}
