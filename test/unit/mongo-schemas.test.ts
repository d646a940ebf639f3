import { expect } from 'chai';
import mongoose, { type Connection, type Schema } from 'mongoose';
import { createModels, SCHEMAS, type Models } from '../../src/store/mongo/models.js';
import { fromVector } from '../../src/store/mongo/mapping.js';
import { REFRESH_TOKEN_TTL_GRACE_S } from '../../src/store/mongo/account-schemas.js';
import { COLLECTIONS } from '../../src/domain/ports/transfer.js';

// Schemas and index declarations of the MongoDB adapter, checked without a server: documents
// are validated with validateSync() on models compiled over an unconnected connection.

type IndexSpec = [Record<string, unknown>, Record<string, unknown>];

function indexes(schema: Schema): IndexSpec[] {
  return schema.indexes() as IndexSpec[];
}

function uniqueKeys(schema: Schema): Record<string, unknown>[] {
  return indexes(schema)
    .filter(([, o]) => o.unique === true)
    .map(([k]) => k);
}

const hasIndex = (schema: Schema, keys: Record<string, unknown>) =>
  indexes(schema).some(([k]) => JSON.stringify(k) === JSON.stringify(keys));

const now = new Date('2026-03-02T09:00:00Z');

/** Paths that fail validation (validate() rather than the deprecated validateSync()). */
async function errorPaths(doc: { validate(): Promise<void> }): Promise<string[]> {
  try {
    await doc.validate();
    return [];
  } catch (err) {
    if (err instanceof mongoose.Error.ValidationError) return Object.keys(err.errors).sort();
    throw err;
  }
}

