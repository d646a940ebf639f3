import { expect } from 'chai';
import { COLLECTIONS, type PersonRef, type Store, type User } from '../../src/domain/store-ports.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from './fixtures.js';

// Consents, subject-access audit lookup and erasure.

/** Every collection of the store as one JSON text (what a backup or a migration would copy). */
export async function dumpStore(s: Store): Promise<string> {
  const parts: string[] = [];
  for (const c of COLLECTIONS) {
    for await (const batch of s.transfer.export(c, 100)) parts.push(JSON.stringify(batch));
  }
  return parts.join('\n');
}

function personOf(u: User): PersonRef {
  return { orgId: u.orgId, userId: u.id, identifiers: [u.email, u.name, u.studentNumber ?? ''] };
}

export function privacyContract(ctx: ContractContext): void {
  describe('consents', function () {
    it('records, finds the newest standing one, withdraws, and keeps history', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const base = { orgId: org.id, userId: 'st', purpose: 'face' as const, givenBy: 'student' as const, guardianName: null, recordedBy: 'st' };
      expect(await s.consents.current(org.id, 'st', 'face')).to.equal(null);
      const first = await s.consents.create({ ...base, textVersion: 'v1', givenAt: new Date(Date.UTC(2026, 0, 1)) });
      const second = await s.consents.create({ ...base, textVersion: 'v2', givenBy: 'guardian', guardianName: 'G', recordedBy: 'adm', givenAt: new Date(Date.UTC(2026, 1, 1)) });
      expect(await s.consents.current(org.id, 'st', 'face')).to.deep.equal(second);
      expect(await s.consents.current(other.id, 'st', 'face')).to.equal(null);
      expect(await s.consents.withdraw(org.id, 'st', 'face', 'st', new Date(Date.UTC(2026, 2, 1)))).to.equal(2);
      expect(await s.consents.current(org.id, 'st', 'face')).to.equal(null);
      const history = await s.consents.listForUser(org.id, 'st');
      expect(history.map((c) => c.id)).to.deep.equal([first.id, second.id]);
      expect(history.every((c) => c.withdrawnBy === 'st' && c.withdrawnAt?.getTime() === Date.UTC(2026, 2, 1))).to.equal(true);
      expect(await s.consents.withdraw(org.id, 'st', 'face', 'st', new Date())).to.equal(0);
    });
  });

  describe('privacy: subject access and erasure', function () {
    async function populated(s: Store) {
      const org = await makeOrg(s);
      const [teacher, ada, bob] = await s.users.createMany(org.id, [
        newUser({ role: 'teacher' }),
        newUser({ name: 'Ada Lovelace', email: 'ada.lovelace@school.test', studentNumber: 'SN-4242' }),
        newUser({ name: 'Bob Other' }),
      ]);
      const subject = await s.subjects.create(org.id, newSubject({ teacherIds: [teacher!.id] }));
      await s.subjects.enrol(org.id, subject.id, [ada!.id, bob!.id]);
      const sess = await s.sessions.create(org.id, newSession(subject.id, teacher!.id));
      const { record } = await s.records.insertIfAbsent(
        org.id,
        newRecord(sess.id, subject.id, ada!.id, {
          location: { lat: 1.5, lon: 2.5, accuracyM: 10, timestamp: new Date() },
          ip: '203.0.113.7',
          note: 'Ada Lovelace came from the dentist',
          verification: { state: 'done', band: 'confident', distance: 0.2, flags: [], reason: 'FACE_MATCH', completedAt: new Date(), probe: [0.1, 0.2] },
        }),
      );
      const { record: bobRecord } = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, bob!.id));
      const at = new Date();
      const entry = { orgId: org.id, sessionId: null, reason: null, ip: '203.0.113.9', at };
      const aboutUser = await s.audit.append({ ...entry, entityType: 'user', entityId: ada!.id, actorId: teacher!.id, action: 'user.update', from: { name: 'Ada L.' }, to: { name: 'Ada Lovelace', email: ada!.email } });
      const aboutRecord = await s.audit.append({ ...entry, entityType: 'record', entityId: record.id, sessionId: sess.id, actorId: teacher!.id, action: 'record.correct', from: { note: null }, to: { note: 'Ada Lovelace came from the dentist' } });
      const naming = await s.audit.append({ ...entry, entityType: 'subject', entityId: subject.id, actorId: teacher!.id, action: 'subject.enrol', from: null, to: { studentIds: [ada!.id, bob!.id] } });
      const byHer = await s.audit.append({ ...entry, entityType: 'user', entityId: ada!.id, actorId: ada!.id, action: 'user.password-change', from: null, to: null });
      const unrelated = await s.audit.append({ ...entry, entityType: 'record', entityId: bobRecord.id, sessionId: sess.id, actorId: teacher!.id, action: 'record.correct', from: null, to: { status: 'present' } });
      await s.refreshTokens.create({ orgId: org.id, userId: ada!.id, familyId: 'fam-ada', tokenHash: 'hash-ada', expiresAt: new Date(Date.UTC(2030, 0, 1)), ip: '203.0.113.7' });
      await s.accountTokens.create({ orgId: org.id, userId: ada!.id, purpose: 'reset', tokenHash: 'acct-ada', expiresAt: new Date(Date.UTC(2030, 0, 1)), createdAt: new Date() });
      await s.faces.put({ orgId: org.id, userId: ada!.id, modelId: 'm', modelVersion: '1', embeddings: [[0.25, -0.5]], photos: null });
      await s.faceProposals.put({ orgId: org.id, userId: ada!.id, modelId: 'm', modelVersion: '1', embeddings: [[0.5, 0.125]], photos: [Buffer.from('x')], proposedBy: teacher!.id, createdAt: new Date() });
      await s.consents.create({ orgId: org.id, userId: ada!.id, purpose: 'face', textVersion: 'v1', givenBy: 'guardian', guardianName: 'Grace Lovelace', recordedBy: teacher!.id, givenAt: new Date() });
      return { org, teacher: teacher!, ada: ada!, bob: bob!, subject, sess, record, bobRecord, audit: { aboutUser, aboutRecord, naming, byHer, unrelated } };
    }

    it('finds the audit entries about a person, by them and naming them, and no others', async function () {
      const s = ctx.store();
      const f = await populated(s);
      const found = await s.privacy.auditAbout(personOf(f.ada));
      expect(found.map((e) => e.id)).to.have.members([f.audit.aboutUser.id, f.audit.aboutRecord.id, f.audit.naming.id, f.audit.byHer.id]);
      expect(found.map((e) => e.id)).not.to.include(f.audit.unrelated.id);
    });

    it('erasure leaves no personal value of the person in any collection and keeps anonymised records', async function () {
      const s = ctx.store();
      const f = await populated(s);
      const before = await dumpStore(s);
      for (const v of [f.ada.id, f.ada.email, f.ada.name, 'SN-4242', 'Grace Lovelace', '203.0.113.7']) expect(before).to.include(v);

      const counts = await s.privacy.erase(personOf(f.ada), 'tomb-1');
      expect(counts).to.include({ users: 1, enrolments: 1, faces: 1, faceProposals: 1, consents: 1, refreshTokens: 1, accountTokens: 1 });

      const after = await dumpStore(s);
      for (const v of [f.ada.id, f.ada.email, f.ada.name, 'SN-4242', 'Grace Lovelace', '203.0.113.7', 'Lovelace']) {
        expect(after.toLowerCase(), v).not.to.include(v.toLowerCase());
      }
      expect(await s.users.get(f.org.id, f.ada.id)).to.equal(null);
      const kept = await s.records.get(f.org.id, f.record.id);
      expect(kept).to.include({ studentId: 'tomb-1', ip: null, note: null, status: f.record.status, sessionId: f.sess.id });
      expect(kept!.location).to.equal(null);
      expect(kept!.verification).to.equal(null);
      expect(await s.accountTokens.consume('acct-ada', new Date())).to.equal(null);
      expect(await s.refreshTokens.findByHash('hash-ada')).to.equal(null);

      // Someone else's data is untouched; an entry naming her keeps its other values.
      expect(await s.users.get(f.org.id, f.bob.id)).to.deep.equal(f.bob);
      expect(await s.records.get(f.org.id, f.bobRecord.id)).to.deep.equal(f.bobRecord);
      expect(await s.subjects.listEnrolled(f.org.id, f.subject.id)).to.deep.equal([f.bob.id]);
      const subjectLog = await s.audit.listForEntity(f.org.id, 'subject', f.subject.id);
      expect(subjectLog[0]!.to).to.deep.equal({ studentIds: ['tomb-1', f.bob.id] });
      expect((await s.audit.listForEntity(f.org.id, 'record', f.bobRecord.id))[0]).to.deep.equal(f.audit.unrelated);
      const tombLog = await s.audit.listForEntity(f.org.id, 'user', 'tomb-1');
      expect(tombLog.map((e) => [e.action, e.from, e.to, e.ip])).to.deep.equal([
        ['user.update', null, null, null],
        ['user.password-change', null, null, null],
      ]);
      expect(tombLog[1]!.actorId).to.equal('tomb-1');

      // A second run (an interrupted erasure resumed) finds nothing left to do.
      const again = await s.privacy.erase(personOf(f.ada), 'tomb-2');
      expect(Object.values(again).every((n) => n === 0)).to.equal(true);
    });

    it('erasing a teacher takes them off subjects and out of session and decision references', async function () {
      const s = ctx.store();
      const f = await populated(s);
      await s.records.update(f.org.id, f.bobRecord.id, f.bobRecord.version, { decidedBy: f.teacher.id, status: 'present' });
      await s.privacy.erase(personOf(f.teacher), 'tomb-t');
      const after = await dumpStore(s);
      for (const v of [f.teacher.id, f.teacher.email]) expect(after).not.to.include(v);
      expect((await s.subjects.get(f.org.id, f.subject.id))!.teacherIds).to.deep.equal([]);
      expect((await s.sessions.get(f.org.id, f.sess.id))!.teacherId).to.equal('tomb-t');
      expect((await s.records.get(f.org.id, f.bobRecord.id))!.decidedBy).to.equal('tomb-t');
      expect((await s.faceProposals.get(f.org.id, f.ada.id))!.proposedBy).to.equal('tomb-t');
      expect(await s.users.get(f.org.id, f.ada.id)).to.deep.equal(f.ada);
    });
  });
}
