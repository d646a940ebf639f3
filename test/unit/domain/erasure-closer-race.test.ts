import { expect } from 'chai';
import type { SessionView } from '../../../src/shared/events.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { beforeNextCall, useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A teacher's close while an admin erases that teacher (docs/privacy.md, "Answering an
// erasure request"). The close's records are guarded by records.writeBatch; its last step wrote
// the teacher's id as the session's closer (closedBy) and as the actor of its `session.close`
// audit entry after the erasure had swept sessions and the trail, so the id outlived the erasure.

const STUDENTS = 2;

onBothStores('erasure of the teacher racing their close', 'attendance_erasure_closer_race', suite);

function suite(setup: RaceStore): void {
  const race = useOpenSession(setup, { students: STUDENTS });
  let f: LiveFixture;
  let session: SessionView;
  beforeEach(() => {
    ({ f, session } = race());
  });

  const erase = () => f.domain.privacy.erasePerson(f.actor(f.admin), f.teacher.id, 'erasure request 45');
  const closeByTeacher = () =>
    f.live.closer.close(f.org.id, session.id, f.teacher.id).then(
      (r) => r.session.status,
      (err: { code?: string }) => err.code ?? String(err),
    );
  const expectNothingOfTeacher = async () => {
    expect(await f.store.users.get(f.org.id, f.teacher.id)).to.equal(null);
    const stored = await f.store.sessions.get(f.org.id, session.id);
    expect([stored?.teacherId, stored?.closedBy]).not.to.include(f.teacher.id);
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => r.decidedBy)).not.to.include(f.teacher.id);
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    expect(trail.filter((e) => e.actorId === f.teacher.id).map((e) => e.action)).to.deep.equal([]);
  };
  const expectClosedOnce = async () => {
    expect((await f.store.sessions.get(f.org.id, session.id))?.status).to.equal('closed');
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    expect(trail.filter((e) => e.action === 'session.close')).to.have.length(1);
    expect((await f.store.records.listBySession(f.org.id, session.id)).map((r) => r.status)).to.deep.equal(
      Array<string>(STUDENTS).fill('absent'),
    );
  };

  /** Runs the erasure right before the close's next call of `method` that `when` accepts, then the call. */
  const eraseBefore = <R extends object, K extends keyof R>(repo: R, method: K, when?: (...args: never[]) => boolean) =>
    beforeNextCall(repo, method, erase, when);

  it('erased after the absents, before the summary: the close answers ACCOUNT_DISABLED and the scheduler finishes it by nobody', async () => {
    eraseBefore(f.store.summaries, 'upsert');
    expect(await closeByTeacher()).to.equal('ACCOUNT_DISABLED');
    expect((await f.store.sessions.get(f.org.id, session.id))?.status).to.equal('closing');
    expect(await f.live.scheduler.tick()).to.equal(1);
    await expectClosedOnce();
    await expectNothingOfTeacher();
  });

  it("a co-teacher's close that joined the erased teacher's is not answered ACCOUNT_DISABLED: it closes the session itself", async () => {
    // Closes of one session on a node share the one running; the erased teacher's refusal said
    // 'The account is deactivated.' to a colleague whose account is fine, and left the session closing.
    await f.store.subjects.update(f.org.id, f.subject.id, { teacherIds: [f.teacher.id, f.otherTeacher.id] });
    let joined: Promise<string> | null = null;
    beforeNextCall(f.store.summaries, 'upsert', async () => {
      joined = f.live.closer.close(f.org.id, session.id, f.otherTeacher.id).then(
        (r) => r.session.status,
        (err: { code?: string }) => err.code ?? String(err),
      );
      await erase();
    });
    expect(await closeByTeacher()).to.equal('ACCOUNT_DISABLED');
    expect(await joined).to.equal('closed');
    await expectClosedOnce();
    await expectNothingOfTeacher();
    expect((await f.store.sessions.get(f.org.id, session.id))?.closedBy).to.equal(f.otherTeacher.id);
  });

  it('erased right before the session is marked closed: closedBy and the session.close entry do not keep their id', async () => {
    eraseBefore(
      f.store.sessions,
      'transition',
      (_orgId: string, _id: string, _from: string[], patch: { status?: string }) => patch.status === 'closed',
    );
    expect(await closeByTeacher()).to.equal('closed');
    await expectClosedOnce();
    await expectNothingOfTeacher();
  });

  it('erased right before the session.close audit entry: the entry does not keep their id', async () => {
    eraseBefore(f.store.audit, 'append', (entry: { action?: string }) => entry.action === 'session.close');
    expect(await closeByTeacher()).to.equal('closed');
    await expectClosedOnce();
    await expectNothingOfTeacher();
  });
}
