import { newTimeOrderedId } from '../../shared/ids.js';
import { StoreConflictError } from '../../domain/ports/common.js';
import { type AttendanceRecord, type RecordRepository, type RecordWrite, type RecordWriteResult } from '../../domain/ports/records.js';
import { recordAuditEntry } from '../../domain/checkins/record-audit.js';
import { isTombstoneId } from '../../domain/privacy/erasure-rules.js';
import { isDuplicateKeyError } from './errors.js';
import { fromAudit, toRecord } from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import type { RecordDoc } from './record-schemas.js';
import type { SessionDoc } from './session-schemas.js';
import { Types } from 'mongoose';

type Insert = Extract<RecordWrite, { kind: 'insert' }>;

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
 * answered with the first one's record, as the per-write path would.
 */
export async function writeRecordBatch(
  m: Models,
  records: Pick<RecordRepository, 'get' | 'update'>,
  clock: () => Date,
  writes: readonly RecordWrite[],
): Promise<RecordWriteResult[]> {
  const results: (RecordWriteResult | undefined)[] = new Array(writes.length);
  const befores: (AttendanceRecord | null)[] = new Array(writes.length).fill(null);
  await insertAll(m, clock, writes, results);
  for (const [i, w] of writes.entries()) {
    if (w.kind !== 'update') continue;
    try {
      const before = await records.get(w.orgId, w.id);
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
  await takeBackErased(m, writes, results, new Map(entries.map(({ i, entry }) => [i, entry.id])));
  return results as RecordWriteResult[];
}

/**
 * The writes of students erased while the batch was on its way, taken back: with no transaction
 * the users are read after everything is written, so either the erasure's account deletion came
 * first and this finds the student gone (the new records and the audit entries go again), or it
 * came after and the erasure's sweep that follows the deletion finds them (docs/privacy.md).
 * An update's record stays: the erasure's first sweep has already replaced its student.
 */
async function takeBackErased(
  m: Models,
  writes: readonly RecordWrite[],
  results: (RecordWriteResult | undefined)[],
  auditIds: ReadonlyMap<number, string>,
): Promise<void> {
  const written = results.flatMap((r, i) => (r && !('error' in r) && r.written ? [{ i, r }] : []));
  if (written.length === 0) return;
  const students = new Map<string, Set<string>>();
  for (const { r } of written) students.set(r.record.orgId, (students.get(r.record.orgId) ?? new Set()).add(r.record.studentId));
  const present = new Set<string>();
  for (const [orgId, ids] of students) {
    const found = await m.users.find({ orgId, _id: { $in: [...ids] } }, { _id: 1 }).lean<Array<{ _id: string }>>();
    for (const d of found) present.add(keyOf(orgId, d._id));
  }
  // A tombstone is never a user: a record under one (an erased student's, kept for statistics)
  // corrected by a teacher is a write like any other, with its audit entry.
  const gone = written.filter(({ r }) => !isTombstoneId(r.record.studentId) && !present.has(keyOf(r.record.orgId, r.record.studentId)));
  if (gone.length === 0) return;
  const inserted = gone.filter(({ i }) => writes[i]!.kind === 'insert').map(({ r }) => r.record.id);
  if (inserted.length > 0) await m.records.deleteMany({ _id: { $in: inserted } });
  const audits = gone.flatMap(({ i }) => auditIds.get(i) ?? []);
  if (audits.length > 0) await m.audit.deleteMany({ _id: { $in: audits } });
  for (const { i } of gone) results[i] = { written: false, record: null };
}

async function insertAll(
  m: Models,
  clock: () => Date,
  writes: readonly RecordWrite[],
  results: (RecordWriteResult | undefined)[],
): Promise<void> {
  const inserts = new Map<string, { i: number; w: Insert; id: string }>();
  const repeats: { i: number; key: string }[] = [];
  for (const [i, w] of writes.entries()) {
    if (w.kind !== 'insert') continue;
    const key = keyOf(w.input.sessionId, w.input.studentId);
    if (inserts.has(key)) repeats.push({ i, key });
    else inserts.set(key, { i, w, id: newTimeOrderedId() });
  }
  if (inserts.size === 0) return;
  const now = clock();
  const sent = [...inserts.values()];
  const placeholders = rosterPlaceholders(sent.map((s) => s.w.input.sessionId));
  const failed = new Map<number, unknown>();
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
          return { insertOne: { document: q.newRecordDoc(w.orgId, id, w.input, now, placeholders[n]!) } };
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
async function stampRosterVersions(m: Models, created: ReadonlyMap<string, readonly Created[]>): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const [sessionId, list] of created) {
    const orgId = list[0]!.doc.orgId;
    const s = await m.sessions
      .findOneAndUpdate({ _id: sessionId, orgId }, { $inc: { rosterVersion: list.length } }, { returnDocument: 'after' })
      .lean<Pick<SessionDoc, 'rosterVersion'>>();
    if (s?.rosterVersion === undefined) continue;
    const first = s.rosterVersion - list.length + 1;
    const runs = new Map<number, string[]>();
    list.forEach(({ doc, placeholder }, k) => {
      versions.set(doc._id, first + k);
      const offset = first + k - placeholder;
      runs.set(offset, [...(runs.get(offset) ?? []), doc._id]);
    });
    for (const [offset, ids] of runs) {
      await m.records.updateMany({ _id: { $in: ids }, orgId, version: 1, rosterVersion: { $lt: 0 } }, { $inc: { rosterVersion: offset } });
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
