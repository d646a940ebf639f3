/**
 * The ordering and recording of versioned migrations, over a ledger (which versions are
 * applied) and a lock (which node may apply them), so that it runs the same over MongoDB
 * (migrations.ts) and in the offline tests.
 */
import type { SchemaMigrated } from '../schema-migration.js';

export interface VersionedMigration<C> {
  version: number;
  name: string;
  /** Idempotent: a holder whose lock expired while it was still running may overlap the next. */
  up(ctx: C): Promise<void>;
}

export interface MigrationLedger {
  appliedVersions(): Promise<Set<number>>;
  record(version: number, name: string, appliedAt: Date): Promise<void>;
}

export interface MigrationLock {
  /** Takes or renews the lock when it is free, expired or held by `owner`; true when `owner` holds it. */
  acquire(owner: string, until: Date, now: Date): Promise<boolean>;
  release(owner: string): Promise<void>;
}

export interface MigrationRunOptions {
  owner: string;
  /** How long the lock holds without renewal: a crashed holder blocks the others this long. */
  lockMs: number;
  /** How often a waiting node looks again. */
  pollMs: number;
  /** How long a node waits for another's migrations before it gives up starting. */
  waitMs: number;
  now?: () => Date;
  /** Called after each migration this run applied and recorded (metrics, tests). */
  onApplied?: ((version: number) => void) | undefined;
  /** Hears the run when this call applied any migration: from which version to which, how long. */
  migrated?: ((m: SchemaMigrated) => void) | undefined;
}

function checkOrder<C>(migrations: readonly VersionedMigration<C>[]): VersionedMigration<C>[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (!Number.isInteger(m.version) || m.version < 1) throw new Error(`migration version ${m.version} is not a positive integer`);
    if (i > 0 && sorted[i - 1]!.version === m.version) throw new Error(`migration version ${m.version} is declared twice`);
  });
  return sorted;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Applies, in version order, every migration the ledger does not hold, on one node at a time:
 * a node that finds versions missing takes the lock (others poll until the lock is free or
 * every version is recorded), re-reads the ledger under it, and records each migration right
 * after applying it. The lock is renewed while a migration runs. Resolves to the versions this
 * call applied (none when another node did them).
 */
export async function runMigrations<C>(
  ctx: C,
  migrations: readonly VersionedMigration<C>[],
  ledger: MigrationLedger,
  lock: MigrationLock,
  opts: MigrationRunOptions,
): Promise<number[]> {
  const ordered = checkOrder(migrations);
  const now = opts.now ?? (() => new Date());
  const until = () => new Date(now().getTime() + opts.lockMs);
  const deadline = now().getTime() + opts.waitMs;
  const missing = async () => {
    const applied = await ledger.appliedVersions();
    return ordered.filter((m) => !applied.has(m.version));
  };

  for (;;) {
    if ((await missing()).length === 0) return [];
    if (await lock.acquire(opts.owner, until(), now())) break;
    if (now().getTime() > deadline) throw new Error(`gave up waiting ${opts.waitMs} ms for another node's store migrations`);
    await sleep(opts.pollMs);
  }

  const start = performance.now();
  const before = await ledger.appliedVersions();
  const from = Math.max(0, ...before);
  const applied: number[] = [];
  // A renewal that fails stops the run before its next migration (the node may have lost the lock).
  let renewalError: unknown = null;
  let renewal: Promise<void> = Promise.resolve();
  const heartbeat = setInterval(
    () => {
      renewal = lock.acquire(opts.owner, until(), now()).then(
        (held) => {
          if (!held) renewalError = new Error('the store migration lock was taken over by another node');
        },
        (err: unknown) => {
          renewalError = err;
        },
      );
    },
    Math.max(1, Math.floor(opts.lockMs / 3)),
  );
  heartbeat.unref();
  try {
    for (const m of ordered.filter((o) => !before.has(o.version))) {
      if (renewalError) throw renewalError;
      await m.up(ctx);
      await ledger.record(m.version, m.name, now());
      applied.push(m.version);
      opts.onApplied?.(m.version);
    }
  } finally {
    clearInterval(heartbeat);
    await renewal;
    await lock.release(opts.owner);
  }
  if (applied.length > 0) opts.migrated?.({ from, to: Math.max(from, ...applied), versions: applied, ms: performance.now() - start });
  return applied;
}
