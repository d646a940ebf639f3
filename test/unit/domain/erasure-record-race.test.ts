import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { RecordRepository } from '../../../src/domain/ports/records.js';
import type { User } from '../../../src/domain/ports/users.js';
import type { SessionView } from '../../../src/shared/events.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// Every record written for a student without their check-in (a teacher's hand mark, a
// correction after closing, a closing absent, an approved excuse, a class-photo confirmation)
// while an admin erases that student (docs/privacy.md, "Answering an erasure request"): nothing
// may be stored under their real id. erasure-checkin-race.test.ts does the same for check-ins.

onBothStores('erasure racing a record written for the student', 'attendance_erasure_record_race', erasureRecordRaceSuite);

type RecordWriters = Pick<RecordRepository, 'insertIfAbsent' | 'update' | 'writeBatch'>;
const WRITERS = ['insertIfAbsent', 'update', 'writeBatch'] as const;

function erasureRecordRaceSuite(setup: RaceStore): void {
  let f: LiveFixture;
  let session: SessionView;
  let student: User;
  let teacher: Actor;
  let originals: RecordWriters;

  const race = useOpenSession(setup, { students: 2 });
  beforeEach(() => {
    ({ f, session, student } = race());
    teacher = { ...f.actor(f.teacher), ip: '10.1.2.3' };
    const r = f.store.records;
    originals = { insertIfAbsent: r.insertIfAbsent, update: r.update, writeBatch: r.writeBatch };
  });

  const erase = (who: User = student) => f.domain.privacy.erasePerson(f.actor(f.admin), who.id, 'erasure request 43');
  const restore = () => Object.assign(f.store.records, originals);
  /**
   * The erasure runs when the domain first writes a record, whichever store method it writes
   * with: before the write (`at` 'before'), or alongside it, `step` staggers later. The
   * returned function waits for the erasure.
   */
  const injectErasure = (at: 'before' | 'alongside', step = 0, who: User = student): (() => Promise<unknown>) => {
    let erasure: Promise<unknown> = Promise.resolve();
    const wrap = <K extends keyof RecordWriters>(name: K): RecordWriters[K] =>
      (async (...args: unknown[]) => {
        restore();
        if (at === 'before') await erase(who);
        else erasure = setup.stagger(step).then(() => erase(who));
        return (originals[name] as (...a: unknown[]) => Promise<unknown>)(...args);
      }) as RecordWriters[K];
    for (const name of WRITERS) Object.assign(f.store.records, { [name]: wrap(name) });
    return () => erasure;
  };
  const expectNothingLeft = async (who: User = student) => {
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => r.studentId)).not.to.include(who.id);
    expect(await f.store.users.get(f.org.id, who.id)).to.equal(null);
    const trail = await f.store.privacy.auditAbout({
      orgId: f.org.id,
      userId: who.id,
      identifiers: [who.email, who.name, who.studentNumber!],
    });
    expect(trail).to.deep.equal([]);
  };
  const markByHand = (who: User = student, reason?: string) =>
    f.live.checkins.mark(teacher, {
      sessionId: session.id,
      studentId: who.id,
      status: 'present',
      note: `${who.name} came in late`,
      ...(reason ? { reason } : {}),
      ip: teacher.ip ?? null,
    });
  const closeSession = () => f.live.closer.close(f.org.id, session.id, f.teacher.id);

  it("a teacher's hand mark of a student erased before it is written is refused (NOT_ENROLLED), and stores nothing of them", async () => {
    injectErasure('before');
    const answer = await markByHand().then(
      () => 'marked',
      (err: { code?: string }) => err.code,
    );
    expect(answer).to.equal('NOT_ENROLLED');
    await expectNothingLeft();
  });

  for (const step of [0, 1, 2, 4, 8]) {
    it(`a hand mark with the erasure alongside (stagger ${step}) leaves nothing of the student, whichever wins`, async () => {
      const erased = injectErasure('alongside', step);
      await markByHand().catch(() => undefined);
      await erased();
      await expectNothingLeft();
    });
  }

  it('a correction after closing, for a student enrolled since, erased before it is written stores nothing of them', async () => {
    await closeSession();
    await f.store.subjects.enrol(f.org.id, f.subject.id, [f.outsider.id]);
    injectErasure('before', 0, f.outsider);
    await markByHand(f.outsider, 'was in the room').catch(() => undefined);
    await expectNothingLeft(f.outsider);
  });

  it('a closing absent of a student erased before it is written stores nothing of them', async () => {
    injectErasure('before');
    await closeSession();
    await expectNothingLeft();
    // The other student's absent is written.
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => [r.studentId, r.status])).to.deep.equal([[f.students[1]!.id, 'absent']]);
  });

  for (const step of [0, 2, 8]) {
    it(`a close with the erasure alongside (stagger ${step}) leaves nothing of the student`, async () => {
      const erased = injectErasure('alongside', step);
      await closeSession().catch(() => undefined);
      await erased();
      await expectNothingLeft();
    });
  }

  it("a close's second pass, run while the erasure is between its sweeps, leaves nothing of the student and the erasure finishes", async () => {
    // The first pass's absent is renamed to the tombstone, then the second pass finds the student
    // without a record (still enrolled: the erasure has not got that far) and writes one anew.
    let erasure: Promise<unknown> = Promise.resolve();
    f.store.records.writeBatch = async (writes) => {
      restore();
      const results = await originals.writeBatch(writes);
      erasure = erase();
      for (;;) {
        const records = await f.store.records.listBySession(f.org.id, session.id);
        if (!records.some((r) => r.studentId === student.id)) break;
        await setup.stagger(1);
      }
      return results;
    };
    await closeSession();
    await erasure;
    await expectNothingLeft();
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.filter((r) => r.studentId.startsWith('erased-'))).to.have.length(1);
  });

  it('an approved excuse, for a student enrolled after closing and erased before it is written, stores nothing of them', async () => {
    await closeSession();
    await f.store.subjects.enrol(f.org.id, f.subject.id, [f.outsider.id]);
    const { excuse } = await f.domain.excuses.submit(f.actor(f.outsider), { sessionId: session.id, category: 'MEDICAL', text: 'flu' });
    injectErasure('before', 0, f.outsider);
    await f.domain.excuses.decide(teacher, excuse.id, 'approve', null).catch(() => undefined);
    await expectNothingLeft(f.outsider);
  });

  it('a class-photo confirmation of a student erased before it is written refuses them (NOT_ENROLLED), and stores nothing of them', async () => {
    injectErasure('before');
    const r = await f.live.classPhoto.confirm(teacher, session.id, [student.id, f.students[1]!.id]);
    expect(r.results.map((x) => [x.studentId, x.result, x.code])).to.deep.equal([
      [student.id, 'refused', 'NOT_ENROLLED'],
      [f.students[1]!.id, 'marked', null],
    ]);
    await expectNothingLeft();
  });
}
