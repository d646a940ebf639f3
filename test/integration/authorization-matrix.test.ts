import { randomBytes, randomUUID } from 'node:crypto';
import { hashAccountToken } from '../../src/domain/accounts/account-service.js';
import { UnsubscribeTokens } from '../../src/domain/notifications/unsubscribe-tokens.js';
import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { PASSWORD, createCodeSession, createOrg, createSubject, createUser, unique } from '../support/fixtures.js';
import { startTestServer, type RequestOptions, type TestServer } from '../support/http.js';

/**
 * Every route × every kind of caller, with the documented status. Each cell gets fresh
 * objects (a subject taught by `teacherOwn` with `student` enrolled, and a target student),
 * so mutations in one cell never affect another. A new route without a row fails the
 * coverage test at the bottom.
 */
type Caller = 'anonymous' | 'student' | 'teacherOther' | 'teacherOwn' | 'admin' | 'otherAdmin';
const CALLERS: Caller[] = ['anonymous', 'student', 'teacherOther', 'teacherOwn', 'admin', 'otherAdmin'];
/** Roles of the other organisation's users in the existence check below the matrix. */
const OUTSIDER_ROLES = ['student', 'teacher', 'admin'] as const;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface Fixture {
  subject: Subject;
  target: User;
  srv: TestServer;
}

interface Row {
  /** `METHOD /openapi/path`, exactly as in /api/openapi.json. */
  op: string;
  request: (fx: Fixture) => Promise<RequestOptions & { path: string }> | (RequestOptions & { path: string });
  expect: Record<Caller, number>;
}

const PUBLIC = (s: number): Record<Caller, number> => ({
  anonymous: s,
  student: s,
  teacherOther: s,
  teacherOwn: s,
  admin: s,
  otherAdmin: s,
});
const ANY_USER = (s: number) => ({ ...PUBLIC(s), anonymous: 401 });
/** Admin routes on this org's collection: another org's admin acts on their own org. */
const ADMIN_COLLECTION = (s: number) => ({ anonymous: 401, student: 403, teacherOther: 403, teacherOwn: 403, admin: s, otherAdmin: s });
/** Admin routes on one of this org's users: invisible to another org's admin. */
const ADMIN_OBJECT = (s: number) => ({ ...ADMIN_COLLECTION(s), otherAdmin: 404 });
/** Staff routes on this org's subject: only its teachers and this org's admins. */
const SUBJECT_OBJECT = (s: number) => ({ anonymous: 401, student: 403, teacherOther: 403, teacherOwn: s, admin: s, otherAdmin: 404 });

