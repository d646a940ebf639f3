import { expect } from 'chai';
import type { Store } from '../../src/domain/ports/store.js';
import { attendanceContract } from './contract-attendance.js';
import { closeFenceContract } from './contract-close-fence.js';
import { directoryContract } from './contract-directory.js';
import { reportsContract } from './contract-reports.js';
import { privacyContract } from './contract-privacy.js';
import { retentionContract } from './contract-retention.js';
import { supportContract } from './contract-support.js';
import { transferContract } from './contract-transfer.js';
import { clockContract } from './contract-clock.js';
import { excusesContract } from './contract-excuses.js';
import { timetableContract } from './contract-timetable.js';
import { webhooksContract } from './contract-webhooks.js';
import { oneRosterContract } from './contract-oneroster.js';
import { alertsContract } from './contract-alerts.js';
import { outboxContract } from './contract-outbox.js';
import { readVersionsContract } from './contract-read-versions.js';
import { pagingContract } from './contract-paging.js';
import { makeOrg, rejection } from './fixtures.js';

export interface OpenedStore {
  store: Store;
  /** Closes the store (it may already be closed) and removes whatever it left behind. */
  cleanup: () => Promise<void>;
  /**
   * Every table or collection of the storage as text, read past the store's own code
   * (test/support/store-dump.ts); absent where no second connection can see it (SQLite in memory).
   */
  dump?: () => Promise<string>;
  /** The count queries (COUNT, countDocuments) the store has sent since it was opened, read past its code. */
  countQueries?: () => number;
}

export interface ContractContext {
  /** The fresh, empty store of the running test. */
  store(): Store;
  /** Opens another empty store of the same adapter (the test cleans it up), on `now` when given. */
  open: (now?: () => Date) => Promise<OpenedStore>;
  /** The raw dump of the running test's store, null where the adapter has none (OpenedStore.dump). */
  dump(): (() => Promise<string>) | null;
  /** The running test's store's count queries so far, null where the adapter cannot tell (OpenedStore.countQueries). */
  countQueries(): (() => number) | null;
}

/** The wall clock, but never the same millisecond twice. */
function strictlyIncreasingClock(): () => Date {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last);
  };
}

/**
 * The behaviour every Store adapter must show, written only against the ports of src/domain/ports/.
 * `open` must return an EMPTY store each time: system-wide calls (listDue, counts, transfer)
 * are asserted exactly.
 */
export function storeContract(name: string, open: (now?: () => Date) => Promise<OpenedStore>): void {
  describe(`store contract: ${name}`, function () {
    let opened: OpenedStore | null = null;
    beforeEach(async function () {
      // Every write of a test gets a later time than the one before: order by time is exact
      // without waiting for the wall clock to move.
      opened = await open(strictlyIncreasingClock());
    });
    afterEach(async function () {
      const o = opened;
      opened = null;
      if (o) await o.cleanup();
    });
    const ctx: ContractContext = {
      store: () => {
        if (!opened) throw new Error('no store open');
        return opened.store;
      },
      open,
      dump: () => opened?.dump ?? null,
      countQueries: () => opened?.countQueries ?? null,
    };

    directoryContract(ctx);
    attendanceContract(ctx);
    closeFenceContract(ctx);
    supportContract(ctx);
    transferContract(ctx);
    reportsContract(ctx);
    privacyContract(ctx);
    clockContract(ctx);
    retentionContract(ctx);
    excusesContract(ctx);
    timetableContract(ctx);
    webhooksContract(ctx);
    oneRosterContract(ctx);
    alertsContract(ctx);
    outboxContract(ctx);
    readVersionsContract(ctx);
    pagingContract(ctx);

    describe('ping and close', function () {
      it('ping resolves on an open store', async function () {
        await ctx.store().ping();
      });

      it('rejects every call after close', async function () {
        const store = ctx.store();
        const org = await makeOrg(store);
        await store.close();
        expect(await rejection(store.ping())).to.be.instanceOf(Error);
        expect(await rejection(store.organisations.get(org.id))).to.be.instanceOf(Error);
        expect(await rejection(store.users.list(org.id, { limit: 10, offset: 0 }))).to.be.instanceOf(Error);
        expect(await rejection(store.transfer.count('organisations'))).to.be.instanceOf(Error);
      });
    });
  });
}
