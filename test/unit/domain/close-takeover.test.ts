import { expect } from 'chai';
import { recomputeDailySummary } from '../../../src/domain/summaries/summary-service.js';
import type { SessionView } from '../../../src/shared/events.js';
import { pendingCheckin, type LiveFixture } from '../../support/live-fixture.js';
import { beforeNextCall, useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A close paused past its 30 s lease (a stalled node, a long GC, SIGSTOP) is taken over: another
// node's scheduler or close takes the expired lease and finishes the session, and the teacher may
// reopen it for a late student. The first close, waking, went on with what it had read before
// the pause and wrote its absents into the reopened session. Each write step of a close is now
// fenced by its lease: the woken close stops there. The write checks the lease itself, so a
// close paused between renewing its lease and writing stops too.

const STUDENTS = 4;
const LEASE_MS = 30_000;

onBothStores('a close paused past its lease and taken over by another node', 'attendance_close_takeover', suite);

function suite(setup: RaceStore): void {
  const race = useOpenSession(setup, { students: STUDENTS });
  let f: LiveFixture;
  let session: SessionView;
  beforeEach(async () => {
    ({ f, session } = race());
    // One pending check-in for the close to settle beside the missing students it marks absent.
    await f.store.records.insertIfAbsent(f.org.id, pendingCheckin(f, session, f.students[0]!.id));
  });

  /**
   * Pauses the next close at its first settle's last read (the excuses covering the students),
   * after it read the records and before it writes: resolves `paused` there, waits for `wake`.
   */
  const pauseNextClose = () => pauseAt(f.store.excuses, 'listApprovedCovering');

  /** Pauses the next call of `repo[method]` (for a write step: after the close renewed its lease for it). */
  const pauseAt = <R extends object, K extends keyof R>(repo: R, method: K) => {
    let wake!: () => void;
    let reached!: () => void;
    const paused = new Promise<void>((resolve) => (reached = resolve));
    beforeNextCall(repo, method, () => {
      reached();
      return new Promise<void>((resolve) => (wake = resolve));
    });
    return { paused, wake: () => wake() };
  };

  const expectSummaryOfStore = async () => {
    const stored = await f.store.summaries.get(f.org.id, f.subject.id, session.day);
    const derived = await recomputeDailySummary(f.store, f.org.id, f.subject.id, session.day);
    expect(stored && { ...stored, updatedAt: null }).to.deep.equal({ ...derived, updatedAt: null });
  };

  /** Node B takes the expired lease over and finishes the close; the teacher then reopens the session. */
  const takeOverAndReopen = async (takeOver: () => Promise<unknown>) => {
    f.clock.advance(LEASE_MS + 1_000);
    await takeOver();
    const closed = await f.store.sessions.get(f.org.id, session.id);
    expect(closed?.status).to.equal('closed');
    expect((await f.store.records.listBySession(f.org.id, session.id)).map((r) => r.status).sort()).to.deep.equal(
      Array<string>(STUDENTS).fill('absent'),
    );
    await f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: session.id });
    // The reopening took back the close's absents and put the pending check-in back.
    expect((await f.store.records.listBySession(f.org.id, session.id)).map((r) => r.status)).to.deep.equal(['pending']);
  };

  const expectReopenedUntouched = async () => {
    expect((await f.store.sessions.get(f.org.id, session.id))?.status).to.equal('open');
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => [r.studentId, r.status])).to.deep.equal([[f.students[0]!.id, 'pending']]);
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    expect(trail.filter((e) => e.action === 'session.close')).to.have.length(1);
    // Each close absent written once, by the close that took over, and taken back once.
    expect(trail.filter((e) => e.action === 'close.absent')).to.have.length(STUDENTS - 1);
    await expectSummaryOfStore();
  };

  it("a teacher's close woken after another node's scheduler finished it and the teacher reopened writes nothing", async () => {
    const pause = pauseNextClose();
    const first = f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await pause.paused;
    const nodeB = f.build({ nodeId: 'node-b' });
    await takeOverAndReopen(() => nodeB.attendance.scheduler.tick());
    pause.wake();
    // It waits for the lease as a close arriving now would, and answers the session as it stands.
    expect((await first).session.status).to.equal('open');
    await expectReopenedUntouched();
  });

  it("a scheduler's close woken after a teacher's close on another node finished it and the teacher reopened writes nothing", async () => {
    f.clock.set(new Date(Date.parse(session.closesAt) + 1_000));
    const pause = pauseNextClose();
    const tick = f.live.scheduler.tick();
    await pause.paused;
    const nodeB = f.build({ nodeId: 'node-b' });
    await takeOverAndReopen(() => nodeB.attendance.closer.close(f.org.id, session.id, f.teacher.id));
    pause.wake();
    // The scheduler's close stops at its fence and the pass moves on (the failure is logged).
    expect(await tick).to.equal(0);
    await expectReopenedUntouched();
  });

  it('a close woken after the takeover, without a reopening, leaves one record a student and one close', async () => {
    const pause = pauseNextClose();
    const first = f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await pause.paused;
    f.clock.advance(LEASE_MS + 1_000);
    await f.build({ nodeId: 'node-b' }).attendance.scheduler.tick();
    pause.wake();
    const answer = await first;
    expect(answer.session.status).to.equal('closed');
    expect(answer.counts.absent).to.equal(STUDENTS);
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(new Set(records.map((r) => r.studentId)).size).to.equal(STUDENTS);
    expect(records.map((r) => r.status)).to.deep.equal(Array<string>(STUDENTS).fill('absent'));
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    const closes = trail.filter((e) => e.action === 'session.close');
    expect(closes.map((e) => [e.actorId, e.reason])).to.deep.equal([[null, 'SCHEDULED_CLOSE']]);
    expect(trail.filter((e) => e.action === 'close.absent')).to.have.length(STUDENTS - 1);
    expect(trail.filter((e) => e.action === 'close.settle')).to.have.length(1);
    await expectSummaryOfStore();
  });

  /**
   * Pauses a teacher's close at the write step `repo[method]`, after it renewed its lease for it;
   * node B's scheduler takes the close over and the teacher reopens before it wakes.
   */
  const expectFencedAt = async <R extends object, K extends keyof R>(repo: R, method: K) => {
    const pause = pauseAt(repo, method);
    const first = f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await pause.paused;
    await takeOverAndReopen(() => f.build({ nodeId: 'node-b' }).attendance.scheduler.tick());
    pause.wake();
    expect((await first).session.status).to.equal('open');
    await expectReopenedUntouched();
  };

  it('a close paused between its lease renewal and its record writes writes nothing into the session reopened meanwhile', () =>
    expectFencedAt(f.store.records, 'writeBatch'));

  // Its records all written before the pause: the close taking over finds nothing to write. The
  // woken close counted the session as closing with its absents: not stored.
  it('a close paused between its lease renewal and the daily summary leaves the summary of the session reopened meanwhile', () =>
    expectFencedAt(f.store.summaries, 'upsert'));
}
