import { newTimeOrderedId } from '../../shared/ids.js';
import { randomUUID } from 'node:crypto';
import { ActorGoneError, LeaseLostError, StoreConflictError, type LeaseFence } from '../../domain/ports/common.js';
import {
  type AttendanceRecord,
  type RecordPatch,
  type RecordRepository,
  type RecordWrite,
  type RecordWriteResult,
} from '../../domain/ports/records.js';
import { recordAuditEntry } from '../../domain/checkins/record-audit.js';
import { isTombstoneId } from '../../domain/privacy/erasure-rules.js';
import { takeBackAuditEntries } from './audit-scrubs.js';
import { isDuplicateKeyError } from './errors.js';
import { lostLease, renewFence } from './jobs.js';
import { fromAudit, toRecord } from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import type { RecordDoc } from './record-schemas.js';
import type { SessionDoc } from './session-schemas.js';
import { sessionStarts } from './session-starts.js';
import { Types } from 'mongoose';

type Insert = Extract<RecordWrite, { kind: 'insert' }>;
type Update = Extract<RecordWrite, { kind: 'update' }>;

/**
 * Where an update batch's roster placeholders start (updateAll): far below any insert's (-n for
 * a session's n new records), and a random part of a wide range below it, so that two batches'
 * placeholders do not meet.
 */
const UPDATE_PLACEHOLDER_BASE = -(2 ** 40);
const UPDATE_PLACEHOLDER_SPREAD = 2 ** 50;

const keyOf = (sessionId: string, studentId: string) => `${sessionId}\n${studentId}`;

/**
 * Group commit on MongoDB without a multi-document transaction: the inserts of a batch as one
 * unordered bulk of inserts, refused by the unique (session, student) key where a record is
 * there, read back in one query (a record whose id is not the one this batch gave it was there
 * before, or won a race with another node: the duplicate-key error is that race, resolved as
 * insertIfAbsent does); the roster versions as one increment per session, handed out in batch
 * order, and kept on the records with one update per session; the retries one by
 * one (optimistic on the version); the audit entries as one unordered insert. Each result is
 * returned only after all of that is acknowledged by the server, so a check-in is answered
 * after its write as before. A second insert of one key in the batch is not sent: it is
 * answered with the first one's record, as the per-write path would. A fenced batch (a close's)
 * renews its leases before it and reads them again after it: one lost meanwhile takes back
 * every write of the batch (takeBack) and throws LeaseLostError.
 */
export async function writeRecordBatch(
  m: Models,
  records: Pick<RecordRepository, 'get' | 'update'>,
  clock: () => Date,
  writes: readonly RecordWrite[],
  fence?: LeaseFence,
): Promise<RecordWriteResult[]> {
  if (fence) await renewFence(m, fence);
  const results: (RecordWriteResult | undefined)[] = new Array(writes.length);
  const befores: (AttendanceRecord | null)[] = new Array(writes.length).fill(null);
  const goneActor = await goneActors(m, writes);
  await insertAll(m, clock, writes, results, goneActor);
  // A record's first update of the batch goes with the others in bulk; a second one of the
  // same record (rare: two retries in one batch) after it, one at a time, seeing the first.
  const firstOf = new Map<string, number>();
  for (const [i, w] of writes.entries()) if (w.kind === 'update' && !firstOf.has(w.id)) firstOf.set(w.id, i);
  await updateAll(m, clock, [...firstOf.values()], writes, results, befores, goneActor);
  for (const [i, w] of writes.entries()) {
    if (w.kind !== 'update' || firstOf.get(w.id) === i) continue;
    try {
      const before = await records.get(w.orgId, w.id);
      const gone = before && goneActor(w, before.studentId);
      if (gone) {
        results[i] = { written: false, error: new ActorGoneError(gone) };
        continue;
      }
      const after = await records.update(w.orgId, w.id, w.expectedVersion, w.patch);
      befores[i] = before;
      results[i] = after ? { written: true, before, record: after } : { written: false, record: await records.get(w.orgId, w.id) };
    } catch (err) {
      results[i] = { written: false, error: err };
    }
  }
  const entries = writes.flatMap((w, i) => {
    const r = results[i]!;
    return 'error' in r || !r.written
      ? []
      : [{ i, entry: { id: newTimeOrderedId(), ...recordAuditEntry(befores[i]!, r.record, w.audit) } }];
  });
  if (entries.length > 0) {
    try {
      await m.audit.insertMany(
        entries.map(({ entry }) => fromAudit(entry, new Types.ObjectId())),
        { ordered: false },
      );
    } catch (err) {
      // As on the per-write path: the record stands, its answer is the audit's failure.
      for (const { i } of entries) results[i] = { written: false, error: err };
    }
  }
  const batch: WrittenBatch = { m, records, writes, results, befores, auditIds: new Map(entries.map(({ i, entry }) => [i, entry.id])) };
  // No transaction holds the leases across the batch: read again after it. Held then, nobody
  // took the close over before every write here was in place for that close to read.
  const lost = fence ? await lostLease(m, fence) : null;
  if (lost !== null) {
    await takeBack(batch, written(results), () => true);
    throw new LeaseLostError(lost);
  }
  await takeBackErased(batch);
  return results as RecordWriteResult[];
}

