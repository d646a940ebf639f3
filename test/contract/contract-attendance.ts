import type { AuditAction, AuditEntityType } from '../../src/shared/audit.js';
import type { AuditEntry, AuditFilter } from '../../src/domain/ports/audit.js';
import { expect } from 'chai';
import { LONGEST_SESSION_MS, type AttendanceSession, type NewSession, type SessionWindow } from '../../src/domain/ports/sessions.js';
import type { Store } from '../../src/domain/ports/store.js';
import { ActorGoneError, LeaseLostError, StoreConflictError } from '../../src/domain/ports/common.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser, page, POLICY } from './fixtures.js';

// Sessions (lifecycle CAS, scheduler scan, leases) and attendance records.

const T0 = Date.UTC(2025, 2, 10, 9, 0, 0, 0);
const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);

async function setup(s: Store) {
  const org = await makeOrg(s);
  const subject = await s.subjects.create(org.id, newSubject());
  return { org, subject };
}

/** Students of the organisation by label: a batch's insert is refused when its student does not exist. */
async function studentsOf<L extends string>(s: Store, orgId: string, labels: readonly L[]): Promise<Record<L, string>> {
  const users = await s.users.createMany(
    orgId,
    labels.map(() => newUser()),
  );
  return Object.fromEntries(labels.map((l, i) => [l, users[i]!.id])) as Record<L, string>;
}

