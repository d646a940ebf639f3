import type { CollectionEntity, CollectionName, TransferApi } from '../../domain/ports/transfer.js';
import { mapConflicts, type SqliteDb } from './db.js';
import { insertSql, type Row, type TableSpec } from './common-mappers.js';
import { TABLES } from './transfer-tables.js';

/**
 * Whole-collection copy. Export pages by rowid (stable under concurrent inserts); import
 * upserts on each table's key in one transaction per batch, so re-running a copy is harmless.
 */
export function sqliteTransfer(db: SqliteDb): TransferApi {
  const spec = <C extends CollectionName>(c: C): TableSpec<CollectionEntity[C]> => {
    const s = TABLES[c];
    if (!s) throw new Error(`unknown collection: ${String(c)}`);
    return s;
  };
  return {
    async count(collection) {
      return db.stmt<{ n: number }>(`SELECT count(*) AS n FROM ${spec(collection).table}`).get()!.n;
    },
    export<C extends CollectionName>(collection: C, batchSize: number): AsyncIterable<CollectionEntity[C][]> {
      const s = spec(collection);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
      const sql = `SELECT rowid AS _rowid, * FROM ${s.table} WHERE rowid > ? ORDER BY rowid LIMIT ?`;
      return {
        async *[Symbol.asyncIterator]() {
          let after = 0;
          for (;;) {
            const rows = db.stmt<Row & { _rowid: number }>(sql).all(after, batchSize);
            if (rows.length === 0) return;
            after = rows[rows.length - 1]!._rowid;
            yield rows.map((r) => s.fromRow(r));
            if (rows.length < batchSize) return;
          }
        },
      };
    },
    async import<C extends CollectionName>(collection: C, batch: CollectionEntity[C][]) {
      const s = spec(collection);
      if (batch.length === 0) return;
      const sql = insertSql(s, true);
      mapConflicts(() =>
        db.tx(() => {
          for (const e of batch) db.stmt(sql).run(s.toRow(e));
        }),
      );
    },
  };
}
