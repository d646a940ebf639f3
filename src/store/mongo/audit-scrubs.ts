import type { AuditDoc } from './audit-schemas.js';
import { isDuplicateKeyError } from './errors.js';
import type { Models } from './models.js';

/**
 * Where an erasure keeps its scrubbed audit entries while it swaps them in: each entry is here
 * from before its original is deleted until after its scrubbed copy is in `audit`, so a crash in
 * between loses nothing (restoreAuditScrubs puts it back). What is here is already scrubbed:
 * nothing of the person.
 */
export const AUDIT_SCRUBS_COLLECTION = 'auditScrubs';

/**
 * Entries per round. FerretDB runs one command at a time and rewrites one document per
 * transaction, each a scan of the collection; a bounded round keeps every command short, so no
 * command holds the server past the driver's heartbeat (a single bulk of every scrub did).
 */
export const AUDIT_SCRUB_CHUNK = 100;

/**
 * Where an audit entry's deletion by anything but an erasure's swap (a group commit or an
 * excuse decision taking back its write, takeBackAuditEntries) is written down first, so that an
 * erasure swapping the entry at that moment, or a restore of its staged copy, takes the copy it
 * put in out again rather than bring a taken-back entry back. `{_id: entry id, at}`; a mark is
 * kept a day (pruned by restoreAuditScrubs), or for as long as a copy of its entry is staged.
 */
export const AUDIT_TAKEN_BACK_COLLECTION = 'auditTakenBack';

/** How long a take-back's mark outlives it when no copy of its entry is staged. */
const TAKEN_BACK_KEPT_MS = 24 * 60 * 60_000;

/** Passes over entries changed between a round's read and its delete before the erasure gives up. */
const SWAP_TRIES = 5;

type TakenBackDoc = { _id: string; at: Date };

/**
 * Deletes audit entries a write takes back (its write undone), marking them taken back first:
 * an erasure that deleted one of them for its swap and inserts its copy after this delete reads
 * the mark after its insert and takes the copy out again (replaceAuditEntries). The mark comes
 * first, so one of the two deletes always comes after the copy's insert.
 */
export async function takeBackAuditEntries(m: Models, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const at = new Date();
  await ignoringPresent(() =>
    takenBackOf(m).insertMany(
      ids.map((_id) => ({ _id, at })),
      { ordered: false },
    ),
  );
  await auditOf(m).deleteMany({ _id: { $in: [...ids] } });
}

/**
 * Replaces audit entries by their scrubbed copies (same `_id`s): per round, the entries are read
 * as they stand now and scrubbed (`scrub`), the copies staged, the originals deleted with one
 * command, the copies inserted with one, the stage emptied. An update per entry was a scan of the
 * audit collection each on FerretDB (300 entries: 46 s); a find or delete of many ids is one scan,
 * an insert none. Run restoreAuditScrubs first: a copy an interrupted run left staged is the
 * newer version of its entry. Returns how many entries were swapped.
 *
 * Nothing locks the trail, so each step is guarded instead. The delete is a compare-and-set: it
 * matches each entry only as read (every field equal), so an entry changed since the read
 * (another erasure's scrub, the retention's address cut) stays as it is, keeps its copy out, and
 * is read and scrubbed again in a later pass. An entry taken back since the read is absent from
 * the trail, like one this round deleted; its mark (takeBackAuditEntries) is read after the
 * copies are in, and its copy deleted again: the mark is written before the take-back's delete,
 * so either this read sees it or that delete comes after the insert.
 */
export async function replaceAuditEntries(m: Models, ids: readonly string[], scrub: (entry: AuditDoc) => AuditDoc): Promise<number> {
  let swapped = 0;
  let pending: readonly string[] = ids;
  for (let pass = 1; pending.length > 0; pass += 1) {
    if (pass > SWAP_TRIES) throw new Error(`audit entries changed during every one of ${SWAP_TRIES} swaps: ${pending.join(', ')}`);
    const changed: string[] = [];
    for (let i = 0; i < pending.length; i += AUDIT_SCRUB_CHUNK) {
      const round = await swapRound(m, pending.slice(i, i + AUDIT_SCRUB_CHUNK), scrub);
      swapped += round.swapped;
      changed.push(...round.changed);
    }
    pending = changed;
  }
  return swapped;
}

/** One round of replaceAuditEntries: the entries swapped, and those changed since their read (left for the next pass). */
async function swapRound(
  m: Models,
  ids: readonly string[],
  scrub: (entry: AuditDoc) => AuditDoc,
): Promise<{ swapped: number; changed: string[] }> {
  const staging = stagingOf(m);
  // Read again rather than taken from the caller's read, which may be minutes old.
  const originals = await auditOf(m)
    .find({ _id: { $in: [...ids] } })
    .toArray();
  if (originals.length === 0) return { swapped: 0, changed: [] };
  const copies = originals.map(scrub);
  const round = copies.map((d) => d._id);
  // An upsert, not an insert: another erasure naming the same entry may have staged it too.
  await staging.bulkWrite(
    copies.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d, upsert: true } })),
    { ordered: false },
  );
  // The `$in` first: FerretDB tests a filter's keys in order, so every other entry of the
  // collection is passed over without trying the clauses.
  const { deletedCount } = await auditOf(m).deleteMany({ _id: { $in: round }, $or: originals.map(asRead) });
  // All deleted, the common case: none changed or left since the read, and no read is needed to
  // tell which. Otherwise those still there were changed (kept); those gone, deleted here or
  // taken back (their marks are read below).
  const changed =
    deletedCount === originals.length
      ? new Set<string>()
      : new Set(
          (
            await auditOf(m)
              .find({ _id: { $in: round } }, { projection: { _id: 1 } })
              .toArray()
          ).map((d) => d._id),
        );
  const inserted = copies.filter((d) => !changed.has(d._id));
  // A copy refused as present: another erasure's delete of this entry came before this one's and
  // its copy went in first, so this one's delete found nothing and its scrub is not in the trail.
  // Scrubbed again as it now stands in the next pass, like an entry changed since the read.
  const present = await insertIgnoringPresent(m, inserted);
  const taken = await dropTakenBack(
    m,
    inserted.map((d) => d._id),
  );
  await staging.deleteMany({ _id: { $in: round } });
  for (const id of present) if (!taken.has(id)) changed.add(id);
  return { swapped: inserted.filter((d) => !taken.has(d._id) && !present.has(d._id)).length, changed: [...changed] };
}