export function attendanceContract(ctx: ContractContext): void {
  describe('sessions', function () {
    it('creates and gets with every field round-tripped to the millisecond', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const input = newSession(subject.id, 't1', { startsAt: new Date(T0 + 1), closesAt: new Date(T0 + 3_600_999) });
      const sess = await s.sessions.create(org.id, input);
      expect(sess).to.deep.include({
        ...input,
        orgId: org.id,
        closedAt: null,
        closedBy: null,
        leaseOwner: null,
        leaseUntil: null,
        rosterVersion: 0,
        meetingEdit: null,
      });
      const got = await s.sessions.get(org.id, sess.id);
      expect(got).to.deep.equal(sess);
      expect(got!.closesAt.getTime()).to.equal(T0 + 3_600_999);
      expect(got!.policy).to.deep.equal(input.policy);
      expect(await s.sessions.get(org.id, 'missing')).to.equal(null);
    });

    it('round-trips the liveness step of a policy, and leaves it out where it is off', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const on = await s.sessions.create(org.id, newSession(subject.id, 't1', { policy: { ...POLICY, selfie: true, liveness: true } }));
      expect((await s.sessions.get(org.id, on.id))!.policy).to.deep.equal({ ...POLICY, selfie: true, liveness: true });
      const off = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      expect((await s.sessions.get(org.id, off.id))!.policy).to.not.have.property('liveness');
    });

    it('lists newest first with subject, status and inclusive day filters', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await s.subjects.create(org.id, newSubject());
      const mk = (subjectId: string, day: number, status: AttendanceSession['status']) =>
        s.sessions.create(org.id, newSession(subjectId, 't1', { startsAt: new Date(Date.UTC(2025, 0, day, 8)), status }));
      const d1 = await mk(subject.id, 1, 'closed');
      const d2 = await mk(subject.id, 2, 'closed');
      const d3 = await mk(subject.id, 3, 'open');
      const d4 = await mk(other.id, 4, 'scheduled');

      const ids = async (f: object) => (await s.sessions.list(org.id, { ...page(), ...f })).items.map((x) => x.id);
      expect(await ids({})).to.deep.equal([d4.id, d3.id, d2.id, d1.id]);
      expect(await ids({ subjectId: subject.id })).to.deep.equal([d3.id, d2.id, d1.id]);
      expect(await ids({ status: ['closed'] })).to.deep.equal([d2.id, d1.id]);
      expect(await ids({ status: ['open', 'scheduled'] })).to.deep.equal([d4.id, d3.id]);
      expect(await ids({ fromDay: '2025-01-02', toDay: '2025-01-03' })).to.deep.equal([d3.id, d2.id]);
      expect(await ids({ fromDay: '2025-01-03' })).to.deep.equal([d4.id, d3.id]);
      expect(await ids({ toDay: '2025-01-01' })).to.deep.equal([d1.id]);

      const p = await s.sessions.list(org.id, page(2, 1));
      expect(p.total).to.equal(4);
      expect(p.items.map((x) => x.id)).to.deep.equal([d3.id, d2.id]);
      expect((await s.sessions.list(org.id, { ...page(1, 0), subjectId: subject.id })).total).to.equal(3);
    });

    it('listActiveForSubjects returns open and scheduled sessions of the given subjects', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await s.subjects.create(org.id, newSubject());
      const third = await s.subjects.create(org.id, newSubject());
      const open = await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'open' }));
      const sched = await s.sessions.create(org.id, newSession(other.id, 't1', { status: 'scheduled' }));
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'closed' }));
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'closing' }));
      await s.sessions.create(org.id, newSession(third.id, 't1', { status: 'open' }));
      const got = await s.sessions.listActiveForSubjects(org.id, [subject.id, other.id]);
      expect(got.map((x) => x.id).sort()).to.deep.equal([open.id, sched.id].sort());
      expect(got.find((x) => x.id === open.id)).to.deep.equal(open);
      expect(await s.sessions.listActiveForSubjects(org.id, [])).to.deep.equal([]);
    });

    it('listActiveForTeacher returns the open and scheduled sessions one teacher holds, in any subject', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await s.subjects.create(org.id, newSubject());
      const open = await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'open', startsAt: at(2), closesAt: at(9) }));
      const sched = await s.sessions.create(org.id, newSession(other.id, 't1', { status: 'scheduled', startsAt: at(1), closesAt: at(3) }));
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'closed' }));
      await s.sessions.create(org.id, newSession(other.id, 't1', { status: 'cancelled' }));
      await s.sessions.create(org.id, newSession(subject.id, 't2', { status: 'open' }));
      const got = await s.sessions.listActiveForTeacher(org.id, 't1');
      // Earliest start first.
      expect(got.map((x) => x.id)).to.deep.equal([sched.id, open.id]);
      expect(got[1]).to.deep.equal(open);
      expect(await s.sessions.listActiveForTeacher(org.id, 'nobody')).to.deep.equal([]);
      const elsewhere = await makeOrg(s);
      expect(await s.sessions.listActiveForTeacher(elsewhere.id, 't1')).to.deep.equal([]);
    });

    describe('the active sessions of a window (listActive…During)', function () {
      // The window of every case: [at(60), at(120)).
      const window: SessionWindow = { startsAt: at(60), closesAt: at(120) };
      const during = (startMin: number, endMin: number, overrides: Partial<NewSession> = {}) =>
        ({ status: 'scheduled', startsAt: at(startMin), lateAfter: at(startMin), closesAt: at(endMin), ...overrides }) as const;

      /** One session of each edge for `teacherId` in `subjectId`; the ids of those the window must find, in their order. */
      async function edges(s: Store, orgId: string, subjectId: string, teacherId: string) {
        const mk = (startMin: number, endMin: number, overrides: Partial<NewSession> = {}) =>
          s.sessions.create(orgId, newSession(subjectId, teacherId, during(startMin, endMin, overrides)));
        // Touching either end shares no instant.
        await mk(0, 60);
        await mk(120, 180);
        // Neither closed, closing nor cancelled ones count, however they overlap.
        await mk(70, 80, { status: 'closed' });
        await mk(70, 80, { status: 'closing' });
        await mk(70, 80, { status: 'cancelled' });
        const lastMs = await mk(59, 61, { status: 'open' });
        const intoEnd = await mk(119, 200);
        const covers = await mk(30, 150);
        // As long as a session may last (LONGEST_SESSION_MS), one millisecond of it in the window.
        const longest = await s.sessions.create(
          orgId,
          newSession(subjectId, teacherId, {
            status: 'open',
            startsAt: new Date(window.startsAt.getTime() + 1 - LONGEST_SESSION_MS),
            lateAfter: new Date(window.startsAt.getTime() + 1 - LONGEST_SESSION_MS),
            closesAt: new Date(window.startsAt.getTime() + 1),
          }),
        );
        return [longest, covers, lastMs, intoEnd];
      }

      it("listActiveForTeacherDuring returns the teacher's open and scheduled sessions sharing an instant with the window, earliest first", async function () {
        const s = ctx.store();
        const { org, subject } = await setup(s);
        const other = await s.subjects.create(org.id, newSubject());
        const found = await edges(s, org.id, subject.id, 't1');
        // Another subject of the same teacher counts; another teacher's session does not.
        const otherSubject = await s.sessions.create(org.id, newSession(other.id, 't1', during(100, 110)));
        await s.sessions.create(org.id, newSession(subject.id, 't2', during(60, 120)));
        const elsewhere = await makeOrg(s);
        await s.sessions.create(elsewhere.id, newSession(subject.id, 't1', during(60, 120)));

        const got = await s.sessions.listActiveForTeacherDuring(org.id, 't1', window);
        expect(got.map((x) => x.id)).to.deep.equal([found[0]!.id, found[1]!.id, found[2]!.id, otherSubject.id, found[3]!.id]);
        expect(got[0]).to.deep.equal(found[0]);
        // Without one subject's: the other subject's alone.
        expect((await s.sessions.listActiveForTeacherDuring(org.id, 't1', window, subject.id)).map((x) => x.id)).to.deep.equal([
          otherSubject.id,
        ]);
        expect((await s.sessions.listActiveForTeacherDuring(org.id, 't1', window, 'no-such-subject')).map((x) => x.id)).to.have.length(5);
        expect(await s.sessions.listActiveForTeacherDuring(org.id, 'nobody', window)).to.deep.equal([]);
        expect(await s.sessions.listActiveForTeacherDuring(elsewhere.id, 't2', window)).to.deep.equal([]);
        // A window that is an instant finds the sessions holding it strictly inside.
        const instant = { startsAt: at(60), closesAt: at(60) };
        expect((await s.sessions.listActiveForTeacherDuring(org.id, 't1', instant)).map((x) => x.id)).to.deep.equal([
          found[0]!.id,
          found[1]!.id,
          found[2]!.id,
        ]);
      });

      it("listActiveForSubjectsDuring returns the subjects' open and scheduled sessions sharing an instant with the window, earliest first", async function () {
        const s = ctx.store();
        const { org, subject } = await setup(s);
        const other = await s.subjects.create(org.id, newSubject());
        const third = await s.subjects.create(org.id, newSubject());
        const found = await edges(s, org.id, subject.id, 't1');
        // Any teacher's session of a listed subject counts; an unlisted subject's does not.
        const otherTeacher = await s.sessions.create(org.id, newSession(other.id, 't2', during(100, 110)));
        await s.sessions.create(org.id, newSession(third.id, 't1', during(60, 120)));
        const elsewhere = await makeOrg(s);
        await s.sessions.create(elsewhere.id, newSession(subject.id, 't1', during(60, 120)));

        const got = await s.sessions.listActiveForSubjectsDuring(org.id, [subject.id, other.id], window);
        expect(got.map((x) => x.id)).to.deep.equal([found[0]!.id, found[1]!.id, found[2]!.id, otherTeacher.id, found[3]!.id]);
        expect(got[1]).to.deep.equal(found[1]);
        expect((await s.sessions.listActiveForSubjectsDuring(org.id, [other.id], window)).map((x) => x.id)).to.deep.equal([
          otherTeacher.id,
        ]);
        expect(await s.sessions.listActiveForSubjectsDuring(org.id, [], window)).to.deep.equal([]);
        expect(await s.sessions.listActiveForSubjectsDuring(elsewhere.id, [other.id], window)).to.deep.equal([]);
      });

      it('finds what the whole active list filtered by overlap finds, over windows at random', async function () {
        const s = ctx.store();
        const { org, subject } = await setup(s);
        const other = await s.subjects.create(org.id, newSubject());
        // A fixed sequence (a linear congruential generator), so a failure is the same at every run.
        let seed = 31;
        const rand = (n: number) => {
          seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
          return seed % n;
        };
        const statuses = ['scheduled', 'open', 'closed', 'cancelled'] as const;
        for (let i = 0; i < 40; i++) {
          const startMin = rand(3 * 24 * 60);
          const lengthMin = 1 + rand(24 * 60);
          await s.sessions.create(
            org.id,
            newSession(
              rand(2) === 0 ? subject.id : other.id,
              rand(3) === 0 ? 't2' : 't1',
              during(startMin, startMin + lengthMin, { status: statuses[rand(4)]! }),
            ),
          );
        }
        const overlapping = (list: AttendanceSession[], w: SessionWindow) =>
          list.filter((x) => x.startsAt < w.closesAt && w.startsAt < x.closesAt).map((x) => x.id);
        const allOfTeacher = await s.sessions.listActiveForTeacher(org.id, 't1');
        const allOfSubject = await s.sessions.listActiveForSubjects(org.id, [subject.id]);
        let nonEmpty = 0;
        for (let i = 0; i < 30; i++) {
          const startMin = rand(4 * 24 * 60) - 12 * 60;
          const w = { startsAt: at(startMin), closesAt: at(startMin + rand(6 * 60)) };
          const teacher = (await s.sessions.listActiveForTeacherDuring(org.id, 't1', w)).map((x) => x.id);
          expect(teacher, `teacher ${JSON.stringify(w)}`).to.deep.equal(overlapping(allOfTeacher, w));
          const notSubject = (await s.sessions.listActiveForTeacherDuring(org.id, 't1', w, subject.id)).map((x) => x.id);
          const ofOthers = allOfTeacher.filter((x) => x.subjectId !== subject.id);
          expect(notSubject, `teacher but the subject ${JSON.stringify(w)}`).to.deep.equal(overlapping(ofOthers, w));
          const subj = (await s.sessions.listActiveForSubjectsDuring(org.id, [subject.id], w)).map((x) => x.id);
          expect(subj, `subject ${JSON.stringify(w)}`).to.deep.equal(overlapping(allOfSubject, w));
          if (teacher.length > 0) nonEmpty += 1;
        }
        // The windows met sessions, or the comparison above proved little.
        expect(nonEmpty).to.be.greaterThan(5);
      });
    });

    it("listScheduled returns the organisation's scheduled sessions starting after the instant, earliest first", async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await s.subjects.create(org.id, newSubject());
      const later = await s.sessions.create(org.id, newSession(other.id, 't2', { status: 'scheduled', startsAt: at(5), closesAt: at(6) }));
      const sooner = await s.sessions.create(
        org.id,
        newSession(subject.id, 't1', { status: 'scheduled', startsAt: at(3), closesAt: at(4) }),
      );
      // Started already (the opener's to open), open, closed or cancelled: not upcoming.
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'scheduled', startsAt: at(1), closesAt: at(2) }));
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'open', startsAt: at(3), closesAt: at(9) }));
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'cancelled', startsAt: at(7), closesAt: at(8) }));
      const got = await s.sessions.listScheduled(org.id, at(2));
      expect(got.map((x) => x.id)).to.deep.equal([sooner.id, later.id]);
      expect(got[0]).to.deep.equal(sooner);
      const elsewhere = await makeOrg(s);
      expect(await s.sessions.listScheduled(elsewhere.id, at(0))).to.deep.equal([]);
    });

    it('transition is a compare-and-set on status', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      expect(await s.sessions.transition(org.id, sess.id, ['scheduled', 'closed'], { status: 'closing' })).to.equal(null);
      expect(await s.sessions.get(org.id, sess.id)).to.deep.equal(sess);

      const closing = await s.sessions.transition(org.id, sess.id, ['open'], { status: 'closing', closesAt: at(5), lateAfter: at(1) });
      expect(closing).to.include({ status: 'closing' });
      expect(closing!.closesAt.getTime()).to.equal(at(5).getTime());
      expect(closing!.lateAfter.getTime()).to.equal(at(1).getTime());
      expect(closing!.codeSecret).to.equal(sess.codeSecret);
      const closed = await s.sessions.transition(org.id, sess.id, ['closing'], { status: 'closed', closedAt: at(6), closedBy: 't1' });
      expect(closed).to.include({ status: 'closed', closedBy: 't1' });
      expect(closed!.closedAt!.getTime()).to.equal(at(6).getTime());
      expect(await s.sessions.get(org.id, sess.id)).to.deep.equal(closed);
      expect(await s.sessions.transition(org.id, sess.id, ['open', 'closing'], { status: 'closed' })).to.equal(null);
      expect(await s.sessions.transition(org.id, 'missing', ['open'], { status: 'closed' })).to.equal(null);
    });

    it('cancelUnstaffed cancels a scheduled session only while its teacher is the one given and cannot run it', async function () {
      const s = ctx.store();
      const { org } = await setup(s);
      const teacher = await s.users.create(org.id, newUser({ role: 'teacher', studentNumber: null, active: false }));
      const subject = await s.subjects.create(org.id, newSubject({ teacherIds: [teacher.id] }));
      const sess = await s.sessions.create(org.id, newSession(subject.id, teacher.id, { status: 'scheduled' }));
      const patch = { closedAt: at(1), closedBy: 'admin1' };
      // Another teacher than the one checked, or that teacher able to run it again: nothing changes.
      expect(await s.sessions.cancelUnstaffed(org.id, sess.id, 'someone-else', patch)).to.equal(null);
      await s.users.update(org.id, teacher.id, { active: true });
      expect(await s.sessions.cancelUnstaffed(org.id, sess.id, teacher.id, patch)).to.equal(null);
      expect(await s.sessions.get(org.id, sess.id)).to.deep.equal(sess);
      // Active but made an admin, or active and off the subject: it cannot run it.
      await s.users.update(org.id, teacher.id, { role: 'admin' });
      const cancelled = await s.sessions.cancelUnstaffed(org.id, sess.id, teacher.id, patch);
      expect(cancelled).to.include({ status: 'cancelled', closedBy: 'admin1', teacherId: teacher.id });
      expect(cancelled!.closedAt!.getTime()).to.equal(at(1).getTime());
      expect(await s.sessions.get(org.id, sess.id)).to.deep.equal(cancelled);
      expect(await s.sessions.cancelUnstaffed(org.id, sess.id, teacher.id, patch)).to.equal(null);

      await s.users.update(org.id, teacher.id, { role: 'teacher' });
      const offSubject = await s.sessions.create(org.id, newSession(subject.id, teacher.id, { status: 'scheduled' }));
      expect(await s.sessions.cancelUnstaffed(org.id, offSubject.id, teacher.id, patch)).to.equal(null);
      await s.subjects.update(org.id, subject.id, { teacherIds: [] });
      expect(await s.sessions.cancelUnstaffed(org.id, offSubject.id, teacher.id, patch)).to.include({ status: 'cancelled' });
      // An account gone (never written here), and another organisation's id: the first cancels, the second finds nothing.
      const gone = await s.sessions.create(org.id, newSession(subject.id, 'erased-teacher', { status: 'scheduled' }));
      const elsewhere = await makeOrg(s);
      expect(await s.sessions.cancelUnstaffed(elsewhere.id, gone.id, 'erased-teacher', patch)).to.equal(null);
      expect(await s.sessions.cancelUnstaffed(org.id, gone.id, 'erased-teacher', patch)).to.include({ status: 'cancelled' });
      const open = await s.sessions.create(org.id, newSession(subject.id, 'erased-teacher'));
      expect(await s.sessions.cancelUnstaffed(org.id, open.id, 'erased-teacher', patch)).to.equal(null);
    });

    it("a cancellation writes its meeting edit's mark with it, where it is given; another transition keeps the mark as it is", async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const byEdit = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const mark = '3.0123456789abcdef0123456789abcdef';
      const cancelled = await s.sessions.transition(org.id, byEdit.id, ['scheduled', 'open'], {
        status: 'cancelled',
        closedAt: at(1),
        meetingEdit: mark,
      });
      expect(cancelled).to.include({ status: 'cancelled', meetingEdit: mark });
      expect(await s.sessions.get(org.id, byEdit.id)).to.deep.equal(cancelled);
      const byHand = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const extended = await s.sessions.transition(org.id, byHand.id, ['scheduled', 'open'], { closesAt: at(5) });
      const handCancelled = await s.sessions.transition(org.id, byHand.id, ['scheduled', 'open'], { status: 'cancelled', closedAt: at(1) });
      expect([extended?.meetingEdit, handCancelled?.meetingEdit, (await s.sessions.get(org.id, byHand.id))?.meetingEdit]).to.deep.equal([
        null,
        null,
        null,
      ]);
    });

    it('only one of many concurrent transitions from one status wins', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const results = await Promise.all(
        Array.from({ length: 10 }, () => s.sessions.transition(org.id, sess.id, ['open'], { status: 'closing' })),
      );
      expect(results.filter((r) => r !== null)).to.have.length(1);
    });

    it('listDue finds overdue and stuck sessions whose lease is free or expired, oldest first', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const now = at(0);
      const mk = (status: AttendanceSession['status'], closesIn: number) =>
        s.sessions.create(org.id, newSession(subject.id, 't1', { status, startsAt: at(closesIn - 60), closesAt: at(closesIn) }));
      const overdueOpen = await mk('open', -5);
      const overdueScheduled = await mk('scheduled', -10);
      const dueNow = await mk('open', 0);
      const stuck = await mk('closing', 30);
      await mk('open', 5);
      await mk('scheduled', 120);
      await mk('closed', -30);
      const leased = await mk('open', -20);
      const expired = await mk('open', -15);
      expect(await s.sessions.acquireLease(org.id, leased.id, 'node-a', at(1), at(-1))).to.equal(true);
      expect(await s.sessions.acquireLease(org.id, expired.id, 'node-a', at(-1), at(-2))).to.equal(true);

      const due = await s.sessions.listDue(now, 10);
      expect(due.map((x) => x.id)).to.deep.equal([expired.id, overdueScheduled.id, overdueOpen.id, dueNow.id, stuck.id]);
      expect(due[0]!.leaseOwner).to.equal('node-a');
      expect((await s.sessions.listDue(now, 2)).map((x) => x.id)).to.deep.equal([expired.id, overdueScheduled.id]);
    });

    it('listStarting finds scheduled sessions whose start has passed, oldest start first', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const mk = (status: AttendanceSession['status'], startsIn: number) =>
        s.sessions.create(org.id, newSession(subject.id, 't1', { status, startsAt: at(startsIn), closesAt: at(startsIn + 60) }));
      const late = await mk('scheduled', -5);
      const later = await mk('scheduled', -30);
      const now = await mk('scheduled', 0);
      await mk('scheduled', 5);
      await mk('open', -10);
      await mk('cancelled', -10);
      expect((await s.sessions.listStarting(at(0), 10)).map((x) => x.id)).to.deep.equal([later.id, late.id, now.id]);
      expect((await s.sessions.listStarting(at(0), 1)).map((x) => x.id)).to.deep.equal([later.id]);
    });

    it('nextDueAt is the earliest closesAt of sessions not yet closed', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      expect(await s.sessions.nextDueAt()).to.equal(null);
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'closed', closesAt: at(-100) }));
      expect(await s.sessions.nextDueAt()).to.equal(null);
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'scheduled', closesAt: at(50) }));
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'open', closesAt: new Date(at(20).getTime() + 7) }));
      expect((await s.sessions.nextDueAt())!.getTime()).to.equal(at(20).getTime() + 7);
    });

    it('a lease is exclusive until it expires, renewable by its owner, released only by its owner', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await makeOrg(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      expect(await s.sessions.acquireLease(other.id, sess.id, 'node-x', at(10), at(0))).to.equal(false);
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-a', at(10), at(0))).to.equal(true);
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-b', at(10), at(5))).to.equal(false);
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-a', at(20), at(5))).to.equal(true);
      const held = await s.sessions.get(org.id, sess.id);
      expect(held).to.include({ leaseOwner: 'node-a' });
      expect(held!.leaseUntil!.getTime()).to.equal(at(20).getTime());
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-b', at(30), at(15))).to.equal(false);
      // Expired means strictly before now: at leaseUntil itself the lease still holds.
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-b', at(30), at(20))).to.equal(false);
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-b', at(30), at(21))).to.equal(true);

      await s.sessions.releaseLease(org.id, sess.id, 'node-a');
      expect(await s.sessions.get(org.id, sess.id)).to.include({ leaseOwner: 'node-b' });
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-c', at(40), at(22))).to.equal(false);
      await s.sessions.releaseLease(other.id, sess.id, 'node-b');
      expect(await s.sessions.get(org.id, sess.id)).to.include({ leaseOwner: 'node-b' });
      await s.sessions.releaseLease(org.id, sess.id, 'node-b');
      const freed = await s.sessions.get(org.id, sess.id);
      expect(freed).to.include({ leaseOwner: null, leaseUntil: null });
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-c', at(40), at(22))).to.equal(true);
    });

    it('a lease is renewed only by the owner still holding it, expired or not, never taken back once another took it', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await makeOrg(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      expect(await s.sessions.renewLease(org.id, sess.id, 'node-a', at(10))).to.equal(false);
      expect(await s.sessions.get(org.id, sess.id)).to.include({ leaseOwner: null, leaseUntil: null });
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-a', at(10), at(0))).to.equal(true);
      expect(await s.sessions.renewLease(other.id, sess.id, 'node-a', at(40))).to.equal(false);
      // Expired but not taken: the owner's renewal stands, as the close it fences ran alone.
      expect(await s.sessions.renewLease(org.id, sess.id, 'node-a', at(30))).to.equal(true);
      expect((await s.sessions.get(org.id, sess.id))!.leaseUntil!.getTime()).to.equal(at(30).getTime());
      expect(await s.sessions.acquireLease(org.id, sess.id, 'node-b', at(50), at(31))).to.equal(true);
      expect(await s.sessions.renewLease(org.id, sess.id, 'node-a', at(60))).to.equal(false);
      expect(await s.sessions.get(org.id, sess.id)).to.include({ leaseOwner: 'node-b' });
      await s.sessions.releaseLease(org.id, sess.id, 'node-b');
      // Released by the one who took it over: the first owner's close is not resumed either.
      expect(await s.sessions.renewLease(org.id, sess.id, 'node-a', at(60))).to.equal(false);
      expect(await s.sessions.get(org.id, sess.id)).to.include({ leaseOwner: null, leaseUntil: null });
    });

    it("a session written with a fence is stored only while its leases are the owner's, and extends them", async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const names = ['slots:o:subject:a', 'slots:o:teacher:b'];
      for (const name of names) expect(await s.jobs.claim(name, 'node-a', at(10), at(0), new Date(8.64e15))).to.equal(true);
      const fenced = await s.sessions.create(org.id, newSession(subject.id, 't1'), { names, owner: 'node-a', until: at(40) });
      expect(await s.sessions.get(org.id, fenced.id)).to.not.equal(null);
      // Extended to the fence's `until`: another owner cannot take them at at(20).
      expect(await s.jobs.claim(names[1]!, 'node-b', at(50), at(20), new Date(8.64e15))).to.equal(false);
      expect(await s.jobs.claim(names[1]!, 'node-b', at(50), at(41), new Date(8.64e15))).to.equal(true);
      const err = await s.sessions.create(org.id, newSession(subject.id, 't1'), { names, owner: 'node-a', until: at(60) }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(LeaseLostError);
      expect((await s.sessions.list(org.id, { subjectId: subject.id, limit: 10, offset: 0 })).items.map((x) => x.id)).to.deep.equal([
        fenced.id,
      ]);
    });

    it("a transition with a fence is applied only while its leases are the owner's", async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const names = ['slots:o:subject:t'];
      expect(await s.jobs.claim(names[0]!, 'node-a', at(10), at(0), new Date(8.64e15))).to.equal(true);
      const moved = await s.sessions.transition(org.id, sess.id, ['open'], { closesAt: at(90) }, { names, owner: 'node-a', until: at(40) });
      expect(moved?.closesAt.getTime()).to.equal(at(90).getTime());
      expect(await s.jobs.claim(names[0]!, 'node-b', at(60), at(41), new Date(8.64e15))).to.equal(true);
      const err = await s.sessions
        .transition(org.id, sess.id, ['open'], { closesAt: at(120) }, { names, owner: 'node-a', until: at(70) })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(LeaseLostError);
      expect((await s.sessions.get(org.id, sess.id))?.closesAt.getTime()).to.equal(at(90).getTime());
    });

    it('only one of many concurrent lease attempts wins', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const won = await Promise.all(
        Array.from({ length: 10 }, (_, i) => s.sessions.acquireLease(org.id, sess.id, `node-${i}`, at(10), at(0))),
      );
      expect(won.filter(Boolean)).to.have.length(1);
    });

    it('hides sessions of another organisation', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await makeOrg(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      expect(await s.sessions.get(other.id, sess.id)).to.equal(null);
      expect(await s.sessions.list(other.id, page())).to.deep.equal({ items: [], total: 0 });
      expect(await s.sessions.listActiveForSubjects(other.id, [subject.id])).to.deep.equal([]);
      expect(await s.sessions.listActiveForSubjectsDuring(other.id, [subject.id], sess)).to.deep.equal([]);
      expect(await s.sessions.listActiveForTeacherDuring(other.id, 't1', sess)).to.deep.equal([]);
      expect(await s.sessions.transition(other.id, sess.id, ['open'], { status: 'closed' })).to.equal(null);
      expect(await s.sessions.get(org.id, sess.id)).to.deep.equal(sess);
    });
  });

  describe('records', function () {
    it('listProxyPeers answers only other students sharing the device, the address and browser, or the fix', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const fix = (lat: number, lon: number) => ({ lat, lon, accuracyM: 10, timestamp: at(1) });
      const put = (student: string, extra: Record<string, unknown>) =>
        s.records.insertIfAbsent(org.id, newRecord('sess-p', subject.id, student, { status: 'present', ...extra }));
      await put('me', { deviceId: 'device-me', ip: '10.0.0.1', userAgent: 'Phone/1', location: fix(45, 9) });
      await put('same-device', { deviceId: 'device-me', location: fix(46, 9) });
      await put('same-browser', { ip: '10.0.0.1', userAgent: 'Phone/1', location: fix(47, 9) });
      await put('same-address-only', { ip: '10.0.0.1', userAgent: 'Other/2', location: fix(48, 9) });
      await put('near', { location: fix(45.00001, 9.00001) });
      await put('far', { location: fix(45.01, 9) });
      await s.records.insertIfAbsent(org.id, newRecord('sess-other', subject.id, 'elsewhere', { deviceId: 'device-me' }));
      const probe = {
        studentId: 'me',
        deviceId: 'device-me',
        ip: '10.0.0.1',
        userAgent: 'Phone/1',
        near: { lat: 45, lon: 9, box: 0.0001 },
      };
      const peers = await s.records.listProxyPeers(org.id, 'sess-p', probe);
      expect(peers.map((r) => r.studentId).sort()).to.deep.equal(['near', 'same-browser', 'same-device']);
      const nothing = await s.records.listProxyPeers(org.id, 'sess-p', {
        studentId: 'me',
        deviceId: null,
        ip: null,
        userAgent: null,
        near: null,
      });
      expect(nothing).to.deep.equal([]);
    });

    it('listPeerMarksSince answers every record of the session with its device, address, browser, fix and roster version, and the count', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const other = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const a = await s.records.insertIfAbsent(
        org.id,
        newRecord(sess.id, subject.id, 'a', {
          deviceId: 'dev-a',
          ip: '10.0.0.1',
          userAgent: 'Phone/1',
          location: { lat: 45, lon: 9, accuracyM: 5, timestamp: at(1) },
        }),
      );
      const b = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'b'));
      await s.records.insertIfAbsent(org.id, newRecord(other.id, subject.id, 'c', { deviceId: 'dev-a' }));
      const all = await s.records.listPeerMarksSince(org.id, sess.id, null);
      expect(all.count).to.equal(2);
      expect([...all.marks].sort((x, y) => x.studentId.localeCompare(y.studentId))).to.deep.equal([
        {
          id: a.record.id,
          rosterVersion: a.record.rosterVersion,
          studentId: 'a',
          deviceId: 'dev-a',
          ip: '10.0.0.1',
          userAgent: 'Phone/1',
          location: { lat: 45, lon: 9 },
        },
        {
          id: b.record.id,
          rosterVersion: b.record.rosterVersion,
          studentId: 'b',
          deviceId: null,
          ip: null,
          userAgent: null,
          location: null,
        },
      ]);
      expect(b.record.rosterVersion).to.be.greaterThan(a.record.rosterVersion);
    });

    it('listPeerMarksSince answers at least the changes after a roster version: updates and erasures, and a deletion only in the count', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const a = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'a', { deviceId: 'dev-a' }))).record;
      const b = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'b'))).record;
      const seen = b.rosterVersion;
      // Whatever else a store answers (an overlap), it answers the records as they are now.
      const current = async (after: number) => {
        const r = await s.records.listPeerMarksSince(org.id, sess.id, after);
        return { count: r.count, byId: new Map(r.marks.map((m) => [m.id, m])) };
      };
      const updated = (await s.records.update(org.id, a.id, a.version, { deviceId: 'dev-a2', ip: '10.0.0.9' }))!;
      const c = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'c', { userAgent: 'Phone/3' }))).record;
      let read = await current(seen);
      expect(read.count).to.equal(3);
      expect(read.byId.get(a.id)).to.include({ deviceId: 'dev-a2', ip: '10.0.0.9', rosterVersion: updated.rosterVersion });
      expect(read.byId.get(c.id)).to.include({ studentId: 'c', userAgent: 'Phone/3', rosterVersion: c.rosterVersion });
      expect(updated.rosterVersion).to.be.greaterThan(seen);
      for (const m of read.byId.values()) expect(m.id === b.id ? b.rosterVersion : m.rosterVersion).to.equal(m.rosterVersion);

      const last = Math.max(updated.rosterVersion, c.rosterVersion);
      expect(await s.records.remove(org.id, b.id, b.version)).to.equal(true);
      read = await current(last);
      expect(read.count).to.equal(2);
      expect(read.byId.has(b.id)).to.equal(false);

      // An erasure changes who the record is of and clears what the signals compare: a change like any other.
      await s.privacy.erase({ orgId: org.id, userId: 'a', identifiers: ['a@example.test'] }, 'erased-a');
      read = await current(last);
      expect(read.count).to.equal(2);
      expect(read.byId.get(a.id)).to.include({ studentId: 'erased-a', deviceId: null, ip: null, userAgent: null, location: null });
      expect(read.byId.get(a.id)!.rosterVersion).to.be.greaterThan(last);
    });

    it('listPeerMarkChanges answers several sessions in the order asked, each as listPeerMarksSince would', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const [one, two, empty] = [
        await s.sessions.create(org.id, newSession(subject.id, 't1')),
        await s.sessions.create(org.id, newSession(subject.id, 't1')),
        await s.sessions.create(org.id, newSession(subject.id, 't1')),
      ];
      const a = (await s.records.insertIfAbsent(org.id, newRecord(one!.id, subject.id, 'a', { deviceId: 'dev-a' }))).record;
      const b = (await s.records.insertIfAbsent(org.id, newRecord(one!.id, subject.id, 'b', { ip: '10.0.0.2' }))).record;
      const c = (await s.records.insertIfAbsent(org.id, newRecord(two!.id, subject.id, 'c', { userAgent: 'Phone/3' }))).record;
      const other = await makeOrg(s);
      const wants = [
        { sessionId: two!.id, afterRosterVersion: null },
        { sessionId: empty!.id, afterRosterVersion: null },
        { sessionId: one!.id, afterRosterVersion: a.rosterVersion },
      ];
      // Asked without unlessRosterVersion: every answer has its changes.
      const got = (await s.records.listPeerMarkChanges(org.id, wants)).map((r) => {
        if ('unchanged' in r) throw new Error('answered unchanged though not asked');
        return r;
      });
      const alone = await Promise.all(wants.map((w) => s.records.listPeerMarksSince(org.id, w.sessionId, w.afterRosterVersion)));
      const ids = (r: { marks: { id: string }[] }) => r.marks.map((m) => m.id).sort();
      expect(got.map((r) => r.count)).to.deep.equal([1, 0, 2]);
      expect(got.map(ids)).to.deep.equal(alone.map(ids));
      expect(ids(got[0]!)).to.deep.equal([c.id]);
      // At least the changes after a's version: b (a store may answer more, as MongoDB's overlap).
      expect(ids(got[2]!)).to.include(b.id);
      expect(got[2]!.marks.find((m) => m.id === b.id)).to.deep.equal({
        id: b.id,
        rosterVersion: b.rosterVersion,
        studentId: 'b',
        deviceId: null,
        ip: '10.0.0.2',
        userAgent: null,
        location: null,
      });
      expect(await s.records.listPeerMarkChanges(other.id, wants)).to.deep.equal(wants.map(() => ({ count: 0, marks: [] })));
      expect(await s.records.listPeerMarkChanges(org.id, [])).to.deep.equal([]);
    });

    it('listPeerMarkChanges may answer unchanged while the session is at the version the caller holds, never once it moved', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const a = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'a', { deviceId: 'dev-a' }))).record;
      const at = (v: number) => [{ sessionId: sess.id, afterRosterVersion: v, unlessRosterVersion: v }];
      const [same] = await s.records.listPeerMarkChanges(org.id, at(a.rosterVersion));
      // SQLite answers from the session's version; MongoDB reads (its versions are stamped after the write).
      if (s.kind === 'sqlite') expect(same).to.deep.equal({ unchanged: true });
      else expect(same).to.have.property('count', 1);
      // Another organisation's caller naming the session learns nothing of it.
      const other = await makeOrg(s);
      expect(await s.records.listPeerMarkChanges(other.id, at(a.rosterVersion))).to.deep.equal([{ count: 0, marks: [] }]);
      const b = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'b', { ip: '10.0.0.2' }))).record;
      const [moved] = await s.records.listPeerMarkChanges(org.id, at(a.rosterVersion));
      if (!moved || 'unchanged' in moved) throw new Error('a session whose version moved was answered unchanged');
      expect(moved.count).to.equal(2);
      expect(moved.marks.map((m) => m.id)).to.include(b.id);
    });

    it('writeBatch writes in order with an audit entry each; a second insert of one key in the batch is not written', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['st0', 'st1']);
      const existing = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, st.st0, { status: 'rejected', attempts: 1 })))
        .record;
      const audit = (action: AuditAction) => ({ actorId: null, action, reason: null, ip: null });
      const results = await s.records.writeBatch([
        {
          kind: 'insert',
          orgId: org.id,
          input: newRecord(sess.id, subject.id, st.st1, { status: 'present', attempts: 1 }),
          audit: audit('checkin.submit'),
        },
        {
          kind: 'insert',
          orgId: org.id,
          input: newRecord(sess.id, subject.id, st.st1, { status: 'late', attempts: 1 }),
          audit: audit('record.mark'),
        },
        {
          kind: 'update',
          orgId: org.id,
          id: existing.id,
          expectedVersion: existing.version,
          patch: { status: 'present', attempts: 2 },
          audit: audit('checkin.retry'),
        },
        {
          kind: 'update',
          orgId: org.id,
          id: existing.id,
          expectedVersion: existing.version,
          patch: { status: 'late' },
          audit: audit('record.correct'),
        },
      ]);
      const [first, second, retry, stale] = results.map(
        (r) => r as { written: boolean; record: { id: string; status: string; version: number } | null },
      );
      expect(first).to.deep.include({ written: true });
      expect(first!.record).to.include({ status: 'present' });
      expect(second).to.deep.include({ written: false });
      expect(second!.record).to.include({ id: first!.record!.id, status: 'present' });
      expect(retry).to.deep.include({ written: true });
      expect(retry!.record).to.include({ status: 'present', version: 2 });
      expect(stale).to.deep.include({ written: false });
      expect(stale!.record).to.include({ id: existing.id, version: 2, status: 'present' });
      const stored = await s.records.listBySession(org.id, sess.id);
      expect(stored.map((r) => `${r.studentId}:${r.status}`).sort()).to.deep.equal([`${st.st0}:present`, `${st.st1}:present`].sort());
      const trail = (await s.audit.listForSession(org.id, sess.id)).map((e) => e.action).sort();
      expect(trail).to.deep.equal(['checkin.retry', 'checkin.submit']);
      expect((await s.sessions.get(org.id, sess.id))!.rosterVersion).to.equal(3);
    });

    // The audit readers a check-in's entry must reach (docs/multi-node.md, "Load": a record that
    // carried its own audit fact, or an index narrowed to leave check-ins out, must keep this).
    it("a batched check-in's audit entry reaches every audit reader, still after its record is removed", async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['ada', 'bob']);
      const checkin = (student: string, ip: string) => ({
        kind: 'insert' as const,
        orgId: org.id,
        input: newRecord(sess.id, subject.id, student, { status: 'present', attempts: 1 }),
        audit: { actorId: student, action: 'checkin.submit' as const, reason: null, ip },
      });
      const [ada] = await s.records.writeBatch([checkin(st.ada, '192.0.2.7'), checkin(st.bob, '192.0.2.8')]);
      const record = (ada as { written: true; record: { id: string; version: number } }).record;
      const [entry, ...more] = await s.audit.listForEntity(org.id, 'record', record.id);
      expect(more).to.deep.equal([]);
      expect(entry).to.deep.include({
        orgId: org.id,
        entityType: 'record',
        entityId: record.id,
        sessionId: sess.id,
        actorId: st.ada,
        action: 'checkin.submit',
        from: null,
        reason: null,
        ip: '192.0.2.7',
      });
      expect(entry!.to).to.deep.include({ status: 'present', version: 1 });
      const ids = (entries: readonly { id: string }[]) => entries.map((e) => e.id);
      const readers = async () => ({
        forEntity: ids(await s.audit.listForEntity(org.id, 'record', record.id)),
        forSession: ids(await s.audit.listForSession(org.id, sess.id)).filter((id) => id === entry!.id),
        whole: ids((await s.reports.audit(org.id, { actions: ['checkin.submit'], ...page() })).items).filter((id) => id === entry!.id),
        byActor: ids((await s.reports.audit(org.id, { actorId: st.ada, ...page() })).items),
        byActorTotal: (await s.reports.audit(org.id, { actorId: st.ada, ...page() })).total,
        byActorAction: ids((await s.reports.audit(org.id, { actorId: st.ada, actions: ['checkin.submit'], ...page() })).items),
        bySession: ids((await s.reports.audit(org.id, { sessionId: sess.id, ...page() })).items).filter((id) => id === entry!.id),
        byEntity: ids((await s.reports.audit(org.id, { entityType: 'record', entityId: record.id, ...page() })).items),
        about: ids(await s.privacy.auditAbout({ orgId: org.id, userId: st.ada, identifiers: [] })),
      });
      const everywhere = {
        forEntity: [entry!.id],
        forSession: [entry!.id],
        whole: [entry!.id],
        byActor: [entry!.id],
        byActorTotal: 1,
        byActorAction: [entry!.id],
        bySession: [entry!.id],
        byEntity: [entry!.id],
        about: [entry!.id],
      };
      expect(await readers()).to.deep.equal(everywhere);
      // A record removed keeps its trail: who checked in, and when, is still the student's act.
      expect(await s.records.remove(org.id, record.id, record.version)).to.equal(true);
      expect(await readers()).to.deep.equal(everywhere);
    });

    // SQLite reaches a student's check-in entries through their records, not audit_actor
    // (migration 31): the page by actor must still list them among the student's other entries,
    // in the trail's order, under every filter, and keep them once the record is gone.
    it("the audit pages by actor and by session have their check-ins among their other entries in time order, under every filter, after the record's removal and the erasure", async function () {
      this.timeout(60_000);
      // The check-ins' times are the store clock's: set here, so that entries fall between them.
      let clock = T0;
      const opened = await ctx.open(() => new Date(clock));
      try {
        const s = opened.store;
        const { org, subject } = await setup(s);
        const s1 = await s.sessions.create(org.id, newSession(subject.id, 't1'));
        const s2 = await s.sessions.create(org.id, newSession(subject.id, 't1'));
        const st = await studentsOf(s, org.id, ['ada', 'bob', 'tea']);
        const checkin = (sessionId: string, student: string) => ({
          kind: 'insert' as const,
          orgId: org.id,
          input: newRecord(sessionId, subject.id, student, { status: 'present', attempts: 1 }),
          audit: { actorId: student, action: 'checkin.submit' as const, reason: null, ip: null },
        });
        type Written = { written: true; record: { id: string; version: number } };
        const e1 = T0 + 60_000;
        const e2 = T0 + 120_000;
        const append = (actorId: string, action: AuditAction, entity: [AuditEntityType, string], sessionId: string | null, ms: number) =>
          s.audit.append({
            orgId: org.id,
            entityType: entity[0],
            entityId: entity[1],
            sessionId,
            actorId,
            action,
            from: null,
            to: null,
            reason: null,
            ip: null,
            at: new Date(ms),
          });
        // In the first check-in's millisecond, before it: the order entries were written.
        await append(st.ada, 'user.update', ['user', st.ada], null, e1);
        clock = e1;
        // The third: a check-in entry whose actor is not the record's student (the store takes it).
        const [ada1, bob1] = (await s.records.writeBatch([
          checkin(s1.id, st.ada),
          checkin(s1.id, st.bob),
          { ...checkin(s2.id, st.bob), audit: { ...checkin(s2.id, st.bob).audit, actorId: st.tea } },
        ])) as Written[];
        clock = e2;
        const [ada2] = (await s.records.writeBatch([checkin(s2.id, st.ada)])) as Written[];
        const r1 = ada1!.record;
        const r2 = ada2!.record;
        const submitted = async (recordId: string) =>
          (await s.audit.listForEntity(org.id, 'record', recordId)).find((e) => e.action === 'checkin.submit')!;
        expect([(await submitted(r1.id)).at.getTime(), (await submitted(r2.id)).at.getTime()]).to.deep.equal([e1, e2]);
        await append(st.ada, 'user.update', ['user', st.ada], null, e1 - 60_000);
        // In the check-in's millisecond: after it, by the order entries were written.
        await append(st.ada, 'user.update', ['user', st.ada], null, e1);
        await append(st.ada, 'checkin.retry', ['record', r1.id], s1.id, e1 + 1);
        // A check-in entry whose record this store never had (a trail imported without it).
        await append(st.ada, 'checkin.submit', ['record', 'no-such-record'], s2.id, e1 + 2);
        await append(st.tea, 'record.correct', ['record', r1.id], s1.id, e1 + 3);
        await append(st.tea, 'session.open', ['session', s2.id], s2.id, e2);
        await append(st.ada, 'checkin.retry', ['record', r2.id], s2.id, e2 + 5);
        // A check-in entry of the student's record of another session (imported so): in its own session's trail.
        await append(st.ada, 'checkin.submit', ['record', r1.id], s2.id, e2 + 1);
        await append(st.bob, 'user.update', ['user', st.bob], null, e2 + 6);

        type Filter = Omit<AuditFilter, 'limit' | 'offset' | 'actorId'>;
        const matches = (e: AuditEntry, f: Filter) =>
          (f.entityType === undefined || e.entityType === f.entityType) &&
          (f.entityId === undefined || e.entityId === f.entityId) &&
          (f.sessionId === undefined || e.sessionId === f.sessionId) &&
          (f.actions === undefined || f.actions.includes(e.action)) &&
          (f.from === undefined || e.at.getTime() >= f.from.getTime()) &&
          (f.before === undefined || e.at.getTime() < f.before.getTime());
        const selectors: Filter[] = [
          {},
          { sessionId: s1.id },
          { sessionId: s2.id },
          { entityType: 'record', entityId: r1.id },
          { entityType: 'user', entityId: st.ada },
        ];
        const actionSets: Filter[] = [
          {},
          { actions: ['checkin.submit'] },
          { actions: ['checkin.submit', 'user.update'] },
          { actions: ['user.update', 'record.correct'] },
        ];
        const windows: Filter[] = [
          {},
          { from: new Date(e1) },
          { before: new Date(e2) },
          { from: new Date(e1 + 1), before: new Date(e2 + 6) },
        ];
        // The organisation's whole trail (read without an actor) filtered here is what each page must be.
        const checkPages = async (actors: readonly string[]) => {
          const whole = (await s.reports.audit(org.id, page(1000))).items;
          // By session alone (the actor's selectors hold a session each): the page and a session's trail.
          for (const sessionId of [s1.id, s2.id]) {
            const trail = whole.filter((e) => e.sessionId === sessionId).map((e) => e.id);
            expect((await s.audit.listForSession(org.id, sessionId)).map((e) => e.id)).to.deep.equal(trail);
            for (const sel of [{}, { entityType: 'record' as const, entityId: r1.id }])
              for (const acts of actionSets)
                for (const win of windows) {
                  const f = { sessionId, ...sel, ...acts, ...win };
                  const want = whole.filter((e) => matches(e, f)).map((e) => e.id);
                  const label = JSON.stringify(f);
                  const all = await s.reports.audit(org.id, { ...f, ...page(1000) });
                  expect(
                    all.items.map((e) => e.id),
                    label,
                  ).to.deep.equal(want);
                  expect(all.total, label).to.equal(want.length);
                  const mid = await s.reports.audit(org.id, { ...f, ...page(2, 1) });
                  expect(
                    mid.items.map((e) => e.id),
                    label,
                  ).to.deep.equal(want.slice(1, 3));
                  if (want.length >= 3) expect(mid.total, label).to.equal(want.length);
                }
          }
          for (const actorId of actors)
            for (const sel of selectors)
              for (const acts of actionSets)
                for (const win of windows) {
                  const f = { ...sel, ...acts, ...win };
                  const want = whole.filter((e) => e.actorId === actorId && matches(e, f)).map((e) => e.id);
                  const label = JSON.stringify({ actorId, ...f });
                  const all = await s.reports.audit(org.id, { actorId, ...f, ...page(1000) });
                  expect(
                    all.items.map((e) => e.id),
                    label,
                  ).to.deep.equal(want);
                  expect(all.total, label).to.equal(want.length);
                  // A page in the middle: the offset and the count (the page is full) over both parts.
                  const mid = await s.reports.audit(org.id, { actorId, ...f, ...page(2, 1) });
                  expect(
                    mid.items.map((e) => e.id),
                    label,
                  ).to.deep.equal(want.slice(1, 3));
                  if (want.length >= 3) expect(mid.total, label).to.equal(want.length);
                }
        };
        const actionsOf = async (actorId: string) => (await s.reports.audit(org.id, { actorId, ...page() })).items.map((e) => e.action);
        const adaTrail = [
          'user.update',
          'user.update',
          'checkin.submit',
          'user.update',
          'checkin.retry',
          'checkin.submit',
          'checkin.submit',
          'checkin.submit',
          'checkin.retry',
        ];
        expect(await actionsOf(st.ada)).to.deep.equal(adaTrail);
        expect(await actionsOf(st.tea)).to.deep.equal(['checkin.submit', 'record.correct', 'session.open']);
        await checkPages([st.ada, st.tea, st.bob]);

        expect(await s.records.remove(org.id, r1.id, r1.version)).to.equal(true);
        expect(await actionsOf(st.ada)).to.deep.equal(adaTrail);
        await checkPages([st.ada, st.tea]);

        const tombstone = `erased-${st.bob}`;
        await s.privacy.erase({ orgId: org.id, userId: st.bob, identifiers: [] }, tombstone);
        expect(await actionsOf(tombstone)).to.deep.equal(['checkin.submit', 'user.update']);
        expect((await s.reports.audit(org.id, { actorId: tombstone, ...page() })).items[0]!.entityId).to.equal(bob1!.record.id);
        await checkPages([tombstone]);
      } finally {
        await opened.cleanup();
      }
    });

    it("a check-in's entry stays on its student's audit page when an import rewrites its record's student, or the entry's actor", async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['ada', 'bob', 'cy']);
      const checkin = (student: string) => ({
        kind: 'insert' as const,
        orgId: org.id,
        input: newRecord(sess.id, subject.id, student, { status: 'present', attempts: 1 }),
        audit: { actorId: student, action: 'checkin.submit' as const, reason: null, ip: null },
      });
      const [ada, cy] = (await s.records.writeBatch([checkin(st.ada), checkin(st.cy)])) as { written: true; record: { id: string } }[];
      const entryOf = async (recordId: string) => (await s.audit.listForEntity(org.id, 'record', recordId))[0]!;
      const adaEntry = await entryOf(ada!.record.id);
      const cyEntry = await entryOf(cy!.record.id);
      const byActor = async (actorId: string) => (await s.reports.audit(org.id, { actorId, ...page() })).items.map((e) => e.id);
      // The record now another student's: the entry is still the act of the one who checked in.
      const record = (await s.records.get(org.id, ada!.record.id))!;
      await s.transfer.import('records', [{ ...record, studentId: st.bob }]);
      expect(await byActor(st.ada)).to.deep.equal([adaEntry.id]);
      expect(await byActor(st.bob)).to.deep.equal([]);
      // The entry now another user's act, its record unchanged.
      await s.transfer.import('audit', [{ ...cyEntry, actorId: st.bob }]);
      expect(await byActor(st.bob)).to.deep.equal([cyEntry.id]);
      expect(await byActor(st.cy)).to.deep.equal([]);
    });

    it('writeBatch over several sessions gives each session gapless roster versions in write order; a write refused alone takes none', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await makeOrg(s);
      const a = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const b = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['before', 'taken', 'a1', 'a2', 'a3', 'b1', 'b2']);
      // Earlier changes of session a: the batch continues its counter.
      await s.records.insertIfAbsent(org.id, newRecord(a.id, subject.id, st.before));
      // A key of session b held in another organisation: that insert is refused, alone.
      await s.records.insertIfAbsent(other.id, newRecord(b.id, subject.id, st.taken));
      const bFrom = (await s.sessions.get(org.id, b.id))!.rosterVersion;
      const audit = { actorId: null, action: 'checkin.submit' as const, reason: null, ip: null };
      const order = [
        [a.id, 'a1'],
        [b.id, 'b1'],
        [b.id, 'taken'],
        [a.id, 'a2'],
        [b.id, 'b2'],
        [a.id, 'a3'],
      ] as const;
      const results = await s.records.writeBatch(
        order.map(([sessionId, student]) => ({
          kind: 'insert' as const,
          orgId: org.id,
          input: newRecord(sessionId, subject.id, st[student], { status: 'present', attempts: 1 }),
          audit,
        })),
      );
      expect(results[2]).to.have.property('error').that.is.instanceOf(StoreConflictError);
      const versionOf = (i: number) => (results[i] as { written: true; record: { rosterVersion: number } }).record.rosterVersion;
      for (const i of [0, 1, 3, 4, 5]) expect(results[i], order[i]![1]).to.deep.include({ written: true });
      expect([versionOf(0), versionOf(3), versionOf(5)], 'session a').to.deep.equal([2, 3, 4]);
      expect([versionOf(1), versionOf(4)], 'session b').to.deep.equal([bFrom + 1, bFrom + 2]);
      expect((await s.sessions.get(org.id, a.id))!.rosterVersion).to.equal(4);
      expect((await s.sessions.get(org.id, b.id))!.rosterVersion).to.equal(bFrom + 2);
      const stored = await s.records.listBySession(org.id, b.id);
      expect(stored.map((r) => [r.studentId, r.rosterVersion])).to.have.deep.members([
        [st.b1, bFrom + 1],
        [st.b2, bFrom + 2],
      ]);
      expect(await s.audit.listForSession(org.id, a.id)).to.have.length(3);
      expect(await s.audit.listForSession(org.id, b.id)).to.have.length(2);
    });

    it('concurrent writeBatch calls inserting one key store it once; the others are answered with the stored record', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['racer', 'own0', 'own1', 'own2', 'own3', 'own4', 'own5', 'own6', 'own7']);
      const audit = { actorId: null, action: 'checkin.submit' as const, reason: null, ip: null };
      const batches = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.records.writeBatch([
            { kind: 'insert', orgId: org.id, input: newRecord(sess.id, subject.id, st.racer, { status: 'present', attempts: 1 }), audit },
            {
              kind: 'insert',
              orgId: org.id,
              input: newRecord(sess.id, subject.id, st[`own${i}` as keyof typeof st], { status: 'present', attempts: 1 }),
              audit,
            },
          ]),
        ),
      );
      const racers = batches.map((b) => b[0] as { written: boolean; record: { id: string } | null; error?: unknown });
      expect(
        racers.filter((r) => r.written),
        'one batch wrote the shared key',
      ).to.have.length(1);
      expect(
        racers.every((r) => !('error' in r)),
        'a lost race is not an error',
      ).to.equal(true);
      expect(new Set(racers.map((r) => r.record!.id)).size).to.equal(1);
      expect(
        batches.every((b) => (b[1] as { written: boolean }).written),
        "each batch's own key written",
      ).to.equal(true);
      const stored = await s.records.listBySession(org.id, sess.id);
      expect(stored).to.have.length(9);
      expect(await s.audit.listForSession(org.id, sess.id)).to.have.length(9);
      expect(new Set(stored.map((r) => r.rosterVersion)).size, 'distinct roster versions').to.equal(9);
      expect((await s.sessions.get(org.id, sess.id))!.rosterVersion).to.equal(9);
    });

    it('writeBatch refuses an insert whose student is not a user of the organisation (erased meanwhile), alone', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await makeOrg(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['kept']);
      const foreign = await studentsOf(s, other.id, ['elsewhere']);
      const audit = { actorId: null, action: 'checkin.submit' as const, reason: null, ip: '10.1.2.3' };
      const results = await s.records.writeBatch(
        [st.kept, 'erased-before-the-batch', foreign.elsewhere].map((studentId) => ({
          kind: 'insert' as const,
          orgId: org.id,
          input: newRecord(sess.id, subject.id, studentId, { status: 'present', attempts: 1, ip: '10.1.2.3' }),
          audit,
        })),
      );
      expect(results[0]).to.deep.include({ written: true });
      expect(results.slice(1)).to.deep.equal([
        { written: false, record: null },
        { written: false, record: null },
      ]);
      expect((await s.records.listBySession(org.id, sess.id)).map((r) => r.studentId)).to.deep.equal([st.kept]);
      expect(await s.audit.listForSession(org.id, sess.id)).to.have.length(1);
    });

    it('writeBatch refuses a write by a user already gone (a teacher erased), alone, changing no version', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['checked', 'marked', 'other', 'teacher']);
      const checkin = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, st.checked, { status: 'pending' }))).record;
      const rosterBefore = (await s.sessions.get(org.id, sess.id))!.rosterVersion;
      const at = new Date(T0 + 60_000);
      const byGone = { actorId: 'erased-teacher', action: 'record.mark' as const, reason: null, ip: null };
      const byTeacher = { ...byGone, actorId: st.teacher };
      const results = await s.records.writeBatch([
        {
          kind: 'update',
          orgId: org.id,
          id: checkin.id,
          expectedVersion: checkin.version,
          patch: { status: 'present', reason: 'MARKED_BY_TEACHER', decidedAt: at, decidedBy: 'erased-teacher' },
          audit: byGone,
        },
        {
          kind: 'insert',
          orgId: org.id,
          input: newRecord(sess.id, subject.id, st.marked, { status: 'present', decidedAt: at, decidedBy: 'erased-teacher' }),
          audit: byGone,
        },
        {
          kind: 'insert',
          orgId: org.id,
          input: newRecord(sess.id, subject.id, st.other, { status: 'absent', decidedBy: st.teacher }),
          audit: byTeacher,
        },
      ]);
      expect(results.slice(0, 2).map((r) => ('error' in r ? (r.error as { actorId?: string }).actorId : r))).to.deep.equal([
        'erased-teacher',
        'erased-teacher',
      ]);
      expect(results[2]).to.deep.include({ written: true });
      // The check-in as it was, at its version; the session's roster moved once, for the one written.
      expect(await s.records.get(org.id, checkin.id)).to.deep.equal(checkin);
      expect((await s.sessions.get(org.id, sess.id))!.rosterVersion).to.equal(rosterBefore + 1);
      expect((await s.records.listBySession(org.id, sess.id)).map((r) => r.studentId).sort()).to.deep.equal([st.checked, st.other].sort());
      expect((await s.audit.listForSession(org.id, sess.id)).map((e) => e.actorId)).to.deep.equal([st.teacher]);
    });

    it('writeBatch refuses an insert whose actor and student are both gone for its actor, as ACCOUNT_DISABLED comes before NOT_ENROLLED', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const st = await studentsOf(s, org.id, ['kept', 'teacher']);
      const at = new Date(T0 + 60_000);
      const mark = (studentId: string, actorId: string) => ({
        kind: 'insert' as const,
        orgId: org.id,
        input: newRecord(sess.id, subject.id, studentId, { status: 'present' as const, decidedAt: at, decidedBy: actorId }),
        audit: { actorId, action: 'record.mark' as const, reason: null, ip: null },
      });
      const results = await s.records.writeBatch([mark('erased-student', 'erased-teacher'), mark(st.kept, st.teacher)]);
      expect('error' in results[0]! && results[0].error)
        .to.be.instanceOf(ActorGoneError)
        .and.to.include({ actorId: 'erased-teacher' });
      expect(results[1]).to.deep.include({ written: true });
      expect((await s.records.listBySession(org.id, sess.id)).map((r) => r.studentId)).to.deep.equal([st.kept]);
      expect((await s.audit.listForSession(org.id, sess.id)).map((e) => e.actorId)).to.deep.equal([st.teacher]);
    });

    it('insertIfAbsent creates once and then returns the existing record untouched', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const first = await s.records.insertIfAbsent(org.id, newRecord('sess-1', subject.id, 'st1', { status: 'present', attempts: 1 }));
      expect(first.created).to.equal(true);
      expect(first.record).to.include({ orgId: org.id, status: 'present', version: 1, attempts: 1 });
      const again = await s.records.insertIfAbsent(org.id, newRecord('sess-1', subject.id, 'st1', { status: 'rejected' }));
      expect(again.created).to.equal(false);
      expect(again.record).to.deep.equal(first.record);
      expect(await s.records.get(org.id, first.record.id)).to.deep.equal(first.record);
    });

    it('20 concurrent insertIfAbsent calls for one student create exactly one record', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.records.insertIfAbsent(org.id, newRecord('sess-1', subject.id, 'st1', { attempts: i }))),
      );
      expect(results.filter((r) => r.created)).to.have.length(1);
      expect(new Set(results.map((r) => r.record.id)).size).to.equal(1);
      expect(await s.records.listBySession(org.id, 'sess-1')).to.have.length(1);
    });

    it('round-trips nested dates and JSON fields', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const input = newRecord('sess-1', subject.id, 'st1', {
        status: 'late',
        reason: 'LATE',
        flags: ['GEOFENCE_IMPRECISE', 'LATE'],
        distanceM: 12.375,
        location: { lat: -33.8688, lon: 151.2093, accuracyM: 8.5, timestamp: new Date(T0 + 999) },
        ip: '2001:db8::1',
        attempts: 2,
        submittedAt: new Date(T0 + 1),
        decidedAt: new Date(T0 + 2),
        decidedBy: 'teacher-1',
        note: 'ok',
        verification: {
          state: 'done',
          band: 'uncertain',
          distance: 0.4321,
          flags: ['FACE_UNCERTAIN'],
          reason: null,
          completedAt: new Date(T0 + 3),
        },
      });
      const { record } = await s.records.insertIfAbsent(org.id, input);
      expect(record).to.deep.include(input);
      const got = await s.records.get(org.id, record.id);
      expect(got).to.deep.equal(record);
      expect(got!.location!.timestamp).to.be.instanceOf(Date);
      expect(got!.verification!.completedAt!.getTime()).to.equal(T0 + 3);
    });

    it('gets by id and by (session, student); lists by session and sessions', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const a = (await s.records.insertIfAbsent(org.id, newRecord('s1', subject.id, 'st1'))).record;
      const b = (await s.records.insertIfAbsent(org.id, newRecord('s1', subject.id, 'st2'))).record;
      const c = (await s.records.insertIfAbsent(org.id, newRecord('s2', subject.id, 'st1'))).record;
      await s.records.insertIfAbsent(org.id, newRecord('s3', subject.id, 'st1'));
      expect(await s.records.getForStudent(org.id, 's1', 'st2')).to.deep.equal(b);
      expect(await s.records.getForStudent(org.id, 's2', 'st2')).to.equal(null);
      const forStudents = await s.records.getForStudents(org.id, 's1', ['st2', 'nobody', 'st1']);
      expect(forStudents.map((r) => r.id).sort()).to.deep.equal([a.id, b.id].sort());
      expect(forStudents.find((r) => r.id === b.id)).to.deep.equal(b);
      expect(await s.records.getForStudents(org.id, 's2', ['st2'])).to.deep.equal([]);
      expect(await s.records.getForStudents(org.id, 's1', [])).to.deep.equal([]);
      // Across sessions, by (session, student): st2 has none in s2, st1 one in each of s1 and s2.
      const forKeys = await s.records.getForSessionStudents(org.id, [
        { sessionId: 's1', studentId: 'st1' },
        { sessionId: 's2', studentId: 'st2' },
        { sessionId: 's2', studentId: 'st1' },
        { sessionId: 'nope', studentId: 'st1' },
      ]);
      expect(forKeys.map((r) => r.id).sort()).to.deep.equal([a.id, c.id].sort());
      expect(forKeys.find((r) => r.id === c.id)).to.deep.equal(c);
      expect(await s.records.getForSessionStudents(org.id, [])).to.deep.equal([]);
      expect(await s.records.get(org.id, 'missing')).to.equal(null);
      const bySession = await s.records.listBySession(org.id, 's1');
      expect(bySession.map((r) => r.id).sort()).to.deep.equal([a.id, b.id].sort());
      const bySessions = await s.records.listBySessions(org.id, ['s1', 's2', 'nope']);
      expect(bySessions.map((r) => r.id).sort()).to.deep.equal([a.id, b.id, c.id].sort());
      expect(await s.records.listBySessions(org.id, [])).to.deep.equal([]);
      expect(await s.records.listBySession(org.id, 'nope')).to.deep.equal([]);
    });

    it('listQueuedVerifications finds pending records whose selfie is still queued, in recent sessions, oldest submission first', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      // Submissions years before any other test's, so that only this test's records are old enough.
      const sub = (minutes: number) => new Date(Date.UTC(2001, 0, 1, 9) + minutes * 60_000);
      const queued = { state: 'queued' as const, band: null, distance: null, flags: [], reason: null, completedAt: null };
      const failed = { ...queued, state: 'failed' as const, completedAt: sub(5) };
      const session = (status: AttendanceSession['status'], closesAt: Date) =>
        s.sessions.create(org.id, newSession(subject.id, 't1', { status, closesAt }));
      const open = await session('open', at(60));
      const recent = await session('closed', at(0));
      const old = await session('closed', at(-1));
      const cancelled = await session('cancelled', at(60));
      const put = async (sessionId: string, studentId: string, overrides: object) =>
        (await s.records.insertIfAbsent(org.id, newRecord(sessionId, subject.id, studentId, { verification: queued, ...overrides })))
          .record;
      const inOpen = await put(open.id, 'st1', { submittedAt: sub(2) });
      await put(open.id, 'st2', { submittedAt: sub(10) });
      await put(open.id, 'st3', { submittedAt: sub(1), verification: failed });
      await put(open.id, 'st4', { submittedAt: sub(1), status: 'present' });
      await put(open.id, 'st5', { submittedAt: sub(1), verification: null });
      const inRecent = await put(recent.id, 'st1', { submittedAt: sub(1) });
      await put(old.id, 'st1', { submittedAt: sub(1) });
      await put(cancelled.id, 'st1', { submittedAt: sub(1) });
      // Queued longer ago, in sessions out of range (left for the teacher's review): they come
      // first in submission order and must not fill a batch of their own.
      await put(old.id, 'st2', { submittedAt: sub(0) });
      await put(cancelled.id, 'st2', { submittedAt: sub(0) });

      const range = { submittedBefore: sub(10), sessionsClosingFrom: at(0) };
      const found = await s.records.listQueuedVerifications(range, 10);
      expect(found.map((r) => r.id)).to.deep.equal([inRecent.id, inOpen.id]);
      expect(found[1]).to.deep.equal(inOpen);
      expect((await s.records.listQueuedVerifications(range, 1)).map((r) => r.id)).to.deep.equal([inRecent.id]);
      expect((await s.records.listQueuedVerifications(range, 2)).map((r) => r.id)).to.deep.equal([inRecent.id, inOpen.id]);
      expect(await s.records.listQueuedVerifications({ ...range, submittedBefore: sub(1) }, 10)).to.deep.equal([]);
    });

    it('listByStudent pages newest session first with a total, whatever order the records were written in', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const day = 24 * 60 * 60_000;
      const sessions = [];
      for (let i = 0; i < 5; i++) sessions.push(await s.sessions.create(org.id, newSession(subject.id, 't1', { startsAt: at(i * day) })));
      // Newest session first in write order, the oldest written last: a teacher's late mark.
      const made = [];
      for (const sess of [...sessions].reverse())
        made.push((await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'))).record);
      const oldest = made[4]!;
      // A correction of the oldest record, written after every other one.
      expect(await s.records.update(org.id, oldest.id, oldest.version, { status: 'excused', note: 'late correction' })).to.not.equal(null);
      await s.records.insertIfAbsent(org.id, newRecord(sessions[0]!.id, subject.id, 'st2'));
      const p1 = await s.records.listByStudent(org.id, 'st1', page(2, 0));
      const p2 = await s.records.listByStudent(org.id, 'st1', page(2, 2));
      const p3 = await s.records.listByStudent(org.id, 'st1', page(2, 4));
      expect([p1.total, p2.total, p3.total]).to.deep.equal([5, 5, 5]);
      expect([...p1.items, ...p2.items, ...p3.items].map((r) => r.sessionId)).to.deep.equal(sessions.map((x) => x.id).reverse());
    });

    it('listByStudent breaks a tie of starts by record id and puts a record whose session is gone last', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const same = [];
      for (let i = 0; i < 3; i++) same.push(await s.sessions.create(org.id, newSession(subject.id, 't1', { startsAt: at(0) })));
      const older = await s.sessions.create(org.id, newSession(subject.id, 't1', { startsAt: at(-60) }));
      // Written in neither order: the tied ones first, the one of an older session last.
      const tied = [];
      for (const sess of same) tied.push((await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'))).record);
      const orphan = (await s.records.insertIfAbsent(org.id, newRecord('gone', subject.id, 'st1'))).record;
      const older1 = (await s.records.insertIfAbsent(org.id, newRecord(older.id, subject.id, 'st1'))).record;
      const tiedNewestIdFirst = tied.map((r) => r.id).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      const pages = [];
      for (let offset = 0; offset < 5; offset += 2) pages.push(...(await s.records.listByStudent(org.id, 'st1', page(2, offset))).items);
      expect(pages.map((r) => r.id)).to.deep.equal([...tiedNewestIdFirst, older1.id, orphan.id]);
    });

    it('listByStudent follows a session whose start is moved, fenced or not, over a page boundary', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const day = 24 * 60 * 60_000;
      const sessions = [];
      for (let i = 0; i < 4; i++) {
        sessions.push(await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'scheduled', startsAt: at(i * day) })));
      }
      for (const sess of sessions) await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'));
      const order = async () => {
        const pages = [];
        for (let offset = 0; offset < 4; offset += 3) pages.push(...(await s.records.listByStudent(org.id, 'st1', page(3, offset))).items);
        return pages.map((r) => r.sessionId);
      };
      const [s0, s1, s2, s3] = sessions.map((x) => x.id) as [string, string, string, string];
      expect(await order()).to.deep.equal([s3, s2, s1, s0]);
      // The oldest moved past the newest: first now, from the first page's top.
      const moved = await s.sessions.transition(org.id, s0, ['scheduled'], { startsAt: at(10 * day) });
      expect(moved?.startsAt.getTime()).to.equal(at(10 * day).getTime());
      expect(await order()).to.deep.equal([s0, s3, s2, s1]);
      // A timetable edit's move is fenced by its slot locks: the newest moved to the end.
      const names = ['slots:o:subject:history'];
      expect(await s.jobs.claim(names[0]!, 'node-a', at(10), at(0), new Date(8.64e15))).to.equal(true);
      await s.sessions.transition(org.id, s3, ['scheduled'], { startsAt: at(-day) }, { names, owner: 'node-a', until: at(40) });
      expect(await order()).to.deep.equal([s0, s2, s1, s3]);
      // A transition that leaves the start alone leaves the order too.
      await s.sessions.transition(org.id, s2, ['scheduled'], { status: 'open' });
      expect(await order()).to.deep.equal([s0, s2, s1, s3]);
    });

    it('listByStudent orders records written by writeBatch by their sessions, moved after the write too', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const st = await studentsOf(s, org.id, ['me']);
      const early = await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'scheduled', startsAt: at(0) }));
      const late = await s.sessions.create(org.id, newSession(subject.id, 't1', { startsAt: at(60) }));
      const audit = { actorId: null, action: 'record.mark' as const, reason: null, ip: null };
      // The later session's record written first, in a batch of its own, then the earlier one's.
      for (const sess of [late, early]) {
        const [res] = await s.records.writeBatch([{ kind: 'insert', orgId: org.id, input: newRecord(sess.id, subject.id, st.me), audit }]);
        expect(res).to.include({ written: true });
      }
      const sessionsInOrder = async () => (await s.records.listByStudent(org.id, st.me, page(1, 0))).items.map((r) => r.sessionId);
      expect(await sessionsInOrder()).to.deep.equal([late.id]);
      await s.sessions.transition(org.id, early.id, ['scheduled'], { startsAt: at(120) });
      expect(await sessionsInOrder()).to.deep.equal([early.id]);
    });

    it('update is optimistic on version', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const { record } = await s.records.insertIfAbsent(org.id, newRecord('s1', subject.id, 'st1'));
      const v2 = await s.records.update(org.id, record.id, 1, {
        status: 'present',
        flags: ['LATE'],
        decidedAt: new Date(T0 + 5),
        location: { lat: 1, lon: 2, accuracyM: 3, timestamp: new Date(T0 + 4) },
      });
      expect(v2).to.include({ version: 2, status: 'present', studentId: 'st1', sessionId: 's1' });
      expect(v2!.flags).to.deep.equal(['LATE']);
      expect(v2!.decidedAt!.getTime()).to.equal(T0 + 5);
      expect(v2!.createdAt.getTime()).to.equal(record.createdAt.getTime());
      expect(await s.records.get(org.id, record.id)).to.deep.equal(v2);

      expect(await s.records.update(org.id, record.id, 1, { status: 'absent' })).to.equal(null);
      expect(await s.records.get(org.id, record.id)).to.deep.equal(v2);
      const v3 = await s.records.update(org.id, record.id, 2, {
        status: 'excused',
        note: 'doctor',
        correctionReason: 'sick note',
        deviceId: 'dev-12345678',
        userAgent: 'Phone/1',
        location: null,
      });
      expect(v3).to.include({ correctionReason: 'sick note', deviceId: 'dev-12345678', userAgent: 'Phone/1' });
      expect(await s.records.get(org.id, record.id)).to.include({
        correctionReason: 'sick note',
        deviceId: 'dev-12345678',
        userAgent: 'Phone/1',
      });
      expect(v3).to.include({ version: 3, status: 'excused', note: 'doctor', location: null });
      expect(await s.records.update(org.id, 'missing', 1, { status: 'absent' })).to.equal(null);
    });

    it('remove is optimistic on version and takes the next roster version of its session', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const { record } = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'));
      expect(await s.records.remove(org.id, record.id, 2)).to.equal(false);
      expect(await s.records.remove('other-org', record.id, 1)).to.equal(false);
      expect((await s.sessions.get(org.id, sess.id))!.rosterVersion).to.equal(1);
      expect(await s.records.remove(org.id, record.id, 1)).to.equal(true);
      expect(await s.records.get(org.id, record.id)).to.equal(null);
      expect((await s.sessions.get(org.id, sess.id))!.rosterVersion).to.equal(2);
      expect(await s.records.remove(org.id, record.id, 1)).to.equal(false);
      // The key is free again: the student can check in anew.
      expect((await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'))).created).to.equal(true);
    });

    it('a cancelled session is neither active, due nor next due', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'cancelled', closesAt: at(-10) }));
      expect(await s.sessions.nextDueAt()).to.equal(null);
      expect(await s.sessions.listDue(at(0), 10)).to.deep.equal([]);
      expect(await s.sessions.listActiveForSubjects(org.id, [subject.id])).to.deep.equal([]);
      expect((await s.sessions.list(org.id, { ...page(), status: ['cancelled'] })).total).to.equal(1);
    });

    it('of many concurrent updates from one version exactly one wins', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const { record } = await s.records.insertIfAbsent(org.id, newRecord('s1', subject.id, 'st1'));
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.records.update(org.id, record.id, 1, { attempts: i + 1 })));
      const winners = results.filter((r) => r !== null);
      expect(winners).to.have.length(1);
      expect(await s.records.get(org.id, record.id)).to.deep.equal(winners[0]);
    });

    it('every stored record change takes the next roster version of its session, and only a stored one', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      const quiet = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      expect(sess.rosterVersion).to.equal(0);
      const rosterVersion = async () => (await s.sessions.get(org.id, sess.id))!.rosterVersion;

      const a = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'));
      expect(a.record.rosterVersion).to.equal(1);
      const again = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'));
      expect(again.created).to.equal(false);
      expect(await rosterVersion()).to.equal(1);
      const b = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st2'));
      expect(b.record.rosterVersion).to.equal(2);

      const a2 = await s.records.update(org.id, a.record.id, 1, { status: 'present' });
      expect(a2!.rosterVersion).to.equal(3);
      expect(await s.records.get(org.id, a.record.id)).to.deep.equal(a2);
      // A refused write hands out nothing.
      expect(await s.records.update(org.id, a.record.id, 1, { status: 'absent' })).to.equal(null);
      expect(await rosterVersion()).to.equal(3);

      // Concurrent changes of one session each get their own version, none lost.
      const changes = await Promise.all([
        ...Array.from({ length: 6 }, (_, i) =>
          s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, `c${i}`)).then((r) => r.record),
        ),
        s.records.update(org.id, b.record.id, 1, { status: 'late' }),
      ]);
      expect(changes.map((r) => r!.rosterVersion).sort((x, y) => x - y)).to.deep.equal([4, 5, 6, 7, 8, 9, 10]);
      expect(await rosterVersion()).to.equal(10);
      expect((await s.sessions.get(org.id, quiet.id))!.rosterVersion).to.equal(0);
      // The counter outlives whatever else: a session read later still carries it.
      expect(
        (await s.sessions.list(org.id, { ...page(), subjectId: subject.id })).items.find((x) => x.id === sess.id)!.rosterVersion,
      ).to.equal(10);
    });

    it('hides records of another organisation', async function () {
      const s = ctx.store();
      const { org, subject } = await setup(s);
      const other = await makeOrg(s);
      const { record } = await s.records.insertIfAbsent(org.id, newRecord('s1', subject.id, 'st1'));
      expect(await s.records.get(other.id, record.id)).to.equal(null);
      expect(await s.records.getForStudent(other.id, 's1', 'st1')).to.equal(null);
      expect(await s.records.getForStudents(other.id, 's1', ['st1'])).to.deep.equal([]);
      expect(await s.records.getForSessionStudents(other.id, [{ sessionId: 's1', studentId: 'st1' }])).to.deep.equal([]);
      expect(await s.records.listBySession(other.id, 's1')).to.deep.equal([]);
      expect(await s.records.listBySessions(other.id, ['s1'])).to.deep.equal([]);
      expect(await s.records.listByStudent(other.id, 'st1', page())).to.deep.equal({ items: [], total: 0 });
      expect(await s.records.update(other.id, record.id, 1, { status: 'absent' })).to.equal(null);
      expect(await s.records.get(org.id, record.id)).to.deep.equal(record);
    });
  });
}
