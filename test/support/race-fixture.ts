import { expect } from 'chai';
import type { Actor } from '../../src/domain/actor.js';
import type { User } from '../../src/domain/ports/users.js';
import type { SessionView } from '../../src/shared/events.js';
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

/** What a race suite over an open session reads in each test: the fixture, the session, and the first student. */
export interface OpenSessionRace {
  f: LiveFixture;
  session: SessionView;
  student: User;
}

/**
 * The live fixture (useLiveFixture) with a session of its subject opened before each test by
 * its teacher (or by whom `opener` names): the set-up the erasure and close race suites share.
 */
export function useOpenSession(
  setup: RaceStore,
  options: { students?: number; opener?: (f: LiveFixture) => Actor } = {},
): () => OpenSessionRace {
  const fixture = useLiveFixture(setup, options.students === undefined ? {} : { students: options.students });
  let current: OpenSessionRace | null = null;
  beforeEach(async () => {
    const f = fixture();
    const opener = options.opener?.(f) ?? f.actor(f.teacher);
    current = { f, session: await f.live.sessions.open(opener, { subjectId: f.subject.id }), student: f.students[0]! };
  });
  afterEach(() => {
    current = null;
  });
  return () => {
    if (!current) throw new Error('the session is opened before each test: read it inside one');
    return current;
  };
}

/**
 * Replaces `repo[method]` until its next call that `when` accepts: that call puts the original
 * back, awaits `before` (an erasure, a pause, another node's work) and then runs. Returns a
 * function that puts the original back if that call never came.
 */
export function beforeNextCall<R extends object, K extends keyof R>(
  repo: R,
  method: K,
  before: () => Promise<unknown> | void,
  when: (...args: never[]) => boolean = () => true,
): () => void {
  const original = repo[method] as (...args: unknown[]) => Promise<unknown>;
  const restore = () => {
    repo[method] = original as R[K];
  };
  (repo[method] as unknown) = async (...args: unknown[]) => {
    if (when(...(args as never[]))) {
      restore();
      await before();
    }
    return original.apply(repo, args);
  };
  return restore;
}

/**
 * Runs `erase` when the domain next writes records (records.writeBatch): before the write, or
 * alongside it, started `step` staggers later. Returns a function that waits for the erasure.
 */
export function eraseAtNextWrite(
  setup: RaceStore,
  f: LiveFixture,
  erase: () => Promise<unknown>,
  at: 'before' | 'alongside',
  step = 0,
): () => Promise<unknown> {
  let erasure: Promise<unknown> = Promise.resolve();
  beforeNextCall(f.store.records, 'writeBatch', () => {
    if (at === 'before') return erase();
    erasure = setup.stagger(step).then(erase);
  });
  return () => erasure;
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
