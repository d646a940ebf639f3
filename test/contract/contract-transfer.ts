import { expect } from 'chai';
import { type Store } from '../../src/domain/ports/store.js';
import { COLLECTIONS, type CollectionEntity, type CollectionName } from '../../src/domain/ports/transfer.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from './fixtures.js';
import { seedLaterCollections } from '../support/transfer-seed.js';

// Whole-collection copy between two stores of the same adapter.

async function populate(s: Store): Promise<void> {
  const org = await makeOrg(s);
  const other = await makeOrg(s);
  const [teacher, st1, st2] = await s.users.createMany(org.id, [
    newUser({ role: 'teacher', passwordHash: '$2a$x' }),
    newUser(),
    newUser({ active: false, studentNumber: null }),
  ]);
  await s.users.create(other.id, newUser());
  const subject = await s.subjects.create(org.id, newSubject({ teacherIds: [teacher!.id] }));
  await s.subjects.create(org.id, newSubject({ location: null, allowedIpRanges: [] }));
  await s.subjects.enrol(org.id, subject.id, [st1!.id, st2!.id]);
  const sess = await s.sessions.create(org.id, newSession(subject.id, teacher!.id));
  await s.sessions.acquireLease(org.id, sess.id, 'node-a', new Date(Date.UTC(2030, 0, 1)), new Date());
  const closed = await s.sessions.create(org.id, newSession(subject.id, teacher!.id));
  await s.sessions.transition(org.id, closed.id, ['open'], {
    status: 'closed',
    closedAt: new Date(Date.UTC(2025, 2, 10, 9, 1)),
    closedBy: teacher!.id,
  });
  const { record } = await s.records.insertIfAbsent(
    org.id,
    newRecord(sess.id, subject.id, st1!.id, {
      flags: ['LATE'],
      location: { lat: 1.5, lon: 2.5, accuracyM: 10, timestamp: new Date(Date.UTC(2025, 2, 10, 8, 5, 0, 7)) },
      verification: { state: 'queued', band: null, distance: null, flags: [], reason: null, completedAt: null },
    }),
  );
  await s.records.update(org.id, record.id, 1, { status: 'present' });
  await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, st2!.id));
  await s.summaries.upsert({
    orgId: org.id,
    subjectId: subject.id,
    day: '2025-03-10',
    present: 1,
    late: 0,
    absent: 1,
    excused: 0,
    total: 2,
    percentage: 50,
  });
  await s.audit.append({
    orgId: org.id,
    entityType: 'record',
    entityId: record.id,
    sessionId: sess.id,
    actorId: teacher!.id,
    action: 'record.correct',
    from: { status: 'pending' },
    to: { status: 'present' },
    reason: null,
    ip: null,
    at: new Date(),
  });
  await s.refreshTokens.create({
    orgId: org.id,
    userId: st1!.id,
    familyId: 'fam',
    tokenHash: 'hash-1',
    expiresAt: new Date(Date.UTC(2030, 0, 1)),
  });
  await s.faces.put({
    orgId: org.id,
    userId: st1!.id,
    modelId: 'm',
    modelVersion: '1',
    embeddings: [[0.25, -0.5]],
    photos: [Buffer.from('abc')],
  });
  await s.faceProposals.put({
    orgId: org.id,
    userId: st2!.id,
    modelId: 'm',
    modelVersion: '1',
    embeddings: [[0.5, 0.125]],
    photos: [Buffer.from('xyz')],
    proposedBy: teacher!.id,
    createdAt: new Date(Date.UTC(2025, 2, 10, 9, 0)),
  });
  await s.consents.create({
    orgId: org.id,
    userId: st1!.id,
    purpose: 'face',
    textVersion: 'v1',
    givenBy: 'guardian',
    guardianName: 'G. Parent',
    recordedBy: teacher!.id,
    givenAt: new Date(Date.UTC(2025, 2, 1)),
  });
  await seedLaterCollections(s, { orgId: org.id, teacherId: teacher!.id, studentId: st1!.id, subjectId: subject.id, sessionId: sess.id });
}

async function exportAll<C extends CollectionName>(s: Store, c: C, batchSize: number): Promise<CollectionEntity[C][][]> {
  const batches: CollectionEntity[C][][] = [];
  for await (const batch of s.transfer.export(c, batchSize)) batches.push(batch);
  return batches;
}

/** A stable identity per entity, so two exports compare regardless of order. */
function keyOf(c: CollectionName, e: object): string {
  const r = e as Record<string, unknown>;
  if (c === 'enrolments') return `${String(r.subjectId)}/${String(r.studentId)}`;
  if (c === 'summaries') return `${String(r.subjectId)}/${String(r.day)}`;
  if (c === 'faces' || c === 'faceProposals' || c === 'teacherSettings' || c === 'notificationPreferences')
    return `${String(r.orgId)}/${String(r.userId)}`;
  if (c === 'occurrences') return `${String(r.meetingId)}/${String(r.day)}`;
  if (c === 'guardians') return `${String(r.orgId)}/${String(r.studentId)}`;
  if (c === 'onerosterObjects') return `${String(r.orgId)}/${String(r.kind)}/${String(r.sourcedId)}`;
  if (c === 'alertStates') return `${String(r.ruleId)}/${String(r.subjectId)}/${String(r.studentId)}`;
  if (c === 'webhookAttempts') return `${String(r.deliveryId)}/${(r.at as Date).getTime()}`;
  return String(r.id);
}

const sorted = <T extends object>(c: CollectionName, xs: T[]): T[] => [...xs].sort((a, b) => keyOf(c, a).localeCompare(keyOf(c, b)));

