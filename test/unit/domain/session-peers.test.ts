import { expect } from 'chai';
import { SessionPeers } from '../../../src/domain/checkins/session-peers.js';
import type { PeerMarkChanges, PeerMarkWant, VersionedPeerMark } from '../../../src/domain/ports/records.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { makeOrg, newRecord, newSession, newSubject } from '../../contract/fixtures.js';

/** A store of peer marks per session, answering listPeerMarkChanges exactly, its reads noted. */
function fakeRecords() {
  const sessions = new Map<string, Map<string, VersionedPeerMark>>();
  let version = 0;
  let calls = 0;
  const reads: { sessionId: string; after: number | null }[] = [];
  return {
    reads,
    /** The record `id`, of the student of the same id unless `studentId` names another. */
    put(sessionId: string, id: string, deviceId: string, studentId = id) {
      if (!sessions.has(sessionId)) sessions.set(sessionId, new Map());
      sessions.get(sessionId)!.set(id, { id, rosterVersion: ++version, studentId, deviceId, ip: null, userAgent: null, location: null });
    },
    remove(sessionId: string, id: string) {
      sessions.get(sessionId)!.delete(id);
      version++;
    },
    listPeerMarkChanges(_orgId: string, wants: readonly PeerMarkWant[]): Promise<PeerMarkChanges[]> {
      calls += 1;
      return Promise.resolve(
        wants.map(({ sessionId, afterRosterVersion: after }) => {
          reads.push({ sessionId, after });
          const all = [...(sessions.get(sessionId)?.values() ?? [])];
          return { count: all.length, marks: all.filter((m) => after === null || m.rosterVersion > after) };
        }),
      );
    },
    /** How many times the store was asked (each for one or more sessions). */
    calls: () => calls,
  };
}

const probe = (deviceId: string) => ({ studentId: 'me', deviceId, ip: null, userAgent: null, location: null });

