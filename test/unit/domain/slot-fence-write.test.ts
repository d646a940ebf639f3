import { expect } from 'chai';
import { SLOT_LOCK_TTL_MS } from '../../../src/domain/sessions/slot-locks.js';
import { ACTIVE_SESSION_STATES } from '../../../src/shared/events.js';
import { beforeNextCall, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// session:open checks the subject's sessions under its slot locks, confirms the locks (the
// fence) and then writes the session. test/integration/paused-node-fencing.test.ts pauses a node
// before the fence; a pause after it, before the write (a few milliseconds in practice, longer
// on a stalled node), let the lock expire, another node take it and open a session of the
// subject, and the first write a second one on top. The write now checks the locks itself.

onBothStores('a pause between the slot fence and the session write', 'attendance_slot_fence_write', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });

  it('the paused open writes nothing, runs again, and is refused SESSION_ALREADY_OPEN by the session opened meanwhile', async () => {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const sessions = f.store.sessions;
    const create = sessions.create;
    let opened: string | null = null;
    // The first session write: held past the lock's life while another node opens the subject.
    sessions.create = async (...args) => {
      sessions.create = create;
      f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
      opened = (await f.build({ nodeId: 'node-b' }).attendance.sessions.open(teacher, { subjectId: f.subject.id })).id;
      return create.apply(sessions, args);
    };
    const answer = await f.live.sessions.open(teacher, { subjectId: f.subject.id }).then(
      (s) => s.id,
      (err: { code?: string }) => err.code ?? String(err),
    );
    expect(opened).to.be.a('string');
    expect(answer).to.equal('SESSION_ALREADY_OPEN');
    const active = await f.store.sessions.listActiveForSubjects(f.org.id, [f.subject.id]);
    expect(active.filter((s) => (ACTIVE_SESSION_STATES as readonly string[]).includes(s.status)).map((s) => s.id)).to.deep.equal([opened]);
  });

  it('an extension paused the same way is refused SESSION_ALREADY_OPEN by the session opened in its added time, and changes nothing', async () => {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const minutes = (n: number) => new Date(f.clock.now().getTime() + n * 60_000).toISOString();
    const first = await f.live.sessions.open(teacher, { subjectId: f.subject.id, closesAt: minutes(30) });
    let opened: string | null = null;
    // The extension's write (a transition moving closesAt, status kept), held as above.
    beforeNextCall(
      f.store.sessions,
      'transition',
      async () => {
        f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
        const next = { subjectId: f.subject.id, startsAt: minutes(40), closesAt: minutes(50) };
        opened = (await f.build({ nodeId: 'node-b' }).attendance.sessions.open(teacher, next)).id;
      },
      (_orgId: string, _id: string, _from: string[], patch: { closesAt?: Date; status?: string }) =>
        patch.closesAt !== undefined && patch.status === undefined,
    );
    const answer = await f.live.lifecycle.extend(teacher, { sessionId: first.id, closesAt: minutes(90) }).then(
      (s) => s.closesAt,
      (err: { code?: string }) => err.code ?? String(err),
    );
    expect(opened).to.be.a('string');
    expect(answer).to.equal('SESSION_ALREADY_OPEN');
    expect((await f.store.sessions.get(f.org.id, first.id))?.closesAt.toISOString()).to.equal(first.closesAt);
  });
}