type Written = { i: number; r: Extract<RecordWriteResult, { written: true }> }[];

/**
 * A batch once written, as taking its writes back needs it: `results` is answered in place,
 * `befores` holds each update's record before it, `auditIds` each written entry's id by write.
 */
interface WrittenBatch {
  m: Models;
  records: Pick<RecordRepository, 'update'>;
  writes: readonly RecordWrite[];
  results: (RecordWriteResult | undefined)[];
  befores: readonly (AttendanceRecord | null)[];
  auditIds: ReadonlyMap<number, string>;
}

function written(results: readonly (RecordWriteResult | undefined)[]): Written {
  return results.flatMap((r, i) => (r && !('error' in r) && r.written ? [{ i, r }] : []));
}

/**
 * Takes back `gone` writes of the batch: the new records and the audit entries deleted, and the
 * fields of an update `undo` accepts written back (optimistic on the version it made; one changed
 * again since keeps that change: `undone` false). Their roster versions stay used, a gap (a
 * put-back update takes one more): not given back, as a session's counter never goes back (a
 * node's peer reads ask for the changes after the highest version they merged, and a snapshot
 * may have carried one of them). Nothing of the batch was announced, so a screen meets the gap
 * at the session's next change and resyncs (docs/protocol.md §8, the gap rule).
 */
async function takeBack(
  { m, records, writes, results, befores, auditIds }: WrittenBatch,
  gone: Written,
  undo: (i: number) => boolean,
): Promise<{ i: number; undone: boolean }[]> {
  const inserted = gone.filter(({ i }) => writes[i]!.kind === 'insert').map(({ r }) => r.record.id);
  if (inserted.length > 0) await m.records.deleteMany({ _id: { $in: inserted } });
  const audits = gone.flatMap(({ i }) => auditIds.get(i) ?? []);
  // Marked taken back first: an erasure swapping one of them must not put its copy back.
  await takeBackAuditEntries(m, audits);
  const out: { i: number; undone: boolean }[] = [];
  for (const { i, r } of gone) {
    const w = writes[i]!;
    results[i] = { written: false, record: null };
    if (w.kind !== 'update' || !undo(i)) {
      out.push({ i, undone: w.kind !== 'update' });
      continue;
    }
    const before = befores[i]!;
    const back = Object.fromEntries(Object.keys(w.patch).map((k) => [k, before[k as keyof RecordPatch]])) as RecordPatch;
    out.push({ i, undone: (await records.update(w.orgId, w.id, r.record.version, back)) !== null });
  }
  return out;
}

/**
 * The writes of students erased while the batch was on its way, taken back: with no transaction
 * the users are read after everything is written, so either the erasure's account deletion came
 * first and this finds the student gone (the new records and the audit entries go again), or it
 * came after and the erasure's sweep that follows the deletion finds them (docs/privacy.md).
 * An update's record stays: the erasure's first sweep has already replaced its student.
 * The same read covers the user a write is made by (its audit actor, the decision's maker) when
 * not its student: a teacher erased meanwhile. Their write is taken back too, an update's by
 * writing the fields it changed back (optimistic on the version it made), and refused with
 * ActorGoneError; one changed again since keeps that change, its decision's maker a tombstone.
 */
