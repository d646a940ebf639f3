import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { formatReport, migrateStore, type MigrationProgress } from '../../src/store/migrate.js';
import { seedLaterCollections } from '../support/transfer-seed.js';
import { type Store } from '../../src/domain/ports/store.js';
import { COLLECTIONS, type CollectionEntity, type CollectionName } from '../../src/domain/ports/transfer.js';

// The migration logic of scripts/migrate-to-mongo.ts, run SQLite to SQLite (no MongoDB here):
// both ends speak the same TransferApi, so counts, id preservation and idempotence are the
// adapter-independent part of the migration.

async function seed(store: Store): Promise<void> {
  const org = await store.organisations.create({ name: 'Uni', slug: 'uni', timezone: 'UTC' });
  const other = await store.organisations.create({ name: 'Other', slug: 'other', timezone: 'Europe/Paris' });
  const teacher = await store.users.create(org.id, {
    email: 'T@uni.test',
    name: 'Teacher',
    role: 'teacher',
    studentNumber: null,
    passwordHash: 'h',
    active: true,
  });
  const students = await store.users.createMany(
    org.id,
    Array.from({ length: 7 }, (_, i) => ({
      email: `s${i}@uni.test`,
      name: `Student ${i}`,
      role: 'student' as const,
      studentNumber: `S${i}`,
      passwordHash: null,
      active: true,
    })),
  );
  await store.users.create(other.id, {
    email: 't@uni.test',
    name: 'Same email, other org',
    role: 'admin',
    studentNumber: null,
    passwordHash: null,
    active: false,
  });
  const subject = await store.subjects.create(org.id, {
    code: 'CS101',
    name: 'Intro',
    teacherIds: [teacher.id],
    location: { lat: 1.5, lon: 2.5, radiusM: 80 },
    allowedIpRanges: ['10.0.0.0/8'],
  });
  await store.subjects.enrol(
    org.id,
    subject.id,
    students.map((s) => s.id),
  );
  const start = new Date('2026-03-02T09:00:00Z');
  const session = await store.sessions.create(org.id, {
    subjectId: subject.id,
    teacherId: teacher.id,
    status: 'open',
    policy: { geofence: true, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 2 },
    startsAt: start,
    lateAfter: new Date(start.getTime() + 600_000),
    closesAt: new Date(start.getTime() + 3_600_000),
    codeSecret: 'secret',
    day: '2026-03-02',
  });
  for (const [i, s] of students.entries()) {
    const { record } = await store.records.insertIfAbsent(org.id, {
      sessionId: session.id,
      subjectId: subject.id,
      studentId: s.id,
      status: 'pending',
      reason: null,
      flags: [],
      distanceM: null,
      location: null,
      ip: null,
      attempts: 0,
      submittedAt: null,
      decidedAt: null,
      decidedBy: null,
      note: null,
      verification: null,
    });
    if (i % 2 === 0) {
      await store.records.update(org.id, record.id, record.version, {
        status: 'present',
        reason: 'GEOFENCE_OK',
        flags: ['GEOFENCE_IMPRECISE'],
        distanceM: 12.5,
        location: { lat: 1.5, lon: 2.5, accuracyM: 30, timestamp: start },
        submittedAt: start,
        verification: { state: 'done', band: 'confident', distance: 0.2, flags: [], reason: null, completedAt: start },
      });
    }
  }
  await store.summaries.upsert({
    orgId: org.id,
    subjectId: subject.id,
    day: '2026-03-02',
    present: 4,
    late: 0,
    absent: 3,
    excused: 0,
    total: 7,
    percentage: 57.1,
  });
  for (const action of ['session.open', 'session.close'] as const) {
    await store.audit.append({
      orgId: org.id,
      entityType: 'session',
      entityId: session.id,
      sessionId: session.id,
      actorId: teacher.id,
      action,
      from: { status: 'scheduled' },
      to: { status: action },
      reason: null,
      ip: '127.0.0.1',
      at: start,
    });
  }
  await store.refreshTokens.create({
    orgId: org.id,
    userId: teacher.id,
    familyId: 'fam-1',
    tokenHash: 'a'.repeat(64),
    expiresAt: new Date('2030-01-01T00:00:00Z'),
  });
  await store.faces.put({
    orgId: org.id,
    userId: students[0]!.id,
    modelId: 'faceres',
    modelVersion: '1',
    embeddings: [[0.1, -0.2, 0.3]],
    photos: [Buffer.from([1, 2, 3])],
  });
  await store.faceProposals.put({
    orgId: org.id,
    userId: students[1]!.id,
    modelId: 'faceres',
    modelVersion: '1',
    embeddings: [[0.3, 0.2, -0.1]],
    photos: [Buffer.from([4, 5])],
    proposedBy: teacher.id,
    createdAt: new Date('2026-03-02T09:00:00Z'),
  });
  await store.consents.create({
    orgId: org.id,
    userId: students[0]!.id,
    purpose: 'face',
    textVersion: '2026-01',
    givenBy: 'student',
    guardianName: null,
    recordedBy: students[0]!.id,
    givenAt: start,
  });
  await seedLaterCollections(store, {
    orgId: org.id,
    teacherId: teacher.id,
    studentId: students[0]!.id,
    subjectId: subject.id,
    sessionId: session.id,
  });
}

