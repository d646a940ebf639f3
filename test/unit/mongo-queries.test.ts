import { expect } from 'chai';
import { mongo, type Types } from 'mongoose';
import * as q from '../../src/store/mongo/queries.js';
import { duplicateKeyName, isDuplicateKeyError, toConflict } from '../../src/store/mongo/errors.js';
import { FROM_ENTITY, TO_ENTITY, toBuffer, toFace, fromFace } from '../../src/store/mongo/mapping.js';
import { exportSort, importOps } from '../../src/store/mongo/transfer.js';
import { type AuditEntry } from '../../src/domain/ports/audit.js';
import { StoreConflictError } from '../../src/domain/ports/common.js';
import { DEFAULT_RETENTION } from '../../src/domain/ports/organisations.js';
import { LONGEST_SESSION_MS } from '../../src/domain/ports/sessions.js';
import { type CollectionEntity, type CollectionName } from '../../src/domain/ports/transfer.js';

// The pure parts of the MongoDB adapter: filter and update builders, duplicate-key mapping,
// document <-> entity mapping and the transfer's bulk operations.

const T = new Date('2026-03-02T09:00:00Z');

describe('mongo clash-check queries', () => {
  it("a window's filter is a range of starts no longer than LONGEST_SESSION_MS before it, and closes after its start", () => {
    const window = { startsAt: T, closesAt: new Date(T.getTime() + 3_600_000) };
    const range = {
      startsAt: { $gt: new Date(T.getTime() - LONGEST_SESSION_MS), $lt: window.closesAt },
      closesAt: { $gt: T },
    };
    expect(q.teacherActiveSessionsDuringFilter('o', 't', window)).to.deep.equal({
      orgId: 'o',
      teacherId: 't',
      status: { $in: ['scheduled', 'open'] },
      ...range,
    });
    expect(q.teacherActiveSessionsDuringFilter('o', 't', window, 's')).to.deep.equal({
      orgId: 'o',
      teacherId: 't',
      status: { $in: ['scheduled', 'open'] },
      subjectId: { $ne: 's' },
      ...range,
    });
    expect(q.activeSessionsDuringFilter('o', ['s', 'u'], window)).to.deep.equal({
      orgId: 'o',
      subjectId: { $in: ['s', 'u'] },
      status: { $in: ['scheduled', 'open'] },
      ...range,
    });
  });
});

describe('mongo report queries', () => {
  it('settledSessionsFilter keeps closing and closed sessions of the org, with optional subject, ids and days', () => {
    expect(q.settledSessionsFilter('o', {})).to.deep.equal({ orgId: 'o', status: { $in: ['closing', 'closed'] } });
    expect(q.settledSessionsFilter('o', { subjectId: 's', ids: ['a'], fromDay: '2026-01-01', toDay: '2026-01-31' })).to.deep.equal({
      orgId: 'o',
      status: { $in: ['closing', 'closed'] },
      subjectId: 's',
      _id: { $in: ['a'] },
      day: { $gte: '2026-01-01', $lte: '2026-01-31' },
    });
    expect(q.settledSessionsFilter('o', { toDay: '2026-01-31' })).to.have.deep.property('day', { $lte: '2026-01-31' });
  });

  it('report pipelines keep to one $group accumulator (FerretDB answers 0 for the others)', () => {
    for (const pipeline of [q.tallyPipeline('o', ['s1'], 'st'), q.statusCountsPipeline('o', ['s1'])]) {
      const group = (pipeline.find((stage) => '$group' in stage) as { $group: Record<string, unknown> }).$group;
      expect(Object.keys(group).filter((k) => k !== '_id')).to.have.length(1);
      expect((pipeline[0] as { $match: { orgId: string } }).$match.orgId).to.equal('o');
    }
    expect(q.seenRecordsFilter('o', ['s1'], 'st')).to.deep.equal({
      orgId: 'o',
      sessionId: { $in: ['s1'] },
      status: { $in: ['present', 'late'] },
      studentId: 'st',
    });
    expect(q.orgSummaryRangeFilter('o', '2026-01-01', '2026-01-07', ['x'])).to.deep.equal({
      orgId: 'o',
      day: { $gte: '2026-01-01', $lte: '2026-01-07' },
      subjectId: { $in: ['x'] },
    });
  });

  it('auditListFilter scopes to the org and takes only the selectors given', () => {
    expect(q.auditListFilter('o', { sessionId: 's' })).to.deep.equal({ orgId: 'o', sessionId: 's' });
    expect(q.auditListFilter('o', { entityType: 'user', entityId: 'u', actorId: 'a' })).to.deep.equal({
      orgId: 'o',
      entityType: 'user',
      entityId: 'u',
      actorId: 'a',
    });
  });
});

