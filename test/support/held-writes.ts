import type { Store } from '../../src/domain/ports/store.js';

// A store whose close writes the test holds back, so a close stays `closing` as long as the
// test needs (close-answer.test.ts, the browser's closing-screens.test.ts).

/** The store's close writes wait this long at most for the test to let them through. */
export const HELD_AT_MOST_MS = 5_000;

/** A store whose records.writeBatch calls wait until `release()` (or HELD_AT_MOST_MS). */
export function heldWrites(): { wrap: (store: Store) => Store; release: () => void; waiting: () => number } {
  let waiting = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  // Counted from the first held write, not from when the suite is defined: mocha loads every
  // file of a full run before the first test, and a timer started then had let the writes through.
  let deadline: NodeJS.Timeout | undefined;
  const wrap = (store: Store): Store => {
    const records = new Proxy(store.records, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'writeBatch' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          waiting += 1;
          deadline ??= setTimeout(open, HELD_AT_MOST_MS).unref();
          await gate;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return new Proxy(store, { get: (target, prop, receiver) => (prop === 'records' ? records : Reflect.get(target, prop, receiver)) });
  };
  return { wrap, release: () => open(), waiting: () => waiting };
}
