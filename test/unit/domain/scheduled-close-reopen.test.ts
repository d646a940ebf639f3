import { expect } from 'chai';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// Every node's close scheduler lists the due sessions of a pass, then closes them one by one
// (on a slow store, seconds each). A session it listed could meanwhile be closed by another node
// or by its teacher and reopened for a late student: the scheduler, reaching it, took its lease
// and closed the reopened session at once, its students absent minutes before its new close-at.

onBothStores('a close scheduler reaching a session reopened since it listed it', 'attendance_scheduled_close_reopen', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 3 });

  it('leaves it open until its new close-at', async () => {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const closesAt = new Date(f.clock.now().getTime() + 10 * 60_000);
    const session = await f.live.sessions.open(teacher, { subjectId: f.subject.id, closesAt: closesAt.toISOString() });
    f.clock.advance(11 * 60_000);

    // Once the scheduler has listed the session due, before it takes its lease: another close
    // (the teacher's) finishes it and the teacher reopens it.
    const leases = f.store.sessions;
    const acquire = leases.acquireLease.bind(leases);
    let reopened = false;
    leases.acquireLease = async (orgId, id, owner, until, now) => {
      if (!reopened && owner === 'test-node' && id === session.id) {
        reopened = true;
        await f.live.closer.close(f.org.id, session.id, f.teacher.id);
        await f.live.lifecycle.reopen(teacher, { sessionId: session.id });
      }
      return acquire(orgId, id, owner, until, now);
    };
    try {
      await f.live.scheduler.tick();
    } finally {
      leases.acquireLease = acquire;
    }
    expect(reopened).to.equal(true);
    const now = await f.store.sessions.get(f.org.id, session.id);
    expect(now?.status).to.equal('open');
    expect(await f.store.records.listBySession(f.org.id, session.id)).to.deep.equal([]);

    // At its new close-at the scheduler closes it.
    f.clock.set(now!.closesAt);
    await f.live.scheduler.tick();
    expect((await f.store.sessions.get(f.org.id, session.id))?.status).to.equal('closed');
  });
}