async function dump(store: Store, collection: CollectionName): Promise<unknown[]> {
  const out: CollectionEntity[CollectionName][] = [];
  for await (const batch of store.transfer.export(collection, 3)) out.push(...batch);
  return out;
}

describe('store migration (migrateStore, SQLite to SQLite)', () => {
  let dir: string;
  let source: Store;
  let target: Store;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'attendance-migrate-'));
    source = await createSqliteStore({ path: path.join(dir, 'source.db') });
    target = await createSqliteStore({ path: path.join(dir, 'target.db') });
    await seed(source);
  });

  afterEach(async () => {
    await source.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every collection with ids and contents kept, in batches', async () => {
    const progress: MigrationProgress[] = [];
    const report = await migrateStore(source, target, { batchSize: 3, onProgress: (p) => progress.push(p) });

    expect(report.ok).to.equal(true);
    expect(report.counts.map((c) => c.collection)).to.deep.equal([...COLLECTIONS]);
    const users = report.counts.find((c) => c.collection === 'users')!;
    expect(users).to.deep.equal({ collection: 'users', source: 9, target: 9 });
    for (const c of report.counts) expect(c.source, c.collection).to.be.greaterThan(0);
    for (const collection of COLLECTIONS) {
      expect(await dump(target, collection), collection).to.deep.equal(await dump(source, collection));
    }
    // 9 users in batches of 3: a start event and three batch events.
    expect(progress.filter((p) => p.collection === 'users').map((p) => p.copied)).to.deep.equal([0, 3, 6, 9]);

    const org = await target.organisations.getBySlug('uni');
    const subjects = await target.subjects.list(org!.id, { limit: 10, offset: 0 });
    expect(await target.subjects.listEnrolled(org!.id, subjects.items[0]!.id)).to.have.length(7);
  });

  it('is idempotent: a second run changes nothing', async () => {
    await migrateStore(source, target, { batchSize: 4 });
    const before = await Promise.all(COLLECTIONS.map((c) => dump(target, c)));
    const again = await migrateStore(source, target, { batchSize: 2 });
    expect(again.ok).to.equal(true);
    expect(await Promise.all(COLLECTIONS.map((c) => dump(target, c)))).to.deep.equal(before);
  });

  it('reports a mismatch when the target holds data the source does not', async () => {
    await target.organisations.create({ name: 'Stray', slug: 'stray', timezone: 'UTC' });
    const report = await migrateStore(source, target);
    expect(report.ok).to.equal(false);
    expect(report.counts.find((c) => c.collection === 'organisations')).to.deep.equal({
      collection: 'organisations',
      source: 2,
      target: 3,
    });
    expect(formatReport(report)).to.match(/^organisations\s+2\s+3\s+MISMATCH$/m);
    expect(formatReport(report)).to.match(/^users\s+9\s+9$/m);
  });

  it('rejects a batch size that is not a positive integer', async () => {
    for (const batchSize of [0, -1, 1.5]) {
      let caught: unknown;
      try {
        await migrateStore(source, target, { batchSize });
      } catch (err) {
        caught = err;
      }
      expect(caught, String(batchSize)).to.be.instanceOf(RangeError);
    }
  });
});
