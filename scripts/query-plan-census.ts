/**
 * Which index of a table serves which query (a tool, not a test), from the plans that
 * `scripts/lib/query-plans.ts` recorded in one or more runs: every index of the tables (from a
 * new, migrated database), each with the statements whose plan searches or scans it, then the
 * statements that read the whole table. An index no statement uses is one a write pays for in
 * vain, as far as these runs exercised the store (docs/multi-node.md, "Load").
 *
 *   node --import tsx scripts/query-plan-census.ts [--tables records,audit] PLANS.json...
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SqliteDb } from '../src/store/sqlite/db.js';

const { values: args, positionals: files } = parseArgs({
  allowPositionals: true,
  options: { tables: { type: 'string', default: 'records,audit' }, width: { type: 'string', default: '150' } },
});
const tables = args.tables.split(',');
const width = Number(args.width);

const plans = new Map<string, string[]>();
for (const f of files) {
  for (const [sql, lines] of Object.entries(JSON.parse(readFileSync(f, 'utf8')) as Record<string, string[]>)) plans.set(sql, lines);
}

const db = new SqliteDb(':memory:');
const indexes = db.raw
  .prepare(
    `SELECT tbl_name AS tbl, name FROM sqlite_master WHERE type = 'index' AND tbl_name IN (SELECT value FROM json_each(?)) ORDER BY tbl_name, name`,
  )
  .all(JSON.stringify(tables)) as { tbl: string; name: string }[];
db.close();

const short = (sql: string) => (sql.length > width ? `${sql.slice(0, width - 1)}…` : sql);
const users = new Map<string, string[]>(indexes.map((i) => [i.name, []]));
const scans = new Map<string, string[]>(tables.map((t) => [t, []]));
const byRowid = new Map<string, string[]>(tables.map((t) => [t, []]));
const indexTable = new Map(indexes.map((i) => [i.name, i.tbl]));
for (const [sql, lines] of plans) {
  // SQLite names a table by its alias in the plan ("SCAN r"): the aliases of this statement.
  const alias = new Map<string, string>(tables.map((t) => [t, t]));
  for (const m of sql.matchAll(/\b(\w+) (?:AS )?(\w+)\b/gi)) {
    if (tables.includes(m[1]!) && !/^(WHERE|SET|ON|JOIN|CROSS|LEFT|INNER|ORDER|GROUP|LIMIT|UNION|VALUES|AS)$/i.test(m[2]!))
      alias.set(m[2]!, m[1]!);
  }
  for (const line of lines) {
    const m = /^(SEARCH|SCAN) (\w+)(?: AS \w+)?(?: USING (?:COVERING )?INDEX (\w+)| USING INTEGER PRIMARY KEY)?/.exec(line);
    if (!m) continue;
    const [, how, named, index] = m;
    const table = index ? indexTable.get(index) : alias.get(named!);
    if (!table) continue;
    if (index) users.get(index)?.push(`${how} ${short(sql)}`);
    else if (/INTEGER PRIMARY KEY/.test(line)) byRowid.get(table!)!.push(short(sql));
    else scans.get(table!)!.push(short(sql));
  }
}

console.log(`${plans.size} statements on ${tables.join(', ')} from ${files.length} file(s)\n`);
for (const { tbl, name } of indexes) {
  const used = [...new Set(users.get(name))];
  console.log(`${tbl}.${name}: ${used.length === 0 ? 'NO QUERY' : `${used.length} statement(s)`}`);
  for (const u of used) console.log(`    ${u}`);
}
for (const t of tables) {
  const rowid = [...new Set(byRowid.get(t))];
  if (rowid.length) console.log(`${t} by rowid: ${rowid.length} statement(s)\n${rowid.map((u) => `    ${u}`).join('\n')}`);
  const scanned = [...new Set(scans.get(t))];
  console.log(`${t} scanned whole: ${scanned.length} statement(s)`);
  for (const u of scanned) console.log(`    ${u}`);
}
