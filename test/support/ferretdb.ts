import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import type { Config } from '../../src/config.js';
import { skipBecause } from './skip.js';

// A MongoDB wire-protocol server for the tests: MONGODB_URI when set (a real MongoDB), else
// FerretDB 1.x on its embedded SQLite backend (test/support/ferretdb-server, built once by
// scripts/test-setup.sh into FERRETDB_BIN, default below), started here on a free loopback port
// with a temporary directory. Nothing in the tests depends on which of the two answers.

export const FERRETDB_VERSION = '1.24.2';

/** Where scripts/test-setup.sh puts the ferretdb-server binary (FERRETDB_BIN overrides it). */
export function ferretdbBinary(): string {
  return (
    process.env['FERRETDB_BIN'] ?? path.join(homedir(), '.cache', 'classroom-attendance', `ferretdb-${FERRETDB_VERSION}`, 'ferretdb-server')
  );
}

/** Why no MongoDB server can be had, or null when one can (MONGODB_URI or the FerretDB binary). */
export function mongoUnavailableReason(): string | null {
  if (process.env['MONGODB_URI']) return null;
  if (existsSync(ferretdbBinary())) return null;
  return `MONGODB_URI is not set and FerretDB is not built at ${ferretdbBinary()} (scripts/test-setup.sh builds it when Go is installed)`;
}

/** Store configuration of a test MongoDB database. */
export function testMongoStoreConfig(dbUri: string): Extract<Config['store'], { kind: 'mongo' }> {
  return { kind: 'mongo', uri: dbUri, poolSize: 5, serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 30_000 };
}

export interface TestMongo {
  /** Server URI without a database path. */
  uri: string;
  /** 'ferretdb' when this helper started FerretDB, 'external' for MONGODB_URI. */
  kind: 'ferretdb' | 'external';
  /** A URI naming a fresh database of its own on the server (`<prefix>_<run>_<n>`), dropped by stop(). */
  databaseUri(prefix: string): string;
  /** Drops the database a URI from databaseUri names. */
  dropDatabase(dbUri: string): Promise<void>;
  /** Drops the databases still there (MONGODB_URI's server) or stops the server and removes its files. */
  stop(): Promise<void>;
}

const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
let databases = 0;

function withDatabase(base: string, dbName: string): string {
  const u = new URL(base);
  u.pathname = `/${dbName}`;
  return u.toString();
}

function common(uri: string, kind: TestMongo['kind'], stopServer: () => Promise<void>): TestMongo {
  const created = new Set<string>();
  const dropDatabase = async (dbUri: string) => {
    created.delete(dbUri);
    const conn = mongoose.createConnection(dbUri, { serverSelectionTimeoutMS: 5_000 });
    try {
      await conn.asPromise();
      await conn.dropDatabase();
    } finally {
      await conn.close();
    }
  };
  return {
    uri,
    kind,
    databaseUri: (prefix) => {
      const dbUri = withDatabase(uri, `${prefix}_${runId}_${++databases}`);
      created.add(dbUri);
      return dbUri;
    },
    dropDatabase,
    async stop() {
      // A server of our own goes away with its files; on someone else's, leave nothing behind.
      if (kind === 'external') for (const dbUri of [...created]) await dropDatabase(dbUri);
      await stopServer();
    },
  };
}

/** MONGODB_URI's server, else a FerretDB of the caller's own (stop() ends it and removes its files). */
export async function startMongo(): Promise<TestMongo> {
  const external = process.env['MONGODB_URI'];
  if (external) return common(external, 'external', async () => {});
  const server = await startFerretdb();
  return common(server.uri, 'ferretdb', server.stop);
}

/** A FerretDB of the caller's own that a fault test can kill and start again on the same address and files. */
export interface RestartableFerretdb {
  uri: string;
  /** Kills the server at once (SIGKILL), as a crashed or unplugged database server. */
  kill(): Promise<void>;
  /** Starts it again on the same address, over the same files. */
  restart(): Promise<void>;
  /** Ends it and removes its files. */
  stop(): Promise<void>;
}

/** FerretDB on a free loopback port over a new temporary directory. */
export async function startFerretdb(): Promise<RestartableFerretdb> {
  const bin = ferretdbBinary();
  if (!existsSync(bin)) throw new Error(mongoUnavailableReason() ?? `no ferretdb-server at ${bin}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'attendance-ferretdb-'));
  let current = await spawnFerretdb(bin, dir, '127.0.0.1:0').catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  // The driver wants the address without a trailing database path of '/'.
  const uri = current.uri.replace(/\/$/, '');
  const listen = new URL(uri).host;
  return {
    uri,
    kill: () => current.kill('SIGKILL'),
    async restart() {
      current = await spawnFerretdb(bin, dir, listen);
    },
    async stop() {
      await current.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function spawnFerretdb(
  bin: string,
  dir: string,
  listen: string,
): Promise<{ uri: string; kill(signal: NodeJS.Signals): Promise<void> }> {
  // stdin stays open as a pipe: the server stops by itself when this process goes away.
  const proc = spawn(bin, ['-dir', dir, '-listen', listen], { stdio: ['pipe', 'pipe', 'pipe'] });
  let errors = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4_000);
  });
  const onExit = () => proc.kill('SIGKILL');
  process.once('exit', onExit);
  const kill = async (signal: NodeJS.Signals) => {
    process.off('exit', onExit);
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill(signal);
      await gone;
    }
  };
  try {
    const uri = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`ferretdb-server printed no URI within 15 s:\n${errors}`)), 15_000);
      proc.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) {
          clearTimeout(timer);
          resolve(line.trim());
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`ferretdb-server exited with ${code ?? signal} before listening:\n${errors}`));
      });
    });
    return { uri, kill };
  } catch (err) {
    await kill('SIGKILL');
    throw err;
  }
}

/**
 * Mocha hooks for a suite that needs a MongoDB server: skips it, saying why by name, when
 * there is none; else starts one (or takes MONGODB_URI's) before the suite and stops it after.
 */
export function useMongo(): { readonly mongo: TestMongo } {
  let mongo: TestMongo | null = null;
  before(async function () {
    const reason = mongoUnavailableReason();
    if (reason) {
      skipBecause(this, reason);
    }
    this.timeout(30_000);
    mongo = await startMongo();
  });
  after(async () => {
    await mongo?.stop();
  });
  return {
    get mongo() {
      if (!mongo) throw new Error('useMongo: the server is not started yet (read it inside a hook or test)');
      return mongo;
    },
  };
}
