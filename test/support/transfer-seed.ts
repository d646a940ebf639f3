import type { Store } from '../../src/domain/ports/store.js';
import { newRecord } from '../contract/fixtures.js';
import { guardianEmailKey } from '../../src/domain/guardians/guardian-unsubscribes.js';

// One row in each collection that arrived after the first transfer set, written through the
// repositories as the service writes them, so that a copy test sees what a school would have.

export interface SeedRefs {
  orgId: string;
  teacherId: string;
  studentId: string;
  subjectId: string;
  sessionId: string;
}

export async function seedLaterCollections(store: Store, r: SeedRefs, tag = 'a'): Promise<void> {
  const at = new Date(Date.UTC(2026, 2, 2, 9, 0, 0, 5));
  const term = await store.timetable.createTerm(r.orgId, { name: 'Spring', startDay: '2026-02-01', endDay: '2026-06-30' });
  await store.timetable.createHoliday(r.orgId, { name: 'Easter', startDay: '2026-04-03', endDay: '2026-04-10' });
  const meeting = await store.timetable.createMeeting(r.orgId, {
    subjectId: r.subjectId,
    termId: term.id,
    weekday: 1,
    startTime: '09:00',
    endTime: '10:00',
    teacherId: null,
    preset: null,
    location: { lat: 51.5, lon: -0.12, radiusM: 80 },
    allowedIpRanges: ['10.1.0.0/16'],
  });
  await store.timetable.claimOccurrence(r.orgId, { meetingId: meeting.id, day: '2026-03-02', subjectId: r.subjectId }, at, new Date(0));
  await store.timetable.completeOccurrence(r.orgId, meeting.id, '2026-03-02', r.sessionId, at);
  await store.timetable.putTeacherSettings({
    orgId: r.orgId,
    userId: r.teacherId,
    timetableOpen: 'tap',
    defaultPolicy: { preset: 'network' },
    lateGraceMinutes: 7,
    codePeriodS: 30,
  });

  await store.accountTokens.create({
    orgId: r.orgId,
    userId: r.studentId,
    purpose: 'invite',
    tokenHash: `invite-${tag}`,
    expiresAt: new Date(Date.UTC(2030, 0, 1)),
    createdAt: at,
  });

  const { excuse: excuse } = await store.excuses.create(r.orgId, {
    studentId: r.studentId,
    submittedBy: r.studentId,
    subjectId: r.subjectId,
    sessionId: null,
    fromDay: '2026-03-02',
    toDay: '2026-03-03',
    category: 'illness',
    text: 'Flu',
  });
  await store.excuses.putDocument(
    r.orgId,
    excuse.id,
    { fileName: 'note.pdf', contentType: 'application/pdf', size: 4 },
    Buffer.from([0x25, 0x50, 0x44, 0x46]),
  );
  await store.guardians.put(r.orgId, r.studentId, [
    { name: 'P. Parent', relation: 'mother', email: `parent-${tag}@example.test`, language: 'fr' },
  ]);
  await store.guardians.unsubscribe(r.orgId, r.studentId, guardianEmailKey(`parent-${tag}@example.test`), 'alert');
  await store.oneroster.put({ orgId: r.orgId, kind: 'user', sourcedId: `sis-${tag}`, entityId: r.studentId, data: { grade: '10' } });

  const rule = await store.alerts.createRule(r.orgId, { kind: 'consecutive-absences', count: 3, thresholdPct: null, windowDays: null });
  await store.alerts.setFiring(r.orgId, rule.id, r.subjectId, r.studentId, true);
  await store.notifications.createMany([
    {
      orgId: r.orgId,
      userId: r.teacherId,
      category: 'alert',
      alert: {
        ruleId: rule.id,
        rule: 'consecutive-absences',
        subjectId: r.subjectId,
        subjectCode: 'C',
        subjectName: 'S',
        studentId: r.studentId,
        studentName: 'Student',
        count: 3,
        thresholdPct: null,
        windowDays: null,
        observed: 3,
      },
    },
  ]);
  await store.notificationPreferences.put(r.orgId, r.teacherId, { language: 'fr', unsubscribed: ['digest'] });
  await store.outbox.enqueue(
    {
      orgId: r.orgId,
      category: 'alert',
      to: `parent-${tag}@example.test`,
      subject: 'Absence',
      text: 'Hello',
      html: '<p>Hello</p>',
      headers: { 'X-Tag': tag },
    },
    100,
  );

  const endpoint = await store.webhooks.createEndpoint(
    r.orgId,
    { url: 'https://hooks.example.test/in', description: 'SIS', secret: 'whsec', events: ['session.closed'] },
    at,
  );
  const [delivery] = await store.webhooks.enqueue([
    {
      orgId: r.orgId,
      endpointId: endpoint.id,
      event: 'session.closed',
      orderKey: r.sessionId,
      body: '{"n":1}',
      retryUntil: new Date(Date.UTC(2030, 0, 1)),
      createdAt: at,
    },
  ]);
  const claimed = await store.webhooks.claimDue('seed-node', new Date(Date.UTC(2030, 0, 1)), new Date(Date.UTC(2029, 0, 1)), 10);
  if (!claimed.some((d) => d.id === delivery!.id)) throw new Error('seed: the delivery was not claimed');
  await store.webhooks.settle(
    r.orgId,
    delivery!.id,
    'seed-node',
    { at, statusCode: 503, error: 'unavailable', durationMs: 40 },
    {
      state: 'pending',
      nextAttemptAt: new Date(Date.UTC(2029, 0, 2)),
    },
  );
}

/**
 * A school in every collection (two organisations, a class with a session and records, some
 * decided, summaries, audit, tokens, face data, consent, then seedLaterCollections): what a
 * store-to-store copy must carry. 9 users, 7 of them students of organisation `uni`.
 */
export async function seedSchool(store: Store): Promise<void> {
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
    const { record } = await store.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, s.id));
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