async function takeBackErased(batch: WrittenBatch): Promise<void> {
  const { m, writes, results } = batch;
  const done = written(results);
  if (done.length === 0) return;
  const users = new Map<string, Set<string>>();
  const want = (orgId: string, id: string) => users.set(orgId, (users.get(orgId) ?? new Set()).add(id));
  for (const { i, r } of done) {
    want(r.record.orgId, r.record.studentId);
    for (const id of madeBy(writes[i]!, r.record.studentId)) want(r.record.orgId, id);
  }
  const present = new Set<string>();
  for (const [orgId, ids] of users) {
    const found = await m.users.find({ orgId, _id: { $in: [...ids] } }, { _id: 1 }).lean<Array<{ _id: string }>>();
    for (const d of found) present.add(keyOf(orgId, d._id));
  }
  // A tombstone is never a user: a record kept under one (an erased student's, for statistics)
  // corrected by a teacher is a write like any other, with its audit entry. A new record under
  // one is refused, as on SQLite.
  const gone = done.flatMap(({ i, r }): { i: number; r: Written[number]['r']; actor: string | null }[] => {
    const orgId = r.record.orgId;
    const studentId = r.record.studentId;
    // Who wrote before whom it is about, as before writing (goneActors) and on SQLite.
    const actor = madeBy(writes[i]!, studentId).find((id) => !present.has(keyOf(orgId, id)));
    if (actor !== undefined) return [{ i, r, actor }];
    const kept = writes[i]!.kind !== 'insert' && isTombstoneId(studentId);
    return !kept && !present.has(keyOf(orgId, studentId)) ? [{ i, r, actor: null }] : [];
  });
  if (gone.length === 0) return;
  // An update of a student gone stays: the erasure's first sweep has already replaced its student.
  const byActor = new Set(gone.flatMap(({ i, actor }) => (actor === null ? [] : [i])));
  const taken = await takeBack(batch, gone, (i) => byActor.has(i));
  const undone = new Map(taken.map((u) => [u.i, u.undone]));
  for (const { i, actor } of gone) {
    if (actor === null) continue;
    const w = writes[i]!;
    // Changed again since: that change keeps its decision, its maker a tombstone.
    if (w.kind === 'update' && !undone.get(i)) {
      await m.records.updateOne({ _id: w.id, decidedBy: actor }, { $set: { decidedBy: `erased-${randomUUID()}` } });
    }
    results[i] = { written: false, error: new ActorGoneError(actor) };
  }
}

/** The users other than the record's student a write is made by: its audit actor, its decision's maker. */
function madeBy(w: RecordWrite, studentId: string): string[] {
  const decidedBy = w.kind === 'insert' ? w.input.decidedBy : w.patch.decidedBy;
  return [...new Set([w.audit.actorId, decidedBy])].filter((id): id is string => typeof id === 'string' && id !== studentId);
}

/** Of a write and its record's student, the user it is made by who is already gone, or null. */
type GoneActor = (w: RecordWrite, studentId: string) => string | null;

/**
 * The users the writes are made by (madeBy, before their records are read: the student is
 * excluded later), read before anything is written: a write by one already gone is refused
 * unwritten, as on SQLite, rather than written and taken back (which took the record two
 * versions and its session two roster versions). The read after writing (takeBackErased) still
 * catches one erased in between. A batch of check-ins, made by their students, reads nothing.
 */
async function goneActors(m: Models, writes: readonly RecordWrite[]): Promise<GoneActor> {
  const wanted = new Map<string, Set<string>>();
  for (const w of writes) {
    for (const id of madeBy(w, '')) wanted.set(w.orgId, (wanted.get(w.orgId) ?? new Set()).add(id));
  }
  const present = new Set<string>();
  const asked = new Set<string>();
  for (const [orgId, ids] of wanted) {
    // A check-in's actor is its student, who is not asked about here.
    const found = await m.users.find({ orgId, _id: { $in: [...ids] } }, { _id: 1 }).lean<Array<{ _id: string }>>();
    for (const id of ids) asked.add(keyOf(orgId, id));
    for (const d of found) present.add(keyOf(orgId, d._id));
  }
  return (w, studentId) => madeBy(w, studentId).find((id) => asked.has(keyOf(w.orgId, id)) && !present.has(keyOf(w.orgId, id))) ?? null;
}

