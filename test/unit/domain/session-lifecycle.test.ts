import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import { DEFAULT_REOPEN_WINDOW_MS } from '../../../src/domain/sessions/session-lifecycle.js';
import { expectCode } from '../../support/expect-code.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';

describe('session lifecycle: one at a time, cancel, extend, reopen (domain, embedded store)', () => {
  let f: LiveFixture;
  beforeEach(async () => {
    f = await createLiveFixture({ students: 4 });
  });
  afterEach(() => f.close());

  async function submit(sessionId: string, i: number, metres: number, accuracy = 10) {
    const secret = (await f.store.sessions.get(f.org.id, sessionId))!.codeSecret;
    return f.live.checkins.submit(f.actor(f.students[i]!), {
      sessionId,
      location: { ...northOf(metres), accuracyM: accuracy, timestamp: f.clock.now() },
      code: codeAt(secret, 15, f.clock.now()),
      ip: null,
    });
  }

  it('of two opens racing past the check, exactly one session survives', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).to.equal('SESSION_ALREADY_OPEN');
    const active = await f.store.sessions.listActiveForSubjects(f.org.id, [f.subject.id]);
    expect(active).to.have.length(1);
    // A loser is never announced.
    expect(f.events.filter((e) => e.type === 'session.changed')).to.have.length(1);
  });

  it('reopens within the window only, restoring what closing settled', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    await submit(session.id, 0, 5); // present
    await submit(session.id, 1, 40, 150); // pending
    await submit(session.id, 2, 3_000); // rejected
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    f.clock.advance(DEFAULT_REOPEN_WINDOW_MS);
    const view = await f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: session.id });
    expect(view.status).to.equal('open');
    const byStudent = new Map((await f.store.records.listBySession(f.org.id, session.id)).map((r) => [r.studentId, r]));
    expect(byStudent.get(f.students[0]!.id)).to.include({ status: 'present' });
    expect(byStudent.get(f.students[1]!.id)).to.include({ status: 'pending', reason: 'GEOFENCE_IMPRECISE', decidedAt: null });
    expect(byStudent.get(f.students[1]!.id)!.flags).to.not.include('UNRESOLVED_AT_CLOSE');
    expect(byStudent.get(f.students[2]!.id)).to.include({ status: 'rejected', reason: 'GEOFENCE_OUTSIDE' });
    expect(byStudent.has(f.students[3]!.id)).to.equal(false);
    expect(f.events.some((e) => e.type === 'roster.reset')).to.equal(true);

    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    f.clock.advance(DEFAULT_REOPEN_WINDOW_MS + 1);
    await expectCode(f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: session.id }), 'REOPEN_WINDOW_PASSED');
  });

  it('a correction made after closing survives a reopen', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await f.live.checkins.mark(f.actor(f.teacher), {
      sessionId: session.id,
      studentId: f.students[0]!.id,
      status: 'excused',
      reason: 'doctor',
      ip: null,
    });
    await f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: session.id });
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => r.status)).to.deep.equal(['excused']);
  });

  it('only staff of the subject change a session, and extend is refused on closed sessions', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    await expectCode(f.live.lifecycle.cancel(f.actor(f.otherTeacher), session.id, undefined), 'NOT_SUBJECT_TEACHER');
    await expectCode(f.live.lifecycle.cancel(f.actor(f.students[0]!), session.id, undefined), 'FORBIDDEN');
    await expectCode(f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: session.id }), 'SESSION_NOT_CLOSED');
    const moved = await f.live.lifecycle.extend(f.actor(f.admin), {
      sessionId: session.id,
      closesAt: new Date(f.clock.now().getTime() + 7_200_000).toISOString(),
    });
    expect(Date.parse(moved.closesAt)).to.equal(f.clock.now().getTime() + 7_200_000);
    await f.live.lifecycle.cancel(f.actor(f.teacher), session.id, undefined);
    await expectCode(f.live.lifecycle.extend(f.actor(f.teacher), { sessionId: session.id, closesAt: moved.closesAt }), 'SESSION_CANCELLED');
    // Cancelling is idempotent and leaves no absents.
    expect((await f.live.lifecycle.cancel(f.actor(f.teacher), session.id, undefined)).status).to.equal('cancelled');
    expect(await f.store.records.listBySession(f.org.id, session.id)).to.have.length(0);
  });
});
