import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { seedNewerData } from '../contract/contract-privacy.js';
import { dumpSqliteFile } from '../support/store-dump.js';
import { PASSWORD, createOrg, createSubject, createUser, unique } from '../support/fixtures.js';
import { startTestServer, type TestServer, refusal } from '../support/http.js';

const BOUNDARY = 'privacy-boundary';
const ONE_PHOTO = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; filename="me.jpg"\r\nContent-Type: image/jpeg\r\n\r\nnot a jpeg\r\n--${BOUNDARY}--\r\n`;

describe('privacy over HTTP: consent, subject access, erasure (FACE_CONSENT_REQUIRED=true)', () => {
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  let teacher: User;
  let student: User;
  const token: Record<string, string> = {};

  // A file, so that the erasure test can read every table from a connection of its own.
  let dir: string;
  let file: string;
  const dump = () => dumpSqliteFile(file).text;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'privacy-'));
    file = path.join(dir, 'store.db');
    srv = await startTestServer({ FACE_CONSENT_REQUIRED: 'true' }, { openStore: () => createSqliteStore({ path: file }) });
  });
  after(async () => {
    await srv.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
    teacher = await createUser(srv.store, org.id, 'teacher');
    student = await createUser(srv.store, org.id, 'student');
    await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    for (const u of [admin, teacher, student]) token[u.role] = (await srv.login(u.email, PASSWORD)).accessToken;
  });

  const as = (role: string) => ({ token: token[role]! });
  const uploadFace = (role: string) =>
    srv.request('PUT', `/api/v1/users/${student.id}/face`, {
      ...as(role),
      raw: ONE_PHOTO,
      contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    });
  const putFace = () =>
    srv.store.faces.put({ orgId: org.id, userId: student.id, modelId: 'm', modelVersion: '1', embeddings: [[0.6, 0.8]], photos: null });

  describe('consent', () => {
    it('gates face references: refused with FACE_CONSENT_REQUIRED until the student records a consent', async () => {
      for (const role of ['admin', 'teacher', 'student']) {
        const res = await uploadFace(role);
        expect(res.status, role).to.equal(409);
        expect(res.body.error.code).to.equal('FACE_CONSENT_REQUIRED');
      }
      const given = await srv.request('POST', `/api/v1/users/${student.id}/consents`, {
        ...as('student'),
        body: { textVersion: '2026-09', givenBy: 'student' },
      });
      expect(given.status).to.equal(201);
      expect(given.body).to.include({
        userId: student.id,
        purpose: 'face',
        textVersion: '2026-09',
        givenBy: 'student',
        guardianName: null,
        recordedBy: student.id,
        withdrawnAt: null,
      });
      // Past the consent gate: this server has no face engine.
      expect((await uploadFace('admin')).body.error.code).to.equal('UNAVAILABLE');
      const entries = await srv.store.audit.listForEntity(org.id, 'user', student.id);
      expect(entries.map((e) => [e.action, e.actorId])).to.deep.equal([['consent.record', student.id]]);
    });

    it("lets an admin record a guardian's consent by name, and nobody else record for another", async () => {
      const post = (role: string, body: unknown) => srv.request('POST', `/api/v1/users/${student.id}/consents`, { ...as(role), body });
      expect((await post('admin', { textVersion: 'v1', givenBy: 'guardian' })).body.error.code).to.equal('VALIDATION_FAILED');
      expect(refusal(await post('admin', { textVersion: 'v1', givenBy: 'student' }))).to.deep.equal([403, 'FORBIDDEN']);
      expect(refusal(await post('student', { textVersion: 'v1', givenBy: 'guardian', guardianName: 'Me Myself' }))).to.deep.equal([
        403,
        'FORBIDDEN',
      ]);
      expect(refusal(await post('teacher', { textVersion: 'v1', givenBy: 'student' }))).to.deep.equal([403, 'FORBIDDEN']);
      expect(await srv.store.consents.listForUser(org.id, student.id)).to.deep.equal([]);
      const res = await post('admin', { textVersion: 'v1', givenBy: 'guardian', guardianName: 'Grace Parent' });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ givenBy: 'guardian', guardianName: 'Grace Parent', recordedBy: admin.id });
      const list = await srv.request('GET', `/api/v1/users/${student.id}/consents`, as('student'));
      expect(list.body.items.map((c: { id: string }) => c.id)).to.deep.equal([res.body.id]);
    });

    it('withdrawal deletes the enrolment embeddings and the pending proposal, and closes the gate again', async () => {
      await srv.request('POST', `/api/v1/users/${student.id}/consents`, {
        ...as('student'),
        body: { textVersion: 'v1', givenBy: 'student' },
      });
      await putFace();
      await srv.store.faceProposals.put({
        orgId: org.id,
        userId: student.id,
        modelId: 'm',
        modelVersion: '1',
        embeddings: [[0.8, 0.6]],
        photos: [Buffer.from('p')],
        proposedBy: teacher.id,
        createdAt: new Date(),
      });
      const res = await srv.request('DELETE', `/api/v1/users/${student.id}/consents`, as('student'));
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ withdrawn: 1, faceDeleted: true });
      expect(await srv.store.faces.get(org.id, student.id)).to.equal(null);
      expect(await srv.store.faceProposals.get(org.id, student.id)).to.equal(null);
      expect(await srv.store.consents.current(org.id, student.id, 'face')).to.equal(null);
      expect((await srv.store.consents.listForUser(org.id, student.id))[0]).to.include({ withdrawnBy: student.id });
      expect((await uploadFace('admin')).body.error.code).to.equal('FACE_CONSENT_REQUIRED');
      expect(await srv.request('DELETE', `/api/v1/users/${student.id}/consents`, as('student'))).to.have.nested.property(
        'body.withdrawn',
        0,
      );
    });
  });

  describe('subject access and erasure', () => {
    async function history(ip: string) {
      const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
      const startsAt = new Date();
      const session = await srv.store.sessions.create(org.id, {
        subjectId: subject.id,
        teacherId: teacher.id,
        status: 'open',
        policy: { geofence: true, network: false, rotatingCode: false, selfie: true, codePeriodS: 15, maxAttempts: 2 },
        startsAt,
        lateAfter: new Date(startsAt.getTime() + 600_000),
        closesAt: new Date(startsAt.getTime() + 3_600_000),
        codeSecret: 'c2VjcmV0',
        day: startsAt.toISOString().slice(0, 10),
      });
      const { record } = await srv.store.records.insertIfAbsent(org.id, {
        sessionId: session.id,
        subjectId: subject.id,
        studentId: student.id,
        status: 'present',
        reason: 'FACE_MATCH',
        flags: [],
        distanceM: 4,
        location: { lat: 48.1, lon: 11.5, accuracyM: 8, timestamp: startsAt },
        ip,
        attempts: 1,
        submittedAt: startsAt,
        decidedAt: startsAt,
        decidedBy: null,
        note: `${student.name} sat at the back`,
        verification: {
          state: 'done',
          band: 'confident',
          distance: 0.21,
          flags: ['FACE_MATCH'],
          reason: 'FACE_MATCH',
          completedAt: startsAt,
          probe: [0.6, 0.8],
        },
      });
      const guardianName = unique('Guardian');
      await srv.request('POST', `/api/v1/users/${student.id}/consents`, {
        ...as('admin'),
        body: { textVersion: 'v1', givenBy: 'guardian', guardianName },
      });
      await putFace();
      const classmate = await createUser(srv.store, org.id, 'student');
      const guardian = { name: unique('Guardian'), email: `${unique('guardian')}@parents.test` };
      const newer = await seedNewerData(srv.store, org.id, teacher, student, classmate, subject.id, session.id, record.id, guardian);
      return { subject, session, record, guardianName, newer, guardian };
    }

    it('exports profile, subjects, records, consents, audit and enrolment status, without secrets or embeddings', async () => {
      const { subject, record, guardianName, newer, guardian } = await history('198.51.100.23');
      const res = await srv.request('GET', `/api/v1/users/${student.id}/export`, as('admin'));
      expect(res.status).to.equal(200);
      const b = res.body;
      expect(b.profile).to.include({ id: student.id, email: student.email, name: student.name, studentNumber: student.studentNumber });
      expect(b.organisation).to.deep.equal({ id: org.id, name: org.name });
      expect(b.subjects.map((s: { id: string }) => s.id)).to.include(subject.id);
      expect(b.records).to.have.length(1);
      expect(b.records[0]).to.include({ id: record.id, ip: '198.51.100.23', note: `${student.name} sat at the back` });
      expect(b.records[0].location).to.include({ lat: 48.1, lon: 11.5 });
      expect(b.records[0].verification).to.include({ band: 'confident', distance: 0.21 });
      expect(b.consents.map((c: { guardianName: string }) => c.guardianName)).to.deep.equal([guardianName]);
      expect(b.face).to.include({ enrolled: true, modelId: 'm', photoCount: 1, photosKept: false, proposal: null });
      expect(b.logins).to.have.length(1);
      expect(b.audit.map((e: { action: string }) => e.action)).to.include('consent.record');
      expect(b.excuses.map((e: { id: string }) => e.id)).to.deep.equal([newer.excuse.id]);
      expect(b.excuses[0]).to.deep.include({
        text: 'Ada Lovelace was ill',
        document: { fileName: 'ada-lovelace-note.pdf', contentType: 'application/pdf', size: 43 },
      });
      expect(b.guardians).to.deep.equal([{ ...guardian, relation: 'mother', language: 'en' }]);
      expect(b.notifications).to.have.length(1);
      expect(b.notifications[0].alert).to.include({ studentId: student.id, rule: 'consecutive-absences' });
      expect(b.emailPreferences).to.include({ language: 'fr' });
      expect(b.emailPreferences.unsubscribed).to.deep.equal(['digest']);
      const text = JSON.stringify(b);
      for (const secret of [
        'passwordHash',
        'password_hash',
        'probe',
        'embeddings',
        'tokenHash',
        student.passwordHash!,
        'Doctor note',
        'documentBytes',
      ]) {
        expect(text, secret).not.to.include(secret);
      }
    });

    it("leaves out of a student's export the alerts about classmates they were sent as a teacher, as their own list does", async () => {
      const classmate = await createUser(srv.store, org.id, 'student');
      const rule = await srv.store.alerts.createRule(org.id, {
        kind: 'consecutive-absences',
        count: 3,
        thresholdPct: null,
        windowDays: null,
      });
      const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id, classmate.id]);
      const about = (who: { id: string; name: string }) => ({
        ruleId: rule.id,
        rule: 'consecutive-absences' as const,
        subjectId: subject.id,
        subjectCode: subject.code,
        subjectName: subject.name,
        studentId: who.id,
        studentName: who.name,
        count: 3,
        thresholdPct: null,
        windowDays: null,
        observed: 3,
      });
      // Addressed to the student: one about a classmate (as if sent while they taught), one about them.
      await srv.store.notifications.createMany([
        { orgId: org.id, userId: student.id, category: 'alert', alert: about(classmate) },
        { orgId: org.id, userId: student.id, category: 'alert', alert: about(student) },
      ]);
      const res = await srv.request('GET', `/api/v1/users/${student.id}/export`, as('admin'));
      expect(res.status).to.equal(200);
      const exported = res.body.notifications.map((n: { alert: { studentId: string } }) => n.alert.studentId);
      expect(exported).to.include(student.id);
      expect(exported).not.to.include(classmate.id);
      expect(JSON.stringify(res.body)).not.to.include(classmate.name);
      const own = await srv.request('GET', '/api/v1/me/notifications', as('student'));
      expect(own.body.items.map((n: { alert: { studentId: string } }) => n.alert.studentId)).to.deep.equal(
        res.body.notifications.map((n: { alert: { studentId: string } }) => n.alert.studentId),
      );
    });

    it('erases a person: nothing personal left in any collection, records anonymised, a tombstone naming who and why', async () => {
      const { record, guardianName, guardian } = await history('198.51.100.99');
      const personal = [
        student.id,
        student.email,
        student.name,
        student.studentNumber!,
        '198.51.100.99',
        guardianName,
        guardian.name,
        guardian.email,
      ];
      const before = dump().toLowerCase();
      for (const v of personal) expect(before, v).to.include(v.toLowerCase());

      expect((await srv.request('POST', `/api/v1/users/${student.id}/erase`, { ...as('admin'), body: {} })).body.error.code).to.equal(
        'VALIDATION_FAILED',
      );
      expect(
        (await srv.request('POST', `/api/v1/users/${admin.id}/erase`, { ...as('admin'), body: { reason: 'leaving' } })).status,
      ).to.equal(403);
      // An admin answering "why?" often names whom: the reason is kept, the person in it is not.
      const res = await srv.request('POST', `/api/v1/users/${student.id}/erase`, {
        ...as('admin'),
        body: { reason: `erasure request of ${student.name} (${student.email}), ticket 1234` },
      });
      expect(res.status).to.equal(200);
      const { tombstoneId } = res.body as { tombstoneId: string };
      expect(res.body.counts).to.include({
        users: 1,
        records: 1,
        faces: 1,
        consents: 1,
        excuses: 1,
        guardians: 1,
        notificationPreferences: 1,
        alertStates: 1,
        webhookDeliveries: 1,
      });

      const after = dump().toLowerCase();
      for (const v of personal) expect(after, v).not.to.include(v.toLowerCase());
      const kept = await srv.store.records.get(org.id, record.id);
      expect(kept).to.include({ studentId: tombstoneId, status: 'present', location: null, ip: null, note: null, verification: null });
      // Entries about them now stand under the tombstone id, emptied; the last one names who erased and why.
      const log = await srv.store.audit.listForEntity(org.id, 'user', tombstoneId);
      expect(log.map((e) => [e.action, e.from, e.to])).to.deep.equal([
        ['consent.record', null, null],
        ['user.erase', null, { counts: res.body.counts }],
      ]);
      expect(log[1]).to.include({ actorId: admin.id, reason: 'erasure request of [erased] ([erased]), ticket 1234' });
      // The erased person's access token no longer opens anything.
      expect(refusal(await srv.request('GET', '/api/v1/me', as('student')))).to.deep.equal([401, 'TOKEN_INVALID']);
      expect(refusal(await srv.request('GET', `/api/v1/users/${student.id}/export`, as('admin')))).to.deep.equal([404, 'NOT_FOUND']);
    });
  });
});