/**
 * The batch's updates (`indexes`, one per record) as one read of the records, one unordered bulk
 * of optimistic updates and one read back, instead of a read and a find-and-modify per record:
 * a 300-student close settling its pending check-ins on FerretDB. Each update writes a
 * placeholder roster version, consecutive per session in batch order from a random base far
 * below the inserts' (rosterPlaceholders), which tells on reading back which updates were this
 * batch's (the version filter lets one writer through, but not which); the versions are then
 * handed out as the inserts' are (stampRosterVersions), for the updates written only.
 */
async function updateAll(
  m: Models,
  clock: () => Date,
  indexes: readonly number[],
  writes: readonly RecordWrite[],
  results: (RecordWriteResult | undefined)[],
  befores: (AttendanceRecord | null)[],
  goneActor: GoneActor,
): Promise<void> {
  const updates = indexes.map((i) => ({ i, w: writes[i] as Update }));
  if (updates.length === 0) return;
  try {
    const ids = updates.map((u) => u.w.id);
    const read = async () => new Map((await m.records.find({ _id: { $in: ids } }).lean<RecordDoc[]>()).map((d) => [d._id, d]));
    const current = await read();
    const own = (u: { w: Update }) => {
      const d = current.get(u.w.id);
      return d && d.orgId === u.w.orgId ? d : undefined;
    };
    // A record already past the expected version (or gone) is answered as it stands, unsent;
    // one by a user already gone is refused.
    const refused = new Map(
      updates.flatMap((u) => {
        const gone = own(u) ? goneActor(u.w, own(u)!.studentId) : null;
        return gone ? [[u, gone] as const] : [];
      }),
    );
    const sent = updates.filter((u) => own(u)?.version === u.w.expectedVersion && !refused.has(u));
    for (const u of updates) {
      const gone = refused.get(u);
      if (gone) {
        results[u.i] = { written: false, error: new ActorGoneError(gone) };
        continue;
      }
      befores[u.i] = own(u) ? toRecord(own(u)!) : null;
      if (!sent.includes(u)) results[u.i] = { written: false, record: befores[u.i]! };
    }
    if (sent.length === 0) return;
    const base = UPDATE_PLACEHOLDER_BASE - Math.floor(Math.random() * UPDATE_PLACEHOLDER_SPREAD);
    const placeholders = rosterPlaceholders(sent.map((u) => own(u)!.sessionId)).map((p) => base + p);
    const now = clock();
    await m.records.bulkWrite(
      sent.map((u, n) => ({
        updateOne: {
          filter: { _id: u.w.id, orgId: u.w.orgId, version: u.w.expectedVersion },
          update: { $set: { ...q.definedOnly(u.w.patch), updatedAt: now, rosterVersion: placeholders[n]! }, $inc: { version: 1 } },
        },
      })),
      { ordered: false },
    );
    const after = await read();
    const created = new Map<string, Created[]>();
    for (const [n, u] of sent.entries()) {
      const d = after.get(u.w.id);
      if (d && d.version === u.w.expectedVersion + 1 && d.rosterVersion === placeholders[n]) {
        created.set(d.sessionId, [...(created.get(d.sessionId) ?? []), { doc: d, placeholder: placeholders[n]! }]);
      } else results[u.i] = { written: false, record: d && d.orgId === u.w.orgId ? toRecord(d) : null };
    }
    const versions = await stampRosterVersions(m, created, true);
    for (const u of sent) {
      if (results[u.i]) continue;
      const d = after.get(u.w.id)!;
      results[u.i] = { written: true, before: befores[u.i]!, record: { ...toRecord(d), rosterVersion: versions.get(d._id) ?? 0 } };
    }
  } catch (err) {
    for (const u of updates) results[u.i] ??= { written: false, error: err };
  }
}

