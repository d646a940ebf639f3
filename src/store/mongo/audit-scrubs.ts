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
 * Replaces audit entries by their scrubbed copies (same `_id`s): per round, the entries are read
 * as they stand now and scrubbed (`scrub`), the copies staged, the originals deleted with one
 * command, the copies inserted with one, the stage emptied. An update per entry was a scan of the
 * audit collection each on FerretDB (300 entries: 46 s); a find or delete of many ids is one scan,
 * an insert none. Run restoreAuditScrubs first: a copy an interrupted run left staged is the
 * newer version of its entry. Returns how many entries were swapped.
 */
export async function replaceAuditEntries(m: Models, ids: readonly string[], scrub: (entry: AuditDoc) => AuditDoc): Promise<number> {
  const staging = m.audit.db.collection<AuditDoc>(AUDIT_SCRUBS_COLLECTION);
  let swapped = 0;
  for (let i = 0; i < ids.length; i += AUDIT_SCRUB_CHUNK) {
    // Read again rather than taken from the caller's read, which may be minutes old: an entry
    // another erasure scrubbed since (or whose address the retention cut) is scrubbed as it now
    // stands, not put back as it was; one deleted since (a group commit taking back a check-in
    // of the person being erased, record-batch.ts takeBack) does not come back. A change made
    // between this read and the delete below (the stage write) can still be lost: nothing locks
    // the trail against it.
    const chunk = (
      await auditOf(m)
        .find({ _id: { $in: ids.slice(i, i + AUDIT_SCRUB_CHUNK) } })
        .toArray()
    ).map(scrub);
    if (chunk.length === 0) continue;
    const round = chunk.map((d) => d._id);
    // An upsert, not an insert: another erasure naming the same entry may have staged it too.
    await staging.bulkWrite(
      chunk.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d, upsert: true } })),
      { ordered: false },
    );
    await auditOf(m).deleteMany({ _id: { $in: round } });
    await insertIgnoringPresent(m, chunk);
    await staging.deleteMany({ _id: { $in: round } });
    swapped += chunk.length;
  }
  return swapped;
}

/**
 * Puts back the entries an interrupted erasure deleted from `audit` before inserting their
 * copies, then takes them off the stage. A staged entry whose original is still in `audit` is
 * left alone: it is either a live erasure's between its stage and its delete (taking it off
 * would lose the entry if that one then stopped), or one stopped before its delete, whose
 * original is intact and whose run again stages it anew. Returns how many were put back.
 */
export async function restoreAuditScrubs(m: Models): Promise<number> {
  const staging = m.audit.db.collection<AuditDoc>(AUDIT_SCRUBS_COLLECTION);
  const staged = await staging.find({}).toArray();
  if (staged.length === 0) return 0;
  const present = new Set(
    (
      await auditOf(m)
        .find({ _id: { $in: staged.map((d) => d._id) } }, { projection: { _id: 1 } })
        .toArray()
    ).map((d) => d._id),
  );
  const missing = staged.filter((d) => !present.has(d._id));
  if (missing.length === 0) return 0;
  await insertIgnoringPresent(m, missing);
  await staging.deleteMany({ _id: { $in: missing.map((d) => d._id) } });
  return missing.length;
}

// The raw collections, typed: the copies are whole documents as read, written without casting.
const auditOf = (m: Models) => m.audit.db.collection<AuditDoc>(m.audit.collection.collectionName);

/** Inserts the copies; one whose `_id` is in `audit` already (put back by another run) stays as it is. */
async function insertIgnoringPresent(m: Models, docs: readonly AuditDoc[]): Promise<void> {
  try {
    await auditOf(m).insertMany(docs as AuditDoc[], { ordered: false });
  } catch (err) {
    // Unordered: every other copy was inserted; only duplicates are expected here.
    if (!isDuplicateKeyError(err)) throw err;
  }
}
