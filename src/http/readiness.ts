import type { PasswordPoolStatus } from '../domain/accounts/passwords.js';
import type { Store } from '../domain/ports/store.js';
import type { RecordWriter } from '../store/sqlite/record-writer.js';
import type { ReadinessCheck, ReadinessChecks, ReadinessReport } from '../shared/readiness.js';

const CHECK_TIMEOUT_MS = 2_000;

/** What the probe's log hears: a check that starts failing (with why), and one that recovers. */
export interface ReadinessLog {
  failing(name: string, err: unknown): void;
  recovered(name: string): void;
}

/**
 * Runs every check concurrently, each bounded by a timeout so a hung dependency reads as
 * down. The log hears changes only: an orchestrator probes every few seconds, and a face engine
 * warming up for a minute or a Redis outage would otherwise write the same warning each time.
 * Probes that arrive while a run is on its way get its report: /readyz is public and never
 * rate limited, so without this a flood of probes was as many store and Redis round trips.
 */
export function createReadiness(checks: ReadinessCheck[], log: ReadinessLog, timeoutMs = CHECK_TIMEOUT_MS): () => Promise<ReadinessReport> {
  // Per node and per check: what this node's own probe last said, for the log only.
  const failing = new Set<string>();
  let running: Promise<ReadinessReport> | null = null;
  return () => {
    running ??= run().finally(() => {
      running = null;
    });
    return running;
  };

  async function run(): Promise<ReadinessReport> {
    const results = await Promise.all(
      checks.map(async (c) => {
        let ok = true;
        // The operator's view says why a check fails (the public one only that it does).
        let error: string | null = null;
        try {
          await withTimeout(c.run(), timeoutMs);
          if (failing.delete(c.name)) log.recovered(c.name);
        } catch (err) {
          ok = false;
          error = err instanceof Error ? err.message : String(err);
          if (!failing.has(c.name)) {
            failing.add(c.name);
            log.failing(c.name, err);
          }
        }
        // Facts are read after the run: a failed run may have changed them (a load error recorded).
        const facts = { ...c.facts, ok };
        return { name: c.name, facts, operator: { ...facts, ...c.detail, ok, ...(error === null ? {} : { error }) } };
      }),
    );
    const checksOf = (pick: (r: (typeof results)[number]) => ReadinessChecks[string]): ReadinessChecks =>
      Object.fromEntries(results.map((r) => [r.name, pick(r)]));
    return { ok: results.every((r) => r.facts.ok), checks: checksOf((r) => r.facts), operator: checksOf((r) => r.operator) };
  }
}

/**
 * The store answers. A SQLite file store also shows where its check-in batches commit (`writer`:
 * `worker`, or `inline` once the writer thread died): the node still works then, with the
 * commits back on its event loop, so it stays ready.
 */
export function storeCheck(store: Store, writer?: Pick<RecordWriter, 'status'> | null): ReadinessCheck {
  const facts: Record<string, unknown> = { kind: store.kind };
  return {
    name: 'store',
    get facts() {
      return writer ? { ...facts, writer: writer.status().mode } : facts;
    },
    run: () => store.ping(),
  };
}

/**
 * The password-hashing pool's load (`threads`, `running`, `waiting`, `maxQueue`). Always passes:
 * a full queue answers logins BUSY at once with Retry-After, and a node taken out of the load
 * balancer for it would only push its logins onto the others.
 */
export function passwordsCheck(status: () => PasswordPoolStatus): ReadinessCheck {
  return {
    name: 'passwords',
    get facts() {
      return { ...status() };
    },
    run: () => Promise.resolve(),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness check timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