/**
 * Puts back the entries an interrupted erasure deleted from `audit` before inserting their
 * copies, then takes them off the stage. A staged entry whose original is still in `audit` is
 * left alone: it is either a live erasure's between its stage and its delete (taking it off
 * would lose the entry if that one then stopped), or one stopped before its delete, whose
 * original is intact and whose run again stages it anew. A staged entry taken back meanwhile
 * (marked by takeBackAuditEntries) is not put back, and its original, if still there, goes as
 * the take-back meant; its copy leaves the stage. Returns how many were put back.
 */
export async function restoreAuditScrubs(m: Models): Promise<number> {
  const staging = stagingOf(m);
  const staged = await staging.find({}).toArray();
  const stagedIds = staged.map((d) => d._id);
  // Marks no staged copy needs, kept a day for a live erasure's round: a round takes seconds.
  await takenBackOf(m).deleteMany({ _id: { $nin: stagedIds }, at: { $lt: new Date(Date.now() - TAKEN_BACK_KEPT_MS) } });
  if (staged.length === 0) return 0;
  const taken = await takenBack(m, stagedIds);
  if (taken.size > 0) {
    await auditOf(m).deleteMany({ _id: { $in: [...taken] } });
    await staging.deleteMany({ _id: { $in: [...taken] } });
  }
  const present = new Set(
    (
      await auditOf(m)
        .find({ _id: { $in: stagedIds } }, { projection: { _id: 1 } })
        .toArray()
    ).map((d) => d._id),
  );
  const missing = staged.filter((d) => !present.has(d._id) && !taken.has(d._id));
  if (missing.length === 0) return 0;
  await insertIgnoringPresent(m, missing);
  // As in a round: one taken back between the read of the marks above and this insert.
  const late = await dropTakenBack(
    m,
    missing.map((d) => d._id),
  );
  await staging.deleteMany({ _id: { $in: missing.map((d) => d._id) } });
  return missing.length - late.size;
}

/**
 * A filter that matches the entry only as it was read: every field equal (`$eq`, so a value that
 * looks like an operator is compared as it is). Fields are compared whole, nested documents
 * in their stored key order, which is the order they were read in.
 */
function asRead(d: AuditDoc): Record<string, unknown> {
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, { $eq: v }]));
}

/** The ids among these that a take-back marked. */
async function takenBack(m: Models, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return new Set(
    (
      await takenBackOf(m)
        .find({ _id: { $in: [...ids] } })
        .toArray()
    ).map((d) => d._id),
  );
}

/** Deletes again the copies just inserted of entries taken back meanwhile; returns their ids. */
async function dropTakenBack(m: Models, inserted: readonly string[]): Promise<Set<string>> {
  const taken = await takenBack(m, inserted);
  if (taken.size > 0) await auditOf(m).deleteMany({ _id: { $in: [...taken] } });
  return taken;
}

// The raw collections, typed: the copies are whole documents as read, written without casting.
const auditOf = (m: Models) => m.audit.db.collection<AuditDoc>(m.audit.collection.collectionName);
const stagingOf = (m: Models) => m.audit.db.collection<AuditDoc>(AUDIT_SCRUBS_COLLECTION);
const takenBackOf = (m: Models) => m.audit.db.collection<TakenBackDoc>(AUDIT_TAKEN_BACK_COLLECTION);

/**
 * Inserts the copies; one whose `_id` is in `audit` already (put back by another run, or another
 * erasure's copy) stays as it is. Returns the ids of those not inserted: every one of them when
 * the server's duplicate-key answer does not say which (they are then scrubbed once more).
 */
async function insertIgnoringPresent(m: Models, docs: readonly AuditDoc[]): Promise<Set<string>> {
  if (docs.length === 0) return new Set();
  try {
    await auditOf(m).insertMany(docs as AuditDoc[], { ordered: false });
    return new Set();
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    const at = duplicateIndexes(err);
    return new Set((at ?? docs.map((_, i) => i)).map((i) => docs[i]!._id));
  }
}

/** The positions an unordered insert's write errors name, or null when it names none. */
function duplicateIndexes(err: unknown): number[] | null {
  const w = (err as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(w) ? w : w ? [w] : []) as { index?: unknown }[];
  const at = list.map((e) => e.index).filter((i): i is number => typeof i === 'number');
  return at.length > 0 && at.length === list.length ? at : null;
}

/** Runs an unordered insert whose duplicates are expected: every other document was inserted. */
async function ignoringPresent(insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
  }
}