describe('mongo query builders', () => {
  it('userListFilter scopes to the org and matches q literally and case-insensitively', () => {
    expect(q.userListFilter('o', { limit: 1, offset: 0 })).to.deep.equal({ orgId: 'o' });
    const f = q.userListFilter('o', { limit: 1, offset: 0, role: 'teacher', active: false, q: 'a.b(' });
    expect(f).to.include({ orgId: 'o', role: 'teacher', active: false });
    const rx = (f.$or as { name: RegExp }[])[0]!.name;
    expect(rx.flags).to.equal('i');
    expect(rx.test('xA.B(y')).to.equal(true);
    expect(rx.test('axb(')).to.equal(false);
    // Accents ignored on both sides, as the SQLite adapter folds them (domain/search-text.ts).
    const accented = (f2: object) => (f2 as { $or: { name: RegExp }[] }).$or[0]!.name;
    expect(accented(q.userListFilter('o', { limit: 1, offset: 0, q: 'helene' })).test('Mme Hélène')).to.equal(true);
    expect(accented(q.userListFilter('o', { limit: 1, offset: 0, q: 'ÉLO' })).test('Elodie')).to.equal(true);
    expect(accented(q.userListFilter('o', { limit: 1, offset: 0, q: 'hel' })).test('Hxl')).to.equal(false);
    expect((f.$or as object[]).map((o) => Object.keys(o)[0])).to.deep.equal(['name', 'email', 'studentNumber']);
  });

  it('subjectListFilter filters by teacher, by the enrolment lookup, and by q', () => {
    expect(q.subjectListFilter('o', { limit: 1, offset: 0, teacherId: 't' }, null)).to.deep.equal({ orgId: 'o', teacherIds: 't' });
    expect(q.subjectListFilter('o', { limit: 1, offset: 0, studentId: 's' }, ['a', 'b'])).to.deep.equal({
      orgId: 'o',
      _id: { $in: ['a', 'b'] },
    });
    // A student with no enrolments matches no subject rather than every subject.
    expect(q.subjectListFilter('o', { limit: 1, offset: 0, studentId: 's' }, [])).to.deep.equal({ orgId: 'o', _id: { $in: [] } });
  });

  it('sessionListFilter builds the status set and the inclusive day range', () => {
    expect(
      q.sessionListFilter('o', { limit: 1, offset: 0, subjectId: 's', status: ['open'], fromDay: '2026-03-01', toDay: '2026-03-31' }),
    ).to.deep.equal({ orgId: 'o', subjectId: 's', status: { $in: ['open'] }, day: { $gte: '2026-03-01', $lte: '2026-03-31' } });
    expect(q.sessionListFilter('o', { limit: 1, offset: 0, toDay: '2026-03-31' })).to.deep.equal({
      orgId: 'o',
      day: { $lte: '2026-03-31' },
    });
  });

  it('dueSessionsFilter: due or stuck closing, with a free or expired lease', () => {
    expect(q.dueSessionsFilter(T)).to.deep.equal({
      $and: [
        { $or: [{ status: { $in: ['scheduled', 'open'] }, closesAt: { $lte: T } }, { status: 'closing' }] },
        { $or: [{ leaseUntil: null }, { leaseUntil: { $lt: T } }] },
      ],
    });
    expect(q.DUE_SORT).to.deep.equal({ closesAt: 1, _id: 1 });
  });

  it('leaseFilter and release match only the owner or a free/expired lease, in the org', () => {
    expect(q.leaseFilter('o', 's', 'n1', T)).to.deep.equal({
      _id: 's',
      orgId: 'o',
      $or: [{ leaseUntil: null }, { leaseUntil: { $lt: T } }, { leaseOwner: 'n1' }],
    });
    expect(q.releaseLeaseFilter('o', 's', 'n1')).to.deep.equal({ _id: 's', orgId: 'o', leaseOwner: 'n1' });
    expect(q.RELEASE_LEASE_UPDATE).to.deep.equal({ $set: { leaseOwner: null, leaseUntil: null } });
  });

  it('transitionUpdate sets only the given fields (null is a value, undefined is not)', () => {
    // exactOptionalPropertyTypes keeps typed callers from passing undefined; the builder must still drop one.
    const patch = { status: 'closed', closedAt: T, closedBy: null, closesAt: undefined } as unknown as Parameters<
      typeof q.transitionUpdate
    >[0];
    expect(q.transitionUpdate(patch, T)).to.deep.equal({
      $set: { updatedAt: T, status: 'closed', closedAt: T, closedBy: null },
    });
    expect(q.transitionFilter('o', 's', ['open'])).to.deep.equal({ _id: 's', orgId: 'o', status: { $in: ['open'] } });
  });

  it('recordVersionedUpdate increments the version atomically', () => {
    expect(q.recordVersionFilter('o', 'r', 3)).to.deep.equal({ _id: 'r', orgId: 'o', version: 3 });
    const patch = { status: 'late', note: undefined, reason: null } as unknown as Parameters<typeof q.recordVersionedUpdate>[0];
    expect(q.recordVersionedUpdate(patch, T)).to.deep.equal({
      $set: { status: 'late', reason: null, updatedAt: T },
      $inc: { version: 1 },
    });
  });

  it('userUpdate lower-cases a new email and keeps unset fields out', () => {
    const patch = { email: 'X@Y.test', name: undefined } as unknown as Parameters<typeof q.userUpdate>[0];
    expect(q.userUpdate(patch, T)).to.deep.equal({ $set: { email: 'x@y.test', updatedAt: T } });
    expect(q.userByEmailFilter('o', 'X@Y.test')).to.deep.equal({ orgId: 'o', email: 'x@y.test' });
    expect(q.userByEmailAnyOrgFilter('X@Y.test')).to.deep.equal({ email: 'x@y.test' });
  });

  it('the remaining org-scoped filters carry orgId', () => {
    const filters: object[] = [
      q.byOrgId('o', 'x'),
      q.byOrgIds('o', ['x']),
      q.enrolmentFilter('o', 's', ['x']),
      q.enrolmentsOfStudentFilter('o', 'x'),
      q.enrolmentsOfSubjectFilter('o', 'x'),
      q.activeSessionsFilter('o', ['s']),
      q.activeSessionsDuringFilter('o', ['s'], { startsAt: T, closesAt: T }),
      q.teacherActiveSessionsDuringFilter('o', 't', { startsAt: T, closesAt: T }),
      q.recordKeyFilter('o', 's', 'x'),
      q.recordsOfSessionsFilter('o', ['s']),
      q.recordsOfStudentFilter('o', 'x'),
      q.summaryKeyFilter('o', 's', '2026-03-02'),
      q.summaryRangeFilter('o', 's', '2026-03-01', '2026-03-02'),
      q.auditEntityFilter('o', 'record', 'x'),
      q.auditSessionFilter('o', 's'),
      q.userUnrevokedFilter('o', 'u'),
      q.faceKeyFilter('o', 'u'),
      q.facesFilter('o', ['u']),
    ];
    for (const f of filters) expect(f, JSON.stringify(f)).to.have.property('orgId', 'o');
  });
});

