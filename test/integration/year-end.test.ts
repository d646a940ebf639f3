import path from 'node:path';
import { expect } from 'chai';
import { createCodeSession, createOrg, createSubject, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type Json, type TestServer } from '../support/http.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { connectClient, nextEvent, type ClientSocket } from '../support/sockets.js';

// Closing a school year from the admin pages: leavers deactivated at once (POST /users/deactivate)
// and last year's subjects archived (POST /subjects/archive, /unarchive).

async function post(baseUrl: string, route: string, token: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${baseUrl}/api/v1${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function login(baseUrl: string, email: string, slug: string): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, organisation: slug }),
  });
  expect(res.status).to.equal(200);
  return (await res.json()) as { accessToken: string; refreshToken: string };
}

describe('leavers deactivated at once (POST /users/deactivate, two nodes)', function () {
  this.timeout(30_000);
  let cluster: StartedNodes | null = null;
  const sockets: ClientSocket[] = [];
  const suite = useRedis('year-end');
  before(async () => {
    cluster = await startNodes(2, { redisUrl: suite.redis.url, sqlitePath: path.join(suite.dir, 'attendance.db') });
  });
  suite.beforeStop(async () => {
    for (const s of sockets) s.disconnect();
    await cluster?.cleanup();
  });

  it('ends every login of each leaver on every node, answers per id, audits each, and leaves the rest alone', async () => {
    const [a, b] = cluster!.nodes as [StartedNodes['nodes'][number], StartedNodes['nodes'][number]];
    const org = await createOrg(a.store);
    const other = await createOrg(a.store);
    const admin = await createUser(a.store, org.id, 'admin');
    const teacher = await createUser(a.store, org.id, 'teacher');
    const leavers = [await createUser(a.store, org.id, 'student'), await createUser(a.store, org.id, 'student')];
    const gone = await createUser(a.store, org.id, 'student', { active: false });
    const stays = await createUser(a.store, org.id, 'student');
    const foreign = await createUser(a.store, other.id, 'student');
    const current = await createSubject(a.store, org.id, [teacher.id], [leavers[0]!.id, leavers[1]!.id, stays.id]);
    const lastYear = await createSubject(a.store, org.id, [teacher.id], [leavers[0]!.id]);
    await a.store.subjects.update(org.id, lastYear.id, { archivedAt: new Date() });

    const token = (await login(a.url, admin.email, org.slug)).accessToken;
    const leaver = await login(a.url, leavers[0]!.email, org.slug);
    const socket = await connectClient(b.url, leaver.accessToken);
    sockets.push(socket);
    const cut = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    const told = nextEvent(socket, 'auth:revoked', () => true);

    const res = await post(a.url, '/users/deactivate', token, {
      userIds: [...leavers.map((u) => u.id), gone.id, foreign.id, admin.id, 'no-such-user'],
      removeFromSubjects: true,
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.deactivatedIds.sort()).to.deep.equal(leavers.map((u) => u.id).sort());
    expect(res.body.alreadyInactiveIds).to.deep.equal([gone.id]);
    expect(res.body.notFoundIds.sort()).to.deep.equal([foreign.id, 'no-such-user'].sort());
    expect(res.body.selfId).to.equal(admin.id);
    expect(res.body.unenrolled).to.equal(2);

    // The open socket on the other node goes, and the access token is refused there and here.
    await told;
    expect(await cut).to.equal('io server disconnect');
    for (const url of [a.url, b.url]) {
      const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${leaver.accessToken}` } });
      expect(me.status).to.equal(403);
    }
    const refresh = await fetch(`${b.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: leaver.refreshToken }),
    });
    expect(refresh.status).to.equal(401);

    expect((await a.store.users.get(org.id, admin.id))!.active).to.equal(true);
    expect((await a.store.users.get(other.id, foreign.id))!.active).to.equal(true);
    expect((await a.store.users.get(org.id, stays.id))!.active).to.equal(true);
    // Left the subject in use; last year's archived subject keeps its class list.
    expect(await a.store.subjects.listEnrolled(org.id, current.id)).to.deep.equal([stays.id]);
    expect(await a.store.subjects.listEnrolled(org.id, lastYear.id)).to.deep.equal([leavers[0]!.id]);
    for (const u of [...leavers, gone, admin]) {
      const actions = (await a.store.audit.listForEntity(org.id, 'user', u.id)).map((e) => e.action);
      expect(actions, u.email).to.deep.equal(leavers.includes(u) ? ['user.deactivate'] : []);
    }
  });

  it('refuses teachers, and more ids than the cap, changing nothing', async () => {
    const [a] = cluster!.nodes as [StartedNodes['nodes'][number]];
    const org = await createOrg(a.store);
    const teacher = await createUser(a.store, org.id, 'teacher');
    const student = await createUser(a.store, org.id, 'student');
    const admin = await createUser(a.store, org.id, 'admin');
    const byTeacher = await post(a.url, '/users/deactivate', (await login(a.url, teacher.email, org.slug)).accessToken, {
      userIds: [student.id],
    });
    expect(byTeacher.status).to.equal(403);
    const tooMany = await post(a.url, '/users/deactivate', (await login(a.url, admin.email, org.slug)).accessToken, {
      userIds: [student.id, ...Array.from({ length: 1_000 }, (_, i) => `x${i}`)],
    });
    expect(tooMany.status).to.equal(400);
    expect((await a.store.users.get(org.id, student.id))!.active).to.equal(true);
  });
});

