import type { Store } from '../domain/ports/store.js';
import type { ReadinessCheck, ReadinessReport } from '../shared/readiness.js';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Runs every check concurrently, each bounded by a timeout so a hung dependency reads as
 * down. `onFailure` receives why a check failed (for the log; the probe shows only ok: false).
 */
export function createReadiness(
  checks: ReadinessCheck[],
  onFailure: (name: string, err: unknown) => void,
  timeoutMs = CHECK_TIMEOUT_MS,
): () => Promise<ReadinessReport> {
  return async () => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.run(), timeoutMs);
          return [c.name, { ...c.facts, ok: true }] as const;
        } catch (err) {
          onFailure(c.name, err);
          return [c.name, { ...c.facts, ok: false }] as const;
        }
      }),
    );
    return { ok: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
  };
}

export function storeCheck(store: Store): ReadinessCheck {
  return { name: 'store', facts: { kind: store.kind }, run: () => store.ping() };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness check timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