describe('mongo duplicate-key mapping', () => {
  const dup = (keyPattern: Record<string, number>) => Object.assign(new Error('E11000 duplicate key error'), { code: 11000, keyPattern });

  it('names each unique key as the SQLite adapter does', () => {
    expect(duplicateKeyName(dup({ orgId: 1, email: 1 }))).to.equal('email');
    expect(duplicateKeyName(dup({ orgId: 1, code: 1 }))).to.equal('code');
    expect(duplicateKeyName(dup({ slug: 1 }))).to.equal('slug');
    expect(duplicateKeyName(dup({ sessionId: 1, studentId: 1 }))).to.equal('record');
    expect(duplicateKeyName(dup({ subjectId: 1, studentId: 1 }))).to.equal('enrolment');
    expect(duplicateKeyName(dup({ subjectId: 1, day: 1 }))).to.equal('summary');
    expect(duplicateKeyName(dup({ tokenHash: 1 }))).to.equal('tokenHash');
    expect(duplicateKeyName(dup({ orgId: 1, userId: 1 }))).to.equal('face');
    expect(duplicateKeyName(dup({ _id: 1 }))).to.equal('id');
  });

  it('falls back to the index name in the message, and reads bulk write errors', () => {
    const msg = { code: 11000, message: 'E11000 duplicate key error collection: db.users index: email dup key: { ... }' };
    expect(duplicateKeyName(msg)).to.equal('email');
    const bulk = { code: 11000, writeErrors: [{ code: 11000, keyPattern: { tokenHash: 1 } }] };
    expect(isDuplicateKeyError(bulk)).to.equal(true);
    expect(duplicateKeyName(bulk)).to.equal('tokenHash');
    expect(isDuplicateKeyError({ writeErrors: [{ code: 11000 }, { code: 121 }] })).to.equal(false);
  });

  it('turns duplicates into StoreConflictError and passes other errors through', () => {
    const conflict = toConflict(dup({ orgId: 1, email: 1 }));
    expect(conflict).to.be.instanceOf(StoreConflictError);
    expect((conflict as StoreConflictError).key).to.equal('email');
    const other = Object.assign(new Error('timeout'), { code: 50 });
    expect(toConflict(other)).to.equal(other);
    expect(isDuplicateKeyError(null)).to.equal(false);
  });
});