describe("last year's subjects archived (POST /subjects/archive, /unarchive)", function () {
  this.timeout(30_000);
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.cleanup());

  async function school() {
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const old = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    const busy = await createSubject(srv.store, org.id, [teacher.id]);
    const kept = await createSubject(srv.store, org.id, [teacher.id]);
    const adminToken = (await srv.login(admin.email, PASSWORD, org.slug)).accessToken;
    const teacherToken = (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken;
    return { org, teacher, student, old, busy, kept, adminToken, teacherToken };
  }

  it('archives the listed subjects, hides them from default lists, refuses anything new in them, and unarchives them', async () => {
    const { org, teacher, student, old, kept, adminToken, teacherToken } = await school();
    const closed = await createCodeSession(srv.store, org.id, old.id, teacher.id, { status: 'closed' });
    const archived = await srv.request('POST', '/api/v1/subjects/archive', { token: adminToken, body: { subjectIds: [old.id] } });
    expect(archived.status, JSON.stringify(archived.body)).to.equal(200);
    expect(archived.body.changed.map((s: { id: string }) => s.id)).to.deep.equal([old.id]);
    expect(archived.body.changed[0].archivedAt).to.be.a('string');
    const again = await srv.request('POST', '/api/v1/subjects/archive', { token: adminToken, body: { subjectIds: [old.id] } });
    expect(again.body).to.deep.include({ changed: [], unchangedIds: [old.id] });

    for (const token of [adminToken, teacherToken]) {
      const listed = await srv.request('GET', '/api/v1/subjects?limit=100', { token });
      expect(listed.body.items.map((s: { id: string }) => s.id)).to.not.include(old.id);
      expect(listed.body.items.map((s: { id: string }) => s.id)).to.include(kept.id);
      const onlyArchived = await srv.request('GET', '/api/v1/subjects?limit=100&archived=true', { token });
      expect(onlyArchived.body.items.map((s: { id: string }) => s.id)).to.deep.equal([old.id]);
    }
    // Its records stay readable.
    const sessions = await srv.request('GET', `/api/v1/subjects/${old.id}/sessions`, { token: teacherToken });
    expect(sessions.body.items.map((s: { id: string }) => s.id)).to.deep.equal([closed.id]);

    const other = await createUser(srv.store, org.id, 'student');
    const enrol = await srv.request('POST', `/api/v1/subjects/${old.id}/enrolments`, {
      token: adminToken,
      body: { studentIds: [other.id] },
    });
    expect([enrol.status, enrol.body.error?.code]).to.deep.equal([409, 'SUBJECT_ARCHIVED']);
    const term = await srv.store.timetable.createTerm(org.id, { name: 'Next', startDay: '2026-09-01', endDay: '2027-07-01' });
    const meeting = await srv.request('POST', `/api/v1/subjects/${old.id}/meetings`, {
      token: adminToken,
      body: { termId: term.id, preset: 'manual', weekday: 2, startTime: '09:00', endTime: '10:00' },
    });
    expect([meeting.status, meeting.body.error?.code]).to.deep.equal([409, 'SUBJECT_ARCHIVED']);
    let opened: unknown = null;
    try {
      await srv.app.attendance.sessions.open(
        { id: teacher.id, orgId: org.id, role: 'teacher' },
        { subjectId: old.id, policy: { preset: 'manual' } },
      );
    } catch (err) {
      opened = (err as { code?: string }).code;
    }
    expect(opened).to.equal('SUBJECT_ARCHIVED');
    expect(await srv.store.subjects.listEnrolled(org.id, old.id)).to.deep.equal([student.id]);

    const back = await srv.request('POST', '/api/v1/subjects/unarchive', { token: adminToken, body: { subjectIds: [old.id] } });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect(back.body.changed[0].archivedAt).to.equal(null);
    const enrolled = await srv.request('POST', `/api/v1/subjects/${old.id}/enrolments`, {
      token: adminToken,
      body: { studentIds: [other.id] },
    });
    expect(enrolled.status).to.equal(200);
    const audit = await srv.store.audit.listForEntity(org.id, 'subject', old.id);
    expect(audit.map((e) => e.action).filter((a) => a.endsWith('archive'))).to.deep.equal(['subject.archive', 'subject.unarchive']);
  });

  it('refuses, all or nothing, while a listed subject has a session open or scheduled, or an id is unknown', async () => {
    const { org, teacher, old, busy, adminToken, teacherToken } = await school();
    const live = await createCodeSession(srv.store, org.id, busy.id, teacher.id);
    const refused = await srv.request('POST', '/api/v1/subjects/archive', { token: adminToken, body: { subjectIds: [old.id, busy.id] } });
    expect([refused.status, refused.body.error.code]).to.deep.equal([409, 'SUBJECT_HAS_SESSIONS']);
    expect(refused.body.error.details).to.deep.equal({ subjectIds: [busy.id], sessionIds: [live.id] });
    expect((await srv.store.subjects.get(org.id, old.id))!.archivedAt).to.equal(null);
    const unknown = await srv.request('POST', '/api/v1/subjects/archive', { token: adminToken, body: { subjectIds: [old.id, 'nope'] } });
    expect([unknown.status, unknown.body.error.details.unknownSubjectIds]).to.deep.equal([400, ['nope']]);
    expect((await srv.store.subjects.get(org.id, old.id))!.archivedAt).to.equal(null);
    const byTeacher = await srv.request('POST', '/api/v1/subjects/archive', { token: teacherToken, body: { subjectIds: [old.id] } });
    expect(byTeacher.status).to.equal(403);
  });
});
