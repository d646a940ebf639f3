import { expect } from 'chai';
import { SessionPeers } from '../../../src/domain/checkins/session-peers.js';
import type { PeerMarkChanges, VersionedPeerMark } from '../../../src/domain/ports/records.js';

/** A store of peer marks per session, answering listPeerMarksSince exactly, its reads noted. */
function fakeRecords() {
  const sessions = new Map<string, Map<string, VersionedPeerMark>>();
  let version = 0;
  const reads: { sessionId: string; after: number | null }[] = [];
  return {
    reads,
    put(sessionId: string, id: string, deviceId: string) {
      if (!sessions.has(sessionId)) sessions.set(sessionId, new Map());
      sessions
        .get(sessionId)!
        .set(id, { id, rosterVersion: ++version, studentId: id, deviceId, ip: null, userAgent: null, location: null });
    },
    remove(sessionId: string, id: string) {
      sessions.get(sessionId)!.delete(id);
      version++;
    },
    listPeerMarksSince(_orgId: string, sessionId: string, after: number | null): Promise<PeerMarkChanges> {
      reads.push({ sessionId, after });
      const all = [...(sessions.get(sessionId)?.values() ?? [])];
      return Promise.resolve({ count: all.length, marks: all.filter((m) => after === null || m.rosterVersion > after) });
    },
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
});