export function transferContract(ctx: ContractContext): void {
  describe('transfer', function () {
    it('export batches respect the batch size and cover the collection', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.users.createMany(org.id, [newUser(), newUser(), newUser(), newUser(), newUser()]);
      expect(await s.transfer.count('users')).to.equal(5);
      const batches = await exportAll(s, 'users', 2);
      expect(batches.map((b) => b.length)).to.deep.equal([2, 2, 1]);
      expect(new Set(batches.flat().map((u) => u.id)).size).to.equal(5);
      expect(await exportAll(s, 'records', 10)).to.deep.equal([]);
    });

    it('copies every collection into another store with ids preserved, idempotently', async function () {
      const src = ctx.store();
      await populate(src);
      const target = await ctx.open();
      try {
        const dst = target.store;
        const copy = async () => {
          for (const c of COLLECTIONS) {
            for (const batch of await exportAll(src, c, 2)) await dst.transfer.import(c, batch);
          }
        };
        await copy();
        const counts: Record<string, number> = {};
        for (const c of COLLECTIONS) {
          counts[c] = await src.transfer.count(c);
          expect(counts[c], c).to.be.greaterThan(0);
          expect(await dst.transfer.count(c), c).to.equal(counts[c]);
          expect(sorted(c, (await exportAll(dst, c, 100)).flat()), c).to.deep.equal(sorted(c, (await exportAll(src, c, 100)).flat()));
        }

        await copy();
        for (const c of COLLECTIONS) expect(await dst.transfer.count(c), c).to.equal(counts[c]);

        // The copy behaves as the original through the repositories, too.
        const [org] = (await exportAll(src, 'organisations', 1))[0]!;
        expect(await dst.organisations.getBySlug(org!.slug)).to.deep.equal(org);
        const users = await src.users.list(org!.id, { limit: 100, offset: 0 });
        expect(await dst.users.list(org!.id, { limit: 100, offset: 0 })).to.deep.equal(users);
        const [rec] = (await exportAll(src, 'records', 1))[0]!;
        expect(await dst.records.get(rec!.orgId, rec!.id)).to.deep.equal(await src.records.get(rec!.orgId, rec!.id));
        expect(await dst.subjects.listEnrolled(rec!.orgId, rec!.subjectId)).to.have.members(
          await src.subjects.listEnrolled(rec!.orgId, rec!.subjectId),
        );
        expect(await dst.refreshTokens.findByHash('hash-1')).to.deep.equal(await src.refreshTokens.findByHash('hash-1'));
        // Later collections, read back through their repositories: the document's bytes, the
        // webhook log, the notification list, and a new delivery numbered after the copied ones.
        const orgId = rec!.orgId;
        const [excuse] = (await exportAll(src, 'excuses', 1))[0]!;
        expect(await dst.excuses.getDocument(orgId, excuse!.id)).to.deep.equal(await src.excuses.getDocument(orgId, excuse!.id));
        const [delivery] = (await exportAll(src, 'webhookDeliveries', 1))[0]!;
        expect(await dst.webhooks.listAttempts(orgId, delivery!.id))
          .to.deep.equal(await src.webhooks.listAttempts(orgId, delivery!.id))
          .and.to.have.length(1);
        const [note] = (await exportAll(src, 'notifications', 1))[0]!;
        const page = { limit: 10, offset: 0 };
        expect(await dst.notifications.list(orgId, note!.userId, page)).to.deep.equal(
          await src.notifications.list(orgId, note!.userId, page),
        );
        expect(await dst.guardians.get(orgId, rec!.studentId)).to.deep.equal(await src.guardians.get(orgId, rec!.studentId));
        const { id: _copied, ...queued } = delivery!;
        const [next] = await dst.webhooks.enqueue([{ ...queued, orderKey: 'after-copy', createdAt: new Date() }]);
        expect(next!.seq).to.be.greaterThan(delivery!.seq);
      } finally {
        await target.cleanup();
      }
    });

    it("a student's history in session order after an import, and after a session imported again with another start", async function () {
      const src = ctx.store();
      const org = await makeOrg(src);
      const subject = await src.subjects.create(org.id, newSubject());
      const sessions = [];
      for (let i = 0; i < 3; i++) {
        sessions.push(
          await src.sessions.create(org.id, newSession(subject.id, 't1', { startsAt: new Date(Date.UTC(2025, 2, 10 + i, 8)) })),
        );
      }
      // Written newest session first: the history's order is not the records' order.
      for (const sess of [...sessions].reverse()) await src.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'));
      const target = await ctx.open();
      try {
        const dst = target.store;
        for (const c of ['organisations', 'subjects', 'sessions', 'records'] as const) {
          for (const batch of await exportAll(src, c, 2)) await dst.transfer.import(c, batch);
        }
        const order = async () => {
          const items = [];
          for (let offset = 0; offset < 3; offset += 2)
            items.push(...(await dst.records.listByStudent(org.id, 'st1', { limit: 2, offset })).items);
          return items.map((r) => r.sessionId);
        };
        const [s0, s1, s2] = sessions.map((x) => x.id) as [string, string, string];
        expect(await order()).to.deep.equal([s2, s1, s0]);
        // A restore of the oldest session as it was after a move: its start replaces the one there.
        await dst.transfer.import('sessions', [{ ...sessions[0]!, startsAt: new Date(Date.UTC(2025, 2, 20, 8)) }]);
        expect(await order()).to.deep.equal([s0, s2, s1]);
      } finally {
        await target.cleanup();
      }
    });

    it('import of an entity that already exists replaces it', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const u = await s.users.create(org.id, newUser());
      await s.transfer.import('users', [{ ...u, name: 'Imported' }]);
      expect(await s.users.get(org.id, u.id)).to.deep.equal({ ...u, name: 'Imported' });
      expect(await s.transfer.count('users')).to.equal(1);
      await s.transfer.import('users', []);
    });
  });
}
