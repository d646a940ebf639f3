import type { Store } from '../../src/domain/ports/store.js';

// A store whose close writes the test holds back, so a close stays `closing` as long as the
// test needs (close-answer.test.ts, the browser's closing-screens.test.ts).

/**
 * A store whose records.writeBatch calls wait until `release()`. No timer lets them through: on a
 * loaded machine a test's steps while the writes are held may take longer than any such bound,
 * and the close would finish under them. Suites release in their `after` hooks, failed or not.
 */
export function heldWrites(): { wrap: (store: Store) => Store; release: () => void; waiting: () => number } {
  let waiting = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const wrap = (store: Store): Store => {
    const records = new Proxy(store.records, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'writeBatch' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          waiting += 1;
          await gate;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return new Proxy(store, { get: (target, prop, receiver) => (prop === 'records' ? records : Reflect.get(target, prop, receiver)) });
  };
  return { wrap, release: () => open(), waiting: () => waiting };
}
