import { expect } from 'chai';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { expectCode } from '../../support/expect-code.js';
import { createUser } from '../../support/fixtures.js';
import { subjectMaker, type LiveFixture } from '../../support/live-fixture.js';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A teacher's hand-over is one change of all their subjects, on the embedded store and on
// MongoDB: a refusal writes nothing (no subject written and put back, no audit entry), and one
// made or handed back writes each subject once.

onBothStores('teacher hand-over as one change', 'attendance_handover', handoverSuite);

function handoverSuite(setup: RaceStore): void {
  let f: LiveFixture;
  const fixture = useLiveFixture(setup, { students: 1 });
  const subjectOf = subjectMaker(fixture, 'H');
  beforeEach(() => {
    f = fixture();
  });

  it('refuses the whole hand-over with nothing written, then hands over and back writing one subject.update per subject each time', async () => {
    const admin = f.actor(f.admin);
    const absent = await createUser(f.store, f.org.id, 'teacher');
    const cover = await createUser(f.store, f.org.id, 'teacher');
    const art = await subjectOf([absent], 'A-ART');
    const bio = await subjectOf([f.teacher, absent], 'B-BIO');
    const chem = await subjectOf([absent], 'C-CHEM');
    const drama = await subjectOf([cover], 'D-DRAMA');
    const term = await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    // The cover teaches drama on Thursdays at the time of chemistry's meeting.
    const chemMeeting = await f.domain.timetable.createMeeting(admin, chem.id, {
      termId: term.id,
      weekday: 4,
      startTime: '09:00',
      endTime: '10:00',
    });
    // This Thursday's chemistry, scheduled: it follows chemistry's first teacher.
    const tapped = await f.domain.timetable.start(f.actor(absent), chemMeeting.id, '2026-03-05');
    const heldBy = async () => (await f.store.sessions.get(f.org.id, tapped.id))?.teacherId;
    await f.domain.timetable.createMeeting(admin, drama.id, { termId: term.id, weekday: 4, startTime: '09:30', endTime: '10:30' });
    const stored = async () => f.store.subjects.getMany(f.org.id, [art.id, bio.id, chem.id]);
    const updates = async (s: Subject) =>
      (await f.store.audit.listForEntity(f.org.id, 'subject', s.id)).filter((e) => e.action === 'subject.update').length;
    const before = await stored();

    const err = await expectCode(
      f.domain.handover.handOver(admin, absent.id, { toTeacherId: cover.id, keepAbsent: false, teacherOverlap: false }),
      'TEACHER_DOUBLE_BOOKED',
    );
    expect((err.details?.['refused'] as { subjectId: string }[]).map((r) => r.subjectId)).to.deep.equal([chem.id]);
    // Art and biology come before chemistry: not written, so not put back either.
    expect(await stored()).to.have.deep.members(before);
    for (const s of [art, bio, chem]) expect(await updates(s), s.code).to.equal(0);
    expect(await heldBy()).to.equal(absent.id);

    await f.domain.handover.handOver(admin, absent.id, { toTeacherId: cover.id, keepAbsent: true, teacherOverlap: true });
    const teachers = async () => new Map((await stored()).map((s) => [s.code, s.teacherIds]));
    expect(await teachers()).to.deep.equal(
      new Map([
        ['A-ART', [cover.id, absent.id]],
        ['B-BIO', [f.teacher.id, cover.id, absent.id]],
        ['C-CHEM', [cover.id, absent.id]],
      ]),
    );
    for (const s of [art, bio, chem]) expect(await updates(s), s.code).to.equal(1);
    expect(await heldBy()).to.equal(cover.id);

    await f.domain.handover.handBack(admin, absent.id, true);
    expect(await teachers()).to.deep.equal(new Map(before.map((s) => [s.code, s.teacherIds])));
    for (const s of [art, bio, chem]) expect(await updates(s), s.code).to.equal(2);
    expect(await heldBy()).to.equal(absent.id);
  });

  it('refuses two subjects of one hand-over given to the cover at the same time, naming both', async () => {
    const admin = f.actor(f.admin);
    const absent = await createUser(f.store, f.org.id, 'teacher');
    const cover = await createUser(f.store, f.org.id, 'teacher');
    const art = await subjectOf([absent], 'A-ART');
    const chem = await subjectOf([absent], 'C-CHEM');
    const term = await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    // Art and chemistry meet at once on Thursdays, both the absent teacher's (a combined class, confirmed).
    await f.domain.timetable.createMeeting(admin, art.id, { termId: term.id, weekday: 4, startTime: '09:00', endTime: '10:00' });
    await f.domain.timetable.createMeeting(admin, chem.id, {
      termId: term.id,
      weekday: 4,
      startTime: '09:30',
      endTime: '10:30',
      teacherOverlap: true,
    });
    const before = await f.store.subjects.getMany(f.org.id, [art.id, chem.id]);

    const err = await expectCode(
      f.domain.handover.handOver(admin, absent.id, { toTeacherId: cover.id, keepAbsent: false, teacherOverlap: false }),
      'TEACHER_DOUBLE_BOOKED',
    );
    const refused = err.details?.['refused'] as { subjectId: string; message: string }[];
    expect(refused.map((r) => r.subjectId)).to.deep.equal([chem.id]);
    expect(refused[0]!.message).to.contain('A-ART Thursday 09:00–10:00 and C-CHEM Thursday 09:30–10:30');
    expect(await f.store.subjects.getMany(f.org.id, [art.id, chem.id])).to.have.deep.members(before);
    expect(await f.domain.handover.pending(admin, absent.id)).to.equal(null);

    await f.domain.handover.handOver(admin, absent.id, { toTeacherId: cover.id, keepAbsent: false, teacherOverlap: true });
    expect((await f.store.subjects.getMany(f.org.id, [art.id, chem.id])).map((s) => [s.code, s.teacherIds])).to.have.deep.members([
      ['A-ART', [cover.id]],
      ['C-CHEM', [cover.id]],
    ]);
  });

  /** The store's setTeachersEach replaced by `dying` until its next call, which then throws as a node dying would. */
  const dieIn = (
    dying: (original: Store['subjects']['setTeachersEach'], ...args: Parameters<Store['subjects']['setTeachersEach']>) => Promise<unknown>,
  ) => {
    const repo = f.store.subjects;
    const original = repo.setTeachersEach.bind(repo);
    repo.setTeachersEach = async (...args) => {
      repo.setTeachersEach = original;
      await dying(original, ...args);
      throw new Error('the node died');
    };
  };

  it('keeps the user.handover entry of a hand-over whose node dies right after the subjects are written', async () => {
    const admin = f.actor(f.admin);
    const absent = await createUser(f.store, f.org.id, 'teacher');
    const cover = await createUser(f.store, f.org.id, 'teacher');
    const art = await subjectOf([absent], 'A-ART');
    dieIn((original, ...args) => original(...args));

    await expectDeath(f.domain.handover.handOver(admin, absent.id, { toTeacherId: cover.id, keepAbsent: false, teacherOverlap: false }));
    expect((await f.store.subjects.get(f.org.id, art.id))?.teacherIds).to.deep.equal([cover.id]);
    const pending = await f.domain.handover.pending(admin, absent.id);
    expect(pending?.subjects.map((s) => [s.code, s.after])).to.deep.equal([['A-ART', [cover.id]]]);
  });

  it('hands back a hand-over cut short after its entries were written, restoring what it wrote and passing over the rest', async () => {
    const admin = f.actor(f.admin);
    const absent = await createUser(f.store, f.org.id, 'teacher');
    const cover = await createUser(f.store, f.org.id, 'teacher');
    const art = await subjectOf([absent], 'A-ART');
    const bio = await subjectOf([f.teacher, absent], 'B-BIO');
    const before = await f.store.subjects.getMany(f.org.id, [art.id, bio.id]);
    // On MongoDB the entries go first: the node dies after art is written, before biology.
    dieIn((original, orgId, swaps, fence, entries) => original(orgId, swaps.slice(0, 1), fence, entries));

    await expectDeath(f.domain.handover.handOver(admin, absent.id, { toTeacherId: cover.id, keepAbsent: false, teacherOverlap: false }));
    expect((await f.store.subjects.get(f.org.id, art.id))?.teacherIds).to.deep.equal([cover.id]);
    expect(await f.domain.handover.pending(admin, absent.id)).to.not.equal(null);

    await f.domain.handover.handBack(admin, absent.id, false);
    const teachers = async () => new Map((await f.store.subjects.getMany(f.org.id, [art.id, bio.id])).map((s) => [s.code, s.teacherIds]));
    expect(await teachers()).to.deep.equal(new Map(before.map((s) => [s.code, s.teacherIds])));
    expect(await f.domain.handover.pending(admin, absent.id)).to.equal(null);
  });
}

async function expectDeath(call: Promise<unknown>): Promise<void> {
  const outcome = await call.then(
    () => null,
    (err: unknown) => err,
  );
  expect((outcome as Error | null)?.message).to.equal('the node died');
}