describe('SessionPeers: the peer index kept across batches', () => {
  it('reads a session whole once, then only the changes; a deletion makes it read whole again', async () => {
    const records = fakeRecords();
    const peers = new SessionPeers(records, () => 0);
    records.put('s1', 'a', 'phone-a');
    expect((await peers.current('o', 's1')).sharesDevice(probe('phone-a'))).to.equal(true);
    records.put('s1', 'b', 'phone-b');
    expect((await peers.current('o', 's1')).sharesDevice(probe('phone-b'))).to.equal(true);
    records.remove('s1', 'a');
    expect((await peers.current('o', 's1')).sharesDevice(probe('phone-a'))).to.equal(false);
    expect(records.reads).to.deep.equal([
      { sessionId: 's1', after: null },
      { sessionId: 's1', after: 1 },
      { sessionId: 's1', after: 2 },
      { sessionId: 's1', after: null },
    ]);
  });

  it("a student's record deleted and written again under a new id replaces the student's entry, read as a change", async () => {
    const records = fakeRecords();
    const peers = new SessionPeers(records, () => 0);
    records.put('s1', 'r1', 'phone-a', 'alice');
    records.put('s1', 'r2', 'phone-b', 'bob');
    expect((await peers.current('o', 's1')).size).to.equal(2);
    // Between two batches, alice's record is deleted and written again (another phone) before either reads.
    records.remove('s1', 'r1');
    records.put('s1', 'r3', 'phone-c', 'alice');
    const index = await peers.current('o', 's1');
    expect(index.size).to.equal(2);
    expect(index.sharesDevice(probe('phone-a'))).to.equal(false);
    expect(index.sharesDevice(probe('phone-c'))).to.equal(true);
    expect(index.sharesDevice(probe('phone-b'))).to.equal(true);
    // One record per student: the counts agree, so the change alone was read, not the session whole.
    expect(records.reads).to.deep.equal([
      { sessionId: 's1', after: null },
      { sessionId: 's1', after: 2 },
    ]);
  });

  it('keeps at most the bounded number of sessions and peers, least recently used dropped', async () => {
    const records = fakeRecords();
    const peers = new SessionPeers(records, () => 0, { sessions: 2, peers: 3, maxAgeMs: 60_000 });
    for (const s of ['s1', 's2', 's3']) {
      records.put(s, `${s}-a`, 'x');
      await peers.current('o', s);
    }
    expect(peers.size).to.equal(2);
    records.reads.length = 0;
    await peers.current('o', 's1'); // dropped: read whole again
    await peers.current('o', 's3'); // kept: only the changes
    expect(records.reads).to.deep.equal([
      { sessionId: 's1', after: null },
      { sessionId: 's3', after: 3 },
    ]);
    // Over the peer bound: older sessions go, the one in use stays even alone over it.
    for (const id of ['b', 'c', 'd']) records.put('s3', `s3-${id}`, 'x');
    await peers.current('o', 's3');
    expect(peers.size).to.equal(1);
  });

  it('reads an index whole again once it is old, and drops a session unused that long', async () => {
    const records = fakeRecords();
    let now = 0;
    const peers = new SessionPeers(records, () => now, { sessions: 10, peers: 100, maxAgeMs: 1_000 });
    records.put('s1', 'a', 'x');
    records.put('s2', 'b', 'y');
    await peers.current('o', 's1');
    await peers.current('o', 's2');
    now = 600;
    await peers.current('o', 's2');
    now = 1_200;
    await peers.current('o', 's2'); // s1 unused for 1,200 ms: dropped; s2 built at 0: read whole again
    expect(peers.size).to.equal(1);
    expect(records.reads.map((r) => `${r.sessionId}:${String(r.after)}`)).to.deep.equal(['s1:null', 's2:null', 's2:2', 's2:null']);
  });

  it("brings a batch's sessions up to date with one read of their changes, and one more for those read whole", async () => {
    const records = fakeRecords();
    const peers = new SessionPeers(records, () => 0);
    for (const sid of ['s1', 's2', 's3']) records.put(sid, `${sid}-a`, `${sid}-phone`);
    await peers.currentAll('o', ['s1', 's2']);
    expect(records.calls()).to.equal(1); // both new: read whole together
    records.put('s1', 's1-b', 'p');
    records.remove('s2', 's2-a');
    records.reads.length = 0;
    const got = await peers.currentAll('o', ['s1', 's2', 's3', 's1']);
    // s1 and s2 kept: their changes in one read; s2 lost a record and s3 is new: whole, in one more.
    expect(records.calls()).to.equal(3);
    expect(records.reads).to.deep.equal([
      { sessionId: 's1', after: 1 },
      { sessionId: 's2', after: 2 },
      { sessionId: 's2', after: null },
      { sessionId: 's3', after: null },
    ]);
    expect([...got.keys()]).to.deep.equal(['s1', 's2', 's3']);
    expect(got.get('s1')!.sharesDevice(probe('p'))).to.equal(true);
    expect(got.get('s2')!.size).to.equal(0);
    expect(got.get('s3')!.sharesDevice(probe('s3-phone'))).to.equal(true);
  });
  it("a change of someone else's between the index's last read and this node's own write is read, not skipped (SQLite's unchanged)", async () => {
    const store = await createSqliteStore({ path: ':memory:', now: () => new Date('2026-09-07T08:00:00.000Z') });
    try {
      const org = await makeOrg(store);
      const subject = await store.subjects.create(org.id, newSubject());
      const session = await store.sessions.create(org.id, newSession(subject.id, 't1'));
      const insert = async (studentId: string, deviceId: string) =>
        (await store.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, studentId, { deviceId }))).record;
      const peers = new SessionPeers(store.records, () => 0);
      await insert('a', 'phone-a');
      await peers.current(org.id, session.id);
      // Another node's check-in takes the next roster version, then this node's batch the one after:
      // the index holds everything up to its read, not up to its own write.
      await insert('b', 'phone-b');
      peers.wrote(org.id, session.id, [await insert('c', 'phone-c')]);
      const index = await peers.current(org.id, session.id);
      expect(index.sharesDevice(probe('phone-b'))).to.equal(true);
      expect(index.sharesDevice(probe('phone-c'))).to.equal(true);
      expect(index.size).to.equal(3);
    } finally {
      await store.close();
    }
  });
});
