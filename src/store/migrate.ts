import { type Store } from '../domain/ports/store.js';
import { COLLECTIONS, type CollectionName } from '../domain/ports/transfer.js';

/** Source and target sizes of one collection after a copy. */
export interface CollectionCount {
  collection: CollectionName;
  source: number;
  target: number;
}

export interface MigrationReport {
  counts: CollectionCount[];
  /** True when every collection has as many documents in the target as in the source. */
  ok: boolean;
}

export interface MigrationProgress {
  collection: CollectionName;
  copied: number;
  total: number;
}

export interface MigrateOptions {
  /** Entities per export batch and per import write. */
  batchSize?: number;
  /** Defaults to every collection, parents before children. */
  collections?: readonly CollectionName[];
  /** Called before a collection's first batch (copied 0) and after each batch. */
  onProgress?: (p: MigrationProgress) => void;
}

export const DEFAULT_BATCH_SIZE = 500;

/**
 * Copies every collection from one store to another through their TransferApi, ids kept.
 * Imports are upserts on ids, so running it again changes nothing; a target that already
 * held other data shows up as a count mismatch in the report.
 */
export async function migrateStore(from: Store, to: Store, opts: MigrateOptions = {}): Promise<MigrationReport> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const collections = opts.collections ?? COLLECTIONS;
  const counts: CollectionCount[] = [];
  for (const collection of collections) {
    const total = await from.transfer.count(collection);
    let copied = 0;
    opts.onProgress?.({ collection, copied, total });
    for await (const batch of from.transfer.export(collection, batchSize)) {
      await to.transfer.import(collection, batch);
      copied += batch.length;
      opts.onProgress?.({ collection, copied, total });
    }
    counts.push({
      collection,
      source: await from.transfer.count(collection),
      target: await to.transfer.count(collection),
    });
  }
  return { counts, ok: counts.every((c) => c.source === c.target) };
}

/** The report as an aligned table, one line per collection. */
export function formatReport(report: MigrationReport): string {
  const width = Math.max(...report.counts.map((c) => c.collection.length), 'collection'.length);
  const lines = [`${'collection'.padEnd(width)}  ${'source'.padStart(9)}  ${'target'.padStart(9)}`];
  for (const c of report.counts) {
    const mark = c.source === c.target ? '' : '  MISMATCH';
    lines.push(`${c.collection.padEnd(width)}  ${String(c.source).padStart(9)}  ${String(c.target).padStart(9)}${mark}`);
  }
  return lines.join('\n');
}
