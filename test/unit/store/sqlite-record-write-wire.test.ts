import { MessageChannel } from 'node:worker_threads';
import { expect } from 'chai';
import type { RecordWrite, RecordWriteResult } from '../../../src/domain/ports/records.js';
import { StoreConflictError } from '../../../src/domain/ports/common.js';
import { insertedRecord } from '../../../src/store/sqlite/attendance.js';
import { fromWireResults, toWireResults } from '../../../src/store/sqlite/record-writer.js';
import { decodeWrites, encodeWrites } from '../../../src/store/sqlite/record-write-wire.js';
import { newRecord } from '../../contract/fixtures.js';

// The record writer thread's wire form of a batch (src/store/sqlite/record-write-wire.ts):
// what the thread rebuilds after postMessage's copy must be the batch the main thread built,
// every field of it, so the thread's inserts store what the main connection's would.

/** A value through postMessage's copy, as the thread receives it. */
function posted<T>(value: T): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<T>((resolve) => {
    port2.once('message', (m: T) => {
      port1.close();
      resolve(m);
    });
    port1.postMessage(value);
  });
}

describe('SQLite record writer wire form', function () {
  const at = new Date('2026-03-02T09:00:03.250Z');
  const fixAt = new Date('2026-03-02T09:00:01.000Z');
  const audit = { actorId: 'st-1', action: 'checkin.submit', reason: null, ip: '10.0.0.7' } as const;

  const everyField: RecordWrite = {
    kind: 'insert',
    orgId: 'org-1',
    input: newRecord('se-1', 'su-1', 'st-1', {
      status: 'pending',
      reason: 'SELFIE_PENDING',
      flags: ['GEOFENCE_IMPRECISE', 'SHARED_DEVICE'],
      distanceM: 12.5,
      location: { lat: 51.5, lon: -0.125, accuracyM: 20, timestamp: fixAt },
      ip: '10.0.0.7',
      attempts: 2,
      submittedAt: at,
      decidedAt: null,
      decidedBy: 'te-1',
      note: 'a note',
      correctionReason: 'late bus',
      absenceCategory: 'medical',
      deviceId: 'device-0001',
      userAgent: 'Mozilla/5.0 (test)',
      verification: { state: 'queued', band: null, distance: null, flags: [], reason: null, completedAt: null },
    }),
    audit: { actorId: 'st-1', action: 'checkin.retry', reason: 'SELFIE_PENDING', ip: '10.0.0.7' },
  };
  const fewest: RecordWrite = {
    kind: 'insert',
    orgId: 'org-1',
    input: newRecord('se-1', 'su-1', 'st-2', { status: 'present', submittedAt: at, decidedAt: at }),
    audit: { actorId: null, action: 'checkin.submit', reason: null, ip: null },
  };
  const update: RecordWrite = {
    kind: 'update',
    orgId: 'org-1',
    id: 'rec-9',
    expectedVersion: 3,
    patch: { status: 'present', reason: 'ACCEPTED_BY_TEACHER', decidedAt: at, decidedBy: 'te-1', deviceId: 'device-0002' },
    audit: { ...audit, actorId: 'te-1', action: 'checkin.accept' },
  };

  it('rebuilds a batch of inserts (every field, and the fewest) and updates as it was built, after the copy', async function () {
    const batch = [everyField, update, fewest, { ...fewest, input: { ...fewest.input, studentId: 'st-3' } }];
    const rebuilt = decodeWrites(await posted(encodeWrites(batch)));
    expect(rebuilt).to.deep.equal(batch);
    // The optional fields an insert left out stay out (not present as undefined).
    expect(Object.keys(rebuilt[2]!.kind === 'insert' ? rebuilt[2]!.input : {})).to.have.members(Object.keys(fewest.input));
  });

  it('lays batches out in a scratch array kept across them: each answer its own batch, the scratch left holding nothing', async function () {
    const scratch: unknown[] = [];
    const big = [everyField, update, fewest, everyField, fewest];
    const first = encodeWrites(big, scratch);
    const second = encodeWrites([fewest], scratch);
    expect(second).to.deep.equal(encodeWrites([fewest]));
    expect(decodeWrites(await posted(first))).to.deep.equal(big);
    expect(decodeWrites(await posted(second))).to.deep.equal([fewest]);
    // Every slot cleared (its room kept for the next batch), so no record stays reachable from it.
    expect(scratch.length).to.equal(first.length);
    expect(scratch.every((v) => v === undefined)).to.equal(true);
    // Every slot of the answer set (undefined for a field left out), none a hole.
    expect(Object.keys(second).length).to.equal(second.length);
  });

  it('is an empty array for an empty batch', function () {
    expect(encodeWrites([])).to.deep.equal([]);
    expect(decodeWrites([])).to.deep.equal([]);
  });

  it("answers each write's outcome in its place: new records rebuilt from the write, the others as they were", async function () {
    const stored = insertedRecord('org-1', everyField.kind === 'insert' ? everyField.input : fewest.input, 'rec-1', 41, at);
    const updated = { ...stored, id: 'rec-9', version: 4, rosterVersion: 42 };
    const results: RecordWriteResult[] = [
      { written: true, before: null, record: stored },
      { written: true, before: stored, record: updated },
      { written: false, record: null },
      { written: false, error: new StoreConflictError('records.session_student') },
    ];
    const batch = [everyField, update, fewest, fewest];
    const answered = fromWireResults(await posted(toWireResults(results, batch)), batch, at);
    expect(answered.slice(0, 3)).to.deep.equal(results.slice(0, 3));
    const refused = answered[3]!;
    expect('error' in refused && refused.error)
      .to.be.instanceOf(StoreConflictError)
      .with.property('key', 'records.session_student');
  });

  it('builds an inserted record from every field of its input, an optional one left out staying out, its flags a copy', function () {
    const every = everyField.kind === 'insert' ? everyField.input : fewest.input;
    const full = insertedRecord('org-1', every, 'rec-1', 7, at);
    expect(full).to.deep.equal({ id: 'rec-1', orgId: 'org-1', ...every, version: 1, rosterVersion: 7, createdAt: at, updatedAt: at });
    expect(full.flags).to.not.equal(every.flags);
    const bare = insertedRecord('org-1', fewest.kind === 'insert' ? fewest.input : every, 'rec-2', 8, at);
    for (const field of ['correctionReason', 'absenceCategory', 'deviceId', 'userAgent']) expect(bare).to.not.have.property(field);
  });

  it('refuses an answer with fewer outcomes than writes', function () {
    expect(() => fromWireResults(['rec-1', 1], [fewest, fewest], at)).to.throw(/fewer outcomes/);
  });
});
