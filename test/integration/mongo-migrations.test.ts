import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import { fromVector, toVector } from '../../src/store/mongo/mapping.js';
import { MONGO_MIGRATIONS, LEDGER_COLLECTION } from '../../src/store/mongo/migrations.js';
import { createMongoStore } from '../../src/store/mongo/mongo-store.js';
import { pendingScopeKey } from '../../src/domain/ports/excuses.js';
import type { Store } from '../../src/domain/ports/store.js';
import { StoreConflictError } from '../../src/domain/ports/common.js';
import { testMongoStoreConfig, useMongo } from '../support/ferretdb.js';

// Versioned MongoDB migrations against a real server (MONGODB_URI, else FerretDB, whose test
// relay runs one command at a time: the lock's logic is exercised, its atomicity is MongoDB's).

const ALL = MONGO_MIGRATIONS.map((m) => m.version);

describe('mongo migrations (MONGODB_URI, else FerretDB)', function () {
  this.timeout(30_000);
  const server = useMongo();
  const stores: Store[] = [];
  const conns: Connection[] = [];

  async function raw(dbUri: string): Promise<Connection> {
    const conn = mongoose.createConnection(dbUri);
    conns.push(conn);
    await conn.asPromise();
    return conn;
  }

  async function start(dbUri: string, applied: number[]): Promise<Store> {
    const store = await createMongoStore(testMongoStoreConfig(dbUri), { pollMs: 20, onApplied: (v) => applied.push(v) });
    stores.push(store);
    return store;
  }

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const c of conns.splice(0)) await c.close();
  });

  it('applies every migration once, records it, and a second start applies none', async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const first: number[] = [];
    await start(dbUri, first);
    expect(first).to.deep.equal(ALL);

    const conn = await raw(dbUri);
    const ledger = await conn.db!.collection(LEDGER_COLLECTION).find({}).sort({ _id: 1 }).toArray();
    expect(ledger.map((d) => d['_id'])).to.deep.equal(ALL);
    expect(ledger.map((d) => d['name'])).to.deep.equal(MONGO_MIGRATIONS.map((m) => m.name));
    expect(ledger.every((d) => d['appliedAt'] instanceof Date)).to.equal(true);
    const indexes = await conn.db!.collection('records').indexes();
    expect(indexes.map((i) => i.name)).to.include('record');

    const second: number[] = [];
    await start(dbUri, second);
    expect(second).to.deep.equal([]);
  });

  it('two stores starting together on an empty database apply each migration exactly once', async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const a: number[] = [];
    const b: number[] = [];
    await Promise.all([start(dbUri, a), start(dbUri, b)]);
    expect([...a, ...b].sort((x, y) => x - y)).to.deep.equal(ALL);
    const conn = await raw(dbUri);
    expect(await conn.db!.collection(LEDGER_COLLECTION).countDocuments()).to.equal(ALL.length);
  });

  it('backfills nameKey on a user written before it existed', async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the earlier release: index migration done, users without nameKey.
    await conn.db!.collection(LEDGER_COLLECTION).insertOne({ _id: 1 as never, name: 'collections and indexes', appliedAt: new Date() });
    const now = new Date();
    await conn.db!.collection('users').insertOne({
      _id: 'u-old' as never,
      orgId: 'org-1',
      email: 'zoe@example.test',
      name: 'Zoë Ångström',
      role: 'student',
      studentNumber: null,
      passwordHash: null,
      active: true,
      mustChangePassword: false,
      createdAt: now,
      updatedAt: now,
    });
    const applied: number[] = [];
    const store = await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v !== 1));
    const doc = await conn.db!.collection('users').findOne({ _id: 'u-old' as never });
    expect(doc?.['nameKey']).to.equal('zoë ångström');
    const page = await store.users.list('org-1', { limit: 10, offset: 0 });
    expect(page.items.map((u) => u.id)).to.deep.equal(['u-old']);
  });

  it("drops the records' org_session index of an earlier release, a prefix of org_session_roster", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 14: every earlier migration applied, the index there.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 14).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    await conn.db!.collection('records').createIndex({ orgId: 1, sessionId: 1 }, { name: 'org_session' });
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.include(14);
    const names = (await conn.db!.collection('records').indexes()).map((i) => i.name);
    expect(names).not.to.include('org_session');
  });

  it("drops the records' org_student_created index of an earlier release, a prefix of org_student_session_start", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 18: every earlier migration applied, the index there.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 18).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    await conn.db!.collection('records').createIndex({ orgId: 1, studentId: 1, createdAt: -1 }, { name: 'org_student_created' });
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 18));
    const names = (await conn.db!.collection('records').indexes()).map((i) => i.name);
    expect(names).not.to.include('org_student_created');
  });

  it("indexes a teacher's and a subject's sessions by start, and drops org_teacher_status, a prefix of the teacher's (28)", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 28: every earlier migration applied, the old index there.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 28).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    await conn.db!.collection('sessions').createIndex({ orgId: 1, teacherId: 1, status: 1 }, { name: 'org_teacher_status' });
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 28));
    const names = (await conn.db!.collection('sessions').indexes()).map((i) => i.name);
    expect(names).not.to.include('org_teacher_status');
    expect(names).to.include.members(['org_teacher_status_starts', 'org_subject_status_starts']);
  });

  it('indexes the records whose selfie verification is queued on a database of the release before (22)', async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 22: every earlier migration applied, records there.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 22).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    await conn.db!.collection('records').createIndex({ sessionId: 1, studentId: 1 }, { name: 'record', unique: true });
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 22));
    const index = (await conn.db!.collection('records').indexes()).find((i) => i.name === 'verification_queued');
    expect(index?.key).to.deep.equal({ status: 1, 'verification.state': 1, submittedAt: 1, _id: 1 });
  });

  it("copies each session's start onto its records and indexes a student's history by it", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 17: records without their session's start.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 17).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    const early = new Date(Date.UTC(2025, 2, 10, 8));
    const late = new Date(Date.UTC(2025, 2, 11, 8));
    await conn.db!.collection('sessions').insertMany([
      { _id: 's-1' as never, orgId: 'org-1', startsAt: early },
      { _id: 's-2' as never, orgId: 'org-1', startsAt: late },
    ]);
    const records = conn.db!.collection('records');
    await records.insertMany([
      { _id: 'r-1' as never, orgId: 'org-1', sessionId: 's-1', studentId: 'st-1' },
      { _id: 'r-2' as never, orgId: 'org-1', sessionId: 's-2', studentId: 'st-1' },
      { _id: 'r-3' as never, orgId: 'org-1', sessionId: 's-2', studentId: 'st-2' },
      // Of another organisation's session of the same id: left without a start.
      { _id: 'r-4' as never, orgId: 'org-2', sessionId: 's-1', studentId: 'st-3' },
    ]);
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 17));
    const docs = await records
      .find({}, { projection: { sessionStartsAt: 1 } })
      .sort({ _id: 1 })
      .toArray();
    expect(docs.map((d) => [d._id, (d['sessionStartsAt'] as Date | undefined)?.toISOString() ?? null])).to.deep.equal([
      ['r-1', early.toISOString()],
      ['r-2', late.toISOString()],
      ['r-3', late.toISOString()],
      ['r-4', null],
    ]);
    expect((await records.indexes()).map((i) => i.name)).to.include('org_student_session_start');
  });

  it("counts each meeting's completed edits, from its subject's meeting.update entries, into its revision", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 19: meetings without a revision.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 19).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    const at = new Date(Date.UTC(2026, 2, 2, 9));
    // Each on its own weekday: equal meetings would be one after migration 26.
    const meeting = (id: string) => ({
      _id: id as never,
      orgId: 'o1',
      subjectId: 'sub',
      termId: 't',
      weekday: Number(id.slice(1)),
      createdAt: at,
    });
    await conn.db!.collection('meetings').insertMany([meeting('m1'), meeting('m2'), meeting('m3')]);
    const entry = (id: string, orgId: string, action: string, meetingId: string) => ({
      _id: id as never,
      orgId,
      entityType: 'subject',
      entityId: 'sub',
      action,
      from: { id: meetingId },
      to: {},
      at,
      seq: new mongoose.Types.ObjectId(),
    });
    await conn.db!.collection('audit').insertMany([
      entry('a1', 'o1', 'meeting.update', 'm1'),
      entry('a2', 'o1', 'meeting.update', 'm1'),
      entry('a3', 'o1', 'meeting.update', 'm2'),
      // Not an edit of m3: its creation, and an edit of an m3 of another organisation.
      entry('a4', 'o1', 'meeting.create', 'm3'),
      entry('a5', 'o2', 'meeting.update', 'm3'),
    ]);
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 19));
    const docs = await conn.db!.collection('meetings').find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => [d._id, d['revision']])).to.deep.equal([
      ['m1', 2],
      ['m2', 1],
      ['m3', 0],
    ]);
  });

  it("marks each session a meeting's edit cancelled with its audit entry's mark, and one with no entry 'unaudited'", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 20: the marks only in the audit entries.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 20).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    const at = new Date(Date.UTC(2026, 2, 2, 9));
    const session = (id: string, status: string, meetingId: string | null) => ({ _id: id as never, orgId: 'o1', status, meetingId });
    await conn
      .db!.collection('sessions')
      .insertMany([
        session('s-edit', 'cancelled', 'm1'),
        session('s-stopped', 'cancelled', 'm1'),
        session('s-hand', 'cancelled', 'm1'),
        session('s-opened', 'cancelled', null),
        session('s-live', 'scheduled', 'm1'),
      ]);
    const cancel = (id: string, sessionId: string, to: object, minutes: number) => ({
      _id: id as never,
      orgId: 'o1',
      entityType: 'session',
      entityId: sessionId,
      sessionId,
      action: 'session.cancel',
      from: { status: 'scheduled' },
      to,
      at: new Date(at.getTime() + minutes * 60_000),
      seq: new mongoose.Types.ObjectId(),
    });
    await conn.db!.collection('audit').insertMany([
      // The last entry's mark is the one.
      cancel('a1', 's-edit', { status: 'cancelled', meetingEdit: '1.old' }, 0),
      cancel('a2', 's-edit', { status: 'cancelled', meetingEdit: '2.0123' }, 1),
      cancel('a3', 's-hand', { status: 'cancelled' }, 0),
      // Another organisation's entry for a session of the same id names nothing here.
      { ...cancel('a4', 's-stopped', { status: 'cancelled', meetingEdit: '9.x' }, 0), orgId: 'o2' },
    ]);
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 20));
    const docs = await conn.db!.collection('sessions').find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => [d._id, 'meetingEdit' in d ? d['meetingEdit'] : 'absent'])).to.deep.equal([
      ['s-edit', '2.0123'],
      ['s-hand', null],
      ['s-live', 'absent'],
      ['s-opened', 'absent'],
      ['s-stopped', 'unaudited'],
    ]);
  });

  it("states every subject of an earlier release in use (archivedAt null), and leaves an archived one's date", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 21: no subject has the field.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 21).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    const at = new Date(Date.UTC(2026, 5, 30, 16));
    const subjects = conn.db!.collection('subjects');
    await subjects.insertMany([
      { _id: 'sub-old' as never, orgId: 'o1', code: 'A' },
      { _id: 'sub-archived' as never, orgId: 'o1', code: 'B', archivedAt: at },
    ]);
    const applied: number[] = [];
    const store = await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 21));
    const docs = await subjects.find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => [d._id, d['archivedAt']])).to.deep.equal([
      ['sub-archived', at],
      ['sub-old', null],
    ]);
    expect((await store.subjects.list('o1', { limit: 10, offset: 0, archived: false })).items.map((x) => x.id)).to.deep.equal(['sub-old']);
  });

  it('gives each excuse its pending key: the oldest of a scope pending twice its scope, the others their own id', async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 24: no excuse has the key, one scope pending twice.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 24).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    const excuses = conn.db!.collection('excuses');
    const excuse = (id: string, status: string, at: number, sessionId: string | null = null) => ({
      _id: id as never,
      orgId: 'o1',
      studentId: 'st',
      submittedBy: 'st',
      subjectId: 'sub',
      sessionId,
      fromDay: '2026-03-02',
      toDay: '2026-03-02',
      category: 'MEDICAL',
      text: '',
      document: null,
      documentBytes: null,
      status,
      decidedBy: null,
      decidedAt: null,
      decisionNote: null,
      createdAt: new Date(at),
      updatedAt: new Date(at),
    });
    await excuses.insertMany([
      excuse('e-later', 'pending', 2000),
      excuse('e-oldest', 'pending', 1000),
      excuse('e-decided', 'declined', 500),
      excuse('e-session', 'pending', 3000, 'sess'),
    ]);
    const applied: number[] = [];
    const store = await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 24));
    const scope = { studentId: 'st', subjectId: 'sub', fromDay: '2026-03-02', toDay: '2026-03-02' };
    const docs = await excuses.find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => [d._id, d['pendingKey']])).to.deep.equal([
      ['e-decided', 'e-decided'],
      ['e-later', 'e-later'],
      ['e-oldest', pendingScopeKey({ ...scope, sessionId: null })],
      ['e-session', pendingScopeKey({ ...scope, sessionId: 'sess' })],
    ]);
    const again = await store.excuses.create('o1', { ...scope, submittedBy: 'st', sessionId: null, category: 'MEDICAL', text: '' });
    expect(again.created).to.equal(false);
    expect(again.excuse.id).to.equal('e-oldest');
  });

  it("keeps each meeting once (the oldest, with the days the others held, its sessions naming it), and drops deleted meetings' occurrences", async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 26: two imports at once stored one week twice.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 26).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    const meeting = (id: string, at: number, more: Record<string, unknown> = {}) => ({
      _id: id as never,
      orgId: 'o1',
      subjectId: 'sub',
      termId: 't',
      weekday: 1,
      startTime: '09:00',
      endTime: '10:00',
      teacherId: null,
      preset: null,
      location: { lat: 48.85, lon: 2.35, radiusM: 60 },
      allowedIpRanges: ['10.2.0.0/16', '10.1.0.0/16'],
      revision: 0,
      createdAt: new Date(at),
      ...more,
    });
    await conn
      .db!.collection('meetings')
      .insertMany([
        meeting('m-dup', 2000, { allowedIpRanges: ['10.1.0.0/16', '10.2.0.0/16'] }),
        meeting('m-old', 1000),
        meeting('m-dup2', 3000),
        meeting('m-other', 1500, { weekday: 2 }),
        meeting('m-elsewhere', 2500, { orgId: 'o2' }),
      ]);
    const occurrence = (meetingId: string, day: string, state: string, sessionId: string | null, orgId = 'o1') => ({
      _id: `${meetingId}/${day}` as never,
      orgId: meetingId === 'm-elsewhere' ? 'o2' : orgId,
      meetingId,
      day,
      subjectId: 'sub',
      state,
      sessionId,
      updatedAt: new Date(1000),
    });
    await conn.db!.collection('occurrences').insertMany([
      occurrence('m-old', '2026-03-02', 'created', 's1'),
      occurrence('m-dup', '2026-03-02', 'created', 's2'),
      occurrence('m-dup', '2026-03-09', 'cancelled', null),
      occurrence('m-dup2', '2026-03-16', 'created', 's3'),
      occurrence('m-elsewhere', '2026-03-02', 'created', 's4'),
      occurrence('m-deleted-before', '2026-03-02', 'created', 's5'),
      // An organisation with no meeting left at all.
      occurrence('m-gone', '2026-03-02', 'created', 's6', 'o3'),
    ]);
    // The sessions those days made, each naming its meeting (s-opened none).
    const session = (id: string, orgId: string, meetingId: string | null) => ({ _id: id as never, orgId, status: 'scheduled', meetingId });
    await conn
      .db!.collection('sessions')
      .insertMany([
        session('s1', 'o1', 'm-old'),
        session('s2', 'o1', 'm-dup'),
        session('s3', 'o1', 'm-dup2'),
        session('s4', 'o2', 'm-elsewhere'),
        session('s-other', 'o1', 'm-other'),
        session('s-opened', 'o1', null),
      ]);
    const applied: number[] = [];
    const store = await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 26));
    const meetings = await store.timetable.listMeetings('o1');
    expect(meetings.map((m) => m.id)).to.deep.equal(['m-old', 'm-other']);
    expect(meetings[0]!.allowedIpRanges).to.deep.equal(['10.1.0.0/16', '10.2.0.0/16']);
    expect((await store.timetable.listMeetings('o2')).map((m) => m.id)).to.deep.equal(['m-elsewhere']);
    const kept = await store.timetable.listOccurrences('o1', ['m-old', 'm-dup', 'm-dup2'], '2026-01-01', '2026-12-31');
    expect(kept.map((o) => [o.meetingId, o.day, o.state, o.sessionId])).to.deep.equal([
      ['m-old', '2026-03-02', 'created', 's1'],
      ['m-old', '2026-03-09', 'cancelled', null],
      ['m-old', '2026-03-16', 'created', 's3'],
    ]);
    expect(await conn.db!.collection('occurrences').countDocuments({})).to.equal(4);
    // A dropped duplicate's sessions name the keeper: editing or deleting it follows them.
    const sessions = await conn.db!.collection('sessions').find({}).sort({ _id: 1 }).toArray();
    expect(sessions.map((d) => [d._id, d['meetingId']])).to.deep.equal([
      ['s-opened', null],
      ['s-other', 'm-other'],
      ['s1', 'm-old'],
      ['s2', 'm-old'],
      ['s3', 'm-old'],
      ['s4', 'm-elsewhere'],
    ]);
    // The key now refuses an equal meeting.
    const { id: _id, orgId: _org, createdAt: _at, revision: _rev, ...fields } = meetings[0]!;
    const again = await store.timetable
      .createMeeting('o1', { ...fields, allowedIpRanges: ['10.2.0.0/16', '10.1.0.0/16'] })
      .catch((e: unknown) => e);
    expect(again).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'meeting');
  });

  it('removes the roster claim keys erasures of an earlier release left on sessions, nothing else', async () => {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    // A database of the release before migration 16, two erasures' keys on one session, one on another.
    await conn
      .db!.collection(LEDGER_COLLECTION)
      .insertMany(ALL.filter((v) => v < 16).map((v) => ({ _id: v as never, name: `v${v}`, appliedAt: new Date() })));
    const sessions = conn.db!.collection('sessions');
    await sessions.insertMany([
      { _id: 's-1' as never, orgId: 'org-1', rosterVersion: 7, rosterClaims: { 'e-1': 5, 'e-2': 7 } },
      { _id: 's-2' as never, orgId: 'org-1', rosterVersion: 3, rosterClaims: { 'e-1': 3 } },
      { _id: 's-3' as never, orgId: 'org-1', rosterVersion: 1 },
    ]);
    const applied: number[] = [];
    await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v >= 16));
    const docs = await sessions.find({}).sort({ _id: 1 }).toArray();
    expect(docs).to.deep.equal([
      { _id: 's-1', orgId: 'org-1', rosterVersion: 7 },
      { _id: 's-2', orgId: 'org-1', rosterVersion: 3 },
      { _id: 's-3', orgId: 'org-1', rosterVersion: 1 },
    ]);
  });

  it('face embeddings: binary ones left alone, number[] ones rewritten as float64 bytes (the latter on MongoDB only: FerretDB stores no nested arrays)', async function () {
    const dbUri = server.mongo.databaseUri('attendance_migrations');
    const conn = await raw(dbUri);
    const db = conn.db!;
    await db.collection(LEDGER_COLLECTION).insertMany([1, 2].map((v) => ({ _id: v as never, name: `m${v}`, appliedAt: new Date() })));
    const face = (id: string, embeddings: unknown[]) => ({
      _id: id as never,
      orgId: 'org-1',
      userId: id,
      modelId: 'm',
      modelVersion: '1',
      embeddings,
      photos: null,
      updatedAt: new Date(),
    });
    await db.collection('faces').insertOne(face('new', [fromVector([0.25, -1])]));
    let refused: string | null = null;
    try {
      await db.collection('faces').insertOne(
        face('old', [
          [0.1, 0.2],
          [0.5, 1],
        ]),
      );
    } catch (err) {
      // FerretDB 1.x stores no nested arrays (docs/mongodb.md): only MongoDB has documents of the old form.
      refused = (err as Error).message;
    }
    const applied: number[] = [];
    const store = await start(dbUri, applied);
    expect(applied).to.deep.equal(ALL.filter((v) => v > 2));
    expect((await store.faces.get('org-1', 'new'))!.embeddings).to.deep.equal([[0.25, -1]]);
    if (refused !== null) {
      console.warn(`    old form not checked: the server refuses nested arrays (${refused})`);
      return;
    }
    const old = await db.collection('faces').findOne({ _id: 'old' as never });
    expect((old!['embeddings'] as unknown[]).every((v) => !Array.isArray(v))).to.equal(true);
    expect((old!['embeddings'] as unknown[]).map((v) => toVector(v))).to.deep.equal([
      [0.1, 0.2],
      [0.5, 1],
    ]);
  });
});
