import { expect } from 'chai';
import { emptyErasureCounts, type PersonRef } from '../../src/domain/ports/privacy.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { User } from '../../src/domain/ports/users.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser, page } from './fixtures.js';
import { ERASED } from '../../src/domain/privacy/erasure-rules.js';

// Consents, subject-access audit lookup and erasure.

function personOf(u: User): PersonRef {
  return { orgId: u.orgId, userId: u.id, identifiers: [u.email, u.name, u.studentNumber ?? ''] };
}

export function privacyContract(ctx: ContractContext): void {
  describe('consents', function () {
    it('records, finds the newest standing one, withdraws, and keeps history', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const base = {
        orgId: org.id,
        userId: 'st',
        purpose: 'face' as const,
        givenBy: 'student' as const,
        guardianName: null,
        recordedBy: 'st',
      };
      expect(await s.consents.current(org.id, 'st', 'face')).to.equal(null);
      const first = await s.consents.create({ ...base, textVersion: 'v1', givenAt: new Date(Date.UTC(2026, 0, 1)) });
      const second = await s.consents.create({
        ...base,
        textVersion: 'v2',
        givenBy: 'guardian',
        guardianName: 'G',
        recordedBy: 'adm',
        givenAt: new Date(Date.UTC(2026, 1, 1)),
      });
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
          verification: {
            state: 'done',
            band: 'confident',
            distance: 0.2,
            flags: [],
            reason: 'FACE_MATCH',
            completedAt: new Date(),
            probe: [0.1, 0.2],
          },
        }),
      );
      const { record: bobRecord } = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, bob!.id));
      const at = new Date();
      const entry = { orgId: org.id, sessionId: null, reason: null, ip: '203.0.113.9', at };
      const aboutUser = await s.audit.append({
        ...entry,
        entityType: 'user',
        entityId: ada!.id,
        actorId: teacher!.id,
        action: 'user.update',
        from: { name: 'Ada L.' },
        to: { name: 'Ada Lovelace', email: ada!.email },
      });
      const aboutRecord = await s.audit.append({
        ...entry,
        entityType: 'record',
        entityId: record.id,
        sessionId: sess.id,
        actorId: teacher!.id,
        action: 'record.correct',
        from: { note: null },
        to: { note: 'Ada Lovelace came from the dentist' },
      });
      const naming = await s.audit.append({
        ...entry,
        entityType: 'subject',
        entityId: subject.id,
        actorId: teacher!.id,
        action: 'subject.enrol',
        from: null,
        to: { studentIds: [ada!.id, bob!.id] },
      });
      const byHer = await s.audit.append({
        ...entry,
        entityType: 'user',
        entityId: ada!.id,
        actorId: ada!.id,
        action: 'user.password-change',
        from: null,
        to: null,
      });
      const unrelated = await s.audit.append({
        ...entry,
        entityType: 'record',
        entityId: bobRecord.id,
        sessionId: sess.id,
        actorId: teacher!.id,
        action: 'record.correct',
        from: null,
        to: { status: 'present' },
      });
      await s.refreshTokens.create({
        orgId: org.id,
        userId: ada!.id,
        familyId: 'fam-ada',
        tokenHash: 'hash-ada',
        expiresAt: new Date(Date.UTC(2030, 0, 1)),
        ip: '203.0.113.7',
      });
      await s.accountTokens.create({
        orgId: org.id,
        userId: ada!.id,
        purpose: 'reset',
        tokenHash: 'acct-ada',
        expiresAt: new Date(Date.UTC(2030, 0, 1)),
        createdAt: new Date(),
      });
      await s.faces.put({ orgId: org.id, userId: ada!.id, modelId: 'm', modelVersion: '1', embeddings: [[0.25, -0.5]], photos: null });
      await s.faceProposals.put({
        orgId: org.id,
        userId: ada!.id,
        modelId: 'm',
        modelVersion: '1',
        embeddings: [[0.5, 0.125]],
        photos: [Buffer.from('x')],
        proposedBy: teacher!.id,
        createdAt: new Date(),
      });
      await s.consents.create({
        orgId: org.id,
        userId: ada!.id,
        purpose: 'face',
        textVersion: 'v1',
        givenBy: 'guardian',
        guardianName: 'Grace Lovelace',
        recordedBy: teacher!.id,
        givenAt: new Date(),
      });
      const newer = await seedNewerData(s, org.id, teacher!, ada!, bob!, subject.id, sess.id, record.id);
      return {
        org,
        teacher: teacher!,
        ada: ada!,
        bob: bob!,
        subject,
        sess,
        record,
        bobRecord,
        audit: { aboutUser, aboutRecord, naming, byHer, unrelated },
        newer,
      };
    }

    /**
     * Raw scan of the storage (every table or collection) where the adapter has one; SQLite in
     * memory has none (no second connection sees it): its file variant runs the scan.
     */
    async function expectScan(check: (lowerCaseDump: string) => void): Promise<void> {
      const dump = ctx.dump();
      if (dump) check((await dump()).toLowerCase());
    }

    it('finds the audit entries about a person, by them and naming them, and no others', async function () {
      const s = ctx.store();
      const f = await populated(s);
      const found = await s.privacy.auditAbout(personOf(f.ada));
      expect(found.map((e) => e.id)).to.have.members([
        f.audit.aboutUser.id,
        f.audit.aboutRecord.id,
        f.audit.naming.id,
        f.audit.byHer.id,
        f.newer.excuseAudit.id,
      ]);
      expect(found.map((e) => e.id)).not.to.include(f.audit.unrelated.id);
    });

    it("finds a short name or student number only where a value is exactly it, never inside other people's entries", async function () {
      const s = ctx.store();
      const f = await populated(s);
      const [ed] = await s.users.createMany(f.org.id, [newUser({ name: 'Ed', studentNumber: '7' })]);
      const entry = { orgId: f.org.id, sessionId: f.sess.id, actorId: f.teacher.id, reason: null, ip: null, at: new Date() };
      // Bob's excuse decision: "ed" and "7" occur in its words, but it is not about Ed.
      const othersNote = await s.audit.append({
        ...entry,
        entityType: 'record',
        entityId: f.bobRecord.id,
        action: 'record.excuse',
        from: { status: 'absent' },
        to: { status: 'excused', note: 'Approved: Bob Other had a medical appointment on 17 May' },
      });
      const namingEd = await s.audit.append({
        ...entry,
        entityType: 'subject',
        entityId: f.subject.id,
        action: 'subject.update',
        from: null,
        to: { studentNumbers: ['7'], names: ['ed'] },
      });
      const found = (await s.privacy.auditAbout(personOf(ed!))).map((e) => e.id);
      expect(found).to.deep.equal([namingEd.id]);
      expect(found).not.to.include(othersNote.id);
      expect(found).not.to.include(f.audit.unrelated.id);
    });

    it('erasure leaves no personal value of the person in any table or collection and keeps anonymised records', async function () {
      const s = ctx.store();
      const f = await populated(s);
      const personal = [
        f.ada.id,
        f.ada.email,
        f.ada.name,
        'SN-4242',
        'Grace Lovelace',
        'grace@parents.test',
        '203.0.113.7',
        'Lovelace',
        'doctor note seen',
      ];
      // The seeded data names her before, so the scan below can fail.
      await expectScan((before) => {
        for (const v of personal) expect(before, v).to.include(v.toLowerCase());
      });

      const counts = await s.privacy.erase(personOf(f.ada), 'tomb-1');
      // Every count, the same on each store.
      expect(counts).to.deep.equal({
        ...emptyErasureCounts(),
        users: 1,
        records: 1,
        audit: 5,
        enrolments: 1,
        faces: 1,
        faceProposals: 1,
        consents: 1,
        refreshTokens: 1,
        accountTokens: 1,
        excuses: 1,
        guardians: 1,
        notifications: 2,
        notificationPreferences: 1,
        alertStates: 1,
        outbox: 2,
        webhookDeliveries: 1,
      });

      await expectScan((after) => {
        for (const v of personal) expect(after, v).not.to.include(v.toLowerCase());
      });
      // What others hold stays, without her: the teacher's alert, the webhook log, Bob's mail.
      const teacherNotes = await s.notifications.list(f.org.id, f.teacher.id, page());
      expect(teacherNotes.items.map((n) => [n.alert.studentId, n.alert.studentName])).to.deep.equal([['tomb-1', ERASED]]);
      expect(await s.notifications.list(f.org.id, f.ada.id, page())).to.deep.equal({ items: [], total: 0 });
      const delivery = await s.webhooks.getDelivery(f.org.id, f.newer.delivery.id);
      expect(JSON.parse(delivery!.body)).to.deep.equal({ data: { record: { id: f.record.id, studentId: 'tomb-1' } } });
      expect((await s.outbox.list(f.org.id, page())).items.map((m) => m.to)).to.deep.equal(['bob@school.test']);
      expect(await s.excuses.get(f.org.id, f.newer.excuse.id)).to.equal(null);
      const [excuseEntry] = await s.audit.listForEntity(f.org.id, 'excuse', f.newer.excuse.id);
      expect(excuseEntry).to.include({ action: 'excuse.approve', actorId: f.teacher.id, from: null, to: null });
      expect(await s.guardians.get(f.org.id, f.ada.id)).to.deep.equal([]);
      expect(await s.notificationPreferences.get(f.org.id, f.ada.id)).to.equal(null);
      // Her alert state is gone: the rule would fire anew for the tombstone, never for her.
      expect(await s.alerts.setFiring(f.org.id, f.newer.rule.id, f.subject.id, f.ada.id, false)).to.equal(false);
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

    it("erasure gives each of the person's records the next roster version of its session, once, in sessions at different versions", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const subject = await s.subjects.create(org.id, newSubject());
      const [ada, bo] = await s.users.createMany(org.id, [newUser(), newUser()]);
      const sessions = [];
      for (let k = 0; k < 4; k++) {
        const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
        // Bo's records first in some: the sessions stand at different versions before Ada's.
        for (let b = 0; b < k % 3; b++) {
          const r = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, bo!.id))).record;
          if (b > 0) await s.records.update(org.id, r.id, r.version, { status: 'present' });
        }
        await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, ada!.id, { ip: '203.0.113.7' }));
        sessions.push({
          sess,
          records: await s.records.listBySession(org.id, sess.id),
          version: (await s.sessions.get(org.id, sess.id))!.rosterVersion,
        });
      }
      expect(new Set(sessions.map((x) => x.version)).size, 'distinct session versions').to.be.greaterThan(1);
      await s.privacy.erase(personOf(ada!), 'tomb-v');
      for (const { sess, records, version } of sessions) {
        const after = await s.records.listBySession(org.id, sess.id);
        expect((await s.sessions.get(org.id, sess.id))!.rosterVersion, sess.id).to.equal(version + 1);
        const theirs = records.find((r) => r.studentId === ada!.id)!;
        expect(
          after.find((r) => r.id === theirs.id),
          sess.id,
        ).to.include({
          studentId: 'tomb-v',
          ip: null,
          version: theirs.version + 1,
          rosterVersion: version + 1,
        });
        // Others' records as they were.
        expect(after.filter((r) => r.id !== theirs.id)).to.deep.equal(records.filter((r) => r.id !== theirs.id));
      }
    });

    it('erasing a teacher takes them off subjects and out of session and decision references', async function () {
      const s = ctx.store();
      const f = await populated(s);
      await s.records.update(f.org.id, f.bobRecord.id, f.bobRecord.version, { decidedBy: f.teacher.id, status: 'present' });
      // Every count, the same on each store.
      expect(await s.privacy.erase(personOf(f.teacher), 'tomb-t')).to.deep.equal({
        ...emptyErasureCounts(),
        users: 1,
        records: 1,
        sessions: 1,
        subjects: 1,
        audit: 5,
        excuses: 1,
        notifications: 1,
        outbox: 1,
        meetings: 1,
        teacherSettings: 1,
      });
      await expectScan((after) => {
        for (const v of [f.teacher.id, f.teacher.email]) expect(after).not.to.include(v.toLowerCase());
      });
      // Nulling its teacher changes the meeting: its revision moves with it.
      expect(await s.timetable.getMeeting(f.org.id, f.newer.meeting.id)).to.deep.include({
        teacherId: null,
        revision: f.newer.meeting.revision + 1,
      });
      expect((await s.timetable.getTeacherSettings(f.org.id, f.teacher.id)).timetableOpen).to.equal('auto');
      expect((await s.excuses.get(f.org.id, f.newer.bobExcuse.id))!.decidedBy).to.equal('tomb-t');
      expect((await s.subjects.get(f.org.id, f.subject.id))!.teacherIds).to.deep.equal([]);
      expect((await s.sessions.get(f.org.id, f.sess.id))!.teacherId).to.equal('tomb-t');
      expect((await s.records.get(f.org.id, f.bobRecord.id))!.decidedBy).to.equal('tomb-t');
      expect((await s.faceProposals.get(f.org.id, f.ada.id))!.proposedBy).to.equal('tomb-t');
      expect(await s.users.get(f.org.id, f.ada.id)).to.deep.equal(f.ada);
    });

    it('erasing a teacher whose meeting, without them, equals another of the subject merges it into that one', async function () {
      const s = ctx.store();
      const f = await populated(s);
      const own = f.newer.meeting;
      // The same slot with no teacher of its own: once the teacher is erased, the two are equal.
      const twin = await s.timetable.createMeeting(f.org.id, {
        subjectId: own.subjectId,
        termId: own.termId,
        weekday: own.weekday,
        startTime: own.startTime,
        endTime: own.endTime,
        teacherId: null,
        preset: null,
        location: null,
        allowedIpRanges: [],
      });
      const counts = await s.privacy.erase(personOf(f.teacher), 'tomb-t');
      expect(counts.meetings).to.equal(1);
      expect(await s.timetable.getMeeting(f.org.id, own.id)).to.equal(null);
      expect((await s.timetable.getMeeting(f.org.id, twin.id))?.teacherId).to.equal(null);
      await expectScan((after) => {
        for (const v of [f.teacher.id, f.teacher.email]) expect(after).not.to.include(v.toLowerCase());
      });
    });
  });
}

