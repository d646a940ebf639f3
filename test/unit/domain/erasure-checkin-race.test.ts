import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import type { User } from '../../../src/domain/ports/users.js';
import type { SessionView } from '../../../src/shared/events.js';
import { expectCode } from '../../support/expect-code.js';
import { northOf, type LiveFixture } from '../../support/live-fixture.js';
import { eraseAtNextWrite, useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A check-in on its way to the group commit while an admin erases the student (docs/privacy.md,
// "Answering an erasure request"): nothing of the person may be left under their real id, and
// their address and location not on the erased record.

onBothStores('erasure racing a check-in', 'attendance_erasure_race', erasureRaceSuite);

const IP = '10.77.66.55';

function erasureRaceSuite(setup: RaceStore): void {
  let f: LiveFixture;
  let session: SessionView;
  let student: User;

  const race = useOpenSession(setup, { students: 2 });
  beforeEach(() => {
    ({ f, session, student } = race());
  });

  const submit = async (metres: number) => {
    const secret = (await f.store.sessions.get(f.org.id, session.id))!.codeSecret;
    return f.live.checkins.submit(f.actor(student), {
      sessionId: session.id,
      location: { ...northOf(metres), accuracyM: 10, timestamp: new Date(f.clock.now().getTime() - 1_000) },
      code: codeAt(secret, 15, f.clock.now()),
      ip: IP,
    });
  };
  const erase = () => f.domain.privacy.erasePerson(f.actor(f.admin), student.id, 'erasure request 42');
  /**
   * The erasure runs when the group commit is about to write (`at` 'before'), or alongside it,
   * `step` staggers later; the returned function waits for the erasure.
   */
  const injectErasure = (at: 'before' | 'alongside', step = 0) => eraseAtNextWrite(setup, f, erase, at, step);
  const expectNothingLeft = async () => {
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => r.studentId)).not.to.include(student.id);
    expect(records.filter((r) => r.ip !== null || (r.studentId.startsWith('erased-') && r.location !== null))).to.deep.equal([]);
    expect(await f.store.users.get(f.org.id, student.id)).to.equal(null);
    const trail = await f.store.privacy.auditAbout({
      orgId: f.org.id,
      userId: student.id,
      identifiers: [student.email, student.name, 'S1'],
    });
    expect(trail).to.deep.equal([]);
  };

  it('a first check-in whose student is erased before its batch commits is refused, and stores nothing of them', async () => {
    injectErasure('before');
    await expectCode(submit(5), 'RECORD_CHANGED');
    await expectNothingLeft();
  });

  it('a retry in flight while the student is erased does not write its address and location onto the erased record', async () => {
    expect((await submit(2_000)).reason).to.equal('GEOFENCE_OUTSIDE');
    injectErasure('before');
    await submit(5).catch(() => undefined);
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records).to.have.length(1);
    expect(records[0]).to.deep.include({ ip: null, location: null, status: 'rejected' });
    await expectNothingLeft();
  });

  for (const step of [0, 1, 2, 4, 8]) {
    it(`an erasure alongside the write (stagger ${step}) leaves nothing of the student, whichever wins`, async () => {
      const erased = injectErasure('alongside', step);
      await submit(5).catch(() => undefined);
      await erased();
      await expectNothingLeft();
    });
  }
}
