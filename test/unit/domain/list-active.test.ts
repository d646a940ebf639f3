import { expect } from 'chai';
import { createSubject, createUser } from '../../support/fixtures.js';
import { createLiveFixture, type LiveFixture } from '../../support/live-fixture.js';

describe('session:list-active reads (domain)', () => {
  let f: LiveFixture;
  let reads = 0;

  beforeEach(async () => {
    f = await createLiveFixture();
    await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const list = f.store.subjects.list.bind(f.store.subjects);
    reads = 0;
    f.store.subjects.list = (...args) => {
      reads += 1;
      return list(...args);
    };
  });
  afterEach(() => f.close());

  it('gives concurrent calls of one user one store read, and keeps nothing afterwards', async () => {
    const student = f.actor(f.students[0]!);
    const answers = await Promise.all(Array.from({ length: 50 }, () => f.live.sessions.listActive(student)));
    expect(reads).to.equal(1);
    expect(answers.every((a) => a.length === 1)).to.equal(true);
    // A session opened after the read shows at once: nothing was cached.
    await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, parallel: true });
    expect(await f.live.sessions.listActive(student)).to.have.length(2);
    expect(reads).to.equal(2);
  });

  it("gives a student's list their own check-in per session from one read of the records, and staff's none", async () => {
    const second = await createSubject(f.store, f.org.id, [f.teacher.id], [f.students[0]!.id]);
    const other = await f.live.sessions.open(f.actor(f.teacher), { subjectId: second.id, teacherOverlap: true });
    const first = (await f.live.sessions.listActive(f.actor(f.teacher))).find((s) => s.subjectId === f.subject.id);
    await f.live.checkins.mark(f.actor(f.teacher), { sessionId: other.id, studentId: f.students[0]!.id, status: 'late', ip: null });
    // A classmate's record of the same session is not the student's.
    await f.live.checkins.mark(f.actor(f.teacher), { sessionId: first!.id, studentId: f.students[1]!.id, status: 'present', ip: null });
    let recordReads = 0;
    const read = f.store.records.getForSessionStudents.bind(f.store.records);
    f.store.records.getForSessionStudents = (...args) => {
      recordReads += 1;
      return read(...args);
    };
    const none = async () => {};
    const mine = await f.live.sessions.listActiveWatched(f.actor(f.students[0]!), none, none);
    expect(recordReads).to.equal(1);
    const byId = new Map(mine.map((s) => [s.id, s.checkin]));
    expect(byId.get(first!.id)).to.equal(null);
    expect(byId.get(other.id)).to.include({ status: 'late', attemptsLeft: 0, verifying: false });
    expect(Object.keys(byId.get(other.id) ?? {})).to.have.members(['status', 'attemptsLeft', 'verifying', 'recordVersion']);
    const staff = await f.live.sessions.listActiveWatched(f.actor(f.teacher), none, none);
    expect(staff).to.have.length(2);
    expect(staff.every((s) => !('checkin' in s))).to.equal(true);
    expect(recordReads).to.equal(1);
  });

  it('reads apart for different users', async () => {
    await Promise.all([f.live.sessions.listActive(f.actor(f.students[0]!)), f.live.sessions.listActive(f.actor(f.students[1]!))]);
    expect(reads).to.equal(2);
  });

  it('sees the sessions of every subject an admin oversees, past the first thousand', async () => {
    const admin = await createUser(f.store, f.org.id, 'admin');
    for (let i = 0; i < 1_000; i += 1) await createSubject(f.store, f.org.id, [f.teacher.id]);
    const last = await createSubject(f.store, f.org.id, [f.teacher.id]);
    // The same teacher's second class at once: confirmed, as the rule asks (docs/timetable.md).
    await f.live.sessions.open(f.actor(f.teacher), { subjectId: last.id, teacherOverlap: true });
    const seen = await f.live.sessions.listActive(f.actor(admin));
    expect(seen.map((s) => s.subjectId)).to.have.members([f.subject.id, last.id]);
    expect(reads).to.equal(3);
  });
});
