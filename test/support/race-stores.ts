import type { Store } from '../../src/domain/ports/store.js';
import { createMongoStore } from '../../src/store/mongo/mongo-store.js';
import { testMongoStoreConfig, useMongo } from './ferretdb.js';

/** A suite's store, and how a racing call is started a little later (`step` from 0 up). */
export interface RaceStore {
  /** Opens the store; the fixture's embedded one when absent. */
  open?: (now: () => Date) => Promise<Store>;
  cleanup?: () => Promise<void>;
  /** Resolves after `step` of the store's own steps (microtask turns, or round trips to the server). */
  stagger: (step: number) => Promise<void>;
}

/** An organisation no test makes: the stagger's reads find nothing. */
const STAGGER_ORG = 'race-stagger';

/**
 * Declares `suite` twice: over the embedded store and over MongoDB (MONGODB_URI, else FerretDB,
 * in database `database`), each with a stagger fitted to the store's pace, so a race test lets
 * the other call's steps in between its own on both.
 */
export function onBothStores(title: string, database: string, suite: (setup: RaceStore) => void): void {
  describe(`${title} (domain, embedded SQLite)`, () => {
    // The embedded store answers without I/O: the other call's steps are turns of the microtask queue.
    suite({
      stagger: async (step) => {
        for (let i = 0; i < step * 3; i += 1) await Promise.resolve();
      },
    });
  });

  describe(`${title} (domain, MongoDB: MONGODB_URI, else FerretDB)`, function () {
    this.timeout(60_000);
    const server = useMongo();
    let dbUri = '';
    let store: Store | null = null;
    suite({
      open: async (now) => {
        dbUri = server.mongo.databaseUri(database);
        store = await createMongoStore(testMongoStoreConfig(dbUri), {}, now);
        return store;
      },
      cleanup: () => server.mongo.dropDatabase(dbUri),
      // The other call's steps are round trips to the server: so is each step, a read like
      // theirs. Milliseconds fitted one pace only: a real MongoDB answers in a fraction of one,
      // FerretDB on a loaded machine in tens, and there the side started a few of them later
      // won (nearly) every round, failing the check that each side wins some.
      stagger: async (step) => {
        for (let i = 0; i < step; i += 1) await store!.organisations.get(STAGGER_ORG);
      },
    });
  });
}
