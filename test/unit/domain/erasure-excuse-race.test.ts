import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { ExcuseRepository } from '../../../src/domain/ports/excuses.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A teacher's excuse decision while an admin erases that teacher (docs/privacy.md): the excuse's
// `decidedBy` may not keep the teacher's real id. erasure-teacher-race.test.ts does the same for
// a hand mark.

onBothStores('erasure of the teacher racing their excuse decision', 'attendance_erasure_excuse_race', erasureExcuseRaceSuite);

function erasureExcuseRaceSuite(setup: RaceStore): void {
  let f: LiveFixture;
  let teacher: Actor;
  let excuseId: string;
  let original: ExcuseRepository['decide'];

  const fixture = useLiveFixture(setup, { students: 1 });
  beforeEach(async () => {
    f = fixture();
    teacher = f.actor(f.teacher);
    const session = await f.live.sessions.open(teacher, { subjectId: f.subject.id });
    excuseId = (await f.domain.excuses.submit(f.actor(f.students[0]!), { sessionId: session.id, category: 'MEDICAL', text: 'flu' })).excuse
      .id;
    original = f.store.excuses.decide;
  });

  const erase = () => f.domain.privacy.erasePerson(f.actor(f.admin), f.teacher.id, 'erasure request 45');
  /** The erasure runs when the domain writes the decision: before the write, or alongside it, `step` staggers later. */
  const injectErasure = (at: 'before' | 'alongside', step = 0): (() => Promise<unknown>) => {
    let erasure: Promise<unknown> = Promise.resolve();
    f.store.excuses.decide = async (...args) => {
      f.store.excuses.decide = original;
      if (at === 'before') await erase();
      else erasure = setup.stagger(step).then(erase);
      return original(...args);
    };
    return () => erasure;
  };
  const decline = () =>
    f.domain.excuses.decide(teacher, excuseId, 'decline', 'no note').then(
      () => 'declined',
      (err: { code?: string }) => err.code ?? String(err),
    );
  const expectNothingOfTeacher = async () => {
    expect(await f.store.users.get(f.org.id, f.teacher.id)).to.equal(null);
    const excuse = await f.store.excuses.get(f.org.id, excuseId);
    expect(excuse?.decidedBy).not.to.equal(f.teacher.id);
    const trail = await f.store.audit.listForEntity(f.org.id, 'excuse', excuseId);
    expect(trail.filter((e) => e.actorId === f.teacher.id).map((e) => e.action)).to.deep.equal([]);
  };

  it('a decision by a teacher erased before it is written is refused (ACCOUNT_DISABLED) and leaves the excuse pending', async () => {
    injectErasure('before');
    expect(await decline()).to.equal('ACCOUNT_DISABLED');
    await expectNothingOfTeacher();
    expect(await f.store.excuses.get(f.org.id, excuseId)).to.include({ status: 'pending', decidedBy: null, decisionNote: null });
  });

  for (const step of [0, 1, 2, 4, 8]) {
    it(`a decision with the teacher's erasure alongside (stagger ${step}) leaves nothing of the teacher, whichever wins`, async () => {
      const erased = injectErasure('alongside', step);
      const answer = await decline();
      await erased();
      await expectNothingOfTeacher();
      const excuse = await f.store.excuses.get(f.org.id, excuseId);
      // Refused: left pending; decided: by the tombstone.
      if (answer === 'declined') expect(excuse?.decidedBy).to.match(/^erased-/);
      else expect([answer, excuse?.status]).to.deep.equal(['ACCOUNT_DISABLED', 'pending']);
    });
  }
}
