import { expect } from 'chai';
import type { SessionView } from '../../../src/shared/events.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { HeldDeadlines } from '../../support/held-deadlines.js';
import { useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A close renews its lease while it runs, so that a long close on a slow store is not run again
// beside itself. A close stuck in a store call that never answers renewed it for ever: every
// later close of the session, on any node, waited for that lease, and the session stayed
// `closing`. A close now runs at most CLOSE_MAX_MS, then fails CLOSE_TIMED_OUT, releases the lease
// and tells the session's screens. The bound passes when the test expires it (HeldDeadlines):
// a real 300 ms bound also cut short the later close that must finish, on a loaded machine.

const STUDENTS = 3;
const MAX_MS = 300;

onBothStores('a close stuck in a store call', 'attendance_close_bound', suite);

function suite(setup: RaceStore): void {
  const race = useOpenSession(setup, { students: STUDENTS });
  let f: LiveFixture;
  let session: SessionView;
  let unstick: () => void;
  /** Settles when the close reaches its stuck write (it holds the lease by then). */
  let stuckAt: Promise<void>;
  /** The stuck write itself, settled once the test has let it go and the store has answered it. */
  let stuckWrite: Promise<unknown>;
  /** CLOSE_MAX_MS passes when the test says so: a loaded machine neither hastens nor delays it. */
  let deadlines: HeldDeadlines;
  beforeEach(() => {
    ({ f, session } = race());
    deadlines = new HeldDeadlines();
    // The first record write of a close hangs until the test lets it go, then writes.
    const stuck = new Promise<void>((resolve) => (unstick = resolve));
    let reached!: () => void;
    stuckAt = new Promise<void>((resolve) => (reached = resolve));
    const records = f.store.records;
    const original = records.writeBatch;
    records.writeBatch = (...args) => {
      records.writeBatch = original;
      reached();
      stuckWrite = stuck.then(() => original.apply(records, args));
      return stuckWrite as ReturnType<typeof original>;
    };
  });
  afterEach(() => unstick());

  /** The close's outcome: its value, or its error's code. */
  const outcome = <T>(p: Promise<T>) =>
    p.then(
      (v) => ({ value: v }),
      (err: { code?: string }) => ({ error: err.code ?? String(err) }),
    );

  /** Lets the stuck write go and waits for the store's answer to it: the stuck close's last write. */
  const letStuckWriteGo = async () => {
    unstick();
    const [settled] = await Promise.allSettled([stuckWrite]);
    // Its lease given up and the session finished by another close, the write is fenced out; any
    // later write of that close would first renew the lease it has lost, and stop there.
    expect(settled.status === 'rejected' && (settled.reason as Error).name, 'the stuck write').to.equal('LeaseLostError');
  };

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
    const nodeA = f.build({ nodeId: 'node-a', closeMaxMs: MAX_MS, closeDeadline: deadlines.make });
    const first = outcome(nodeA.attendance.closer.close(f.org.id, session.id, f.teacher.id));
    await stuckAt;
    expect(deadlines.asked.map((d) => d.ms)).to.deep.equal([MAX_MS]);
    deadlines.last().expire();
    expect(await first).to.deep.equal({ error: 'CLOSE_TIMED_OUT' });
    expect(f.events.filter((e) => e.type === 'session.close-failed')).to.deep.equal([
      { type: 'session.close-failed', orgId: f.org.id, sessionId: session.id, code: 'CLOSE_TIMED_OUT' },
    ]);
    const given = await f.store.sessions.get(f.org.id, session.id);
    expect([given?.status, given?.leaseOwner]).to.deep.equal(['closing', null]);

    // The teacher closes again on the same node: a new close, not the stuck one's promise. Its
    // own deadline never passes, however long the close takes here.
    const again = await outcome(nodeA.attendance.closer.close(f.org.id, session.id, f.teacher.id));
    expect(again).to.have.nested.property('value.session.status', 'closed');
    // The stuck call answers at last: its write finds the records there, and the close stops at its fence.
    await letStuckWriteGo();
    await expectClosedOnce();
  });

  it("another node's scheduler finishes the session at its next pass once the stuck close gave it up", async () => {
    const nodeA = f.build({ nodeId: 'node-a', closeMaxMs: MAX_MS, closeDeadline: deadlines.make });
    const first = outcome(nodeA.attendance.closer.close(f.org.id, session.id, f.teacher.id));
    // While the stuck close runs, its lease holds: the scheduler leaves the session alone.
    await stuckAt;
    const nodeB = f.build({ nodeId: 'node-b' });
    expect(await nodeB.attendance.scheduler.tick()).to.equal(0);
    deadlines.last().expire();
    expect(await first).to.deep.equal({ error: 'CLOSE_TIMED_OUT' });
    expect(await nodeB.attendance.scheduler.tick()).to.equal(1);
    await letStuckWriteGo();
    await expectClosedOnce();
  });
}
