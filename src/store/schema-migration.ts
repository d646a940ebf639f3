/** What a store's opening did to its schema: applied `versions`, from version `from` to `to`, in `ms`. */
export interface SchemaMigrated {
  from: number;
  to: number;
  versions: number[];
  ms: number;
}

/** Where the store says it migrated: the node's logger. */
export interface MigrationLog {
  info(obj: object, msg: string): void;
}

/**
 * The one line a start that migrated the store writes: an operator upgrading reads which schema
 * the data had, which it has now, and how long the node took before it could listen (a long
 * migration is why a rolling deploy's first node came up late).
 */
export function logSchemaMigrated(log: MigrationLog, store: string, m: SchemaMigrated): void {
  log.info(
    { store, from: m.from, to: m.to, versions: m.versions, ms: Math.round(m.ms) },
    `store schema migrated from version ${m.from} to ${m.to} in ${Math.round(m.ms)} ms`,
  );
}
