import { expect } from 'chai';
import type { SessionView } from '../../../src/shared/events.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { beforeNextCall, useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A close renews its lease while it runs, so that a long close on a slow store is not run again
// beside itself. A close stuck in a store call that never answers renewed it for ever: every
// later close of the session, on any node, waited for that lease, and the session stayed
// `closing`. A close now runs at most CLOSE_MAX_MS, then fails CLOSE_TIMED_OUT, releases the lease
// and tells the session's screens.

const STUDENTS = 3;
const MAX_MS = 300;
/**
 * The bound of a node whose later close must finish for real: longer than a whole close of this
 * small class takes on a loaded machine (300 ms was not, on FerretDB at load 30), so only the stuck
 * close reaches it.
 */
const REAL_CLOSE_MAX_MS = 3_000;

onBothStores('a close stuck in a store call', 'attendance_close_bound', suite);

function suite(setup: RaceStore): void {
  const race = useOpenSession(setup, { students: STUDENTS });
  let f: LiveFixture;
  let session: SessionView;
  let unstick: () => void;
  /** Settles when the close reaches its stuck write (it holds the lease by then). */
  let stuckAt: Promise<void>;
  beforeEach(() => {
    ({ f, session } = race());
    // The first record write of a close hangs until the test lets it go, then writes.
    const stuck = new Promise<void>((resolve) => (unstick = resolve));
    let reached!: () => void;
    stuckAt = new Promise<void>((resolve) => (reached = resolve));
    beforeNextCall(f.store.records, 'writeBatch', () => {
      reached();
      return stuck;
    });
  });
  afterEach(() => unstick());

  /** The promise's outcome, or 'still waiting' after `ms` (a close that never ends fails the test rather than hangs it). */
  const within = <T>(p: Promise<T>, ms: number) =>
    Promise.race([
      p.then(
        (v) => ({ value: v }),
        (err: { code?: string }) => ({ error: err.code ?? String(err) }),
      ),
      new Promise<{ error: string }>((resolve) => setTimeout(() => resolve({ error: 'still waiting' }), ms)),
    ]);

  const expectClosedOnce = async () => {
    const stored = await f.store.sessions.get(f.org.id, session.id);
    expect(stored?.status).to.equal('closed');
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => r.status)).to.deep.equal(Array<string>(STUDENTS).fill('absent'));
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    expect(trail.filter((e) => e.action === 'session.close')).to.have.length(1);
    expect(trail.filter((e) => e.action === 'close.absent')).to.have.length(STUDENTS);
  };

  it('fails CLOSE_TIMED_OUT past CLOSE_MAX_MS, tells the screens, and a close on the same node then finishes the session', async () => {
    const nodeA = f.build({ nodeId: 'node-a', closeMaxMs: REAL_CLOSE_MAX_MS });
    const first = nodeA.attendance.closer.close(f.org.id, session.id, f.teacher.id);
    expect(await within(first, REAL_CLOSE_MAX_MS * 4)).to.deep.equal({ error: 'CLOSE_TIMED_OUT' });
    expect(f.events.filter((e) => e.type === 'session.close-failed')).to.deep.equal([
      { type: 'session.close-failed', orgId: f.org.id, sessionId: session.id, code: 'CLOSE_TIMED_OUT' },
    ]);
    const given = await f.store.sessions.get(f.org.id, session.id);
    expect([given?.status, given?.leaseOwner]).to.deep.equal(['closing', null]);

    // The teacher closes again on the same node: a new close, not the stuck one's promise.
    const again = await within(nodeA.attendance.closer.close(f.org.id, session.id, f.teacher.id), REAL_CLOSE_MAX_MS * 4);
    expect(again).to.have.nested.property('value.session.status', 'closed');
    // The stuck call answers at last: its write finds the records there, and the close stops at its fence.
    unstick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expectClosedOnce();
  });

  it("another node's scheduler finishes the session at its next pass once the stuck close gave it up", async () => {
    const nodeA = f.build({ nodeId: 'node-a', closeMaxMs: MAX_MS });
    const first = nodeA.attendance.closer.close(f.org.id, session.id, f.teacher.id);
    // While the stuck close runs, its lease holds: the scheduler leaves the session alone.
    await stuckAt;
    const nodeB = f.build({ nodeId: 'node-b' });
    expect(await nodeB.attendance.scheduler.tick()).to.equal(0);
    expect(await within(first, MAX_MS * 10)).to.deep.equal({ error: 'CLOSE_TIMED_OUT' });
    expect(await nodeB.attendance.scheduler.tick()).to.equal(1);
    unstick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expectClosedOnce();
  });
}
