import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';
import type { SessionView } from '../../../src/shared/events.js';
import { expectCode } from '../../support/expect-code.js';

describe('check-ins (domain, embedded store)', () => {
  let f: LiveFixture;
  let session: SessionView;
  const fix = (metres: number, accuracy = 10, ageMs = 1_000) => ({
    ...northOf(metres),
    accuracyM: accuracy,
    timestamp: new Date(f.clock.now().getTime() - ageMs),
  });
  const code = () => codeAt(secretOf(), 15, f.clock.now());
  let secret = '';
  const secretOf = () => secret;

  beforeEach(async () => {
    f = await createLiveFixture();
    session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    secret = (await f.store.sessions.get(f.org.id, session.id))!.codeSecret;
  });
  afterEach(() => f.close());

  const submit = (i: number, metres: number, extra: { code?: string | undefined; accuracy?: number; ageMs?: number; ip?: string } = {}) =>
    f.live.checkins.submit(f.actor(f.students[i]!), {
      sessionId: session.id,
      location: fix(metres, extra.accuracy ?? 10, extra.ageMs ?? 1_000),
      code: 'code' in extra ? extra.code : code(),
      ip: extra.ip ?? '10.1.2.3',
    });

  it('accepts a student inside the geofence with the current code, and stores the record first', async () => {
    const view = await submit(0, 5);
    expect(view.status).to.equal('present');
    const stored = await f.store.records.getForStudent(f.org.id, session.id, f.students[0]!.id);
    expect(stored?.status).to.equal('present');
    expect(stored?.distanceM).to.be.closeTo(5, 0.5);
  });

  it('rejects outside the geofence, sends an imprecise fix to review', async () => {
    expect((await submit(0, 2_000)).status).to.equal('rejected');
    expect((await submit(0, 2_000)).reason).to.equal('GEOFENCE_OUTSIDE');
    const pending = await submit(1, 40, { accuracy: 150 });
    expect(pending.status).to.equal('pending');
    expect(pending.reason).to.equal('GEOFENCE_IMPRECISE');
  });

  it('accepts the previous code, rejects a stale, wrong or missing code', async () => {
    const previous = code();
    f.clock.advance(15_000);
    expect((await submit(0, 5, { code: previous })).status).to.equal('present');
    f.clock.advance(30_000);
    expect((await submit(1, 5, { code: previous })).reason).to.equal('CODE_INVALID');
    expect((await submit(2, 5, { code: '000000' === code() ? '111111' : '000000' })).reason).to.equal('CODE_INVALID');
    expect((await submit(3, 5, { code: undefined })).reason).to.equal('CODE_MISSING');
  });

  it('rejects a location fix that is too old', async () => {
    const view = await submit(0, 5, { ageMs: 10 * 60_000 });
    expect(view.status).to.equal('rejected');
    expect(view.reason).to.equal('LOCATION_STALE');
  });

  it('rejects a location fix whose time is not a valid date (8.7e15 ms is past the last Date)', async () => {
    const view = await f.live.checkins.submit(f.actor(f.students[0]!), {
      sessionId: session.id,
      location: { ...northOf(5), accuracyM: 10, timestamp: new Date(8.7e15) },
      code: code(),
      ip: '10.1.2.3',
    });
    expect(view.status).to.equal('rejected');
    expect(view.reason).to.equal('LOCATION_STALE');
  });

  it('records late after the late-after time', async () => {
    f.clock.advance(11 * 60_000);
    const view = await submit(0, 5);
    expect(view.status).to.equal('late');
    expect(view.flags).to.include('LATE');
  });

  it('is idempotent after a decision: no second record, same answer', async () => {
    const first = await submit(0, 5);
    const again = await submit(0, 2_000);
    expect(again.recordId).to.equal(first.recordId);
    expect(again.status).to.equal('present');
    expect(await f.store.records.listBySession(f.org.id, session.id)).to.have.length(1);
  });

  it('lets a rejected student retry until maxAttempts, then stays rejected', async () => {
    const a = await submit(0, 2_000);
    expect(a.attemptsLeft).to.equal(1);
    const b = await submit(0, 2_000);
    expect(b.attempts).to.equal(2);
    expect(b.attemptsLeft).to.equal(0);
    const c = await submit(0, 5);
    expect(c.status).to.equal('rejected');
    expect(c.attempts).to.equal(2);
  });

  it("stores a check-in's device id and browser; a retry without them keeps the first attempt's, a retry with them stores them", async () => {
    const go = (i: number, metres: number, device: { deviceId?: string; userAgent?: string }) =>
      f.live.checkins.submit(f.actor(f.students[i]!), {
        sessionId: session.id,
        location: fix(metres),
        code: code(),
        ip: '10.1.2.3',
        ...device,
      });
    const stored = async (i: number) => (await f.store.records.getForStudent(f.org.id, session.id, f.students[i]!.id))!;
    // Student 0: the first attempt brings them, the retry does not.
    expect((await go(0, 2_000, { deviceId: 'phone-aaaaaaaa', userAgent: 'Phone/1' })).status).to.equal('rejected');
    expect(await stored(0)).to.include({ deviceId: 'phone-aaaaaaaa', userAgent: 'Phone/1', attempts: 1 });
    await go(0, 2_000, {});
    expect(await stored(0)).to.include({ deviceId: 'phone-aaaaaaaa', userAgent: 'Phone/1', attempts: 2 });
    // Student 1: the first attempt has none, the retry brings them.
    expect((await go(1, 2_000, {})).status).to.equal('rejected');
    const first = await stored(1);
    expect([first.deviceId ?? null, first.userAgent ?? null, first.attempts]).to.deep.equal([null, null, 1]);
    expect((await go(1, 5, { deviceId: 'laptop-bbbbbbbb', userAgent: 'Laptop/2' })).status).to.equal('present');
    expect(await stored(1)).to.include({ deviceId: 'laptop-bbbbbbbb', userAgent: 'Laptop/2', attempts: 2 });
  });

  it('concurrent submissions of one student make exactly one record', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => submit(0, 5)));
    expect(new Set(results.map((r) => r.recordId)).size).to.equal(1);
    expect(await f.store.records.listBySession(f.org.id, session.id)).to.have.length(1);
  });

  it('check-ins of one session in one turn share their reads: one query each, whatever their number', async () => {
    const calls: Record<string, number> = {};
    const count = <T extends object>(repo: T, name: string, method: keyof T & string) => {
      const original = (repo[method] as (...a: unknown[]) => unknown).bind(repo);
      (repo as Record<string, unknown>)[method] = (...a: unknown[]) => {
        calls[`${name}.${method}`] = (calls[`${name}.${method}`] ?? 0) + 1;
        return original(...a);
      };
    };
    count(f.store.sessions, 'sessions', 'get');
    count(f.store.subjects, 'subjects', 'get');
    count(f.store.subjects, 'subjects', 'enrolledAmong');
    count(f.store.subjects, 'subjects', 'isEnrolled');
    count(f.store.records, 'records', 'getForStudents');
    count(f.store.records, 'records', 'getForSessionStudents');
    count(f.store.records, 'records', 'getForStudent');
    count(f.store.users, 'users', 'getMany');
    count(f.store.users, 'users', 'getNames');
    count(f.store.users, 'users', 'get');
    const views = await Promise.all(f.students.map((_, i) => submit(i, 5)));
    expect(views.map((v) => v.status)).to.deep.equal(f.students.map(() => 'present'));
    expect(calls).to.deep.equal({
      'sessions.get': 1,
      'subjects.get': 1,
      'subjects.enrolledAmong': 1,
      'records.getForSessionStudents': 1,
      // The names alone, not whole users.
      'users.getNames': 1,
    });
    // The roster entries carry the names the one read found.
    const roster = f.events.filter((e) => e.type === 'roster.changed');
    expect(roster.map((e) => e.type === 'roster.changed' && e.update.entry.name).sort()).to.deep.equal(
      f.students.map((s) => s.name).sort(),
    );
    // A later turn, nothing of the organisation changed since (its read version stands): the
    // session, subject, enrolments and names read above serve again; the records are read anew.
    for (const key of Object.keys(calls)) delete calls[key];
    const again = await Promise.all(f.students.map((_, i) => submit(i, 5)));
    expect(again.map((v) => v.recordId)).to.deep.equal(views.map((v) => v.recordId));
    expect(calls).to.deep.equal({ 'records.getForSessionStudents': 1 });
  });

  it('a rename after a check-in shows in the roster entry of the next one at once (the kept name is dropped)', async function () {
    const student = f.students[1]!;
    // Both names are read (and kept) here; the second student's fix is outside: a retry is allowed.
    expect((await Promise.all([submit(0, 5), submit(1, 2_000)])).map((v) => v.status)).to.deep.equal(['present', 'rejected']);
    await f.store.users.update(f.org.id, student.id, { name: 'Renamed Later', studentNumber: 'R-2' });
    expect((await submit(1, 5)).status).to.equal('present');
    const entries = f.events.flatMap((e) => (e.type === 'roster.changed' && e.studentId === student.id ? [e.update.entry] : []));
    expect(entries.map((e) => e.name)).to.deep.equal([student.name, 'Renamed Later']);
  });

  it('a rename shows in the roster entry of the next check-in at once', async () => {
    const student = f.students[0]!;
    await f.store.users.update(f.org.id, student.id, { name: 'Renamed Student', studentNumber: 'R-1' });
    expect((await submit(0, 5)).status).to.equal('present');
    const entries = f.events.flatMap((e) => (e.type === 'roster.changed' && e.studentId === student.id ? [e.update.entry] : []));
    expect(entries.map((e) => [e.name, e.studentNumber])).to.deep.equal([['Renamed Student', 'R-1']]);
  });

  it('an unenrolment takes effect at the next check-in, also of a student whose enrolment was read before', async () => {
    expect((await submit(0, 5)).status).to.equal('present');
    await f.store.subjects.unenrol(f.org.id, f.subject.id, [f.students[0]!.id]);
    await expectCode(submit(0, 5), 'NOT_ENROLLED');
    await f.store.subjects.unenrol(f.org.id, f.subject.id, [f.students[1]!.id]);
    await expectCode(submit(1, 5), 'NOT_ENROLLED');
    await f.store.subjects.enrol(f.org.id, f.subject.id, [f.students[1]!.id]);
    expect((await submit(1, 5)).status).to.equal('present');
  });

  it('a read that fails keeps nothing: the next check-in reads the enrolment again', async () => {
    const enrolledAmong = f.store.subjects.enrolledAmong.bind(f.store.subjects);
    let failures = 1;
    f.store.subjects.enrolledAmong = (...args) => (failures-- > 0 ? Promise.reject(new Error('store down')) : enrolledAmong(...args));
    let failed: unknown = null;
    await submit(0, 5).catch((err: unknown) => (failed = err));
    expect(failed).to.be.instanceOf(Error);
    expect((await submit(0, 5)).status).to.equal('present');
  });

  it('refuses students who are not enrolled, teachers, closed and not-yet-open sessions', async () => {
    await expectCode(
      f.live.checkins.submit(f.actor(f.outsider), { sessionId: session.id, location: fix(5), code: code(), ip: null }),
      'NOT_ENROLLED',
    );
    await expectCode(
      f.live.checkins.submit(f.actor(f.teacher), { sessionId: session.id, location: fix(5), code: code(), ip: null }),
      'FORBIDDEN',
    );
    await expectCode(
      f.live.checkins.submit(f.actor(f.students[0]!), { sessionId: 'nope', location: fix(5), code: code(), ip: null }),
      'SESSION_NOT_FOUND',
    );
    const later = await f.live.sessions.open(f.actor(f.teacher), {
      subjectId: f.subject.id,
      startsAt: new Date(f.clock.now().getTime() + 3_600_000).toISOString(),
    });
    expect(later.status).to.equal('scheduled');
    await expectCode(
      f.live.checkins.submit(f.actor(f.students[0]!), { sessionId: later.id, location: fix(5), code: code(), ip: null }),
      'SESSION_NOT_OPEN',
    );
    await f.store.sessions.transition(f.org.id, session.id, ['open'], { status: 'closing' });
    await expectCode(submit(1, 5), 'SESSION_CLOSED');
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    // After closing everyone has a final record; submitting is refused even so (§5.7) and writes nothing.
    await expectCode(submit(1, 5), 'SESSION_CLOSED');
    expect(await f.live.sessions.join(f.actor(f.students[1]!), session.id)).to.have.nested.property('checkin.reason', 'NO_CHECKIN');
    expect(await f.store.records.listBySession(f.org.id, session.id)).to.have.length(f.students.length);
  });

  it('checks the network when the policy asks, honouring IPv6 ranges', async () => {
    const s = await f.live.sessions.open(f.actor(f.teacher), {
      subjectId: f.subject.id,
      policy: { network: true, rotatingCode: false },
      parallel: true,
    });
    const go = (i: number, ip: string | null) => f.live.checkins.submit(f.actor(f.students[i]!), { sessionId: s.id, location: fix(5), ip });
    expect((await go(0, '10.9.9.9')).status).to.equal('present');
    expect((await go(1, '2001:db8::7')).status).to.equal('present');
    expect((await go(2, '192.168.1.1')).reason).to.equal('NETWORK_NOT_ALLOWED');
    expect((await go(3, null)).reason).to.equal('NETWORK_NOT_ALLOWED');
  });

  it('teacher accepts a pending check-in and rejects another; the student is told; audit kept', async () => {
    await submit(0, 40, { accuracy: 150 });
    await submit(1, 5);
    const accepted = await f.live.checkins.decide(f.actor(f.teacher), {
      sessionId: session.id,
      studentId: f.students[0]!.id,
      decision: 'accept',
      note: 'seen in class',
      ip: null,
    });
    expect(accepted.status).to.equal('present');
    expect(accepted.note).to.equal('seen in class');
    const rejected = await f.live.checkins.decide(f.actor(f.teacher), {
      sessionId: session.id,
      studentId: f.students[1]!.id,
      decision: 'reject',
      ip: null,
    });
    expect(rejected.status).to.equal('rejected');
    // A teacher's rejection is final: the student cannot retry it away.
    expect((await submit(1, 5)).status).to.equal('rejected');

    const toStudent = f.events.filter((e) => e.type === 'roster.changed' && e.studentId === f.students[1]!.id);
    expect(toStudent.at(-1)).to.have.nested.property('checkin.status', 'rejected');
    const audit = await f.store.audit.listForSession(f.org.id, session.id);
    const actions = audit.map((a) => a.action);
    expect(actions).to.include.members(['session.open', 'checkin.submit', 'checkin.accept', 'checkin.reject']);
    const reject = audit.find((a) => a.action === 'checkin.reject')!;
    expect(reject.actorId).to.equal(f.teacher.id);
    expect(reject.from).to.have.property('status', 'present');
    expect(reject.to).to.have.property('status', 'rejected');
  });

  it('refuses a decision on a stale version and by a teacher of another subject', async () => {
    const v = await submit(0, 40, { accuracy: 150 });
    const record = await f.store.records.get(f.org.id, v.recordId);
    await expectCode(
      f.live.checkins.decide(f.actor(f.teacher), {
        sessionId: session.id,
        studentId: f.students[0]!.id,
        decision: 'accept',
        expectedVersion: record!.version + 1,
        ip: null,
      }),
      'RECORD_CHANGED',
    );
    await expectCode(
      f.live.checkins.decide(f.actor(f.otherTeacher), {
        sessionId: session.id,
        studentId: f.students[0]!.id,
        decision: 'accept',
        ip: null,
      }),
      'NOT_SUBJECT_TEACHER',
    );
    expect((await f.store.records.get(f.org.id, v.recordId))?.status).to.equal('pending');
  });

  it('roster versions increase with every change and the snapshot lists every enrolled student', async () => {
    await submit(0, 5);
    await submit(1, 2_000);
    const versions = f.events.flatMap((e) => (e.type === 'roster.changed' ? [e.update.version] : []));
    expect(versions).to.deep.equal([1, 2]);
    const roster = await f.live.sessions.roster(f.actor(f.teacher), session.id);
    expect(roster.version).to.equal(2);
    expect(roster.entries).to.have.length(f.students.length);
    expect(roster.counts).to.include({ present: 1, rejected: 1, notYet: f.students.length - 2 });
    await expectCode(f.live.sessions.roster(f.actor(f.students[0]!), session.id), 'FORBIDDEN');
  });
});
