import { expect } from 'chai';
import { LeaseLostError, StoreConflictError } from '../../src/domain/ports/common.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newSession, newSubject, POLICY } from './fixtures.js';

// Terms, holidays, meetings, the occurrence key that makes timetable sessions exactly-once,
// and teachers' timetable settings.

export function timetableContract(ctx: ContractContext): void {
  describe('timetable', function () {
    it('stores terms and holidays per organisation, ordered by start, and deleting a term takes its meetings', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const autumn = await s.timetable.createTerm(org.id, { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' });
      const spring = await s.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-03-27' });
      expect((await s.timetable.listTerms(org.id)).map((t) => t.id)).to.deep.equal([spring.id, autumn.id]);
      expect(await s.timetable.listTerms(other.id)).to.deep.equal([]);
      expect((await s.timetable.listTerms(org.id))[1]).to.deep.equal(autumn);

      const holiday = await s.timetable.createHoliday(org.id, { name: 'Half term', startDay: '2026-10-26', endDay: '2026-10-30' });
      expect(await s.timetable.listHolidays(org.id)).to.deep.equal([holiday]);
      expect(await s.timetable.deleteHoliday(other.id, holiday.id)).to.equal(false);
      expect(await s.timetable.deleteHoliday(org.id, holiday.id)).to.equal(true);
      expect(await s.timetable.listHolidays(org.id)).to.deep.equal([]);

      const meeting = await s.timetable.createMeeting(org.id, {
        subjectId: 'sub',
        termId: autumn.id,
        weekday: 1,
        startTime: '09:00',
        endTime: '10:00',
        teacherId: null,
        preset: 'manual',
        location: null,
        allowedIpRanges: [],
      });
      expect(await s.timetable.getMeeting(org.id, meeting.id)).to.deep.equal(meeting);
      expect(await s.timetable.getMeeting(other.id, meeting.id)).to.equal(null);
      expect(await s.timetable.deleteTerm(org.id, autumn.id)).to.equal(true);
      expect(await s.timetable.getMeeting(org.id, meeting.id)).to.equal(null);
      expect(await s.timetable.deleteTerm(org.id, autumn.id)).to.equal(false);
    });

    it('lists meetings by weekday then start time, for a subject or the whole organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const base = { termId: 't', endTime: '23:00', teacherId: 'tch', preset: null, location: null, allowedIpRanges: [] };
      const late = await s.timetable.createMeeting(org.id, { ...base, subjectId: 'a', weekday: 2, startTime: '14:00' });
      const early = await s.timetable.createMeeting(org.id, { ...base, subjectId: 'a', weekday: 2, startTime: '08:30' });
      const monday = await s.timetable.createMeeting(org.id, { ...base, subjectId: 'b', weekday: 1, startTime: '15:00' });
      expect((await s.timetable.listMeetings(org.id, 'a')).map((m) => m.id)).to.deep.equal([early.id, late.id]);
      expect((await s.timetable.listMeetings(org.id)).map((m) => m.id)).to.deep.equal([monday.id, early.id, late.id]);
      expect(await s.timetable.deleteMeeting(org.id, monday.id)).to.equal(true);
      expect(await s.timetable.deleteMeeting(org.id, monday.id)).to.equal(false);
    });

    it("stores a meeting with the caller's id once: a second with that id is refused, nothing stored", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const base = { termId: 't', endTime: '09:00', teacherId: null, preset: null, location: null, allowedIpRanges: [] };
      const id = '0f1e2d3c-4b5a-8697-a8b9-cadbecfd0e1f';
      const first = await s.timetable.createMeeting(org.id, { ...base, id, subjectId: 'a', weekday: 1, startTime: '08:00' });
      expect(first.id).to.equal(id);
      let refused: unknown = null;
      await s.timetable
        .createMeeting(org.id, { ...base, id, subjectId: 'a', weekday: 3, startTime: '10:00' })
        .catch((err: unknown) => (refused = err));
      expect(refused).to.be.instanceOf(StoreConflictError);
      expect((refused as StoreConflictError).key).to.equal('id');
      expect(await s.timetable.listMeetings(org.id, 'a')).to.deep.equal([first]);
    });

    it("keeps a meeting once in its organisation: of equal adds at once one is stored, the others refused 'meeting'", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const room = { lat: 48.85, lon: 2.35, radiusM: 60 };
      const fields = {
        subjectId: 'sub',
        termId: 't',
        weekday: 1,
        startTime: '09:00',
        endTime: '10:00',
        teacherId: null,
        preset: null,
        location: room,
        allowedIpRanges: ['10.2.0.0/16', '10.1.0.0/16'],
      };
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => s.timetable.createMeeting(org.id, { ...fields })));
      const stored = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(stored).to.have.length(1);
      expect(refusals).to.have.length(2);
      for (const r of refusals) expect(r).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'meeting');
      // The networks are a set, stored sorted: another order is the same meeting.
      expect(stored[0]!.allowedIpRanges).to.deep.equal(['10.1.0.0/16', '10.2.0.0/16']);
      const reordered = await s.timetable
        .createMeeting(org.id, { ...fields, allowedIpRanges: ['10.1.0.0/16', '10.2.0.0/16', '10.1.0.0/16'] })
        .catch((err: unknown) => err);
      expect(reordered).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'meeting');
      expect(await s.timetable.listMeetings(org.id, 'sub')).to.deep.equal(stored);
      // The location in another key order is the same room.
      const sameRoom = await s.timetable
        .createMeeting(org.id, { ...fields, location: { radiusM: 60, lon: 2.35, lat: 48.85 } })
        .catch((e: unknown) => e);
      expect(sameRoom).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'meeting');

      // Another organisation, or any one field differing, is another meeting.
      await s.timetable.createMeeting(other.id, { ...fields });
      const variants = [
        { termId: 't2' },
        { weekday: 2 },
        { startTime: '09:05' },
        { endTime: '10:05' },
        { teacherId: 'tch' },
        { preset: 'manual' as const },
        { location: null },
        { allowedIpRanges: ['10.1.0.0/16'] },
        { subjectId: 'sub2' },
      ];
      for (const v of variants) await s.timetable.createMeeting(org.id, { ...fields, ...v });
      expect(await s.timetable.listMeetings(org.id)).to.have.length(1 + variants.length);

      // An edit that makes a meeting equal to another is refused, the meeting left as it was.
      const moved = (await s.timetable.listMeetings(org.id, 'sub')).find((m) => m.weekday === 2)!;
      const edit = await s.timetable.updateMeeting(org.id, moved.id, { weekday: 1 }).catch((err: unknown) => err);
      expect(edit).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'meeting');
      expect(await s.timetable.getMeeting(org.id, moved.id)).to.deep.equal(moved);
      // Once the other is gone, the same edit is stored.
      await s.timetable.deleteMeeting(org.id, stored[0]!.id);
      expect(await s.timetable.updateMeeting(org.id, moved.id, { weekday: 1 })).to.deep.include({ weekday: 1, revision: 1 });
      // And the meeting edited away from a key frees it: the key follows the fields.
      expect(await s.timetable.updateMeeting(org.id, moved.id, { weekday: 4 })).to.deep.include({ weekday: 4, revision: 2 });
      expect(await s.timetable.createMeeting(org.id, { ...fields })).to.deep.include({ weekday: 1 });
    });

    it("refuses a repeated id as 'id' even when the meeting is equal to the stored one", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const id = '1f1e2d3c-4b5a-8697-a8b9-cadbecfd0e1f';
      const fields = {
        subjectId: 'a',
        termId: 't',
        weekday: 1,
        startTime: '08:00',
        endTime: '09:00',
        teacherId: null,
        preset: null,
        location: null,
        allowedIpRanges: [],
      };
      await s.timetable.createMeeting(org.id, { ...fields, id });
      const again = await s.timetable.createMeeting(org.id, { ...fields, id }).catch((err: unknown) => err);
      expect(again).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'id');
      const equal = await s.timetable.createMeeting(org.id, { ...fields }).catch((err: unknown) => err);
      expect(equal).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'meeting');
    });

    it('deleting a meeting takes its occurrences: a meeting of that id made again claims its days afresh', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const id = '2f1e2d3c-4b5a-8697-a8b9-cadbecfd0e1f';
      const fields = {
        subjectId: 'sub',
        termId: 't',
        weekday: 1,
        startTime: '08:00',
        endTime: '09:00',
        teacherId: null,
        preset: null,
        location: null,
        allowedIpRanges: [],
      };
      const meeting = await s.timetable.createMeeting(org.id, { ...fields, id });
      const kept = await s.timetable.createMeeting(org.id, { ...fields, weekday: 2 });
      const t0 = new Date(Date.UTC(2026, 2, 1, 12));
      const key = (meetingId: string, day: string) => ({ meetingId, day, subjectId: 'sub' });
      expect(await s.timetable.claimOccurrence(org.id, key(id, '2026-03-02'), t0, t0)).to.equal(true);
      await s.timetable.completeOccurrence(org.id, id, '2026-03-02', 'sess-1', t0);
      await s.timetable.cancelOccurrence(org.id, key(id, '2026-03-09'), t0);
      expect(await s.timetable.claimOccurrence(org.id, key(id, '2026-03-16'), t0, t0)).to.equal(true);
      expect(await s.timetable.claimOccurrence(org.id, key(kept.id, '2026-03-03'), t0, t0)).to.equal(true);

      expect(await s.timetable.deleteMeeting(org.id, meeting.id)).to.equal(true);
      expect(await s.timetable.listOccurrences(org.id, [id], '2026-01-01', '2026-12-31')).to.deep.equal([]);
      // Another meeting's occurrences stay.
      expect((await s.timetable.listOccurrences(org.id, [kept.id], '2026-01-01', '2026-12-31')).map((o) => o.day)).to.deep.equal([
        '2026-03-03',
      ]);
      // Made again with its id (a roll-over's copy), no day of it is held: each is claimed afresh.
      await s.timetable.createMeeting(org.id, { ...fields, id });
      for (const day of ['2026-03-02', '2026-03-09', '2026-03-16'])
        expect(await s.timetable.claimOccurrence(org.id, key(id, day), t0, t0), day).to.equal(true);

      // Deleting a term takes its meetings' occurrences too.
      const term = await s.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-03-27' });
      const inTerm = await s.timetable.createMeeting(org.id, { ...fields, termId: term.id });
      expect(await s.timetable.claimOccurrence(org.id, key(inTerm.id, '2026-03-02'), t0, t0)).to.equal(true);
      expect(await s.timetable.deleteTerm(org.id, term.id)).to.equal(true);
      expect(await s.timetable.listOccurrences(org.id, [inTerm.id], '2026-01-01', '2026-12-31')).to.deep.equal([]);
      expect(await s.timetable.listOccurrences(org.id, [id, kept.id], '2026-01-01', '2026-12-31')).to.have.length(4);
    });

    it('claims a dated meeting once, lets a stale claim be taken over, and keeps created and cancelled ones', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const key = { meetingId: 'm1', day: '2026-03-02', subjectId: 'sub' };
      const t0 = new Date(Date.UTC(2026, 2, 1, 12));
      const later = new Date(t0.getTime() + 60_000);
      const claims = await Promise.all([
        s.timetable.claimOccurrence(org.id, key, t0, new Date(t0.getTime() - 300_000)),
        s.timetable.claimOccurrence(org.id, key, t0, new Date(t0.getTime() - 300_000)),
      ]);
      expect(claims.filter(Boolean)).to.have.length(1);
      // Not stale yet: the claim stands.
      expect(await s.timetable.claimOccurrence(org.id, key, later, t0)).to.equal(false);
      // Stale: taken over.
      expect(await s.timetable.claimOccurrence(org.id, key, later, later)).to.equal(true);
      await s.timetable.completeOccurrence(org.id, key.meetingId, key.day, 'sess-1', later);
      // Created: never claimable again, however old.
      expect(await s.timetable.claimOccurrence(org.id, key, later, new Date(later.getTime() + 86_400_000))).to.equal(false);
      await s.timetable.releaseOccurrence(org.id, key.meetingId, key.day);
      const [created] = await s.timetable.listOccurrences(org.id, ['m1', 'm2'], '2026-03-01', '2026-03-31');
      expect(created).to.deep.include({
        orgId: org.id,
        meetingId: 'm1',
        day: '2026-03-02',
        subjectId: 'sub',
        state: 'created',
        sessionId: 'sess-1',
      });

      const before = await s.timetable.cancelOccurrence(org.id, key, later);
      expect(before).to.deep.include({ state: 'created', sessionId: 'sess-1' });
      const fresh = await s.timetable.cancelOccurrence(org.id, { ...key, day: '2026-03-09' }, later);
      expect(fresh).to.equal(null);
      const listed = await s.timetable.listOccurrences(org.id, ['m1'], '2026-03-01', '2026-03-31');
      expect(listed.map((o) => [o.day, o.state])).to.deep.equal([
        ['2026-03-02', 'cancelled'],
        ['2026-03-09', 'cancelled'],
      ]);
      expect(await s.timetable.listOccurrences(org.id, ['m1'], '2026-03-03', '2026-03-08')).to.deep.equal([]);
      expect(await s.timetable.claimOccurrence(org.id, { ...key, day: '2026-03-09' }, later, later)).to.equal(false);
    });

    it('frees a claim whose session was not created, so a later run claims it again', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const key = { meetingId: 'm1', day: '2026-03-02', subjectId: 'sub' };
      const t0 = new Date(Date.UTC(2026, 2, 1, 12));
      expect(await s.timetable.claimOccurrence(org.id, key, t0, t0)).to.equal(true);
      await s.timetable.releaseOccurrence(org.id, key.meetingId, key.day);
      expect(await s.timetable.listOccurrences(org.id, ['m1'], '2026-03-02', '2026-03-02')).to.deep.equal([]);
      expect(await s.timetable.claimOccurrence(org.id, key, t0, t0)).to.equal(true);
    });

    it("stores a teacher's timetable setting, 'auto' until set", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const unset = { orgId: org.id, userId: 'u1', timetableOpen: 'auto', defaultPolicy: {}, lateGraceMinutes: null, codePeriodS: null };
      expect(await s.timetable.getTeacherSettings(org.id, 'u1')).to.deep.equal(unset);
      await s.timetable.putTeacherSettings({ ...unset, timetableOpen: 'tap' });
      expect((await s.timetable.getTeacherSettings(org.id, 'u1')).timetableOpen).to.equal('tap');
      expect((await s.timetable.getTeacherSettings(org.id, 'u2')).timetableOpen).to.equal('auto');
      await s.timetable.putTeacherSettings({ ...unset, timetableOpen: 'auto' });
      expect((await s.timetable.getTeacherSettings(org.id, 'u1')).timetableOpen).to.equal('auto');
    });

    it("round-trips a teacher's session defaults, and unsets them again", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const set = {
        orgId: org.id,
        userId: 'u1',
        timetableOpen: 'tap' as const,
        defaultPolicy: { preset: 'location-code' as const, selfie: true, maxAttempts: 3 },
        lateGraceMinutes: 0,
        codePeriodS: 45,
      };
      expect(await s.timetable.putTeacherSettings(set)).to.deep.equal(set);
      expect(await s.timetable.getTeacherSettings(org.id, 'u1')).to.deep.equal(set);
      const unset = { ...set, defaultPolicy: {}, lateGraceMinutes: null, codePeriodS: null };
      await s.timetable.putTeacherSettings(unset);
      expect(await s.timetable.getTeacherSettings(org.id, 'u1')).to.deep.equal(unset);
      expect((await s.timetable.getTeacherSettings(org.id, 'u2')).defaultPolicy).to.deep.equal({});
    });

    it("stores a meeting's room, and edits a meeting field by field", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const hall = { lat: 51.51, lon: -0.12, radiusM: 80 };
      const meeting = await s.timetable.createMeeting(org.id, {
        subjectId: 'sub',
        termId: 't',
        weekday: 2,
        startTime: '09:00',
        endTime: '10:00',
        teacherId: null,
        preset: null,
        location: hall,
        allowedIpRanges: ['10.1.0.0/16', '2001:db8::/32'],
      });
      expect(meeting.revision).to.equal(0);
      expect(await s.timetable.getMeeting(org.id, meeting.id)).to.deep.equal(meeting);
      expect(await s.timetable.listMeetings(org.id, 'sub')).to.deep.equal([meeting]);

      // An edit that changes nothing is no revision.
      expect(await s.timetable.updateMeeting(org.id, meeting.id, {})).to.deep.equal(meeting);
      const moved = await s.timetable.updateMeeting(org.id, meeting.id, {
        weekday: 3,
        startTime: '10:30',
        endTime: '11:15',
        teacherId: 'tch',
        preset: 'location',
        location: { lat: 51.5, lon: -0.13, radiusM: 40 },
      });
      expect(moved).to.deep.equal({
        ...meeting,
        weekday: 3,
        startTime: '10:30',
        endTime: '11:15',
        teacherId: 'tch',
        preset: 'location',
        location: { lat: 51.5, lon: -0.13, radiusM: 40 },
        revision: 1,
      });
      expect(await s.timetable.getMeeting(org.id, meeting.id)).to.deep.equal(moved);
      // Unset again: the subject's room and first teacher, the organisation's checks.
      const unset = await s.timetable.updateMeeting(org.id, meeting.id, {
        teacherId: null,
        preset: null,
        location: null,
        allowedIpRanges: [],
      });
      expect(unset).to.deep.equal({ ...moved, teacherId: null, preset: null, location: null, allowedIpRanges: [], revision: 2 });
      expect(await s.timetable.getMeeting(org.id, meeting.id)).to.deep.equal(unset);

      expect(await s.timetable.updateMeeting(other.id, meeting.id, { weekday: 5 })).to.equal(null);
      expect(await s.timetable.updateMeeting(org.id, 'missing', { weekday: 5 })).to.equal(null);
      expect((await s.timetable.getMeeting(org.id, meeting.id))?.weekday).to.equal(3);
    });

    it("a meeting added or edited with a fence is written only while its leases are the owner's, and extends them", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const lease = (minutes: number) => new Date(Date.UTC(2026, 2, 2, 9) + minutes * 60_000);
      const never = new Date(8.64e15);
      const names = ['slots:o:subject:sub', 'slots:o:teacher:tch'];
      for (const name of names) expect(await s.jobs.claim(name, 'node-a', lease(10), lease(0), never)).to.equal(true);
      const fence = (until: number) => ({ names, owner: 'node-a', until: lease(until) });
      const base = { subjectId: 'sub', termId: 't', weekday: 2, startTime: '09:00', endTime: '10:00', teacherId: 'tch', preset: null };
      const meeting = await s.timetable.createMeeting(org.id, { ...base, location: null, allowedIpRanges: [] }, fence(40));
      expect(await s.timetable.getMeeting(org.id, meeting.id)).to.deep.equal(meeting);
      const moved = await s.timetable.updateMeeting(org.id, meeting.id, { startTime: '10:00', endTime: '11:00' }, fence(40));
      expect(moved).to.deep.equal({ ...meeting, startTime: '10:00', endTime: '11:00', revision: 1 });
      // Extended to the fence's `until`: another owner cannot take them before it.
      expect(await s.jobs.claim(names[1]!, 'node-b', lease(50), lease(20), never)).to.equal(false);
      expect(await s.jobs.claim(names[1]!, 'node-b', lease(50), lease(41), never)).to.equal(true);
      const lost = (p: Promise<unknown>) =>
        p.then(
          () => null,
          (e: unknown) => e,
        );
      expect(
        await lost(s.timetable.createMeeting(org.id, { ...base, weekday: 4, location: null, allowedIpRanges: [] }, fence(60))),
      ).to.be.instanceOf(LeaseLostError);
      expect(
        await lost(
          s.timetable.updateMeeting(org.id, meeting.id, { weekday: 5, teacherId: null, allowedIpRanges: ['10.0.0.0/8'] }, fence(60)),
        ),
      ).to.be.instanceOf(LeaseLostError);
      // Nothing of either: no second meeting, the edit's fields and the revision as they were.
      expect(await s.timetable.listMeetings(org.id, 'sub')).to.deep.equal([moved]);
    });

    it('keeps the room and meeting of a session, and moves a scheduled one by compare-and-set', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const subject = await s.subjects.create(org.id, newSubject());
      const room = { location: { lat: 51.51, lon: -0.12, radiusM: 80 }, allowedIpRanges: ['192.168.1.0/24'] };
      const byHand = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      expect(byHand).to.include({ room: null, meetingId: null });
      expect(await s.sessions.get(org.id, byHand.id)).to.deep.equal(byHand);
      const sess = await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'scheduled', room, meetingId: 'm1' }));
      expect(sess).to.deep.include({ room, meetingId: 'm1' });
      expect(await s.sessions.get(org.id, sess.id)).to.deep.equal(sess);

      const startsAt = new Date(sess.startsAt.getTime() + 3_600_000);
      const patch = {
        startsAt,
        lateAfter: new Date(startsAt.getTime() + 600_000),
        closesAt: new Date(startsAt.getTime() + 2_700_000),
        teacherId: 't2',
        policy: { ...POLICY, geofence: false, network: true },
        room: { location: null, allowedIpRanges: ['10.0.0.0/8'] },
      };
      const moved = await s.sessions.transition(org.id, sess.id, ['scheduled'], patch);
      expect(moved).to.deep.include({ ...patch, status: 'scheduled', meetingId: 'm1', codeSecret: sess.codeSecret });
      expect(await s.sessions.get(org.id, sess.id)).to.deep.equal(moved);
      const plain = await s.sessions.transition(org.id, sess.id, ['scheduled'], { room: null });
      expect(plain?.room).to.equal(null);
      expect((await s.sessions.get(org.id, sess.id))?.room).to.equal(null);

      const open = await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'open' }));
      expect(await s.sessions.transition(org.id, open.id, ['scheduled'], patch)).to.equal(null);
      expect(await s.sessions.get(org.id, open.id)).to.deep.equal(open);
    });

    it('forgets a created occurrence, and only a created one, so the day can be claimed again', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const t0 = new Date(Date.UTC(2026, 2, 1, 12));
      const key = (day: string) => ({ meetingId: 'm1', day, subjectId: 'sub' });
      await s.timetable.claimOccurrence(org.id, key('2026-03-02'), t0, t0);
      await s.timetable.completeOccurrence(org.id, 'm1', '2026-03-02', 'sess-1', t0);
      await s.timetable.claimOccurrence(org.id, key('2026-03-09'), t0, t0);
      await s.timetable.cancelOccurrence(org.id, key('2026-03-16'), t0);
      for (const day of ['2026-03-02', '2026-03-09', '2026-03-16']) await s.timetable.forgetOccurrence(org.id, 'm1', day, 'sess-1');
      const left = await s.timetable.listOccurrences(org.id, ['m1'], '2026-03-01', '2026-03-31');
      expect(left.map((o) => [o.day, o.state])).to.deep.equal([
        ['2026-03-09', 'claimed'],
        ['2026-03-16', 'cancelled'],
      ]);
      expect(await s.timetable.claimOccurrence(org.id, key('2026-03-02'), t0, t0)).to.equal(true);
    });

    it('forgets a created occurrence only while it stands for the session named', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const t0 = new Date(Date.UTC(2026, 2, 1, 12));
      await s.timetable.claimOccurrence(org.id, { meetingId: 'm1', day: '2026-03-02', subjectId: 'sub' }, t0, t0);
      await s.timetable.completeOccurrence(org.id, 'm1', '2026-03-02', 'sess-2', t0);
      await s.timetable.forgetOccurrence(org.id, 'm1', '2026-03-02', 'sess-1');
      const kept = await s.timetable.listOccurrences(org.id, ['m1'], '2026-03-02', '2026-03-02');
      expect(kept.map((o) => [o.state, o.sessionId])).to.deep.equal([['created', 'sess-2']]);
      await s.timetable.forgetOccurrence(org.id, 'm1', '2026-03-02', 'sess-2');
      expect(await s.timetable.listOccurrences(org.id, ['m1'], '2026-03-02', '2026-03-02')).to.deep.equal([]);
    });
  });
}
