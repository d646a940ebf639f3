import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Ack } from '../../src/shared/errors.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { FakeFaceEngine, fakeAnalysis, fakeFace } from '../support/fake-face-engine.js';
import { createClass, createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type ApiResponse, type TestServer } from '../support/http.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, connectClient, connectRefused, ok, waitFor, type ClientSocket, userClient } from '../support/sockets.js';

const API = '/api/v1';
const ROOM = { lat: 51.5007, lon: -0.1246, radiusM: 80 };
const here = () => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() });

/** Fires `n` commands without waiting and resolves with every acknowledgement. */
function flood(socket: ClientSocket, event: 'session:list-active', n: number): Promise<Ack<unknown>[]> {
  const acks: Ack<unknown>[] = [];
  return new Promise((resolve) => {
    for (let i = 0; i < n; i += 1) {
      socket.emit(event, {}, (ack: Ack<unknown>) => {
        acks.push(ack);
        if (acks.length === n) resolve(acks);
      });
    }
  });
}

const codeOf = (ack: Ack<unknown>) => (ack.ok ? 'ok' : ack.error.code);

// Each case on a server of its own: the budgets are per user and per address, and a case
// spends them on purpose.
describe('request limits with the default settings', function () {
  this.timeout(60_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];
  const client = async (u: User, connectTimeoutMs?: number) => {
    const s = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(u).token, connectTimeoutMs);
    sockets.push(s);
    return s;
  };

  beforeEach(async () => {
    srv = await startTestServer();
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv.cleanup();
  });

  it('answers a flood of 2,000 session:list-active from one client mostly RATE_LIMITED, and health probes keep answering 200', async () => {
    const { students } = await createClass(srv.store, 1, { location: ROOM });
    const s = await client(students[0]!);
    const answered = flood(s, 'session:list-active', 2_000);
    let done = false;
    void answered.then(() => (done = true));
    const probes: number[] = [];
    // Probes sent while the flood is being answered, one after another like a load balancer's.
    while (!done) {
      for (const path of ['/healthz', '/readyz']) probes.push((await srv.request('GET', path)).status);
    }
    const acks = await answered;
    const codes = acks.map(codeOf);
    const limited = acks.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED');
    expect(codes.filter((c) => c !== 'ok' && c !== 'RATE_LIMITED')).to.deep.equal([]);
    expect(limited.length).to.be.above(1_900);
    // The in-flight cap answers at once; the per-user budget of heavy commands bounds the rest.
    expect(limited.some((a) => !a.ok && a.error.details?.['limit'] === 'in-flight')).to.equal(true);
    expect(codes.filter((c) => c === 'ok').length).to.be.at.most(srv.config.limits.socketHeavyPerMinute);
    for (const a of limited) if (!a.ok) expect(a.error.details?.['retryAfterMs']).to.be.a('number').above(0);
    expect(probes.length).to.be.above(0);
    expect(
      probes.every((p) => p === 200),
      `probe statuses ${probes.join(',')}`,
    ).to.equal(true);
  });

  it('lists every route of the API document in docs/limits.md, and every operation documents 429', async () => {
    const table = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8');
    const doc = (await srv.request('GET', '/api/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const missing: string[] = [];
    for (const [route, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const row = `| \`${method.toUpperCase()} ${route}\` |`;
        if (!table.includes(row)) missing.push(row);
        expect(op.responses, `${method} ${route}`).to.have.property('429');
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('lets 300 students reconnect at once from one address, join, list and check in, while the teacher watches', async () => {
    const { teacher, students, subject } = await createClass(srv.store, 300, { location: ROOM });
    const t = await client(teacher);
    const sessionId = ok(await command(t, 'session:open', { subjectId: subject.id, policy: { rotatingCode: false } })).id;
    ok(await command(t, 'session:watch', { sessionId }));
    const storm = students.map(async (student) => {
      // The storm's own bound for each step, the connection too: 300 handshakes at once, client
      // and server on one loaded process, outlasted socket.io-client's default 20 s.
      const s = await client(student, 30_000);
      return [
        codeOf(await command(s, 'session:join', { sessionId }, 30_000)),
        codeOf(await command(s, 'session:list-active', {}, 30_000)),
        codeOf(await command(s, 'checkin:submit', { sessionId, location: here() }, 30_000)),
      ];
    });
    // The teacher's screen during the storm: the code, a fresh snapshot, a decision.
    const teacherCodes = [
      codeOf(await command(t, 'session:code', { sessionId }, 30_000)),
      codeOf(await command(t, 'session:watch', { sessionId }, 30_000)),
    ];
    const results = await Promise.all(storm);
    expect(results.flat().filter((c) => c !== 'ok')).to.deep.equal([]);
    teacherCodes.push(codeOf(await command(t, 'checkin:mark', { sessionId, studentId: students[1]!.id, status: 'excused' })));
    expect(teacherCodes).to.deep.equal(['ok', 'ok', 'ok']);
    const snapshot = ok(await command(t, 'session:watch', { sessionId }));
    expect(snapshot.counts.notYet).to.equal(0);
  });
});

describe('request limits with tight settings', function () {
  this.timeout(30_000);
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let otherTeacher: User;
  let student: User;
  let sessionId: string;
  const sockets: ClientSocket[] = [];
  const client = userClient(() => srv, sockets);

  beforeEach(async () => {
    srv = await startTestServer({
      SOCKET_MAX_IN_FLIGHT: '2',
      SOCKET_RATE_PER_MINUTE: '5',
      SOCKET_HEAVY_RATE_PER_MINUTE: '3',
      SOCKET_CONNECT_RATE_PER_MINUTE: '40',
      SOCKET_CONNECT_USER_RATE_PER_MINUTE: '20',
      HTTP_RATE_PER_MINUTE: '5',
      HTTP_HEAVY_RATE_PER_MINUTE: '2',
      HTTP_PUBLIC_RATE_PER_MINUTE: '4',
      HTTP_STATIC_RATE_PER_MINUTE: '3',
    });
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    otherTeacher = await createUser(srv.store, org.id, 'teacher');
    student = await createUser(srv.store, org.id, 'student');
    const subject = await srv.store.subjects.create(org.id, {
      code: 'LIM2',
      name: 'Tight',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(org.id, subject.id, [student.id]);
    sessionId = (await srv.app.attendance.sessions.open({ id: teacher.id, orgId: org.id, role: 'teacher' }, { subjectId: subject.id })).id;
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv.cleanup();
  });

  it('counts light commands per user across their sockets, with a retry hint', async () => {
    const [a, b] = [await client(teacher), await client(teacher)];
    const codes: string[] = [];
    for (let i = 0; i < 3; i += 1) codes.push(codeOf(await command(a, 'session:code', { sessionId })));
    for (let i = 0; i < 3; i += 1) codes.push(codeOf(await command(b, 'session:code', { sessionId })));
    expect(codes).to.deep.equal(['ok', 'ok', 'ok', 'ok', 'ok', 'RATE_LIMITED']);
    const refused = await command(b, 'session:unwatch', { sessionId });
    expect(refused.ok ? null : refused.error.details).to.include({ limit: 'light' });
    expect(refused.ok ? 0 : refused.error.details?.['retryAfterMs']).to.be.above(0);
    // Another user has their own budget.
    expect(codeOf(await command(await client(otherTeacher), 'session:unwatch', { sessionId }))).to.equal('ok');
  });

  it('gives heavy commands a smaller budget of their own, and caps commands in flight per socket', async () => {
    const s = await client(student);
    const acks = await flood(s, 'session:list-active', 6);
    const inFlight = acks.filter((a) => !a.ok && a.error.details?.['limit'] === 'in-flight');
    expect(inFlight.length).to.be.at.least(4);
    const first = inFlight[0]!;
    expect(first.ok ? null : first.error.details).to.include({ maxInFlight: 2 });
    const sequential: string[] = [];
    for (let i = 0; i < 3; i += 1) sequential.push(codeOf(await command(s, 'session:list-active', {})));
    const okCount = acks.filter((a) => a.ok).length + sequential.filter((c) => c === 'ok').length;
    expect(okCount).to.equal(3);
    expect(sequential.at(-1)).to.equal('RATE_LIMITED');
    // Light commands of the same user are counted apart.
    expect(codeOf(await command(s, 'session:join', { sessionId }))).to.equal('ok');
  });

  it('limits authenticated routes per user with 429 and Retry-After, heavy routes tighter', async () => {
    const token = srv.app.tokenService.signAccess(teacher).token;
    const statuses: number[] = [];
    let last: ApiResponse | null = null;
    for (let i = 0; i < 6; i += 1) {
      last = await srv.request('GET', `${API}/me`, { token });
      statuses.push(last.status);
    }
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429]);
    expect(last!.body.error.code).to.equal('RATE_LIMITED');
    expect(Number(last!.headers.get('retry-after'))).to.be.within(1, 60);
    const other = srv.app.tokenService.signAccess(otherTeacher).token;
    expect((await srv.request('GET', `${API}/me`, { token: other })).status).to.equal(200);
    const exports: number[] = [];
    for (let i = 0; i < 3; i += 1)
      exports.push((await srv.request('GET', `${API}/sessions/${sessionId}/records.csv`, { token: other })).status);
    // records.csv is heavy: 403 (not this teacher's subject) until its own budget of 2 is spent.
    expect(exports).to.deep.equal([403, 403, 429]);
  });

  it('limits public routes, the API document and the pages per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1)
      statuses.push((await srv.request('POST', `${API}/auth/refresh`, { body: { refreshToken: 'nope' } })).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 429]);
    expect((await srv.request('GET', '/api/openapi.json')).status).to.equal(429);
    const pages: number[] = [];
    for (let i = 0; i < 4; i += 1) pages.push((await srv.request('GET', '/no-such-page')).status);
    expect(pages).to.deep.equal([404, 404, 404, 429]);
    expect((await srv.request('GET', '/healthz')).status).to.equal(200);
    expect((await srv.request('GET', '/readyz')).status).to.equal(200);
    // A login of a real account is refused too: the address spent its budget.
    const login = await srv.request('POST', `${API}/auth/login`, { body: { email: student.email, password: PASSWORD } });
    expect(login.status).to.equal(429);
  });

  it('limits socket handshakes per user; another user on the same address still connects', async () => {
    const token = srv.app.tokenService.signAccess(student).token;
    let refusal: { code: string } | null = null;
    await waitFor(
      async () => {
        try {
          sockets.push(await connectClient(srv.baseUrl, token));
          return false;
        } catch (err) {
          refusal = (err as { data: { code: string } }).data;
          return true;
        }
      },
      10_000,
      0,
    );
    expect(refusal).to.deep.include({ code: 'RATE_LIMITED' });
    expect((await connectRefused(srv.baseUrl, { token })).code).to.equal('RATE_LIMITED');
    sockets.push(await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(otherTeacher).token));
  });
});

// A student told BUSY is asked to retry after details.retryAfterMs; the answer wrote nothing, so it
// must not spend the check-in budget. A client following the hints through a queue of selfies
// used to be answered RATE_LIMITED for most of a minute after nine retries.
describe('a check-in answered BUSY', function () {
  this.timeout(20_000);
  let srv: TestServer;
  const engine = new FakeFaceEngine({ answer: fakeAnalysis([fakeFace(Float32Array.from([1, 0, 0, 0]))]), status: { maxQueue: 4 } });
  after(async () => srv?.cleanup());

  it('spends no check-in budget, so retries after the hint are not refused RATE_LIMITED', async () => {
    srv = await startTestServer({ CHECKIN_RATE_PER_MINUTE: '2', FACE_CONSENT_REQUIRED: 'false' }, { face: engine });
    const org = await createOrg(srv.store);
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await srv.store.subjects.create(org.id, {
      code: 'BUSY1',
      name: 'Busy',
      teacherIds: [teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(org.id, subject.id, [student.id]);
    const policy = { geofence: false, rotatingCode: false, selfie: true };
    const session = await srv.app.attendance.sessions.open(
      { id: teacher.id, orgId: org.id, role: 'teacher' },
      { subjectId: subject.id, policy },
    );
    const s = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(student).token);
    try {
      const submit = () => command(s, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array([1, 2, 3]) });
      engine.queueSize = 4;
      const busy: string[] = [];
      for (let i = 0; i < 4; i += 1) busy.push(codeOf(await submit()));
      expect(busy).to.deep.equal(['BUSY', 'BUSY', 'BUSY', 'BUSY']);
      engine.queueSize = 0;
      const accepted = ok(await submit());
      expect([accepted.status, accepted.verifying]).to.deep.equal(['pending', true]);
    } finally {
      s.disconnect();
    }
  });
});

describe('request limits shared by several nodes (Redis)', function () {
  this.timeout(30_000);
  let cluster: StartedNodes | null = null;
  const sockets: ClientSocket[] = [];
  const suite = useRedis('limits');

  before(async () => {
    cluster = await startNodes(2, {
      redisUrl: suite.redis.url,
      sqlitePath: path.join(suite.dir, 'attendance.db'),
      env: { SOCKET_HEAVY_RATE_PER_MINUTE: '3', HTTP_RATE_PER_MINUTE: '3' },
    });
  });
  suite.beforeStop(async () => {
    for (const s of sockets) s.disconnect();
    await cluster?.cleanup();
  });

  it('counts one user against one budget whichever node serves them', async () => {
    const [a, b] = cluster!.nodes;
    const org = await createOrg(a!.store);
    const student = await createUser(a!.store, org.id, 'student');
    const token = a!.app.tokenService.signAccess(student).token;
    const onA = await connectClient(a!.url, token);
    const onB = await connectClient(b!.url, token);
    sockets.push(onA, onB);
    const codes = [
      codeOf(await command(onA, 'session:list-active', {})),
      codeOf(await command(onA, 'session:list-active', {})),
      codeOf(await command(onB, 'session:list-active', {})),
      codeOf(await command(onB, 'session:list-active', {})),
    ];
    expect(codes).to.deep.equal(['ok', 'ok', 'ok', 'RATE_LIMITED']);
    const me = async (url: string) => (await fetch(`${url}${API}/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect([await me(a!.url), await me(b!.url), await me(a!.url), await me(b!.url)]).to.deep.equal([200, 200, 200, 429]);
  });
});
