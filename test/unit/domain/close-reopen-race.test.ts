import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import type { RecordWrite, RecordWriteResult } from '../../../src/domain/ports/records.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';

// A teacher's close answers `closing` after three seconds and finishes in the background; a
// second close of the same session (a second tap, the teacher's other device) ran the close's
// steps beside the first, from records it had read before the first wrote them. When the first
// finished and the teacher reopened the session, the second's absents landed in the reopened
// session: students who had not checked in yet were absent there, and a tap of theirs was
// answered with that absent (a final answer stays the answer while the session is open).

const STUDENTS = 6;

/** Holds each records.writeBatch that arrives while `holding`, until released by its arrival number. */
class HeldWrites {
  holding = true;
  private readonly held: Array<() => void> = [];

  wrap(store: Store): Store {
    const records = { ...store.records };
    records.writeBatch = async (writes: readonly RecordWrite[]): Promise<RecordWriteResult[]> => {
      if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
      return store.records.writeBatch(writes);
    };
    return { ...store, records };
  }

  get count(): number {
    return this.held.length;
  }

  release(index: number): void {
    this.held[index]!();
  }

  releaseAll(): void {
    for (const go of this.held) go();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a second close of a closing session does not write beside the first (reopen after it)', () => {
  let f: LiveFixture;
  let held: HeldWrites;
  beforeEach(async () => {
    held = new HeldWrites();
    f = await createLiveFixture({
      students: STUDENTS,
      openStore: async (now) => held.wrap(await createSqliteStore({ path: ':memory:', now })),
    });
  });
  afterEach(() => f.close());

  it('leaves the reopened session as the reopening made it, and a late student checks in', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const first = f.live.closer.close(f.org.id, session.id, f.teacher.id);
    while (held.count < 1) await pause(5);
    // The teacher's second close, from another node: the session is closing, the first holds it.
    const other = f.build({ nodeId: 'node-b' });
    const second = other.attendance.closer.close(f.org.id, session.id, f.teacher.id);
    // Time for the second to reach its own writes (read before the first wrote), if it does.
    for (let i = 0; i < 40 && held.count < 2; i += 1) await pause(10);
    held.holding = false;

    held.release(0);
    const closed = await first;
    expect(closed.session.status).to.equal('closed');
    expect(closed.counts.absent).to.equal(STUDENTS);

    const reopened = await f.live.lifecycle.reopen(f.actor(f.teacher), { sessionId: session.id });
    expect(reopened.status).to.equal('open');
    expect(await f.store.records.listBySession(f.org.id, session.id)).to.have.length(0);

    held.releaseAll();
    await second;
    const now = await f.store.sessions.get(f.org.id, session.id);
    expect(now?.status).to.equal('open');
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => [r.studentId, r.status, r.reason])).to.deep.equal([]);

    const late = await f.live.checkins.submit(f.actor(f.students[0]!), {
      sessionId: session.id,
      location: { ...northOf(5), accuracyM: 10, timestamp: f.clock.now() },
      code: codeAt(now!.codeSecret, 15, f.clock.now()),
      ip: null,
    });
    expect(late.status).to.equal('present');
  });

  it('repeated closes on one node while a close runs share it: no store calls of their own while they wait', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const first = f.live.closer.close(f.org.id, session.id, f.teacher.id);
    while (held.count < 1) await pause(5);
    held.holding = false;
    let leaseCalls = 0;
    const acquire = f.store.sessions.acquireLease.bind(f.store.sessions);
    f.store.sessions.acquireLease = (...args) => {
      leaseCalls += 1;
      return acquire(...args);
    };
    // A teacher tapping close again and again (60 a minute within the heavy budget).
    const repeats = Array.from({ length: 30 }, () => f.live.closer.close(f.org.id, session.id, f.teacher.id));
    await pause(600);
    expect(leaseCalls).to.be.at.most(2);
    held.releaseAll();
    const results = await Promise.all([first, ...repeats]);
    for (const r of results) expect(r.session.status).to.equal('closed');
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    expect(trail.filter((e) => e.action === 'session.close')).to.have.length(1);
  });
});
