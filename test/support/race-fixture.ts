import { expect } from 'chai';
import { createLiveFixture, type LiveFixture } from './live-fixture.js';
import type { RaceStore } from './race-stores.js';

// What the race suites run by onBothStores share: the fixture over the suite's store, two calls
// started a few store steps apart, and the check that exactly one of two calls that cannot both
// stand did.

/**
 * The live fixture over the suite's store (onBothStores), made before each test and closed
 * after it, its MongoDB database dropped. Returns the current one: a suite's own beforeEach,
 * declared after this call, finds it made.
 */
export function useLiveFixture(setup: RaceStore, options: { students?: number } = {}): () => LiveFixture {
  let current: LiveFixture | null = null;
  beforeEach(async () => {
    current = await createLiveFixture({ ...options, ...(setup.open ? { openStore: setup.open } : {}) });
  });
  afterEach(async () => {
    await current?.close();
    current = null;
    await setup.cleanup?.();
  });
  return () => {
    if (!current) throw new Error('the live fixture is made before each test: read it inside one');
    return current;
  };
}

/** Starts `a` after `later[0]` of the store's steps and `b` after `later[1]` (RaceStore.stagger), and settles both. */
export function raceAfter<A, B>(
  setup: RaceStore,
  later: readonly [number, number],
  a: () => Promise<A>,
  b: () => Promise<B>,
): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
  return Promise.allSettled([setup.stagger(later[0]).then(a), setup.stagger(later[1]).then(b)]);
}

/** Exactly one of two racing calls stood and the other was refused with `code`; true when the first stood. */
export function expectOneWinner(results: readonly PromiseSettledResult<unknown>[], code: string, label: string): boolean {
  expect(
    results.filter((r) => r.status === 'fulfilled'),
    `${label}: ${JSON.stringify(results)}`,
  ).to.have.length(1);
  const lost = results.find((r) => r.status === 'rejected');
  expect((lost?.reason as { code?: string } | undefined)?.code, label).to.equal(code);
  return results[0]!.status === 'fulfilled';
}