/**
 * Data of the features that came after erasure was first written, each naming Ada (or, for the
 * teacher test, the teacher): an excuse with a document, guardian contacts, notifications to her
 * and about her, email preferences, an alert state, emails, a webhook delivery, a meeting and
 * timetable settings of the teacher, her OneRoster link.
 */
export async function seedNewerData(
  s: Store,
  orgId: string,
  teacher: User,
  ada: User,
  bob: User,
  subjectId: string,
  sessionId: string,
  recordId: string,
  guardian = { name: 'Grace Lovelace', email: 'grace@parents.test' },
) {
  const { excuse: excuse } = await s.excuses.create(orgId, {
    studentId: ada.id,
    submittedBy: ada.id,
    subjectId,
    sessionId: null,
    fromDay: '2026-03-02',
    toDay: '2026-03-03',
    category: 'illness',
    text: 'Ada Lovelace was ill',
  });
  const letter = Buffer.from('%PDF- Doctor note for Ada Lovelace, SN-4242');
  await s.excuses.putDocument(
    orgId,
    excuse.id,
    { fileName: 'ada-lovelace-note.pdf', contentType: 'application/pdf', size: letter.length },
    letter,
  );
  const { excuse: bobExcuse } = await s.excuses.create(orgId, {
    studentId: bob.id,
    submittedBy: bob.id,
    subjectId,
    sessionId: null,
    fromDay: '2026-03-02',
    toDay: '2026-03-02',
    category: 'illness',
    text: '',
  });
  await s.excuses.decide(orgId, bobExcuse.id, { status: 'approved', decidedBy: teacher.id, decidedAt: new Date(), decisionNote: null });
  // An entry on her excuse: its decision note may say why she was absent.
  const excuseAudit = await s.audit.append({
    orgId,
    entityType: 'excuse',
    entityId: excuse.id,
    sessionId: null,
    actorId: teacher.id,
    action: 'excuse.approve',
    from: { status: 'pending' },
    to: { status: 'approved', decisionNote: 'flu, doctor note seen' },
    reason: null,
    ip: null,
    at: new Date(),
  });
  await s.guardians.put(orgId, ada.id, [{ ...guardian, relation: 'mother', language: 'en' }]);
  const rule = await s.alerts.createRule(orgId, { kind: 'consecutive-absences', count: 3, thresholdPct: null, windowDays: null });
  await s.alerts.setFiring(orgId, rule.id, subjectId, ada.id, true);
  const alert = {
    ruleId: rule.id,
    rule: 'consecutive-absences' as const,
    subjectId,
    subjectCode: 'S',
    subjectName: 'Subject',
    studentId: ada.id,
    studentName: ada.name,
    count: 3,
    thresholdPct: null,
    windowDays: null,
    observed: 3,
  };
  await s.notifications.createMany([
    { orgId, userId: teacher.id, category: 'alert', alert },
    { orgId, userId: ada.id, category: 'alert', alert },
  ]);
  await s.notificationPreferences.put(orgId, ada.id, { language: 'fr', unsubscribed: ['digest'] });
  const mail = { orgId, category: 'alert' as const, subject: 'Absences', text: 'Text', html: '<p>Text</p>', headers: {} };
  await s.outbox.enqueue({ ...mail, to: guardian.email, text: 'Your child was absent' }, 100);
  await s.outbox.enqueue({ ...mail, to: teacher.email, subject: `Ada Lovelace: 3 absences` }, 100);
  await s.outbox.enqueue({ ...mail, to: 'bob@school.test' }, 100);
  const endpoint = await s.webhooks.createEndpoint(
    orgId,
    { url: 'https://receiver.invalid/hook', description: null, secret: 'whsec_x', events: ['record.created'] },
    new Date(),
  );
  const [delivery] = await s.webhooks.enqueue([
    {
      orgId,
      endpointId: endpoint.id,
      event: 'record.created',
      orderKey: sessionId,
      body: JSON.stringify({ data: { record: { id: recordId, studentId: ada.id } } }),
      createdAt: new Date(),
      retryUntil: new Date(Date.now() + 86_400_000),
    },
  ]);
  const term = await s.timetable.createTerm(orgId, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-03-27' });
  const meeting = await s.timetable.createMeeting(orgId, {
    subjectId,
    termId: term.id,
    weekday: 1,
    startTime: '09:00',
    endTime: '10:00',
    teacherId: teacher.id,
    preset: null,
    location: null,
    allowedIpRanges: [],
  });
  await s.timetable.putTeacherSettings({
    orgId,
    userId: teacher.id,
    timetableOpen: 'tap',
    defaultPolicy: {},
    lateGraceMinutes: null,
    codePeriodS: null,
  });
  await s.oneroster.put({ orgId, kind: 'user', sourcedId: 'sis-ada', entityId: ada.id, data: { email: ada.email } });
  return { excuse, excuseAudit, bobExcuse, rule, delivery: delivery!, meeting };
}
