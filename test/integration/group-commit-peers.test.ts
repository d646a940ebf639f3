import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CheckinBatcher, type BatchItem } from '../../src/domain/checkins/checkin-batch.js';
import { proxySignals } from '../../src/domain/checks/proxy-signals.js';
import type { PeerMark, RecordWriteResult } from '../../src/domain/ports/records.js';
import type { Store } from '../../src/domain/ports/store.js';
import { createLogger } from '../../src/logger.js';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from '../contract/fixtures.js';

/**
 * The group commit keeps each session's peer index across batches and reads only what changed
 * (docs/multi-node.md, "Group commit"): the flags must still be those of the store as it is,
 * after this node's batches, a teacher's deletion and another node's write alike.
 */
describe('group commit: proxy signals across batches', function () {
  this.timeout(20_000);
  const logger = createLogger('silent');
  let dir: string;
  let node1: SqliteStore;
  let node2: SqliteStore;
  let orgId: string;
  let sessionId: string;
  let subjectId: string;
  let reads: (number | null)[];
  /** What each session asked answered: 'unchanged', or how many marks it read. */
  let answers: ('unchanged' | number)[];
  /** The students by the labels the tests use: a batch's insert needs its student to exist. */
  let ids: Map<string, string>;
  const id = (label: string) => ids.get(label)!;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'group-commit-peers-'));
    const file = path.join(dir, 'attendance.db');
    node1 = await createSqliteStore({ path: file });
    node2 = await createSqliteStore({ path: file });
    const org = await makeOrg(node1);
    orgId = org.id;
    subjectId = (await node1.subjects.create(orgId, newSubject())).id;
    sessionId = (await node1.sessions.create(orgId, newSession(subjectId, 't1', { status: 'open' }))).id;
    const labels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'x'];
    const users = await node1.users.createMany(
      orgId,
      labels.map(() => newUser()),
    );
    ids = new Map(labels.map((l, i) => [l, users[i]!.id]));
    reads = [];
    answers = [];
  });

  afterEach(async () => {
    await node1.close();
    await node2.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Node 1's store, its peer reads noted (the roster version each asked changes after). */
  function watched(): Store {
    const records = node1.records;
    const listPeerMarkChanges: typeof records.listPeerMarkChanges = (o, wants) => {
      reads.push(...wants.map((w) => w.afterRosterVersion));
      return records.listPeerMarkChanges(o, wants).then((got) => {
        answers.push(...got.map((a) => ('unchanged' in a ? ('unchanged' as const) : a.marks.length)));
        return got;
      });
    };
    return { ...node1, records: { ...records, listPeerMarkChanges } };
  }

  /** A check-in as the check-in service makes it: the flags from the batch's peers, then the insert. */
  function checkin(label: string, deviceId: string, seen: Record<string, string[]>): BatchItem {
    const studentId = id(label);
    const mark: PeerMark = { studentId, deviceId, ip: null, userAgent: null, location: null };
    return {
      orgId,
      sessionId,
      mark,
      write(peers) {
        const flags = proxySignals({ ...mark, location: null }, peers, null);
        seen[label] = flags;
        return {
          kind: 'insert',
          orgId,
          input: newRecord(sessionId, subjectId, studentId, { deviceId, flags, status: 'present' }),
          audit: { actorId: studentId, action: 'checkin.submit', reason: null, ip: null },
        };
      },
    };
  }

  const written = (r: RecordWriteResult) => r.written;

  it('sees its own earlier batches, and within a batch the check-ins ahead, reading only the changes', async () => {
    const batcher = new CheckinBatcher(watched(), logger, { windowMs: 0, max: 10 });
    const seen: Record<string, string[]> = {};
    expect(written(await batcher.submit(checkin('a', 'phone-1', seen)))).to.equal(true);
    const [b, c] = await Promise.all([batcher.submit(checkin('b', 'phone-1', seen)), batcher.submit(checkin('c', 'phone-2', seen))]);
    expect(written(b) && written(c)).to.equal(true);
    expect(await batcher.submit(checkin('d', 'phone-2', seen)).then(written)).to.equal(true);
    expect(seen).to.deep.equal({ a: [], b: ['SHARED_DEVICE'], c: [], d: ['SHARED_DEVICE'] });
    // The first batch read the session whole (empty then); later ones only what changed since.
    expect(reads).to.have.length(3);
    expect(reads[0]).to.equal(null);
    expect(reads.slice(1).every((after) => typeof after === 'number')).to.equal(true);
    expect(reads[2]).to.be.greaterThan(reads[1]!);
  });

  it('reads nothing back of its own stored batches while no one else writes, and still compares with them', async () => {
    const batcher = new CheckinBatcher(watched(), logger, { windowMs: 0, max: 10 });
    const seen: Record<string, string[]> = {};
    await batcher.submit(checkin('a', 'phone-1', seen));
    await batcher.submit(checkin('b', 'phone-2', seen));
    await batcher.submit(checkin('c', 'phone-2', seen));
    await batcher.submit(checkin('d', 'phone-1', seen));
    expect(seen).to.deep.equal({ a: [], b: [], c: ['SHARED_DEVICE'], d: ['SHARED_DEVICE'] });
    // The empty session read whole, then a's record read once (the version before it unknown);
    // from then on the session's version is the one its own writes left: nothing read.
    expect(answers).to.deep.equal([0, 1, 'unchanged', 'unchanged']);
    // Another node's write moves the version on: read, and compared with.
    await node2.records.insertIfAbsent(orgId, newRecord(sessionId, subjectId, id('e'), { deviceId: 'phone-5' }));
    await batcher.submit(checkin('f', 'phone-5', seen));
    await batcher.submit(checkin('g', 'phone-5', seen));
    expect(seen['f']).to.deep.equal(['SHARED_DEVICE']);
    expect(answers.slice(4)).to.deep.equal([1, 'unchanged']);
  });

  it('a record deleted meanwhile flags no one', async () => {
    const batcher = new CheckinBatcher(watched(), logger, { windowMs: 0, max: 10 });
    const seen: Record<string, string[]> = {};
    const a = await batcher.submit(checkin('a', 'phone-1', seen));
    await batcher.submit(checkin('x', 'phone-9', seen));
    if (!a.written) throw new Error('a not written');
    // A teacher deletes it, on the other node.
    expect(await node2.records.remove(orgId, a.record.id, a.record.version)).to.equal(true);
    await batcher.submit(checkin('b', 'phone-1', seen));
    expect(seen['b']).to.deep.equal([]);
  });

  it("another node's write is seen, and so is its change", async () => {
    const batcher = new CheckinBatcher(watched(), logger, { windowMs: 0, max: 10 });
    const seen: Record<string, string[]> = {};
    await batcher.submit(checkin('a', 'phone-1', seen));
    const e = (await node2.records.insertIfAbsent(orgId, newRecord(sessionId, subjectId, id('e'), { deviceId: 'phone-5' }))).record;
    await batcher.submit(checkin('f', 'phone-5', seen));
    expect(seen['f']).to.deep.equal(['SHARED_DEVICE']);
    // Node 2 changes e's device: the old one no longer flags, the new one does.
    await node2.records.update(orgId, e.id, e.version, { deviceId: 'phone-6' });
    await batcher.submit(checkin('g', 'phone-5', seen));
    await batcher.submit(checkin('h', 'phone-6', seen));
    expect(seen['g']).to.deep.equal(['SHARED_DEVICE']); // f's own record still has phone-5
    expect(seen['h']).to.deep.equal(['SHARED_DEVICE']);
    await batcher.submit(checkin('i', 'phone-7', seen));
    expect(seen['i']).to.deep.equal([]);
  });

  it("an erased student's record flags no one", async () => {
    const batcher = new CheckinBatcher(watched(), logger, { windowMs: 0, max: 10 });
    const seen: Record<string, string[]> = {};
    await batcher.submit(checkin('a', 'phone-1', seen));
    // A second batch, so the index has read a's record and asks only for later changes.
    await batcher.submit(checkin('x', 'phone-9', seen));
    await node2.privacy.erase({ orgId, userId: id('a'), identifiers: ['a@example.test'] }, 'erased-a');
    await batcher.submit(checkin('b', 'phone-1', seen));
    expect(seen['b']).to.deep.equal([]);
  });
});
