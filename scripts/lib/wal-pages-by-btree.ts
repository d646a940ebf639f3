import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';

/**
 * The frames a WAL holds, counted by the b-tree (table or index) that owns each frame's page:
 * what a run of commits dirtied, table by table and index by index (docs/multi-node.md, "Load",
 * round 28). Reads the `-wal` file's frame headers (the page number, big-endian, at a frame's
 * start) up to the first frame of an older generation (its salt differs from the header's), and
 * maps the pages with SQLite's `dbstat` table on `db`, a connection to the same file that sees
 * the WAL. A b-tree's interior pages are counted apart (`name (internal)`); a page no b-tree
 * holds now (freed since) is `free`.
 */
export function walFramesByBtree(file: string, db: Database.Database): Map<string, number> {
  const wal = readFileSync(`${file}-wal`);
  const byBtree = new Map<string, number>();
  if (wal.length < 32) return byBtree;
  const pageSize = wal.readUInt32BE(8);
  const salt = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  const owner = new Map<number, string>();
  for (const r of db.prepare('SELECT name, pageno, pagetype FROM dbstat').all() as {
    name: string;
    pageno: number;
    pagetype: string | null;
  }[]) {
    owner.set(r.pageno, r.pagetype === 'internal' ? `${r.name} (internal)` : r.name);
  }
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt[0] || wal.readUInt32BE(at + 12) !== salt[1]) break;
    const name = owner.get(wal.readUInt32BE(at)) ?? 'free';
    byBtree.set(name, (byBtree.get(name) ?? 0) + 1);
  }
  return byBtree;
}
