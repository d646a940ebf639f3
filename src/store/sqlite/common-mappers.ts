// What every row mapper shares: the table layout type, readers of typed columns, and the INSERT it implies.

/** A row as better-sqlite3 returns it, keyed by column name. */
export type Row = Record<string, unknown>;

/**
 * How one collection is laid out in SQLite: its table, columns, the key an import upserts
 * on, and the mapping both ways. Repositories and the transfer API share these, so an
 * exported entity is exactly what `get` returns.
 */
export interface TableSpec<E> {
  table: string;
  columns: readonly string[];
  /** Columns of the key that `transfer.import` upserts on. */
  key: readonly string[];
  /** Keyless tables: an import skips a row equal to a stored one on these columns. */
  matchOn?: readonly string[];
  /** Columns the store assigns on insert (SQL expression) and an upsert leaves as they are. */
  assigned?: Readonly<Record<string, string>>;
  toRow(e: E): Row;
  fromRow(r: Row): E;
}

export const ms = (d: Date): number => d.getTime();
export const msOrNull = (d: Date | null): number | null => (d === null ? null : d.getTime());
export const date = (v: unknown): Date => new Date(v as number);
export const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as number));
export const str = (v: unknown): string => v as string;
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));

/**
 * A reader of a column that holds one word of a vocabulary (SQLite has no enum type): a value
 * outside it fails here, naming the column, instead of travelling on mistyped.
 */
export function oneOf<T extends string>(words: readonly T[], column: string): (v: unknown) => T {
  const known: ReadonlySet<unknown> = new Set(words);
  return (v) => {
    if (known.has(v)) return v as T;
    throw new Error(`unknown value in column ${column}: ${String(v)}`);
  };
}

export const nullOr =
  <T>(read: (v: unknown) => T) =>
  (v: unknown): T | null =>
    v === null || v === undefined ? null : read(v);

/** A constant list of words as the inside of an SQL `IN (...)` (the words are ours, never input). */
export const sqlWords = (words: readonly string[]): string => words.map((w) => `'${w}'`).join(', ');

export function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

export function parse<T>(v: unknown, column: string): T {
  try {
    return JSON.parse(v as string) as T;
  } catch (err) {
    throw new Error(`corrupt JSON in column ${column}`, { cause: err });
  }
}

export function parseOrNull<T>(v: unknown, column: string): T | null {
  return v === null || v === undefined ? null : parse<T>(v, column);
}

/** `INSERT INTO t (cols) VALUES (@cols)`, optionally upserting on the spec's key. */
export function insertSql(spec: TableSpec<unknown>, upsert: boolean): string {
  const cols = spec.columns.join(', ');
  const vals = spec.columns.map((c) => spec.assigned?.[c] ?? `@${c}`).join(', ');
  if (upsert && spec.matchOn) {
    const same = spec.matchOn.map((c) => `${c} = @${c}`).join(' AND ');
    return `INSERT INTO ${spec.table} (${cols}) SELECT ${vals} WHERE NOT EXISTS (SELECT 1 FROM ${spec.table} WHERE ${same})`;
  }
  const base = `INSERT INTO ${spec.table} (${cols}) VALUES (${vals})`;
  if (!upsert) return base;
  const set = spec.columns.filter((c) => !spec.key.includes(c) && !spec.assigned?.[c]).map((c) => `${c} = excluded.${c}`);
  return `${base} ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET ${set.join(', ')}`;
}
