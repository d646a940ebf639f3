import { expect } from 'chai';
import { StoreUnavailableError } from '../../../src/domain/ports/common.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { guardStore, StoreHealth } from '../../../src/store/store-health.js';

/** A driver error the fake store throws while `down` is set; `classify` knows it as a full disk. */
class DiskFull extends Error {}

function fakeStore(state: { down: boolean }) {
  const fail = () => {
    if (state.down) throw new DiskFull('disk full');
  };
  return {
    kind: 'sqlite',
    records: {
      async writeBatch() {
        fail();
        return [];
      },
      async get() {
        return null;
      },
      async unique() {
        throw new Error('a constraint of this write');
      },
    },
  } as unknown as Store;
}

describe('guarded store: failures of the store itself', () => {
  const lines: string[] = [];
  const log = {
    warn: (_: object, msg: string) => lines.push(`warn ${msg}`),
    error: (_: object, msg: string) => lines.push(`error ${msg}`),
  };
  const classify = (err: unknown) => (err instanceof DiskFull ? ('disk-full' as const) : null);

  beforeEach(() => lines.splice(0));

  it('turns a store failure into StoreUnavailableError, logs it once, and leaves other errors alone', async () => {
    const state = { down: true };
    const health = new StoreHealth('sqlite', log);
    const store = guardStore(fakeStore(state), classify, health, { anySuccessRecovers: false });
    for (let i = 0; i < 3; i++) {
      const err = await store.records.writeBatch([]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).kind).to.equal('disk-full');
    }
    expect(lines).to.deep.equal([
      'error store failing: the disk holding the database is full: free space on its volume (check-ins are refused until then)',
    ]);
    const other = await (store.records as unknown as { unique(): Promise<void> }).unique().catch((e: unknown) => e);
    expect(other).to.not.be.instanceOf(StoreUnavailableError);
  });

  it('on SQLite, a read that succeeds does not end a write failure; the failed write succeeding does', async () => {
    const state = { down: true };
    const health = new StoreHealth('sqlite', log);
    const store = guardStore(fakeStore(state), classify, health, { anySuccessRecovers: false });
    await store.records.writeBatch([]).catch(() => undefined);
    await store.records.get('org', 'id');
    expect(health.current).to.include({ kind: 'disk-full', call: 'records.writeBatch' });
    state.down = false;
    await store.records.writeBatch([]);
    expect(health.current).to.equal(null);
    expect(lines.at(-1)).to.equal('warn store works again');
  });

  it('on a database server, any success ends the failure', async () => {
    const state = { down: true };
    const health = new StoreHealth('mongo', log);
    const store = guardStore(fakeStore(state), classify, health, { anySuccessRecovers: true });
    await store.records.writeBatch([]).catch(() => undefined);
    await store.records.get('org', 'id');
    expect(health.current).to.equal(null);
  });
});
