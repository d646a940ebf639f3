import { expect } from 'chai';
import type { SessionView } from '../../../src/shared/events.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { beforeNextCall, useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A teacher's close answers within CLOSE_ANSWER_WAIT_MS with the session as it stands. The wait
// began with the close: a store slow to make the session closing (a loaded FerretDB, a wait of 0)
// had the answer read the session before the transition, and the teacher was told it was open.

const STUDENTS = 3;

onBothStores("a teacher's close answered before it finishes", 'attendance_close_answer_wait', suite);

function suite(setup: RaceStore): void {
  const race = useOpenSession(setup, { students: STUDENTS });
  let f: LiveFixture;
  let session: SessionView;
  beforeEach(() => ({ f, session } = race()));

  it('says closing, never open, when the transition to closing takes longer than the wait', async () => {
    const node = f.build({ nodeId: 'node-a', closeAnswerWaitMs: 0 });
    beforeNextCall(f.store.sessions, 'transition', () => new Promise((resolve) => setTimeout(resolve, 100)));
    const answer = await node.attendance.closer.closeAnswering(f.org.id, session.id, f.teacher.id);
    expect(answer.session.status).to.be.oneOf(['closing', 'closed']);
    expect(await node.jobs.drain(5_000)).to.equal(true);
    expect((await f.store.sessions.get(f.org.id, session.id))?.status).to.equal('closed');
  });

  it('answers a close refused before its transition with its error (the wait never starts)', async () => {
    const node = f.build({ nodeId: 'node-a', closeAnswerWaitMs: 0 });
    const answered = await node.attendance.closer.closeAnswering(f.org.id, 'no-such-session', f.teacher.id).then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    );
    expect(answered).to.equal('SESSION_NOT_FOUND');
  });
}
