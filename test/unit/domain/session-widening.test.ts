import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { Domain } from '../../../src/domain/services.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { SessionView } from '../../../src/shared/events.js';
import { expectCode } from '../../support/expect-code.js';
import { subjectMaker, type LiveFixture } from '../../support/live-fixture.js';
import { expectOneWinner, raceAfter, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// session:extend and session:reopen meet session:open's two rules for the time they add
// (docs/protocol.md §5.4a): one session of a subject at a time, one class at a time per teacher;
// and an extension racing an open for that time on two nodes has one winner. On the embedded
// store and on MongoDB. The fixture's clock stands at 09:00Z.

const at = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00.000Z`).toISOString();
const manual = { preset: 'manual' as const };

onBothStores('a later close meets the clash rules', 'attendance_widening', wideningSuite);

function wideningSuite(setup: RaceStore): void {
  let f: LiveFixture;
  let teacher: Actor;
  let chem: Subject;
  const fixture = useLiveFixture(setup, { students: 1 });
  const subjectOf = subjectMaker(fixture, 'W');
  beforeEach(async () => {
    f = fixture();
    teacher = f.actor(f.teacher);
    chem = await subjectOf([f.teacher]);
  });
  const open = (by: Actor, subjectId: string, from: string, to: string, extra: object = {}, d: Domain = f.domain) =>
    d.attendance.sessions.open(by, { subjectId, startsAt: at(from), closesAt: at(to), policy: manual, ...extra });
  const closesAt = async (s: SessionView) => (await f.store.sessions.get(f.org.id, s.id))?.closesAt.toISOString();

  describe('session:extend', () => {
    it("refuses running into the teacher's next class, naming it, unless teacherOverlap", async () => {
      const physics = await open(teacher, f.subject.id, '09:00', '10:00');
      const next = await open(teacher, chem.id, '10:00', '11:00');
      const err = await expectCode(
        f.live.lifecycle.extend(teacher, { sessionId: physics.id, closesAt: at('10:10') }),
        'TEACHER_DOUBLE_BOOKED',
      );
      expect(err.details).to.deep.equal({ teacherId: f.teacher.id, sessionIds: [next.id], subjectIds: [chem.id], field: 'teacherOverlap' });
      expect(await closesAt(physics)).to.equal(at('10:00'));

      // Up to the next class's start is free (half-open windows); a new late-after alone is never a clash.
      await f.live.lifecycle.extend(teacher, { sessionId: physics.id, closesAt: at('10:00'), lateAfter: at('09:20') });
      const extended = await f.live.lifecycle.extend(teacher, { sessionId: physics.id, closesAt: at('10:10'), teacherOverlap: true });
      expect(extended.closesAt).to.equal(at('10:10'));
      // Already beside it (confirmed): a further extension is not asked about again.
      expect((await f.live.lifecycle.extend(teacher, { sessionId: physics.id, closesAt: at('10:20') })).closesAt).to.equal(at('10:20'));
    });

    it("refuses running into the subject's next session, unless parallel", async () => {
      const first = await open(teacher, f.subject.id, '09:00', '10:00');
      const second = await open(teacher, f.subject.id, '10:00', '11:00');
      const err = await expectCode(
        f.live.lifecycle.extend(teacher, { sessionId: first.id, closesAt: at('10:30') }),
        'SESSION_ALREADY_OPEN',
      );
      expect(err.details).to.deep.equal({ sessionIds: [second.id], field: 'parallel' });
      expect(await closesAt(first)).to.equal(at('10:00'));
      // teacherOverlap is the teacher's flag, not the subject's.
      await expectCode(
        f.live.lifecycle.extend(teacher, { sessionId: first.id, closesAt: at('10:30'), teacherOverlap: true }),
        'SESSION_ALREADY_OPEN',
      );
      await f.live.lifecycle.extend(teacher, { sessionId: first.id, closesAt: at('10:30'), parallel: true });
      expect(await closesAt(first)).to.equal(at('10:30'));
    });

    it("holds the session's teacher, whoever extends it; an admin's own session is not timetabled", async () => {
      const admin = f.actor(f.admin);
      const physics = await open(teacher, f.subject.id, '09:00', '10:00');
      await open(teacher, chem.id, '10:00', '11:00');
      // An admin widening the teacher's class still runs it into the teacher's next one.
      await expectCode(f.live.lifecycle.extend(admin, { sessionId: physics.id, closesAt: at('10:10') }), 'TEACHER_DOUBLE_BOOKED');

      const bio = await subjectOf([f.teacher]);
      const geo = await subjectOf([f.teacher]);
      const own = await open(admin, bio.id, '12:00', '13:00');
      await open(admin, geo.id, '13:00', '14:00');
      expect((await f.live.lifecycle.extend(admin, { sessionId: own.id, closesAt: at('13:30') })).closesAt).to.equal(at('13:30'));
    });
  });

  describe('session:reopen', () => {
    it('refuses reopening over a class that started since it closed, unless confirmed', async () => {
      const physics = await open(teacher, f.subject.id, '09:00', '10:00');
      f.clock.set(new Date(at('09:30')));
      await f.live.closer.close(f.org.id, physics.id, f.teacher.id);
      f.clock.set(new Date(at('09:35')));
      const next = await open(teacher, chem.id, '09:35', '10:35');

      const err = await expectCode(f.live.lifecycle.reopen(teacher, { sessionId: physics.id }), 'TEACHER_DOUBLE_BOOKED');
      expect(err.details).to.deep.include({ sessionIds: [next.id], subjectIds: [chem.id] });
      expect((await f.store.sessions.get(f.org.id, physics.id))?.status).to.equal('closed');

      // Another session of the subject since: the subject's rule.
      const again = await open(teacher, f.subject.id, '09:40', '10:40', { teacherOverlap: true });
      await expectCode(f.live.lifecycle.reopen(teacher, { sessionId: physics.id, teacherOverlap: true }), 'SESSION_ALREADY_OPEN');
      await f.live.lifecycle.cancel(teacher, again.id, undefined);

      const reopened = await f.live.lifecycle.reopen(teacher, { sessionId: physics.id, teacherOverlap: true });
      expect(reopened.status).to.equal('open');
    });

    it('does not ask again about a session it already ran beside', async () => {
      const physics = await open(teacher, f.subject.id, '09:00', '10:00');
      await open(teacher, chem.id, '09:00', '11:00', { teacherOverlap: true });
      f.clock.set(new Date(at('09:50')));
      await f.live.closer.close(f.org.id, physics.id, f.teacher.id);
      expect((await f.live.lifecycle.reopen(teacher, { sessionId: physics.id })).status).to.equal('open');
    });
  });

  describe('an extension racing an open for the added time, on two nodes', () => {
    it('always ends with exactly one winner and the loser answered 409 (20 rounds, both rules)', async function () {
      this.timeout(60_000);
      const b = f.build({ nodeId: 'node-b' });
      const winners = new Set<string>();
      for (let round = 0; round < 20; round += 1) {
        // Each round a fresh hour of the day: the session 09..., extended 20 minutes; the rival opens at its close.
        const hour = (h: number) => `${String(h).padStart(2, '0')}`;
        const h0 = 10 + (round % 12);
        const subject = await subjectOf([f.teacher]);
        const session = await open(teacher, subject.id, `${hour(h0)}:00`, `${hour(h0)}:40`);
        const byTeacher = round % 2 === 1;
        const rival = byTeacher ? await subjectOf([f.teacher]) : subject;
        // Each side is the one started later in half of the rounds of each rule, so that each gets
        // to win some whichever of the two paths a store runs faster (only the open was delayed
        // before, which counted on the extension's path being the slower one).
        const step = Math.floor(round / 4);
        const [extendLater, openLater] = Math.floor(round / 2) % 2 === 0 ? [0, step] : [step, 0];
        const results = await raceAfter(
          setup,
          [extendLater, openLater],
          () => f.live.lifecycle.extend(teacher, { sessionId: session.id, closesAt: at(`${hour(h0)}:55`) }),
          () => open(teacher, rival.id, `${hour(h0)}:40`, `${hour(h0)}:50`, {}, b),
        );
        const extendWon = expectOneWinner(results, byTeacher ? 'TEACHER_DOUBLE_BOOKED' : 'SESSION_ALREADY_OPEN', `round ${round}`);
        winners.add(extendWon ? 'extend' : 'open');
        // What is stored agrees: the session closes later only if no class was opened in the added time.
        expect(await closesAt(session), `round ${round}`).to.equal(at(`${hour(h0)}:${extendWon ? '55' : '40'}`));
        const inAdded = (await f.store.sessions.listActiveForTeacher(f.org.id, f.teacher.id)).filter(
          (s) => s.startsAt.toISOString() === at(`${hour(h0)}:40`),
        );
        expect(inAdded, `round ${round}`).to.have.length(extendWon ? 0 : 1);
        for (const s of [session.id, ...inAdded.map((s) => s.id)]) await f.live.lifecycle.cancel(teacher, s, 'test');
      }
      // The rounds did race: each side won some.
      expect([...winners].sort()).to.deep.equal(['extend', 'open']);
    });
  });
}