async function insertAll(
  m: Models,
  clock: () => Date,
  writes: readonly RecordWrite[],
  results: (RecordWriteResult | undefined)[],
  goneActor: GoneActor,
): Promise<void> {
  const inserts = new Map<string, { i: number; w: Insert; id: string }>();
  const repeats: { i: number; key: string }[] = [];
  for (const [i, w] of writes.entries()) {
    if (w.kind !== 'insert') continue;
    const gone = goneActor(w, w.input.studentId);
    if (gone) {
      results[i] = { written: false, error: new ActorGoneError(gone) };
      continue;
    }
    const key = keyOf(w.input.sessionId, w.input.studentId);
    if (inserts.has(key)) repeats.push({ i, key });
    else inserts.set(key, { i, w, id: newTimeOrderedId() });
  }
  if (inserts.size === 0) return;
  const now = clock();
  const sent = [...inserts.values()];
  const placeholders = rosterPlaceholders(sent.map((s) => s.w.input.sessionId));
  const failed = new Map<number, unknown>();
  const starts = new Map<string, Map<string, Date>>();
  for (const orgId of new Set(sent.map((x) => x.w.orgId))) {
    starts.set(
      orgId,
      await sessionStarts(
        m,
        orgId,
        sent.filter((x) => x.w.orgId === orgId).map((x) => x.w.input.sessionId),
      ),
    );
  }
  // Plain inserts, not upserts: the unique (session, student) key refuses a record that is there
  // already (a duplicate key: a race lost, read back below like the others). An upsert is a read
  // by the key then a write; on FerretDB each one is a scan of the collection and a transaction
  // of its own, and a 300-student close spent most of its 25 s there (docs/mongodb.md).
  // Indexes into `sent` still to send: a server that stops an unordered bulk at its first error
  // (FerretDB does, for updates) leaves the writes after it unattempted; those are sent again
  // (one already stored then answers a duplicate key, and is read back as this batch's own).
  let todo = sent.map((_, n) => n);
  while (todo.length > 0) {
    const round = todo;
    try {
      await m.records.bulkWrite(
        round.map((n) => {
          const { w, id } = sent[n]!;
          const start = starts.get(w.orgId)?.get(w.input.sessionId) ?? null;
          return { insertOne: { document: q.newRecordDoc(w.orgId, id, w.input, now, placeholders[n]!, start) } };
        }),
        { ordered: false },
      );
      break;
    } catch (err) {
      const writeErrors = bulkWriteErrors(err);
      if (writeErrors === null || writeErrors.length === 0) throw err;
      const errored = new Set<number>();
      for (const e of writeErrors) {
        const n = round[e.index]!;
        errored.add(n);
        // Lost races (duplicate key) are read back below like the others.
        if (!isDuplicateKeyError(e)) failed.set(n, e);
      }
      // Every insert of the round answered (MongoDB, and FerretDB for inserts): none to send again.
      if (insertedCount(err) + writeErrors.length >= round.length) break;
      const first = Math.min(...writeErrors.map((e) => e.index));
      todo = round.slice(first + 1).filter((n) => !errored.has(n));
    }
  }
  const docs = await m.records
    .find({
      sessionId: { $in: [...new Set(sent.map((s) => s.w.input.sessionId))] },
      studentId: { $in: sent.map((s) => s.w.input.studentId) },
    })
    .lean<RecordDoc[]>();
  const byKey = new Map(docs.map((d) => [keyOf(d.sessionId, d.studentId), d]));
  const created = new Map<string, Created[]>();
  for (const [n, { i, w, id }] of sent.entries()) {
    const doc = byKey.get(keyOf(w.input.sessionId, w.input.studentId));
    if (failed.has(n)) results[i] = { written: false, error: failed.get(n) };
    // The key is held by a record of another organisation.
    else if (!doc || doc.orgId !== w.orgId) results[i] = { written: false, error: new StoreConflictError('record') };
    else if (doc._id !== id) results[i] = { written: false, record: toRecord(doc) };
    else created.set(doc.sessionId, [...(created.get(doc.sessionId) ?? []), { doc, placeholder: placeholders[n]! }]);
  }
  const versions = await stampRosterVersions(m, created);
  for (const { i, w } of sent) {
    if (results[i]) continue;
    const doc = byKey.get(keyOf(w.input.sessionId, w.input.studentId))!;
    results[i] = { written: true, before: null, record: { ...toRecord(doc), rosterVersion: versions.get(doc._id) ?? 0 } };
  }
  for (const { i, key } of repeats) {
    const first = results[inserts.get(key)!.i]!;
    results[i] = 'error' in first ? first : { written: false, record: first.record };
  }
}

