import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { createStore } from '../../src/store/index.js';
import { applyMigrations, MIGRATIONS } from '../../src/store/sqlite/migrations.js';

/** What a node's logger heard at info level, and the store's warnings dropped. */
function listening(): {
  lines: { obj: Record<string, unknown>; msg: string }[];
  info: (obj: object, msg: string) => void;
  warn: () => void;
  error: () => void;
} {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, info: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }), warn: () => {}, error: () => {} };
}

/**
 * A node's start that migrates the store says so once, from which version to which and how
 * long it took (an operator upgrading reads why the node came up late); a start with nothing to
 * migrate says nothing.
 */
describe('the log line of a start that migrates the store (SQLite)', () => {
  const latest = Math.max(...MIGRATIONS.map((m) => m.version));
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'schema-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = async (file: string) => {
    const log = listening();
    const store = await createStore({ kind: 'sqlite', path: file, checkpointWorker: false, writerWorker: false }, undefined, log);
    await store.close();
    return log.lines;
  };

  it('names the versions and the time of an upgrade, and says nothing on the next start', async () => {
    const file = path.join(dir, 'old.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 20),
    );
    db.close();

    const lines = await open(file);
    expect(lines).to.have.length(1);
    expect(lines[0]!.msg).to.match(new RegExp(`^store schema migrated from version 20 to ${latest} in \\d+ ms$`));
    expect(lines[0]!.obj).to.include({ store: 'sqlite', from: 20, to: latest });
    expect(lines[0]!.obj['versions']).to.deep.equal(MIGRATIONS.map((m) => m.version).filter((v) => v > 20));
    expect(lines[0]!.obj['ms']).to.be.a('number');

    expect(await open(file)).to.deep.equal([]);
  });

  it('says a new file was given its schema from version 0', async () => {
    const lines = await open(path.join(dir, 'new.db'));
    expect(lines.map((l) => l.obj)).to.have.length(1);
    expect(lines[0]!.obj).to.include({ from: 0, to: latest });
  });
});
