import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { countStoreCalls, type CountedStore } from '../../../scripts/lib/store-calls.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// Walking a 300-student close on a loaded MongoDB: each absent was written with about four round
// trips one after another (the record, its roster version, its audit entry), so the close took
// minutes and the teacher's page gave up on it. The absents and their audit entries are written
// in batches; these tests hold the close to a number of store calls that does not grow with the
// class, and to its rules: every absent stored once, a check-in racing the close wins or loses
// cleanly, two closers at once write each record and its audit entry once.

const STUDENTS = 40;
/** Store calls of a whole close (transition, lease, reads, summary, audit): none per student. */
const CLOSE_CALLS_MAX = 30;

onBothStores('closing a large class writes its absents in batches', 'attendance_close_batches', suite);

function suite(setup: RaceStore): void {
  let f: LiveFixture;
  let counted: CountedStore;
  beforeEach(async () => {
    const open = setup.open ?? ((now: () => Date): Promise<Store> => createSqliteStore({ path: ':memory:', now }));
    f = await createLiveFixture({
      students: STUDENTS,
      openStore: async (now) => {
        counted = countStoreCalls(await open(now));
        return counted.store;
      },
    });
  });
  afterEach(async () => {
    await f.close();
    await setup.cleanup?.();
  });

  async function submit(sessionId: string, student: number) {
    const secret = (await f.store.sessions.get(f.org.id, sessionId))!.codeSecret;
    return f.live.checkins.submit(f.actor(f.students[student]!), {
      sessionId,
      location: { ...northOf(5), accuracyM: 10, timestamp: f.clock.now() },
      code: codeAt(secret, 15, f.clock.now()),
      ip: null,
    });
  }

  /** Each record of the session, and the audit entries that created it, by student. */
  async function stored(sessionId: string) {
    const records = await f.store.records.listBySession(f.org.id, sessionId);
    const audit = await f.store.audit.listForSession(f.org.id, sessionId);
    const created = new Map<string, number>();
    for (const e of audit) if (e.entityType === 'record' && e.from === null) created.set(e.entityId, (created.get(e.entityId) ?? 0) + 1);
    return { records, audit, created };
  }

  it('marks every absent once, with its audit entry, in a number of store calls that does not grow with the class', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    await submit(session.id, 0);
    counted.reset();
    const result = await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    const calls = counted.total();
    expect(result.counts).to.include({ present: 1, absent: STUDENTS - 1, total: STUDENTS });
    expect(counted.counts.get('records.insertIfAbsent') ?? 0).to.equal(0);
    expect(calls, JSON.stringify(Object.fromEntries(counted.counts))).to.be.at.most(CLOSE_CALLS_MAX);

    const { records, audit, created } = await stored(session.id);
    expect(records).to.have.length(STUDENTS);
    expect(new Set(records.map((r) => r.studentId)).size).to.equal(STUDENTS);
    const absents = records.filter((r) => r.status === 'absent');
    expect(absents).to.have.length(STUDENTS - 1);
    for (const r of records) expect(created.get(r.id), r.studentId).to.equal(1);
    const closeAbsent = audit.filter((e) => e.action === 'close.absent');
    expect(closeAbsent.map((e) => e.entityId)).to.have.members(absents.map((r) => r.id));
    expect(closeAbsent.every((e) => e.actorId === f.teacher.id && e.reason === 'NO_CHECKIN')).to.equal(true);
    // Every absent went to the teacher's screens with its own roster version.
    const versions = f.events.flatMap((e) => (e.type === 'roster.changed' && e.update.sessionId === session.id ? [e.update.version] : []));
    expect(new Set(versions).size).to.equal(STUDENTS);
    expect(audit.filter((e) => e.action === 'session.close')).to.have.length(1);
    const summary = await f.store.summaries.get(f.org.id, f.subject.id, session.day);
    expect(summary).to.include({ present: 1, absent: STUDENTS - 1, total: STUDENTS });
  });

  it('two closers at once store each absent and its audit entry once', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const other = f.build({ nodeId: 'node-b' });
    const [a, b] = await Promise.all([
      f.live.closer.close(f.org.id, session.id, f.teacher.id),
      (async () => {
        await setup.stagger(1);
        return other.attendance.closer.close(f.org.id, session.id, null);
      })(),
    ]);
    expect(a.counts.absent).to.equal(STUDENTS);
    expect(b.counts.absent).to.equal(STUDENTS);
    const { records, audit, created } = await stored(session.id);
    expect(records).to.have.length(STUDENTS);
    for (const r of records) expect(created.get(r.id), r.studentId).to.equal(1);
    expect(audit.filter((e) => e.action === 'close.absent')).to.have.length(STUDENTS);
    expect(audit.filter((e) => e.action === 'session.close')).to.have.length(1);
  });

  it('a check-in racing the close wins or loses cleanly: one record, one creation entry', async () => {
    let won = 0;
    let lost = 0;
    for (let round = 0; round < 4; round += 1) {
      const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
      const student = f.students[round]!;
      const [checkin, closed] = await Promise.allSettled([
        (async () => {
          await setup.stagger(round);
          return submit(session.id, round);
        })(),
        f.live.closer.close(f.org.id, session.id, f.teacher.id),
      ]);
      expect(closed.status).to.equal('fulfilled');
      const { records, created } = await stored(session.id);
      expect(records).to.have.length(STUDENTS);
      for (const r of records) expect(created.get(r.id), r.studentId).to.equal(1);
      const mine = records.find((r) => r.studentId === student.id)!;
      if (checkin.status === 'fulfilled' && checkin.value.status === 'present') {
        won += 1;
        expect(mine.status).to.equal('present');
      } else {
        lost += 1;
        expect(mine).to.include({ status: 'absent' });
      }
      // The next round's session of the same subject needs this one closed.
      f.clock.advance(60_000);
    }
    expect(won + lost).to.equal(4);
  });
}