interface Created {
  doc: RecordDoc;
  /** The rosterVersion it was inserted with (rosterPlaceholders). */
  placeholder: number;
}

/**
 * Each new record goes in with a placeholder version below 0 that rises by one per record of its
 * session in batch order (-n ... -1 for a session's n records), so that one `$inc` turns a run of
 * them into consecutive versions, instead of one update per record (stampRosterVersions).
 */
function rosterPlaceholders(sessionIds: readonly string[]): number[] {
  const total = new Map<string, number>();
  for (const id of sessionIds) total.set(id, (total.get(id) ?? 0) + 1);
  const seen = new Map<string, number>();
  return sessionIds.map((id) => {
    const k = seen.get(id) ?? 0;
    seen.set(id, k + 1);
    return k - total.get(id)!;
  });
}

/**
 * One increment per session for the records this batch created, their versions handed out in
 * batch order, after the writes, and only for records that were written. The versions are kept
 * on the records with one `$inc` per run of records whose placeholders are as far apart as their
 * versions: all of a session's records when none of its inserts lost a race. The filter keeps
 * the stamp off a record that a later change replaced meanwhile (its version is no longer 1;
 * that change stamps its own), as insertIfAbsent's stamp does one at a time. A record whose
 * session document is missing keeps its placeholder and is read as version 0.
 */
async function stampRosterVersions(
  m: Models,
  created: ReadonlyMap<string, readonly Created[]>,
  updated = false,
): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const [sessionId, list] of created) {
    const orgId = list[0]!.doc.orgId;
    const s = await m.sessions
      .findOneAndUpdate({ _id: sessionId, orgId }, { $inc: { rosterVersion: list.length } }, { returnDocument: 'after' })
      .lean<Pick<SessionDoc, 'rosterVersion' | 'startsAt'>>();
    if (s?.rosterVersion === undefined) continue;
    const first = s.rosterVersion - list.length + 1;
    const runs = new Map<number, Created[]>();
    list.forEach((c, k) => {
      versions.set(c.doc._id, first + k);
      const offset = first + k - c.placeholder;
      runs.set(offset, [...(runs.get(offset) ?? []), c]);
    });
    for (const [offset, run] of runs) {
      // Updated records: only those still holding this batch's placeholders (unique to it).
      const still = updated ? { rosterVersion: { $in: run.map((c) => c.placeholder) } } : { version: 1, rosterVersion: { $lt: 0 } };
      // With the session's start as read after the records' write (a move in between missed them).
      await m.records.updateMany(
        { _id: { $in: run.map((c) => c.doc._id) }, orgId, ...still },
        { $inc: { rosterVersion: offset }, $set: { sessionStartsAt: s.startsAt } },
      );
    }
  }
  return versions;
}

/** How many documents a failed bulk write inserted (0 when the error does not say). */
function insertedCount(err: unknown): number {
  const n = typeof err === 'object' && err !== null && 'insertedCount' in err ? (err as { insertedCount: unknown }).insertedCount : 0;
  return typeof n === 'number' ? n : 0;
}

/** The per-operation failures of an unordered bulk write, or null for any other error. */
function bulkWriteErrors(err: unknown): { index: number }[] | null {
  if (typeof err !== 'object' || err === null || !('writeErrors' in err)) return null;
  const w = (err as { writeErrors: unknown }).writeErrors;
  const list = Array.isArray(w) ? w : [w];
  return list.filter(
    (e): e is { index: number } => typeof e === 'object' && e !== null && typeof (e as { index?: unknown }).index === 'number',
  );
}