describe('mongo schemas', () => {
  let conn: Connection;
  let m: Models;

  before(() => {
    conn = mongoose.createConnection();
    m = createModels(conn);
  });

  after(async () => {
    await conn.close();
  });

  it('declares one schema per transfer collection, each with a string _id and its own collection name', () => {
    expect(Object.keys(SCHEMAS).sort()).to.deep.equal([...COLLECTIONS].sort());
    for (const c of COLLECTIONS) {
      expect(m[c].collection.collectionName, c).to.equal(c);
      expect((SCHEMAS[c] as Schema).path('_id').instance, c).to.equal('String');
      expect((SCHEMAS[c] as Schema).get('autoIndex'), c).to.equal(false);
    }
  });

  it('declares the unique keys', () => {
    expect(uniqueKeys(SCHEMAS.organisations)).to.deep.equal([{ slug: 1 }]);
    expect(uniqueKeys(SCHEMAS.users)).to.deep.equal([{ orgId: 1, email: 1 }]);
    expect(uniqueKeys(SCHEMAS.subjects)).to.deep.equal([{ orgId: 1, code: 1 }]);
    expect(uniqueKeys(SCHEMAS.enrolments)).to.deep.equal([{ subjectId: 1, studentId: 1 }]);
    expect(uniqueKeys(SCHEMAS.records)).to.deep.equal([{ sessionId: 1, studentId: 1 }]);
    expect(uniqueKeys(SCHEMAS.summaries)).to.deep.equal([{ subjectId: 1, day: 1 }]);
    expect(uniqueKeys(SCHEMAS.refreshTokens)).to.deep.equal([{ tokenHash: 1 }]);
    expect(uniqueKeys(SCHEMAS.faces)).to.deep.equal([{ orgId: 1, userId: 1 }]);
    expect(uniqueKeys(SCHEMAS.faceProposals)).to.deep.equal([{ orgId: 1, userId: 1 }]);
    expect(uniqueKeys(SCHEMAS.sessions)).to.deep.equal([]);
    expect(uniqueKeys(SCHEMAS.audit)).to.deep.equal([]);
  });

  it('names each unique index after the conflict key it reports', () => {
    const names = COLLECTIONS.flatMap((c) =>
      indexes(SCHEMAS[c])
        .filter(([, o]) => o.unique)
        .map(([, o]) => o.name),
    );
    // org_kind_sourced repeats the _id of a OneRoster object: a put upserts on it and never conflicts.
    // pending (one pending excuse of a scope): a create that meets it answers the pending excuse.
    // meeting (a meeting once in its organisation): StoreConflictError('meeting').
    expect(names.sort()).to.deep.equal([
      'code',
      'email',
      'enrolment',
      'face',
      'face',
      'meeting',
      'oneroster',
      'org_kind_sourced',
      'pending',
      'record',
      'slug',
      'summary',
      'tokenHash',
      'tokenHash',
    ]);
  });

  it('declares the query indexes', () => {
    expect(hasIndex(SCHEMAS.sessions, { orgId: 1, subjectId: 1, day: 1 })).to.equal(true);
    expect(hasIndex(SCHEMAS.sessions, { status: 1, closesAt: 1 })).to.equal(true);
    expect(hasIndex(SCHEMAS.enrolments, { orgId: 1, studentId: 1 })).to.equal(true);
    expect(hasIndex(SCHEMAS.records, { orgId: 1, studentId: 1, sessionStartsAt: -1, _id: -1 })).to.equal(true);
    // Its prefix serves every read of records by student (migration 18 dropped the index below).
    expect(hasIndex(SCHEMAS.records, { orgId: 1, studentId: 1, createdAt: -1 })).to.equal(false);
    expect(hasIndex(SCHEMAS.users, { email: 1 })).to.equal(true);
    expect(hasIndex(SCHEMAS.audit, { orgId: 1, sessionId: 1, at: 1, seq: 1 })).to.equal(true);
    expect(hasIndex(SCHEMAS.summaries, { orgId: 1, subjectId: 1, day: 1 })).to.equal(true);
  });

  it('expires refresh tokens by TTL only after a grace period', () => {
    const ttl = indexes(SCHEMAS.refreshTokens).find(([k]) => JSON.stringify(k) === '{"expiresAt":1}');
    expect(ttl?.[1].expireAfterSeconds).to.equal(REFRESH_TOKEN_TTL_GRACE_S);
    expect(REFRESH_TOKEN_TTL_GRACE_S).to.be.greaterThan(0);
  });

  it('keeps enrolments and records out of the subject and session documents', () => {
    for (const p of Object.keys(SCHEMAS.subjects.paths)) expect(p).to.not.match(/enrol|student/i);
    for (const p of Object.keys(SCHEMAS.sessions.paths)) expect(p).to.not.match(/record|student/i);
  });

  describe('validation', () => {
    it('organisation: requires name, slug, timezone; rejects a slug that is not URL-safe', async () => {
      expect(await errorPaths(new m.organisations({}))).to.deep.equal(['createdAt', 'name', 'slug', 'timezone']);
      expect(await errorPaths(new m.organisations({ name: 'U', slug: 'Not Safe', timezone: 'UTC', createdAt: now }))).to.deep.equal([
        'slug',
      ]);
      expect(await errorPaths(new m.organisations({ name: 'U', slug: 'uni-1', timezone: 'UTC', createdAt: now }))).to.deep.equal([]);
    });

    it('user: requires the identity fields, checks the role enum, lower-cases the email', async () => {
      expect(await errorPaths(new m.users({}))).to.deep.equal(['createdAt', 'email', 'name', 'nameKey', 'orgId', 'role', 'updatedAt']);
      const ok = { orgId: 'o', email: 'A@B.test', name: 'A', nameKey: 'a', role: 'student', createdAt: now, updatedAt: now };
      const u = new m.users(ok);
      expect(await errorPaths(u)).to.deep.equal([]);
      expect(u.email).to.equal('a@b.test');
      expect(u.active).to.equal(true);
      expect(u.studentNumber).to.equal(null);
      expect(typeof u._id).to.equal('string');
      expect(await errorPaths(new m.users({ ...ok, role: 'superuser' }))).to.deep.equal(['role']);
    });

    it('subject: requires code and name; validates the classroom location', async () => {
      expect(await errorPaths(new m.subjects({}))).to.deep.equal(['code', 'createdAt', 'name', 'orgId', 'updatedAt']);
      const ok = { orgId: 'o', code: 'CS1', name: 'N', createdAt: now, updatedAt: now };
      const s = new m.subjects(ok);
      expect(await errorPaths(s)).to.deep.equal([]);
      expect(s.location).to.equal(null);
      expect([...s.teacherIds]).to.deep.equal([]);
      expect(await errorPaths(new m.subjects({ ...ok, location: { lat: 91, lon: 0, radiusM: 10 } }))).to.deep.equal(['location.lat']);
      expect(await errorPaths(new m.subjects({ ...ok, location: { lat: 0, lon: 0, radiusM: -1 } }))).to.deep.equal(['location.radiusM']);
    });

    it('enrolment: requires its key and an explicit _id', async () => {
      expect(await errorPaths(new m.enrolments({}))).to.deep.equal(['_id', 'createdAt', 'orgId', 'studentId', 'subjectId']);
    });

    it('session: checks the status enum, the policy and the day format', async () => {
      const ok = {
        orgId: 'o',
        subjectId: 's',
        teacherId: 't',
        status: 'open',
        policy: { geofence: true, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 1 },
        startsAt: now,
        lateAfter: now,
        closesAt: now,
        codeSecret: 'x',
        day: '2026-03-02',
        createdAt: now,
        updatedAt: now,
      };
      const s = new m.sessions(ok);
      expect(await errorPaths(s)).to.deep.equal([]);
      expect(s.leaseOwner).to.equal(null);
      expect(await errorPaths(new m.sessions({ ...ok, status: 'paused' }))).to.deep.equal(['status']);
      expect(await errorPaths(new m.sessions({ ...ok, day: '2/3/2026' }))).to.deep.equal(['day']);
      expect(await errorPaths(new m.sessions({ ...ok, policy: { ...ok.policy, maxAttempts: 0 } }))).to.deep.equal(['policy.maxAttempts']);
      expect(await errorPaths(new m.sessions({ ...ok, policy: undefined }))).to.deep.equal(['policy']);
    });

    it('record: checks the status enum and the verification enums; version starts defined', async () => {
      const ok = { orgId: 'o', sessionId: 's', subjectId: 'sub', studentId: 'st', status: 'pending', createdAt: now, updatedAt: now };
      const r = new m.records(ok);
      expect(await errorPaths(r)).to.deep.equal([]);
      expect(r.version).to.equal(0);
      expect(r.verification).to.equal(null);
      expect(await errorPaths(new m.records({ ...ok, status: 'maybe' }))).to.deep.equal(['status']);
      expect(await errorPaths(new m.records({ ...ok, attempts: -1 }))).to.deep.equal(['attempts']);
      expect(await errorPaths(new m.records({ ...ok, verification: { state: 'later' } }))).to.deep.equal(['verification.state']);
      expect(await errorPaths(new m.records({ ...ok, verification: { state: 'done', band: 'close' } }))).to.deep.equal([
        'verification.band',
      ]);
      expect(await errorPaths(new m.records({ ...ok, verification: { state: 'done', band: null } }))).to.deep.equal([]);
      expect(await errorPaths(new m.records({ ...ok, reason: 'GEOFENCE_OK', flags: ['LATE'] }))).to.deep.equal([]);
      expect(await errorPaths(new m.records({ ...ok, reason: 'FINE', flags: ['LATE', 'ODD'] }))).to.deep.equal(['flags.1', 'reason']);
      expect(await errorPaths(new m.records({ ...ok, verification: { state: 'done', reason: 'FINE', flags: ['ODD'] } }))).to.deep.equal([
        'verification.flags.0',
        'verification.reason',
      ]);
      expect(await errorPaths(new m.records({ ...ok, location: { lat: 0, lon: 0, accuracyM: 5 } }))).to.deep.equal(['location.timestamp']);
    });

    it('summary: counts are non-negative and the percentage is within 0..100', async () => {
      const ok = {
        _id: 's:2026-03-02',
        orgId: 'o',
        subjectId: 's',
        day: '2026-03-02',
        present: 1,
        late: 0,
        absent: 0,
        excused: 0,
        total: 1,
        percentage: 100,
        updatedAt: now,
      };
      expect(await errorPaths(new m.summaries(ok))).to.deep.equal([]);
      expect(await errorPaths(new m.summaries({ ...ok, absent: -1, percentage: 101 }))).to.deep.equal(['absent', 'percentage']);
    });

    it('audit: checks the entity type and action enums and requires the ordering seq', async () => {
      const ok = { orgId: 'o', entityType: 'record', entityId: 'r', action: 'record.mark', at: now, seq: new mongoose.Types.ObjectId() };
      expect(await errorPaths(new m.audit(ok))).to.deep.equal([]);
      expect(await errorPaths(new m.audit({ ...ok, entityType: 'course', action: 'x', seq: undefined }))).to.deep.equal([
        'action',
        'entityType',
        'seq',
      ]);
    });

    it('refresh token: requires the hash, family and expiry; rotation and revocation start unset', async () => {
      const ok = { orgId: 'o', userId: 'u', familyId: 'f', tokenHash: 'ab'.repeat(32), expiresAt: now, createdAt: now };
      const t = new m.refreshTokens(ok);
      expect(await errorPaths(t)).to.deep.equal([]);
      expect([t.rotatedAt, t.revokedAt]).to.deep.equal([null, null]);
      expect(await errorPaths(new m.refreshTokens({ ...ok, tokenHash: undefined, familyId: undefined, expiresAt: 'soon' }))).to.deep.equal([
        'expiresAt',
        'familyId',
        'tokenHash',
      ]);
    });

    it('face: embeddings are non-empty float64 vectors of finite numbers, with model id and version', async () => {
      const ok = {
        _id: 'o:u',
        orgId: 'o',
        userId: 'u',
        modelId: 'm',
        modelVersion: '1',
        embeddings: [fromVector([0.1, 0.2])],
        updatedAt: now,
      };
      const f = new m.faces(ok);
      expect(await errorPaths(f)).to.deep.equal([]);
      expect(f.photos).to.equal(undefined);
      expect(await errorPaths(new m.faces({ ...ok, modelId: undefined, modelVersion: undefined }))).to.deep.equal([
        'modelId',
        'modelVersion',
      ]);
      expect(await errorPaths(new m.faces({ ...ok, embeddings: [fromVector([])] }))).to.deep.equal(['embeddings']);
      expect(await errorPaths(new m.faces({ ...ok, embeddings: [fromVector([1, Number.NaN])] }))).to.include('embeddings');
    });
  });

  it('builds queries without a connection', () => {
    const query = m.records.find({ orgId: 'o', sessionId: 's' }).sort({ createdAt: 1 });
    expect(query.getFilter()).to.deep.equal({ orgId: 'o', sessionId: 's' });
    expect(query.getOptions().sort).to.deep.equal({ createdAt: 1 });
  });
});
