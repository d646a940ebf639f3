import type { Store } from '../../src/domain/ports/store.js';
import { createMongoStore } from '../../src/store/mongo/mongo-store.js';
import { testMongoStoreConfig, useMongo } from './ferretdb.js';

/** A suite's store, and how a racing call is started a little later (`step` from 0 up). */
export interface RaceStore {
  /** Opens the store; the fixture's embedded one when absent. */
  open?: (now: () => Date) => Promise<Store>;
  cleanup?: () => Promise<void>;
  stagger: (step: number) => Promise<void>;
}

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
    suite({
      open: (now) => {
        dbUri = server.mongo.databaseUri(database);
        return createMongoStore(testMongoStoreConfig(dbUri), {}, now);
      },
      cleanup: () => server.mongo.dropDatabase(dbUri),
      // Each step is a round trip: the other call's steps are milliseconds.
      stagger: (step) => new Promise((resolve) => setTimeout(resolve, step)),
    });
  });
}
