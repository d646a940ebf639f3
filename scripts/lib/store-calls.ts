import type { Store } from '../../src/domain/ports/store.js';

/** A store whose repository calls are counted, by `repository.method`. */
export interface CountedStore {
  store: Store;
  /** Calls since the last reset, by `repository.method`. */
  counts: Map<string, number>;
  /** Milliseconds from each call to the settling of what it returned, summed by `repository.method` since the last reset. */
  wallMs: Map<string, number>;
  total(): number;
  reset(): void;
}

/**
 * Wraps every repository of a store (store.records, store.audit, ...) so that each method call
 * is counted. A call is one store round trip on MongoDB (or a few, inside one method), one
 * transaction or statement group on SQLite: the count does not depend on the store's load, where
 * wall time does.
 */
export function countStoreCalls(inner: Store): CountedStore {
  const counts = new Map<string, number>();
  const wallMs = new Map<string, number>();
  const timed = (key: string, t0: number) => () => wallMs.set(key, (wallMs.get(key) ?? 0) + performance.now() - t0);
  const repositories = new Map<PropertyKey, unknown>();
  const wrap = (name: string, repo: object): object =>
    new Proxy(repo, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        const key = `${name}.${prop}`;
        return (...args: unknown[]) => {
          counts.set(key, (counts.get(key) ?? 0) + 1);
          const done = timed(key, performance.now());
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) return result.finally(done);
          done();
          return result;
        };
      },
    });
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'object' || value === null || typeof prop !== 'string') return value;
      if (!repositories.has(prop)) repositories.set(prop, wrap(prop, value));
      return repositories.get(prop);
    },
  });
  return {
    store,
    counts,
    wallMs,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => {
      counts.clear();
      wallMs.clear();
    },
  };
}
