import type { Model } from 'mongoose';
import { isDuplicateKeyError } from './errors.js';

/** What became of one document of insertEach: stored, refused by a unique key, or failed otherwise. */
export type InsertOutcome = { stored: true } | { stored: false; duplicate: true } | { stored: false; duplicate: false; error: unknown };

/**
 * Inserts documents with fresh or deterministic `_id`s as one unordered bulk, and says per
 * document whether it was stored. One insert command is one transaction on FerretDB, where an
 * upsert or update is a scan of the collection and a transaction each (docs/mongodb.md), so a
 * bulk of new documents goes in as inserts, and the unique keys refuse those already there.
 *
 * A server that stops an unordered bulk at its first error leaves the documents after it
 * unattempted: those are sent again. One of them stored meanwhile answers a duplicate on its
 * `_id`; so a duplicate whose `_id` is found afterwards with this call's document counts as stored
 * when `mine` says so (ids this call made), else as a duplicate (another writer's, or already there).
 */
export async function insertEach<D extends { _id: string }>(
  model: Model<D>,
  docs: readonly D[],
  mine: (found: D, sent: D) => boolean = () => false,
): Promise<InsertOutcome[]> {
  const outcomes: (InsertOutcome | undefined)[] = new Array(docs.length);
  let resent = false;
  let todo = docs.map((_, n) => n);
  while (todo.length > 0) {
    const round = todo;
    todo = [];
    try {
      await model.bulkWrite(round.map((n) => ({ insertOne: { document: docs[n]! } })) as Parameters<Model<D>['bulkWrite']>[0], {
        ordered: false,
      });
    } catch (err) {
      const writeErrors = writeErrorsOf(err);
      if (writeErrors === null || writeErrors.length === 0) throw err;
      for (const e of writeErrors) {
        const n = round[e.index];
        if (n === undefined) throw err;
        outcomes[n] = isDuplicateKeyError(e) ? { stored: false, duplicate: true } : { stored: false, duplicate: false, error: e };
      }
      // Every insert of the round answered (MongoDB, and FerretDB for inserts): none to send again.
      if (insertedCountOf(err) + writeErrors.length < round.length) {
        const first = Math.min(...writeErrors.map((e) => e.index));
        todo = round.slice(first + 1).filter((n) => outcomes[n] === undefined);
        resent ||= todo.length > 0;
      }
    }
  }
  if (resent) {
    const duplicates = docs.filter((_, n) => outcomes[n] && !outcomes[n].stored && 'duplicate' in outcomes[n] && outcomes[n].duplicate);
    const found = new Map(
      (await model.find({ _id: { $in: duplicates.map((d) => d._id) } }).lean<D[]>()).map((d): [string, D] => [d._id, d]),
    );
    for (const [n, doc] of docs.entries()) {
      const stored = found.get(doc._id);
      if (stored && outcomes[n] && !outcomes[n].stored && mine(stored, doc)) outcomes[n] = { stored: true };
    }
  }
  // Holes are the documents no write error named: stored.
  return Array.from(outcomes, (o) => o ?? { stored: true });
}

function insertedCountOf(err: unknown): number {
  const n = typeof err === 'object' && err !== null && 'insertedCount' in err ? (err as { insertedCount: unknown }).insertedCount : 0;
  return typeof n === 'number' ? n : 0;
}

/** The per-operation failures of an unordered bulk write, or null for any other error. */
function writeErrorsOf(err: unknown): { index: number }[] | null {
  if (typeof err !== 'object' || err === null || !('writeErrors' in err)) return null;
  const w = (err as { writeErrors: unknown }).writeErrors;
  const list = Array.isArray(w) ? w : [w];
  return list.filter(
    (e): e is { index: number } => typeof e === 'object' && e !== null && typeof (e as { index?: unknown }).index === 'number',
  );
}
