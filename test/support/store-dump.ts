import Database from 'better-sqlite3';
import mongoose from 'mongoose';

// Raw dumps of a store's storage, every table or collection there is, found by listing them
// rather than from a list kept by hand: a table added later is scanned without anyone
// remembering it. Binary values are read as text, so a name inside an uploaded file shows too.

/** Plain JSON values, bytes as UTF-8 text (JSON.stringify would give a Buffer as numbers, a BSON Binary as base64). */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const bson = (value as { _bsontype?: string })._bsontype;
    if (bson === 'Binary') return Buffer.from((value as unknown as { buffer: Uint8Array }).buffer).toString('utf8');
    if (bson !== undefined) return String(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function text(value: unknown): string {
  return JSON.stringify(plain(value));
}

/** Every row of every table of the SQLite file, one line per table, read from a connection of its own. */
export function dumpSqliteFile(file: string): { tables: string[]; text: string } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    const lines = tables.map((t) => `${t}: ${text(db.prepare(`SELECT * FROM "${t.replaceAll('"', '""')}"`).all())}`);
    return { tables, text: lines.join('\n') };
  } finally {
    db.close();
  }
}

/** Every document of every collection of the database at `uri`, one line per collection. */
export async function dumpMongoDatabase(uri: string): Promise<{ tables: string[]; text: string }> {
  const conn = mongoose.createConnection(uri);
  try {
    await conn.asPromise();
    const db = conn.db!;
    const tables = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    const lines: string[] = [];
    for (const t of tables) {
      lines.push(`${t}: ${text(await db.collection(t).find({}).toArray())}`);
    }
    return { tables, text: lines.join('\n') };
  } finally {
    await conn.close();
  }
}