const subjectPath = (fx: Fixture, rest = '') => `/subjects/${fx.subject.id}${rest}`;
/** A live session of the fixture's subject, opened by its teacher. */
async function sessionPath(fx: Fixture, rest: string): Promise<string> {
  const session = await createCodeSession(fx.srv.store, fx.subject.orgId, fx.subject.id, fx.subject.teacherIds[0]!);
  return `/sessions/${session.id}${rest}`;
}
/** A teacher of their own subject, and a colleague to cover for them. */
async function absentTeacher(fx: Fixture): Promise<{ absent: User; cover: User }> {
  const absent = await createUser(fx.srv.store, fx.subject.orgId, 'teacher');
  await createSubject(fx.srv.store, fx.subject.orgId, [absent.id]);
  return { absent, cover: await createUser(fx.srv.store, fx.subject.orgId, 'teacher') };
}
/** A session scheduled tomorrow in the name of a deactivated teacher of its subject, and an active teacher of it free then. */
async function unstaffedSession(fx: Fixture, rest: string): Promise<{ path: string; cover: User }> {
  const { store } = fx.srv;
  const gone = await createUser(store, fx.subject.orgId, 'teacher', { active: false });
  const cover = await createUser(store, fx.subject.orgId, 'teacher');
  const subject = await createSubject(store, fx.subject.orgId, [gone.id, cover.id]);
  const session = await createCodeSession(store, fx.subject.orgId, subject.id, gone.id, {
    status: 'scheduled',
    startsAt: new Date(Date.now() + 86_400_000),
  });
  return { path: `/unstaffed-sessions/${session.id}${rest}`, cover };
}
/** A multipart upload of one small file under "photo" (its bytes are never analysed here). */
function multipartPhoto(): { raw: string; contentType: string } {
  const boundary = 'matrix-boundary';
  return {
    raw: `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="class.jpg"\r\nContent-Type: image/jpeg\r\n\r\nnot a real photo\r\n--${boundary}--\r\n`,
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
const freshRefresh = async (fx: Fixture) => (await fx.srv.login(fx.target.email, PASSWORD)).refreshToken;
/** A valid reset link's token for the target. */
async function resetToken(fx: Fixture): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await fx.srv.store.accountTokens.create({
    orgId: fx.target.orgId,
    userId: fx.target.id,
    purpose: 'reset',
    tokenHash: hashAccountToken(token),
    expiresAt: new Date(Date.now() + 3_600_000),
    createdAt: new Date(),
  });
  return token;
}
/** A webhook endpoint of the fixture's organisation (its URL never resolves). */
const webhookOf = (fx: Fixture) =>
  fx.srv.store.webhooks.createEndpoint(
    fx.target.orgId,
    { url: 'https://receiver.invalid/hook', description: null, secret: 'whsec_matrix', events: ['record.created'] },
    new Date(),
  );
/** The sid of a fresh login of the target. */
async function targetLogin(fx: Fixture): Promise<string> {
  await fx.srv.login(fx.target.email, PASSWORD);
  const [login] = await fx.srv.store.refreshTokens.listActiveLogins(fx.target.orgId, fx.target.id, new Date());
  return login!.familyId;
}
/**
 * The fixture's target student, taught by `teacherOwn` in a second subject (so the fixture's
 * subject and enrolments stay as the refusal check expects), optionally with a face enrolment.
 */
/** The unsubscribe link's token of the target student's digest emails. */
function unsubscribeToken(fx: Fixture): string {
  return new UnsubscribeTokens(fx.srv.config.jwt.secret!).issue({ orgId: fx.subject.orgId, userId: fx.target.id, category: 'digest' });
}

/** A rule of the fixture's organisation, for the delete row. */
async function alertRuleId(fx: Fixture): Promise<string> {
  return (
    await fx.srv.store.alerts.createRule(fx.subject.orgId, { kind: 'consecutive-absences', count: 3, thresholdPct: null, windowDays: null })
  ).id;
}

/** An email of the fixture's organisation failed for good (each call its own: a retry queues it again). */
async function failedMailId(fx: Fixture): Promise<string> {
  const { outbox } = fx.srv.store;
  const mail = (await outbox.enqueue(
    { orgId: fx.subject.orgId, category: 'alert', to: 'guardian@example.test', subject: 'S', text: 'T', html: '<p>T</p>', headers: {} },
    1_000,
  ))!;
  const now = new Date(Date.now() + 1_000);
  // The store claims what is due, not one id: emails other rows queued go back to the queue, due at once.
  for (const claimed of await outbox.claimDue(now, 'matrix', new Date(now.getTime() + 60_000), 1_000)) {
    await outbox.markFailed(claimed.id, 'matrix', 'refused', claimed.id === mail.id ? null : now);
  }
  return mail.id;
}

async function facePath(fx: Fixture, enrolled = false): Promise<string> {
  await createSubject(fx.srv.store, fx.subject.orgId, fx.subject.teacherIds, [fx.target.id]);
  if (enrolled) {
    await fx.srv.store.faces.put({
      orgId: fx.target.orgId,
      userId: fx.target.id,
      modelId: 'm',
      modelVersion: '1',
      embeddings: [[1, 0]],
      photos: null,
    });
  }
  return `/users/${fx.target.id}/face`;
}
/** The target's face path with a pending proposal the target student made themself. */
async function proposalPath(fx: Fixture, rest = ''): Promise<string> {
  const path = await facePath(fx);
  await fx.srv.store.faceProposals.put({
    orgId: fx.target.orgId,
    userId: fx.target.id,
    modelId: 'm',
    modelVersion: '1',
    embeddings: [[0, 1]],
    photos: [Buffer.from([0xff, 0xd8, 0xff, 0xe0])],
    proposedBy: fx.target.id,
    createdAt: new Date(),
  });
  return `${path}/proposal${rest}`;
}
const BOUNDARY = 'matrix-boundary';
/** One file under `photos`; the matrix server runs without a face engine, so it is never analysed. */
const ONE_PHOTO = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="photos"; filename="me.jpg"\r\nContent-Type: image/jpeg\r\n\r\nnot a jpeg\r\n--${BOUNDARY}--\r\n`;
/** Face enrolment of the target student: the student themself is covered in face-enrolment.test.ts. */
const FACE_OBJECT = (s: number) => ({ anonymous: 401, student: 403, teacherOther: 403, teacherOwn: s, admin: s, otherAdmin: 404 });
/** Setting, replacing and removing a face reference, and deciding proposals: the organisation's admin only. */
const FACE_ADMIN = (s: number) => ({ ...FACE_OBJECT(s), teacherOwn: 403 });

/** A pending excuse of the fixture's student for the fixture's subject, optionally with a document. */
async function excusePath(fx: Fixture, rest = '', withDocument = false): Promise<string> {
  const [studentId] = await fx.srv.store.subjects.listEnrolled(fx.subject.orgId, fx.subject.id);
  const { excuse: excuse } = await fx.srv.store.excuses.create(fx.subject.orgId, {
    studentId: studentId!,
    submittedBy: studentId!,
    subjectId: fx.subject.id,
    sessionId: null,
    fromDay: '2026-03-02',
    toDay: '2026-03-02',
    category: 'MEDICAL',
    text: 'ill',
  });
  if (withDocument)
    await fx.srv.store.excuses.putDocument(
      fx.subject.orgId,
      excuse.id,
      { fileName: 'n.pdf', contentType: 'application/pdf', size: 5 },
      Buffer.from('%PDF-'),
    );
  return `/excuses/${excuse.id}${rest}`;
}
const PDF_UPLOAD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="document"; filename="n.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--${BOUNDARY}--\r\n`;
/** Excuse routes only students call (submitting, attaching their document). */
const STUDENT_ONLY = (s: number) => ({ anonymous: 401, student: s, teacherOther: 403, teacherOwn: 403, admin: 403, otherAdmin: 403 });
/** A term of the organisation (UTC) that covers the next weeks. */
async function termOf(fx: Fixture) {
  const today = new Date().toISOString().slice(0, 10);
  const end = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  return fx.srv.store.timetable.createTerm(fx.subject.orgId, { name: 'Term', startDay: today, endDay: end });
}
/** A weekly meeting of the fixture's subject, and a day two days ahead on which it takes place. */
async function meetingOf(fx: Fixture): Promise<{ path: string; day: string }> {
  const term = await termOf(fx);
  const ahead = new Date(Date.now() + 2 * 86_400_000);
  const weekday = ahead.getUTCDay() === 0 ? 7 : ahead.getUTCDay();
  const meeting = await fx.srv.store.timetable.createMeeting(fx.subject.orgId, {
    subjectId: fx.subject.id,
    termId: term.id,
    weekday,
    startTime: '10:00',
    endTime: '11:00',
    teacherId: null,
    preset: 'manual',
    location: null,
    allowedIpRanges: [],
  });
  return { path: `/meetings/${meeting.id}`, day: ahead.toISOString().slice(0, 10) };
}

const MATRIX: Row[] = [
  {
    op: 'POST /api/v1/auth/login',
    request: (fx) => ({ path: '/auth/login', body: { email: fx.target.email, password: PASSWORD } }),
    expect: PUBLIC(200),
  },
  {
    op: 'POST /api/v1/auth/refresh',
    request: async (fx) => ({ path: '/auth/refresh', body: { refreshToken: await freshRefresh(fx) } }),
    expect: PUBLIC(200),
  },
  {
    op: 'POST /api/v1/auth/logout',
    request: async (fx) => ({ path: '/auth/logout', body: { refreshToken: await freshRefresh(fx) } }),
    expect: PUBLIC(204),
  },
  { op: 'GET /api/v1/me', request: () => ({ path: '/me' }), expect: ANY_USER(200) },
  { op: 'GET /api/v1/organisation', request: () => ({ path: '/organisation' }), expect: ANY_USER(200) },
  // Each admin changes their own organisation (the session defaults, so other rows are unaffected).
  {
    op: 'PATCH /api/v1/organisation',
    request: () => ({ path: '/organisation', body: { settings: { codePeriodS: 20 } } }),
    expect: ADMIN_COLLECTION(200),
  },
  // An unknown email: the answer is the same as for a known one (accounts.test.ts), and no email goes out.
  {
    op: 'POST /api/v1/auth/forgot-password',
    request: () => ({ path: '/auth/forgot-password', body: { email: `${unique('nobody')}@example.test` } }),
    expect: PUBLIC(202),
  },
  {
    op: 'POST /api/v1/auth/reset-password',
    request: async (fx) => ({ path: '/auth/reset-password', body: { token: await resetToken(fx), password: 'a-new-password' } }),
    expect: PUBLIC(204),
  },
  // A wrong current password: past authentication, every user is answered on the merits.
  {
    op: 'POST /api/v1/me/password',
    request: () => ({ path: '/me/password', body: { currentPassword: 'not-my-password', newPassword: 'a-new-password' } }),
    expect: ANY_USER(400),
  },
  { op: 'GET /api/v1/me/logins', request: () => ({ path: '/me/logins' }), expect: ANY_USER(200) },
  // The target's login is nobody's own here: refused like an unknown one (accounts.test.ts ends one's own).
  { op: 'DELETE /api/v1/me/logins/{id}', request: async (fx) => ({ path: `/me/logins/${await targetLogin(fx)}` }), expect: ANY_USER(404) },

  { op: 'GET /api/v1/users', request: () => ({ path: '/users' }), expect: ADMIN_COLLECTION(200) },
  {
    op: 'POST /api/v1/users',
    request: () => ({ path: '/users', body: { name: 'New', email: `${unique('new')}@example.test`, role: 'teacher' } }),
    expect: ADMIN_COLLECTION(201),
  },
  {
    op: 'POST /api/v1/users/import',
    request: () => ({
      path: '/users/import',
      raw: `name,email,role,student_number\nImp,${unique('imp')}@example.test,student,${unique('N')}\n`,
      contentType: 'text/csv',
    }),
    expect: ADMIN_COLLECTION(201),
  },
  {
    op: 'POST /api/v1/users/by-student-number',
    request: (fx) => ({ path: '/users/by-student-number', body: { studentNumbers: [fx.target.studentNumber] } }),
    expect: ADMIN_COLLECTION(200),
  },
  { op: 'GET /api/v1/users/{id}', request: (fx) => ({ path: `/users/${fx.target.id}` }), expect: ADMIN_OBJECT(200) },
  {
    op: 'PATCH /api/v1/users/{id}',
    request: (fx) => ({ path: `/users/${fx.target.id}`, body: { name: 'Renamed' } }),
    expect: ADMIN_OBJECT(200),
  },
  { op: 'POST /api/v1/users/{id}/invite', request: (fx) => ({ path: `/users/${fx.target.id}/invite` }), expect: ADMIN_OBJECT(202) },
  // Another organisation's admin gets 202 with the id skipped: nothing is invited across organisations.
  {
    op: 'POST /api/v1/users/invitations',
    request: (fx) => ({ path: '/users/invitations', body: { userIds: [fx.target.id] } }),
    expect: ADMIN_COLLECTION(202),
  },
  { op: 'POST /api/v1/users/{id}/deactivate', request: (fx) => ({ path: `/users/${fx.target.id}/deactivate` }), expect: ADMIN_OBJECT(200) },
  // Another organisation's admin gets 200 with the id in notFoundIds: nothing is deactivated across organisations.
  {
    op: 'POST /api/v1/users/deactivate',
    request: (fx) => ({ path: '/users/deactivate', body: { userIds: [fx.target.id] } }),
    expect: ADMIN_COLLECTION(200),
  },
  // Without a face engine an allowed upload answers UNAVAILABLE (503) once access is settled, before
  // the photos are read. A teacher of the student may upload, but only as a proposal (face-enrolment.test.ts).
  {
    op: 'PUT /api/v1/users/{id}/face',
    request: async (fx) => ({ path: await facePath(fx), raw: ONE_PHOTO, contentType: `multipart/form-data; boundary=${BOUNDARY}` }),
    expect: FACE_OBJECT(503),
  },
  { op: 'GET /api/v1/users/{id}/face', request: async (fx) => ({ path: await facePath(fx) }), expect: FACE_OBJECT(200) },
  { op: 'DELETE /api/v1/users/{id}/face', request: async (fx) => ({ path: await facePath(fx, true) }), expect: FACE_ADMIN(204) },
  { op: 'GET /api/v1/face-proposals', request: () => ({ path: '/face-proposals' }), expect: ADMIN_COLLECTION(200) },
  { op: 'GET /api/v1/users/{id}/face/proposal', request: async (fx) => ({ path: await proposalPath(fx) }), expect: FACE_ADMIN(200) },
  {
    op: 'GET /api/v1/users/{id}/face/proposal/photos/{index}',
    request: async (fx) => ({ path: await proposalPath(fx, '/photos/0') }),
    expect: FACE_ADMIN(200),
  },
  {
    op: 'POST /api/v1/users/{id}/face/proposal/approve',
    request: async (fx) => ({ path: await proposalPath(fx, '/approve') }),
    expect: FACE_ADMIN(200),
  },
  // The target student proposed it: they could withdraw it; the fixture's other callers cannot.
  { op: 'DELETE /api/v1/users/{id}/face/proposal', request: async (fx) => ({ path: await proposalPath(fx) }), expect: FACE_ADMIN(204) },
  // Consents of the target student: the student themself (privacy.test.ts) and this org's admins.
  { op: 'GET /api/v1/users/{id}/consents', request: (fx) => ({ path: `/users/${fx.target.id}/consents` }), expect: ADMIN_OBJECT(200) },
  {
    op: 'POST /api/v1/users/{id}/consents',
    request: (fx) => ({
      path: `/users/${fx.target.id}/consents`,
      body: { textVersion: 'v1', givenBy: 'guardian', guardianName: 'A. Guardian' },
    }),
    expect: ADMIN_OBJECT(201),
  },
  { op: 'DELETE /api/v1/users/{id}/consents', request: (fx) => ({ path: `/users/${fx.target.id}/consents` }), expect: ADMIN_OBJECT(200) },
  { op: 'GET /api/v1/users/{id}/export', request: (fx) => ({ path: `/users/${fx.target.id}/export` }), expect: ADMIN_OBJECT(200) },
  {
    op: 'POST /api/v1/users/{id}/erase',
    request: (fx) => ({ path: `/users/${fx.target.id}/erase`, body: { reason: 'erasure request, ticket 7' } }),
    expect: ADMIN_OBJECT(200),
  },
  // Webhooks: this organisation's admin only; an endpoint of this organisation is invisible to another's admin.
  { op: 'GET /api/v1/webhooks', request: () => ({ path: '/webhooks' }), expect: ADMIN_COLLECTION(200) },
  {
    op: 'POST /api/v1/webhooks',
    request: () => ({ path: '/webhooks', body: { url: 'https://receiver.invalid/hook', events: ['record.created'] } }),
    expect: ADMIN_COLLECTION(201),
  },
  {
    op: 'PATCH /api/v1/webhooks/{id}',
    request: async (fx) => ({ path: `/webhooks/${(await webhookOf(fx)).id}`, body: { active: false } }),
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'POST /api/v1/webhooks/{id}/rotate-secret',
    request: async (fx) => ({ path: `/webhooks/${(await webhookOf(fx)).id}/rotate-secret` }),
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'DELETE /api/v1/webhooks/{id}',
    request: async (fx) => ({ path: `/webhooks/${(await webhookOf(fx)).id}` }),
    expect: ADMIN_OBJECT(204),
  },
  {
    op: 'GET /api/v1/webhooks/{id}/deliveries',
    request: async (fx) => ({ path: `/webhooks/${(await webhookOf(fx)).id}/deliveries` }),
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'POST /api/v1/webhook-deliveries/{id}/redeliver',
    request: async (fx) => {
      const endpoint = await webhookOf(fx);
      const now = new Date();
      const [delivery] = await fx.srv.store.webhooks.enqueue([
        {
          orgId: endpoint.orgId,
          endpointId: endpoint.id,
          event: 'record.created',
          orderKey: 'matrix',
          body: '{}',
          createdAt: now,
          retryUntil: now,
        },
      ]);
      // Paused, so the dispatcher leaves it alone while the cell runs.
      await fx.srv.store.webhooks.updateEndpoint(endpoint.orgId, endpoint.id, { active: false }, now);
      return { path: `/webhook-deliveries/${delivery!.id}/redeliver` };
    },
    expect: ADMIN_OBJECT(202),
  },

  { op: 'GET /api/v1/subjects', request: () => ({ path: '/subjects' }), expect: ANY_USER(200) },
  {
    op: 'POST /api/v1/subjects',
    request: () => ({ path: '/subjects', body: { code: unique('NEW'), name: 'New subject' } }),
    expect: { anonymous: 401, student: 403, teacherOther: 201, teacherOwn: 201, admin: 201, otherAdmin: 201 },
  },
  // The file names this organisation's teacher and student: another organisation's admin is
  // refused them (400, each unknown by line), nothing created in either organisation.
  {
    op: 'POST /api/v1/subjects/import',
    request: async (fx) => {
      const teacher = await fx.srv.store.users.get(fx.subject.orgId, fx.subject.teacherIds[0]!);
      return {
        path: '/subjects/import',
        raw: `code,name,teacher_email,student_numbers\n${unique('IMP')},Imported,${teacher!.email},${fx.target.studentNumber}\n`,
        contentType: 'text/csv',
      };
    },
    expect: { ...ADMIN_COLLECTION(201), otherAdmin: 400 },
  },
  { op: 'GET /api/v1/subjects/{id}', request: (fx) => ({ path: subjectPath(fx) }), expect: SUBJECT_OBJECT(200) },
  {
    op: 'PATCH /api/v1/subjects/{id}',
    request: (fx) => ({ path: subjectPath(fx), body: { name: 'Renamed' } }),
    expect: SUBJECT_OBJECT(200),
  },
  { op: 'DELETE /api/v1/subjects/{id}', request: (fx) => ({ path: subjectPath(fx) }), expect: SUBJECT_OBJECT(204) },
  // Archiving is the admins': the subject's own teacher is refused; another organisation's admin names an unknown subject (400).
  {
    op: 'POST /api/v1/subjects/archive',
    request: (fx) => ({ path: '/subjects/archive', body: { subjectIds: [fx.subject.id] } }),
    expect: { ...ADMIN_COLLECTION(200), otherAdmin: 400 },
  },
  {
    op: 'POST /api/v1/subjects/unarchive',
    request: (fx) => ({ path: '/subjects/unarchive', body: { subjectIds: [fx.subject.id] } }),
    expect: { ...ADMIN_COLLECTION(200), otherAdmin: 400 },
  },
  {
    op: 'POST /api/v1/subjects/rollover',
    request: (fx) => ({
      path: '/subjects/rollover?dryRun=true',
      body: { subjectIds: [fx.subject.id], codes: { suffix: '-NEXT' }, carryStudents: true },
    }),
    expect: { ...ADMIN_COLLECTION(200), otherAdmin: 400 },
  },
  { op: 'GET /api/v1/subjects/{id}/students', request: (fx) => ({ path: subjectPath(fx, '/students') }), expect: SUBJECT_OBJECT(200) },
  {
    op: 'POST /api/v1/subjects/{id}/enrolments',
    request: (fx) => ({ path: subjectPath(fx, '/enrolments'), body: { studentIds: [fx.target.id] } }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'DELETE /api/v1/subjects/{id}/enrolments',
    request: (fx) => ({ path: subjectPath(fx, '/enrolments'), body: { studentIds: [fx.target.id] } }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'PUT /api/v1/subjects/{id}/location',
    request: (fx) => ({ path: subjectPath(fx, '/location'), body: { lat: 1, lon: 2, radiusM: 50 } }),
    expect: SUBJECT_OBJECT(200),
  },
  { op: 'GET /api/v1/me/network', request: () => ({ path: '/me/network' }), expect: ANY_USER(200) },
  {
    op: 'PUT /api/v1/subjects/{id}/network',
    request: (fx) => ({ path: subjectPath(fx, '/network'), body: { allowedIpRanges: ['10.0.0.0/8'] } }),
    expect: SUBJECT_OBJECT(200),
  },

  { op: 'GET /api/v1/subjects/{id}/sessions', request: (fx) => ({ path: subjectPath(fx, '/sessions') }), expect: SUBJECT_OBJECT(200) },
  {
    op: 'GET /api/v1/subjects/{id}/summaries',
    request: (fx) => ({ path: subjectPath(fx, '/summaries?from=2026-01-01&to=2026-12-31') }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'GET /api/v1/subjects/{id}/attendance.csv',
    request: (fx) => ({ path: subjectPath(fx, '/attendance.csv?from=2026-01-01&to=2026-12-31') }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'GET /api/v1/sessions/{id}/records',
    request: async (fx) => ({ path: await sessionPath(fx, '/records') }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    // A mark of the fixture's enrolled student in an open session (a closed one's is the same call).
    op: 'POST /api/v1/sessions/{id}/records/{studentId}/correction',
    request: async (fx) => {
      const [studentId] = await fx.srv.store.subjects.listEnrolled(fx.subject.orgId, fx.subject.id);
      return { path: await sessionPath(fx, `/records/${studentId!}/correction`), body: { status: 'present', reason: 'seen in the room' } };
    },
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'GET /api/v1/sessions/{id}/records.csv',
    request: async (fx) => ({ path: await sessionPath(fx, '/records.csv') }),
    expect: SUBJECT_OBJECT(200),
  },
  // Without a face engine (as here) staff get UNAVAILABLE once access is settled.
  {
    op: 'POST /api/v1/sessions/{id}/class-photo',
    request: async (fx) => ({ path: await sessionPath(fx, '/class-photo'), ...multipartPhoto() }),
    expect: SUBJECT_OBJECT(503),
  },
  {
    op: 'POST /api/v1/sessions/{id}/class-photo/confirm',
    request: async (fx) => ({
      path: await sessionPath(fx, '/class-photo/confirm'),
      body: { studentIds: await fx.srv.store.subjects.listEnrolled(fx.subject.orgId, fx.subject.id) },
    }),
    expect: SUBJECT_OBJECT(200),
  },
  // Reports. A student reads only their own figures; a teacher the subjects they teach the student in.
  {
    op: 'GET /api/v1/reports/students/{id}',
    request: async (fx) => ({
      path: `/reports/students/${(await fx.srv.store.subjects.listEnrolled(fx.subject.orgId, fx.subject.id))[0]}`,
    }),
    expect: { ...SUBJECT_OBJECT(200), student: 200 },
  },
  {
    op: 'GET /api/v1/reports/subjects/{id}/students',
    request: (fx) => ({ path: `/reports${subjectPath(fx, '/students')}` }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'GET /api/v1/reports/subjects/{id}/trend',
    request: (fx) => ({ path: `/reports${subjectPath(fx, '/trend?from=2026-01-01&to=2026-12-31&bucket=week')}` }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'GET /api/v1/reports/subjects/{id}/at-risk',
    request: (fx) => ({ path: `/reports${subjectPath(fx, '/at-risk?threshold=80')}` }),
    expect: SUBJECT_OBJECT(200),
  },
  // Every teacher and admin gets the subjects they may see (a teacher's own, an admin's organisation's).
  {
    op: 'GET /api/v1/reports/at-risk/subjects',
    request: () => ({ path: '/reports/at-risk/subjects' }),
    expect: { ...ADMIN_COLLECTION(200), teacherOther: 200, teacherOwn: 200 },
  },
  {
    op: 'GET /api/v1/attendance.csv',
    request: () => ({ path: '/attendance.csv?from=2026-01-01&to=2026-12-31' }),
    expect: ADMIN_COLLECTION(200),
  },
  { op: 'GET /api/v1/reports/dashboard', request: () => ({ path: '/reports/dashboard' }), expect: ADMIN_COLLECTION(200) },
  {
    op: 'GET /api/v1/reports/months',
    request: () => ({ path: '/reports/months?from=2026-01-01&to=2026-12-31' }),
    expect: ADMIN_COLLECTION(200),
  },
  // Another organisation's admin reads their own organisation's trail: an empty page.
  {
    op: 'GET /api/v1/reports/audit',
    request: async (fx) => ({ path: `/reports/audit?sessionId=${(await sessionPath(fx, '')).slice('/sessions/'.length)}` }),
    expect: { ...SUBJECT_OBJECT(200), otherAdmin: 200 },
  },
  {
    op: 'GET /api/v1/reports/audit.csv',
    request: async (fx) => ({ path: `/reports/audit.csv?sessionId=${(await sessionPath(fx, '')).slice('/sessions/'.length)}` }),
    expect: { ...SUBJECT_OBJECT(200), otherAdmin: 200 },
  },
  // Absence categories and excuses (docs/absences.md). The categories put keep MEDICAL, which the rows below use.
  { op: 'GET /api/v1/absence-categories', request: () => ({ path: '/absence-categories' }), expect: ANY_USER(200) },
  {
    op: 'PUT /api/v1/absence-categories',
    request: () => ({
      path: '/absence-categories',
      body: {
        categories: [
          { code: 'MEDICAL', label: 'Medical', authorised: true },
          { code: 'UNAUTHORISED', label: 'Unauthorised', authorised: false },
        ],
      },
    }),
    expect: ADMIN_COLLECTION(200),
  },
  {
    op: 'POST /api/v1/excuses',
    request: (fx) => ({
      path: '/excuses',
      body: { subjectId: fx.subject.id, fromDay: '2026-03-02', toDay: '2026-03-03', category: 'MEDICAL', text: 'ill' },
    }),
    expect: STUDENT_ONLY(201),
  },
  { op: 'GET /api/v1/excuses', request: () => ({ path: '/excuses' }), expect: ANY_USER(200) },
  // The fixture's student owns the excuse; teachers of its subject and this org's admins see it.
  {
    op: 'GET /api/v1/excuses/{id}',
    request: async (fx) => ({ path: await excusePath(fx) }),
    expect: { ...SUBJECT_OBJECT(200), student: 200 },
  },
  {
    op: 'PUT /api/v1/excuses/{id}/document',
    request: async (fx) => ({
      path: await excusePath(fx, '/document'),
      raw: PDF_UPLOAD,
      contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    }),
    expect: STUDENT_ONLY(200),
  },
  {
    op: 'GET /api/v1/excuses/{id}/document',
    request: async (fx) => ({ path: await excusePath(fx, '/document', true) }),
    expect: { ...SUBJECT_OBJECT(200), student: 200 },
  },
  {
    op: 'POST /api/v1/excuses/{id}/approve',
    request: async (fx) => ({ path: await excusePath(fx, '/approve'), body: {} }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'POST /api/v1/excuses/{id}/decline',
    request: async (fx) => ({ path: await excusePath(fx, '/decline'), body: { note: 'no' } }),
    expect: SUBJECT_OBJECT(200),
  },
  // The target student's subjects: this org's admins.
  { op: 'GET /api/v1/users/{id}/subjects', request: (fx) => ({ path: `/users/${fx.target.id}/subjects` }), expect: ADMIN_OBJECT(200) },
  {
    op: 'POST /api/v1/users/{id}/subjects',
    request: (fx) => ({ path: `/users/${fx.target.id}/subjects`, body: { codes: [fx.subject.code] } }),
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'DELETE /api/v1/users/{id}/subjects',
    request: (fx) => ({ path: `/users/${fx.target.id}/subjects`, body: { subjectIds: [fx.subject.id] } }),
    expect: ADMIN_OBJECT(200),
  },
  // A teacher's subjects handed to a colleague and back: this org's admins. A fresh absent
  // teacher per cell (one hand-over at a time each).
  {
    op: 'GET /api/v1/users/{id}/taught-subjects',
    request: (fx) => ({ path: `/users/${fx.subject.teacherIds[0]}/taught-subjects` }),
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'POST /api/v1/users/{id}/handover',
    request: async (fx) => {
      const { absent, cover } = await absentTeacher(fx);
      return { path: `/users/${absent.id}/handover`, body: { toTeacherId: cover.id } };
    },
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'POST /api/v1/users/{id}/handover/back',
    request: async (fx) => {
      const { absent, cover } = await absentTeacher(fx);
      const admin = await createUser(fx.srv.store, fx.subject.orgId, 'admin');
      const actor = { id: admin.id, orgId: admin.orgId, role: admin.role };
      await fx.srv.app.services.handover.handOver(actor, absent.id, { toTeacherId: cover.id, keepAbsent: false, teacherOverlap: false });
      return { path: `/users/${absent.id}/handover/back`, body: {} };
    },
    expect: ADMIN_OBJECT(200),
  },
  // Sessions left without a teacher: this org's admins; another's finds no such session.
  { op: 'GET /api/v1/unstaffed-sessions', request: () => ({ path: '/unstaffed-sessions' }), expect: ADMIN_COLLECTION(200) },
  {
    op: 'POST /api/v1/unstaffed-sessions/{id}/teacher',
    request: async (fx) => {
      const { path, cover } = await unstaffedSession(fx, '/teacher');
      return { path, body: { teacherId: cover.id } };
    },
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'POST /api/v1/unstaffed-sessions/{id}/cancel',
    request: async (fx) => ({ path: (await unstaffedSession(fx, '/cancel')).path, body: {} }),
    expect: ADMIN_OBJECT(200),
  },
  // Guardian contacts of the target student: this org's admins (the student themself is in excuses.test.ts).
  { op: 'GET /api/v1/users/{id}/guardians', request: (fx) => ({ path: `/users/${fx.target.id}/guardians` }), expect: ADMIN_OBJECT(200) },
  {
    op: 'PUT /api/v1/users/{id}/guardians',
    request: (fx) => ({
      path: `/users/${fx.target.id}/guardians`,
      body: { contacts: [{ name: 'A. Parent', relation: 'mother', email: 'parent@example.test', language: 'fr' }] },
    }),
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'POST /api/v1/guardians/import',
    request: (fx) => ({
      path: '/guardians/import',
      raw: `student_email,name,relation,email\n${fx.target.email},A. Parent,father,dad@example.test\n`,
      contentType: 'text/csv',
    }),
    // Another organisation's admin imports into their own organisation, where the student is unknown.
    expect: { ...ADMIN_COLLECTION(200), otherAdmin: 400 },
  },
  // Alert rules are the organisation's admins'; another organisation's admin sees and removes only theirs.
  { op: 'GET /api/v1/alert-rules', request: () => ({ path: '/alert-rules' }), expect: ADMIN_COLLECTION(200) },
  {
    op: 'POST /api/v1/alert-rules',
    request: () => ({ path: '/alert-rules', body: { kind: 'repeated-lateness', count: 3, windowDays: 14 } }),
    expect: ADMIN_COLLECTION(201),
  },
  {
    op: 'DELETE /api/v1/alert-rules/{id}',
    request: async (fx) => ({ path: `/alert-rules/${await alertRuleId(fx)}` }),
    expect: ADMIN_OBJECT(204),
  },
  { op: 'GET /api/v1/me/notifications', request: () => ({ path: '/me/notifications' }), expect: ANY_USER(200) },
  { op: 'POST /api/v1/me/notifications/read', request: () => ({ path: '/me/notifications/read', body: {} }), expect: ANY_USER(200) },
  { op: 'GET /api/v1/me/notification-preferences', request: () => ({ path: '/me/notification-preferences' }), expect: ANY_USER(200) },
  {
    op: 'PUT /api/v1/me/notification-preferences',
    request: () => ({ path: '/me/notification-preferences', body: { language: 'fr', unsubscribed: ['digest'] } }),
    expect: ANY_USER(200),
  },
  // The signed link names its user: whoever holds it (no token needed) changes that user's category only.
  { op: 'GET /api/v1/unsubscribe', request: (fx) => ({ path: `/unsubscribe?token=${unsubscribeToken(fx)}` }), expect: PUBLIC(200) },
  {
    op: 'POST /api/v1/unsubscribe',
    request: (fx) => ({ path: `/unsubscribe?token=${unsubscribeToken(fx)}`, body: { 'List-Unsubscribe': 'One-Click' } }),
    expect: PUBLIC(200),
  },
  { op: 'POST /api/v1/resubscribe', request: (fx) => ({ path: `/resubscribe?token=${unsubscribeToken(fx)}` }), expect: PUBLIC(200) },
  { op: 'GET /api/v1/outbox', request: () => ({ path: '/outbox' }), expect: ADMIN_COLLECTION(200) },
  {
    op: 'POST /api/v1/outbox/{id}/retry',
    request: async (fx) => ({ path: `/outbox/${await failedMailId(fx)}/retry` }),
    expect: ADMIN_OBJECT(200),
  },
  {
    op: 'POST /api/v1/oneroster/import',
    request: () => ({
      path: '/oneroster/import?dryRun=true',
      body: {
        users: `sourcedId,enabledUser,role,username,givenName,familyName,email,identifier\n${unique('sis')},true,student,x,Imp,Ort,${unique('or')}@example.test,${unique('N')}\n`,
      },
    }),
    expect: ADMIN_COLLECTION(200),
  },
  {
    op: 'GET /api/v1/oneroster/attendance.csv',
    request: () => ({ path: '/oneroster/attendance.csv?from=2026-01-01&to=2026-01-31' }),
    expect: ADMIN_COLLECTION(200),
  },
  {
    op: 'GET /api/v1/me/attendance',
    request: () => ({ path: '/me/attendance' }),
    expect: { anonymous: 401, student: 200, teacherOther: 403, teacherOwn: 403, admin: 403, otherAdmin: 403 },
  },
  { op: 'GET /api/v1/timetable/calendar', request: () => ({ path: '/timetable/calendar' }), expect: { ...ANY_USER(200), student: 403 } },
  {
    op: 'POST /api/v1/timetable/terms',
    request: () => ({ path: '/timetable/terms', body: { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' } }),
    expect: ADMIN_COLLECTION(201),
  },
  {
    op: 'DELETE /api/v1/timetable/terms/{id}',
    request: async (fx) => ({ path: `/timetable/terms/${(await termOf(fx)).id}` }),
    expect: ADMIN_OBJECT(204),
  },
  {
    op: 'POST /api/v1/timetable/holidays',
    request: () => ({ path: '/timetable/holidays', body: { name: 'Half term', startDay: '2026-10-26', endDay: '2026-10-30' } }),
    expect: ADMIN_COLLECTION(201),
  },
  {
    op: 'DELETE /api/v1/timetable/holidays/{id}',
    request: async (fx) => ({
      path: `/timetable/holidays/${(await fx.srv.store.timetable.createHoliday(fx.subject.orgId, { name: 'H', startDay: '2026-12-24', endDay: '2026-12-24' })).id}`,
    }),
    expect: ADMIN_OBJECT(204),
  },
  // The file names this organisation's subject and term: another organisation's admin is refused
  // them (400, each unknown by line), nothing added in either organisation.
  {
    op: 'POST /api/v1/timetable/meetings/import',
    request: async (fx) => {
      const term = await fx.srv.store.timetable.createTerm(fx.subject.orgId, {
        name: unique('TERM'),
        startDay: '2026-09-01',
        endDay: '2026-12-18',
      });
      return {
        path: '/timetable/meetings/import',
        raw: `subject_code,term,weekday,start,end\n${fx.subject.code},${term.name},2,13:00,14:00\n`,
        contentType: 'text/csv',
      };
    },
    expect: { ...ADMIN_COLLECTION(201), otherAdmin: 400 },
  },
  { op: 'GET /api/v1/timetable/settings', request: () => ({ path: '/timetable/settings' }), expect: { ...ANY_USER(200), student: 403 } },
  {
    op: 'PUT /api/v1/timetable/settings',
    request: () => ({ path: '/timetable/settings', body: { timetableOpen: 'auto' } }),
    expect: { ...ANY_USER(200), student: 403 },
  },
  { op: 'GET /api/v1/subjects/{id}/meetings', request: (fx) => ({ path: subjectPath(fx, '/meetings') }), expect: SUBJECT_OBJECT(200) },
  {
    op: 'POST /api/v1/subjects/{id}/meetings',
    request: async (fx) => ({
      path: subjectPath(fx, '/meetings'),
      // Every row's subject has the one teacher, at the one time: confirmed, so only access decides.
      body: { termId: (await termOf(fx)).id, weekday: 1, startTime: '09:00', endTime: '10:00', preset: 'manual', teacherOverlap: true },
    }),
    expect: SUBJECT_OBJECT(201),
  },
  {
    op: 'GET /api/v1/subjects/{id}/upcoming',
    request: (fx) => ({ path: subjectPath(fx, '/upcoming?days=7') }),
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'PATCH /api/v1/meetings/{id}',
    request: async (fx) => ({
      path: (await meetingOf(fx)).path,
      body: { startTime: '08:30', allowedIpRanges: ['10.0.0.0/8'], teacherOverlap: true },
    }),
    expect: SUBJECT_OBJECT(200),
  },
  { op: 'DELETE /api/v1/meetings/{id}', request: async (fx) => ({ path: (await meetingOf(fx)).path }), expect: SUBJECT_OBJECT(204) },
  {
    op: 'POST /api/v1/meetings/{id}/cancel',
    request: async (fx) => {
      const m = await meetingOf(fx);
      return { path: `${m.path}/cancel`, body: { day: m.day } };
    },
    expect: SUBJECT_OBJECT(200),
  },
  {
    op: 'POST /api/v1/meetings/{id}/start',
    request: async (fx) => {
      const m = await meetingOf(fx);
      return { path: `${m.path}/start`, body: { day: m.day } };
    },
    expect: SUBJECT_OBJECT(200),
  },
];

describe('authorization matrix', () => {
  let srv: TestServer;
  let org: Organisation;
  const users = {} as Record<Exclude<Caller, 'anonymous'>, User>;
  const tokens = {} as Record<Exclude<Caller, 'anonymous'>, string>;
  /** A student, a teacher and an admin of the other organisation. */
  const outsiders = {} as Record<(typeof OUTSIDER_ROLES)[number], string>;

  before(async () => {
    // Outsiders below call every heavy route twice: the per-user budget of exports is not what is tested here.
    srv = await startTestServer({ HTTP_HEAVY_RATE_PER_MINUTE: '1000' });
    org = await createOrg(srv.store);
    const other = await createOrg(srv.store);
    users.student = await createUser(srv.store, org.id, 'student');
    users.teacherOther = await createUser(srv.store, org.id, 'teacher');
    users.teacherOwn = await createUser(srv.store, org.id, 'teacher');
    users.admin = await createUser(srv.store, org.id, 'admin');
    users.otherAdmin = await createUser(srv.store, other.id, 'admin');
    for (const [caller, user] of Object.entries(users)) {
      tokens[caller as keyof typeof tokens] = (await srv.login(user.email, PASSWORD)).accessToken;
    }
    for (const role of OUTSIDER_ROLES) {
      outsiders[role] = (await srv.login((await createUser(srv.store, other.id, role)).email, PASSWORD)).accessToken;
    }
  });
  after(() => srv.cleanup());

  async function fixture(): Promise<Fixture> {
    const target = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [users.teacherOwn.id], [users.student.id]);
    return { subject, target, srv };
  }

  for (const row of MATRIX) {
    const [method, openApiPath] = row.op.split(' ') as [string, string];
    describe(row.op, () => {
      for (const caller of CALLERS) {
        const status = row.expect[caller];
        it(`${caller} → ${status}`, async () => {
          const fx = await fixture();
          const { path, ...opts } = await row.request(fx);
          const templated = path
            .replace(/\/records\/[0-9a-f-]{36}\//, '/records/{studentId}/')
            .replace(/\/[0-9a-f-]{36}/g, '/{id}')
            .replace(/\/photos\/\d+/, '/photos/{index}')
            .replace(/\?.*$/, '');
          expect(`/api/v1${templated}`).to.equal(openApiPath);
          const res = await srv.request(method, `/api/v1${path}`, {
            ...opts,
            ...(caller === 'anonymous' ? {} : { token: tokens[caller] }),
          });
          expect(res.status, JSON.stringify(res.body)).to.equal(status);
          if (status >= 400) {
            expect(res.body.error.code).to.be.a('string');
            // A refused request changes nothing.
            expect(await srv.store.subjects.get(org.id, fx.subject.id)).to.deep.equal(fx.subject);
            expect(await srv.store.subjects.listEnrolled(org.id, fx.subject.id)).to.deep.equal([users.student.id]);
            expect(await srv.store.users.get(org.id, fx.target.id)).to.deep.equal(fx.target);
          }
        });
      }
    });
  }

  // Whatever the route and whatever their role, users of another organisation get for this
  // organisation's ids exactly the answer an id that exists nowhere gets: a refusal that came
  // after finding the object (403 where 404 is due) would tell them the id is real.
  describe("another organisation's student, teacher and admin learn nothing of this one's ids", () => {
    // Rows naming an object of this organisation: by its id in the path, or the audit trail's by a session id.
    for (const row of MATRIX.filter((r) => r.op.includes('{id}') || r.op.includes('/reports/audit'))) {
      const [method] = row.op.split(' ') as [string, string];
      for (const role of OUTSIDER_ROLES) {
        it(`${row.op} as the other organisation's ${role}`, async () => {
          const fx = await fixture();
          const { path, ...opts } = await row.request(fx);
          expect(path).to.match(UUID);
          const nowhere = path.replace(new RegExp(UUID.source, 'g'), () => randomUUID());
          const [real, unknown] = [
            await srv.request(method, `/api/v1${path}`, { ...opts, token: outsiders[role] }),
            await srv.request(method, `/api/v1${nowhere}`, { ...opts, token: outsiders[role] }),
          ];
          expect([real.status, real.body?.error?.code], JSON.stringify(real.body)).to.deep.equal([
            unknown.status,
            unknown.body?.error?.code,
          ]);
          if (real.status < 400) expect(real.body).to.deep.equal(unknown.body);
          expect(await srv.store.subjects.get(org.id, fx.subject.id)).to.deep.equal(fx.subject);
          expect(await srv.store.subjects.listEnrolled(org.id, fx.subject.id)).to.deep.equal([users.student.id]);
          expect(await srv.store.users.get(org.id, fx.target.id)).to.deep.equal(fx.target);
        });
      }
    }
  });

  it('has a row for every route of the OpenAPI document, and no row without a route', async () => {
    const doc = (await srv.request('GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    expect(MATRIX.map((r) => r.op).sort()).to.deep.equal(documented.sort());
  });

  // The rows above check statuses; a list or export answered 200 could still carry another
  // organisation's rows (a store query without its organisation). Every list and export another
  // organisation's admin may call is read with this organisation full of objects of every kind.
  it("answers another organisation's admin no id of this organisation on any list or export", async () => {
    const fx = await fixture();
    const session = (await sessionPath(fx, '')).slice('/sessions/'.length);
    const admin = { token: tokens.admin };
    const marked = await srv.request('POST', `/api/v1/sessions/${session}/class-photo/confirm`, {
      ...admin,
      body: { studentIds: [users.student.id] },
    });
    expect(marked.body.summary.marked, JSON.stringify(marked.body)).to.equal(1);
    const ids = [
      org.id,
      fx.subject.id,
      fx.target.id,
      session,
      ...Object.values(users).flatMap((u) => (u.orgId === org.id ? [u.id] : [])),
      (await excusePath(fx)).slice('/excuses/'.length),
      (await webhookOf(fx)).id,
      await failedMailId(fx),
      await alertRuleId(fx),
      (await termOf(fx)).id,
      (await meetingOf(fx)).path.slice('/meetings/'.length),
    ];
    await proposalPath(fx);
    const lists = MATRIX.filter((r) => r.op.startsWith('GET ') && !r.op.includes('{') && r.expect.otherAdmin === 200);
    expect(lists.length).to.be.above(15);
    for (const row of lists) {
      const { path, ...opts } = await row.request(fx);
      const res = await fetch(`${srv.baseUrl}/api/v1${path}`, {
        headers: { authorization: `Bearer ${tokens.otherAdmin}`, ...opts.headers },
      });
      const text = await res.text();
      expect(res.status, `${row.op}: ${text}`).to.equal(200);
      // The audit rows name this organisation's session in their query: an answer may echo it back.
      const named = path.includes(session) ? ids.filter((id) => id !== session) : ids;
      expect(
        named.filter((id) => text.includes(id)),
        `${row.op} answered ids of another organisation`,
      ).to.deep.equal([]);
    }
  });

  // What a student reads of a class (docs/authorization.md): the classroom's geofence and the
  // school's networks stay with its staff. Every route a student may read is called with the
  // subject's classroom set, and no answer may carry its figures; its teacher still reads them.
  it('answers a student no classroom location or network on any route they may read', async () => {
    const fx = await fixture();
    const classroom = { location: { lat: 48.853_417, lon: 2.348_791, radiusM: 73 }, allowedIpRanges: ['198.51.100.0/24'] };
    await srv.store.subjects.update(org.id, fx.subject.id, classroom);
    const figures = ['48.853417', '2.348791', '198.51.100.0/24'];
    const reads = MATRIX.filter((r) => r.op.startsWith('GET ') && r.expect.student === 200);
    expect(reads.map((r) => r.op)).to.include('GET /api/v1/subjects');
    for (const row of reads) {
      const { path, ...opts } = await row.request(fx);
      const res = await fetch(`${srv.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${tokens.student}`, ...opts.headers } });
      const text = await res.text();
      expect(res.status, `${row.op}: ${text}`).to.equal(200);
      expect(
        figures.filter((f) => text.includes(f)),
        `${row.op} told a student where the classroom is`,
      ).to.deep.equal([]);
    }
    for (const staff of [tokens.teacherOwn, tokens.admin]) {
      const list = await srv.request('GET', `/api/v1/subjects?q=${encodeURIComponent(fx.subject.code)}`, { token: staff });
      expect(list.body.items.find((s: { id: string }) => s.id === fx.subject.id)).to.deep.include(classroom);
    }
  });

  it("never lists this organisation's objects to another organisation's admin", async () => {
    const fx = await fixture();
    const userList = await srv.request('GET', '/api/v1/users?limit=200', { token: tokens.otherAdmin });
    const subjectList = await srv.request('GET', '/api/v1/subjects?limit=200', { token: tokens.otherAdmin });
    const orgIds = [...userList.body.items, ...subjectList.body.items].map((x: { orgId: string }) => x.orgId);
    expect(orgIds).to.have.length.above(0);
    expect(orgIds).to.not.include(org.id);
    expect(userList.body.items.map((u: { id: string }) => u.id)).to.not.include(fx.target.id);
  });
});