describe('mongo document mapping and transfer operations', () => {
  const samples: { [C in CollectionName]: CollectionEntity[C] } = {
    organisations: {
      id: 'o',
      name: 'U',
      slug: 'u',
      timezone: 'UTC',
      active: false,
      settings: {
        sharedDevice: 'flag',
        retention: DEFAULT_RETENTION,
        riskThreshold: 75,
        sessionMinutes: 45,
        lateGraceMinutes: 5,
        codePeriodS: 20,
        defaultPolicy: { geofence: false, maxAttempts: 3 },
      },
      createdAt: T,
    },
    users: {
      id: 'u',
      orgId: 'o',
      email: 'a@b.test',
      name: 'A',
      role: 'admin',
      studentNumber: null,
      passwordHash: 'h',
      active: true,
      mustChangePassword: true,
      createdAt: T,
      updatedAt: T,
    },
    subjects: {
      id: 's',
      orgId: 'o',
      code: 'C',
      name: 'N',
      teacherIds: ['t'],
      location: { lat: 1, lon: 2, radiusM: 3 },
      allowedIpRanges: [],
      archivedAt: null,
      createdAt: T,
      updatedAt: T,
    },
    enrolments: { orgId: 'o', subjectId: 's', studentId: 'u', createdAt: T },
    sessions: {
      id: 'x',
      orgId: 'o',
      subjectId: 's',
      teacherId: 't',
      status: 'closed',
      policy: { geofence: true, network: true, rotatingCode: false, selfie: true, codePeriodS: 30, maxAttempts: 2 },
      startsAt: T,
      lateAfter: T,
      closesAt: T,
      codeSecret: 'k',
      day: '2026-03-02',
      createdAt: T,
      updatedAt: T,
      closedAt: T,
      closedBy: null,
      leaseOwner: 'n',
      leaseUntil: T,
      rosterVersion: 7,
      room: { location: null, allowedIpRanges: ['10.0.0.0/8'] },
      meetingId: 'm',
      meetingEdit: '2.0f3a',
    },
    records: {
      id: 'r',
      orgId: 'o',
      sessionId: 'x',
      subjectId: 's',
      studentId: 'u',
      status: 'present',
      reason: 'LATE',
      flags: ['LATE'],
      distanceM: 3.5,
      location: { lat: 1, lon: 2, accuracyM: 9, timestamp: T },
      ip: '::1',
      attempts: 1,
      submittedAt: T,
      decidedAt: T,
      decidedBy: null,
      note: null,
      verification: { state: 'done', band: 'uncertain', distance: 0.4, flags: [], reason: null, completedAt: T },
      version: 4,
      rosterVersion: 6,
      createdAt: T,
      updatedAt: T,
    },
    summaries: {
      orgId: 'o',
      subjectId: 's',
      day: '2026-03-02',
      present: 1,
      late: 1,
      absent: 0,
      excused: 0,
      total: 2,
      percentage: 100,
      updatedAt: T,
    },
    audit: {
      id: 'a',
      orgId: 'o',
      entityType: 'record',
      entityId: 'r',
      sessionId: 'x',
      actorId: null,
      action: 'checkin.accept',
      from: { s: 1 },
      to: null,
      reason: null,
      ip: null,
      at: T,
    },
    refreshTokens: {
      id: 't',
      orgId: 'o',
      userId: 'u',
      familyId: 'f',
      tokenHash: 'h',
      expiresAt: T,
      createdAt: T,
      rotatedAt: null,
      revokedAt: T,
      userAgent: 'UA',
      ip: '::1',
    },
    faces: { orgId: 'o', userId: 'u', modelId: 'm', modelVersion: '1', embeddings: [[0.5, -1]], photos: [Buffer.from([7])], updatedAt: T },
    faceProposals: {
      orgId: 'o',
      userId: 'u',
      modelId: 'm',
      modelVersion: '1',
      embeddings: [[0.5]],
      photos: [Buffer.from('p')],
      proposedBy: 't',
      createdAt: T,
    },
    consents: {
      id: 'c',
      orgId: 'o',
      userId: 'u',
      purpose: 'face',
      textVersion: 'v1',
      givenBy: 'guardian',
      guardianName: 'G',
      recordedBy: 'a',
      givenAt: T,
      withdrawnAt: null,
      withdrawnBy: null,
    },
    terms: { id: 'tm', orgId: 'o', name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-20', createdAt: T },
    holidays: { id: 'h', orgId: 'o', name: 'Break', startDay: '2026-10-26', endDay: '2026-10-30', createdAt: T },
    meetings: {
      id: 'mt',
      orgId: 'o',
      subjectId: 's',
      termId: 'tm',
      weekday: 1,
      startTime: '09:00',
      endTime: '10:00',
      teacherId: null,
      preset: null,
      location: null,
      allowedIpRanges: [],
      revision: 2,
      createdAt: T,
    },
    occurrences: { orgId: 'o', meetingId: 'mt', day: '2026-09-07', subjectId: 's', state: 'created', sessionId: 'x', updatedAt: T },
    accountTokens: { id: 'at', orgId: 'o', userId: 'u', purpose: 'invite', tokenHash: 'ah', expiresAt: T, createdAt: T, usedAt: null },
    teacherSettings: { orgId: 'o', userId: 't', timetableOpen: 'tap', defaultPolicy: {}, lateGraceMinutes: null, codePeriodS: null },
    excuses: {
      id: 'e',
      orgId: 'o',
      studentId: 'u',
      submittedBy: 'u',
      subjectId: null,
      sessionId: 'x',
      fromDay: '2026-03-02',
      toDay: '2026-03-02',
      category: 'illness',
      text: 'Flu',
      document: { fileName: 'n.pdf', contentType: 'application/pdf', size: 3 },
      documentBytes: Buffer.from('pdf'),
      status: 'approved',
      decidedBy: 't',
      decidedAt: T,
      decisionNote: null,
      pendingKey: null,
      createdAt: T,
      updatedAt: T,
    },
    guardians: {
      orgId: 'o',
      studentId: 'u',
      contacts: [{ name: 'P', relation: 'mother', email: 'p@b.test', language: 'fr' }],
      unsubscribed: ['alert:k'],
      updatedAt: T,
    },
    onerosterObjects: { orgId: 'o', kind: 'user', sourcedId: 'sis-1', entityId: 'u', data: { k: 'v' }, updatedAt: T },
    alertRules: { id: 'ar', orgId: 'o', kind: 'consecutive-absences', count: 3, thresholdPct: null, windowDays: null, createdAt: T },
    alertStates: { orgId: 'o', ruleId: 'ar', subjectId: 's', studentId: 'u', firing: true },
    notifications: { id: 'n', orgId: 'o', userId: 't', category: 'alert', alert: { kind: 'k' } as never, createdAt: T, readAt: null },
    notificationPreferences: { orgId: 'o', userId: 't', language: 'en', unsubscribed: [], updatedAt: T },
    outbox: {
      id: 'ob',
      orgId: 'o',
      category: 'alert' as never,
      userId: null,
      to: 'p@b.test',
      subject: 'S',
      text: 't',
      html: '<p>t</p>',
      headers: { 'List-Unsubscribe': '<x>' },
      status: 'queued',
      attempts: 0,
      lastError: null,
      nextAttemptAt: T,
      claimedBy: null,
      claimUntil: null,
      createdAt: T,
      sentAt: null,
    },
    webhookEndpoints: {
      id: 'we',
      orgId: 'o',
      url: 'https://h.test/x',
      description: null,
      secret: 'sec',
      events: ['session.closed' as never],
      active: true,
      failingSince: null,
      disabledAt: null,
      disabledReason: null,
      createdAt: T,
      updatedAt: T,
    },
    webhookDeliveries: {
      id: 'wd',
      orgId: 'o',
      endpointId: 'we',
      event: 'session.closed' as never,
      orderKey: 'x',
      seq: 9,
      body: '{}',
      state: 'pending',
      attempts: 1,
      nextAttemptAt: T,
      retryUntil: T,
      lastStatus: 500,
      lastError: 'boom',
      createdAt: T,
      deliveredAt: null,
    },
    webhookAttempts: { deliveryId: 'wd', orgId: 'o', at: T, statusCode: 500, error: 'boom', durationMs: 12 },
  };

  it('round-trips every collection through its document unchanged', () => {
    for (const c of Object.keys(samples) as CollectionName[]) {
      const entity = samples[c];
      const doc = (FROM_ENTITY[c] as (e: typeof entity) => { _id: string })(entity);
      expect(typeof doc._id, c).to.equal('string');
      expect((TO_ENTITY[c] as (d: typeof doc) => unknown)(doc), c).to.deep.equal(entity);
    }
  });

  it('reads organisations written before status and settings as active with no settings', () => {
    const old = { _id: 'o', name: 'U', slug: 'u', timezone: 'UTC', createdAt: T };
    expect(TO_ENTITY.organisations(old)).to.deep.equal({
      id: 'o',
      name: 'U',
      slug: 'u',
      timezone: 'UTC',
      active: true,
      settings: {
        sharedDevice: 'flag',
        retention: DEFAULT_RETENTION,
        riskThreshold: 75,
        sessionMinutes: null,
        lateGraceMinutes: null,
        codePeriodS: null,
        defaultPolicy: {},
      },
      createdAt: T,
    });
  });

  it('gives id-less entities a deterministic _id from their natural key', () => {
    expect(FROM_ENTITY.enrolments(samples.enrolments)._id).to.equal('s:u');
    expect(FROM_ENTITY.summaries(samples.summaries)._id).to.equal('s:2026-03-02');
    expect(FROM_ENTITY.faces(samples.faces)._id).to.equal('o:u');
  });

  it('reads photos stored as BSON Binary back as Buffers', () => {
    const doc = {
      ...fromFace(samples.faces),
      photos: [new mongo.Binary(Buffer.from([1, 2])), new mongo.Binary(Buffer.alloc(0))] as unknown as Buffer[],
    };
    expect(toFace(doc).photos!.map((p) => p.toString('hex'))).to.deep.equal(['0102', '']);
    expect(() => toBuffer('text')).to.throw(TypeError);
  });

  it('imports upsert on _id with every field in $set (and the derived name key)', () => {
    const [op] = importOps('users', [samples.users]);
    const { id, ...fields } = samples.users;
    expect(op).to.deep.equal({ updateOne: { filter: { _id: id }, update: { $set: { ...fields, nameKey: 'a' } }, upsert: true } });
  });

  it('imports audit entries with their ordering seq set only on insert, increasing in batch order', () => {
    const second: AuditEntry = { ...samples.audit, id: 'b' };
    const ops = importOps('audit', [samples.audit, second]);
    const seqs = ops.map((o) => (o.updateOne.update as unknown as { $setOnInsert: { seq: Types.ObjectId } }).$setOnInsert.seq);
    expect(seqs[0]!.toHexString() < seqs[1]!.toHexString()).to.equal(true);
    expect(ops[0]!.updateOne.update).to.not.have.nested.property('$set.seq');
    expect(exportSort('audit')).to.deep.equal({ at: 1, seq: 1 });
    expect(exportSort('users')).to.deep.equal({ _id: 1 });
  });
});
