// Every refusal the docs promise a client for a bad input, as a client written from them sees
// it: the HTTP status and code of protocol.md §13, the `connect_error` codes of §2, and the
// acknowledgement codes and details of §4/§5; each refused request changes nothing.
import { expect } from 'chai';
import { ADMIN, ORG, createFirstAdmin, importAndInvite, people, useDeployment, useSockets } from './deployment.js';
import { detailsOf, refusalOf, type Tokens, type UserView } from './http-client.js';
import { codeOf, connectRefused, data, send, type DocsSocket } from './socket-client.js';

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

describe('docs client: every documented refusal of a bad input (two production nodes)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-refusals');
  const staff = people('r', 2, 0);
  const pupils = people('r', 0, 3);
  let admin: Tokens;
  let teacher: Tokens;
  let otherTeacher: Tokens;
  let student: Tokens;
  let outsider: UserView;
  let users: Map<string, UserView>;
  let subjectId = '';
  let bareSubjectId = '';
  const open = useSockets(dep);

  before(async function () {
    this.timeout(180_000);
    await createFirstAdmin(dep);
    admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password);
    // A second organisation whose admin has the first one's email, for the login refusals below.
    // Each admin CLI run is a process loading the whole service (about a second of CPU), so the
    // two run here beside the import rather than in that case. Its own password, unlike the
    // first's: each logs in without naming the organisation until they share one.
    const secondOrg = async () => {
      const org = await dep.admin(['org', 'create', '--name', 'Second School', '--slug', 'second']);
      if (org.code !== 0) throw new Error(`org create second: ${org.stdout}${org.stderr}`);
      const head = await dep.admin(
        ['admin', 'create', '--org', 'second', '--email', ADMIN.email, '--name', 'Head Two', '--password-stdin'],
        'second-head-pass-1',
      );
      if (head.code !== 0) throw new Error(`admin create in second: ${head.stdout}${head.stderr}`);
    };
    await Promise.all([secondOrg(), setUp()]);
  });

  async function setUp(): Promise<void> {
    users = await importAndInvite(dep, admin.accessToken, [...staff, ...pupils]);
    teacher = await dep.http[0]!.login(staff[0]!.email, staff[0]!.password);
    otherTeacher = await dep.http[1]!.login(staff[1]!.email, staff[1]!.password);
    student = await dep.http[1]!.login(pupils[0]!.email, pupils[0]!.password);
    outsider = users.get(pupils[2]!.email)!;
    const subject = await dep.http[0]!.post<{ id: string }>(
      '/api/v1/subjects',
      {
        code: 'PHYS-1',
        name: 'Physics',
        teacherIds: [teacher.user.id, otherTeacher.user.id],
        location: { lat: 45.75, lon: 4.85, radiusM: 60 },
      },
      admin.accessToken,
    );
    subjectId = subject.body.id;
    const bare = await dep.http[0]!.post<{ id: string }>(
      '/api/v1/subjects',
      { code: 'BARE-1', name: 'No room', teacherIds: [teacher.user.id] },
      admin.accessToken,
    );
    bareSubjectId = bare.body.id;
    const ids = [pupils[0]!, pupils[1]!].map((p) => users.get(p.email)!.id);
    await dep.http[0]!.post(`/api/v1/subjects/${subjectId}/enrolments`, { studentIds: ids }, admin.accessToken);
  }

  describe('HTTP (protocol.md §1, §13)', () => {
    it('bodies: malformed JSON, another content type, too large, an unknown field', async () => {
      const http = dep.http[0]!;
      expect(
        refusalOf(await http.request('POST', '/api/v1/auth/login', { raw: '{"email":', contentType: 'application/json' })),
      ).to.deep.equal([400, 'MALFORMED_JSON']);
      expect(refusalOf(await http.request('POST', '/api/v1/auth/login', { raw: 'email=a', contentType: 'text/plain' }))).to.deep.equal([
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ]);
      const big = await http.request('POST', '/api/v1/subjects', {
        token: admin.accessToken,
        json: { code: 'BIG', name: 'x'.repeat(1_100_000) },
      });
      expect(refusalOf(big)).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
      const unknown = await http.post('/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password, remember: true });
      expect(refusalOf(unknown)).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(detailsOf(unknown)['issues']).to.deep.equal([
        { path: 'remember', message: 'Unknown field.', code: 'unknownField', params: {} },
      ]);
    });

    it('methods and paths: 405 with Allow, an unknown API path and an unknown id', async () => {
      const options = await dep.http[1]!.request('OPTIONS', '/api/v1/me', { token: admin.accessToken });
      expect(refusalOf(options)).to.deep.equal([405, 'METHOD_NOT_ALLOWED']);
      expect(options.headers.get('allow')).to.include('GET');
      expect(refusalOf(await dep.http[1]!.get('/api/v1/no-such-thing', admin.accessToken))).to.deep.equal([404, 'NOT_FOUND']);
      expect(refusalOf(await dep.http[1]!.get('/api/v1/subjects/no-such-subject', admin.accessToken))).to.deep.equal([404, 'NOT_FOUND']);
    });

    it('authentication: no token, a bad token, wrong credentials, a bad refresh token, a used link', async () => {
      const http = dep.http[0]!;
      expect(refusalOf(await http.get('/api/v1/me'))).to.deep.equal([401, 'UNAUTHENTICATED']);
      expect(refusalOf(await http.get('/api/v1/me', 'not.a.token'))).to.deep.equal([401, 'TOKEN_INVALID']);
      expect(refusalOf(await http.post('/api/v1/auth/login', { email: ADMIN.email, password: 'wrong-password' }))).to.deep.equal([
        401,
        'INVALID_CREDENTIALS',
      ]);
      expect(refusalOf(await http.post('/api/v1/auth/refresh', { refreshToken: 'x'.repeat(40) }))).to.deep.equal([
        401,
        'REFRESH_TOKEN_INVALID',
      ]);
      expect(refusalOf(await http.post('/api/v1/auth/reset-password', { token: 'A'.repeat(43), password: 'long-enough-1' }))).to.deep.equal(
        [400, 'LINK_INVALID'],
      );
      const wrong = await http.post(
        '/api/v1/me/password',
        { currentPassword: 'not-mine-at-all', newPassword: 'another-one-1' },
        student.accessToken,
      );
      expect(refusalOf(wrong)).to.deep.equal([400, 'CURRENT_PASSWORD_WRONG']);
    });

    it('rights: wrong role, another teacher, a taken email', async () => {
      expect(refusalOf(await dep.http[0]!.get('/api/v1/users', student.accessToken))).to.deep.equal([403, 'FORBIDDEN']);
      const notHis = await dep.http[0]!.post<{ id: string }>(
        '/api/v1/subjects',
        { code: 'CHEM-1', name: 'Chemistry' },
        otherTeacher.accessToken,
      );
      expect(refusalOf(await dep.http[1]!.get(`/api/v1/subjects/${notHis.body.id}`, teacher.accessToken))).to.deep.equal([
        403,
        'NOT_SUBJECT_TEACHER',
      ]);
      const taken = await dep.http[1]!.post('/api/v1/users', { name: 'Again', email: staff[0]!.email, role: 'teacher' }, admin.accessToken);
      expect(refusalOf(taken)).to.deep.equal([409, 'EMAIL_TAKEN']);
    });

    it('a forced password change: every route but GET /me and POST /me/password, and the socket', async () => {
      const created = await dep.http[0]!.post<UserView>(
        '/api/v1/users',
        {
          name: 'New Teacher',
          email: 'new.teacher@docs-school.test',
          role: 'teacher',
          password: 'first-pass-123',
          mustChangePassword: true,
        },
        admin.accessToken,
      );
      expect(created.status, created.text).to.equal(201);
      const login = await dep.http[1]!.login('new.teacher@docs-school.test', 'first-pass-123');
      expect(login.user.mustChangePassword).to.equal(true);
      expect((await dep.http[1]!.get('/api/v1/me', login.accessToken)).status).to.equal(200);
      expect(refusalOf(await dep.http[1]!.get('/api/v1/subjects', login.accessToken))).to.deep.equal([403, 'PASSWORD_CHANGE_REQUIRED']);
      expect((await connectRefused(dep.nodes[0]!.url, { token: login.accessToken })).data.code).to.equal('PASSWORD_CHANGE_REQUIRED');
      const changed = await dep.http[0]!.post(
        '/api/v1/me/password',
        { currentPassword: 'first-pass-123', newPassword: 'second-pass-456' },
        login.accessToken,
      );
      expect(changed.status).to.equal(204);
      expect((await dep.http[0]!.get('/api/v1/subjects', login.accessToken)).status).to.equal(200);
    });

    it('logins: a deactivated account, an email in two organisations, a deactivated organisation', async () => {
      const gone = users.get(pupils[1]!.email)!;
      const off = await dep.http[0]!.post(`/api/v1/users/${gone.id}/deactivate`, {}, admin.accessToken);
      expect(off.status, off.text).to.equal(200);
      expect(
        refusalOf(await dep.http[1]!.post('/api/v1/auth/login', { email: pupils[1]!.email, password: pupils[1]!.password })),
      ).to.deep.equal([403, 'ACCOUNT_DISABLED']);
      expect(
        refusalOf(await dep.http[1]!.post('/api/v1/auth/login', { email: pupils[1]!.email, password: 'not-the-password' })),
      ).to.deep.equal([401, 'INVALID_CREDENTIALS']);

      // The password picks the account: each head logs in without naming the organisation.
      const first = await dep.http[0]!.post<{ user: { orgId: string } }>('/api/v1/auth/login', {
        email: ADMIN.email,
        password: ADMIN.password,
      });
      const second = await dep.http[1]!.post<{ user: { orgId: string }; accessToken: string }>('/api/v1/auth/login', {
        email: ADMIN.email,
        password: 'second-head-pass-1',
      });
      expect([first.status, second.status], first.text + second.text).to.deep.equal([200, 200]);
      expect(second.body.user.orgId).to.not.equal(first.body.user.orgId);
      // The same password in both: only then is the organisation asked for.
      const same = await dep.http[1]!.post(
        '/api/v1/me/password',
        { currentPassword: 'second-head-pass-1', newPassword: ADMIN.password },
        second.body.accessToken,
      );
      expect(same.status, same.text).to.equal(204);
      const ambiguous = await dep.http[0]!.post('/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password });
      expect(refusalOf(ambiguous)).to.deep.equal([400, 'ORGANISATION_REQUIRED']);
      expect(
        (await dep.http[0]!.post('/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password, organisation: ORG.slug })).status,
      ).to.equal(200);
      expect((await dep.admin(['org', 'deactivate', '--org', 'second'])).code).to.equal(0);
      const disabled = await dep.http[1]!.post('/api/v1/auth/login', {
        email: ADMIN.email,
        password: ADMIN.password,
        organisation: 'second',
      });
      expect(refusalOf(disabled)).to.deep.equal([403, 'ORGANISATION_DISABLED']);
      admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password, ORG.slug);
    });
  });

  it('the OpenAPI document names the refusals every request may meet, as the docs promise them', async () => {
    type Operation = { security?: unknown[]; responses: Record<string, { description?: string }> };
    const doc = await dep.http[1]!.get<{ paths: Record<string, Record<string, Operation>> }>('/api/openapi.json');
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.body.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const named = (status: string) => op.responses[status]?.description ?? '';
        const expectCodes = (status: string, codes: string[]) => {
          for (const code of codes) if (!named(status).includes(code)) missing.push(`${method.toUpperCase()} ${path} ${status} ${code}`);
        };
        // protocol.md §13: BUSY and UNAVAILABLE for "any command or request while the database cannot take it".
        expectCodes('503', ['BUSY', 'UNAVAILABLE']);
        if (!op.security) continue;
        // protocol.md §1: a logged-out token answers TOKEN_REVOKED "from then on"; §13: ORGANISATION_DISABLED
        // on "every authenticated request"; PASSWORD_CHANGE_REQUIRED on every call but GET /me and POST /me/password.
        expectCodes('401', ['TOKEN_REVOKED']);
        expectCodes('403', ['ORGANISATION_DISABLED']);
        const duringChange = (method === 'get' && path === '/api/v1/me') || (method === 'post' && path === '/api/v1/me/password');
        if (!duringChange) expectCodes('403', ['PASSWORD_CHANGE_REQUIRED']);
      }
    }
    expect(missing.slice(0, 5), `${missing.length} refusals not in the document`).to.deep.equal([]);
  });

  describe('Socket.IO handshake (protocol.md §2)', () => {
    it('no token, a token in the query string only, a bad token', async () => {
      const url = dep.nodes[1]!.url;
      expect((await connectRefused(url, {})).data.code).to.equal('UNAUTHENTICATED');
      expect((await connectRefused(url, {}, { token: teacher.accessToken })).data.code, 'the server never reads query.token').to.equal(
        'UNAUTHENTICATED',
      );
      expect((await connectRefused(url, { token: '' })).data.code).to.equal('UNAUTHENTICATED');
      expect((await connectRefused(url, { token: 'not.a.token' })).data.code).to.equal('TOKEN_INVALID');
    });
  });

  describe('commands (protocol.md §4, §5)', () => {
    let t: DocsSocket;
    let s: DocsSocket;
    before(async () => {
      t = await open(0, () => teacher.accessToken);
      s = await open(1, () => student.accessToken);
    });

    it('payloads are strict: an unknown field by its path, a non-object payload at path ""', async () => {
      const typo = await send(t, 'session:open', { subjectId, policy: { geofense: true } } as never);
      expect(codeOf(typo)).to.equal('VALIDATION_FAILED');
      expect(!typo.ok && typo.error.details?.['issues']).to.deep.equal([
        { path: 'policy.geofense', message: 'Unknown field.', code: 'unknownField', params: {} },
      ]);
      const notObject = await send(t, 'session:watch', 'abc' as never);
      expect(codeOf(notObject)).to.equal('VALIDATION_FAILED');
      const paths = notObject.ok ? [] : (notObject.error.details?.['issues'] as { path: string }[]).map((i) => i.path);
      expect(paths).to.deep.equal(['']);
      const liveness = await send(t, 'session:open', { subjectId, policy: { liveness: true } });
      expect(!liveness.ok && (liveness.error.details?.['issues'] as { path: string }[]).map((i) => i.path)).to.deep.equal([
        'policy.liveness',
      ]);
    });

    it('session:open: window problems, unknown subject, wrong role, missing room, unsupported selfie', async () => {
      const backwards = await send(t, 'session:open', { subjectId, startsAt: inHours(1), lateAfter: inHours(0.5), closesAt: inHours(2) });
      expect(codeOf(backwards)).to.equal('VALIDATION_FAILED');
      expect(!backwards.ok && (backwards.error.details?.['problems'] as { code: string }[]).map((p) => p.code)).to.deep.equal([
        'LATE_BEFORE_START',
      ]);
      const long = await send(t, 'session:open', { subjectId, closesAt: inHours(25) });
      expect(!long.ok && (long.error.details?.['problems'] as { code: string }[]).map((p) => p.code)).to.include('TOO_LONG');
      expect(codeOf(await send(t, 'session:open', { subjectId: 'no-such-subject' }))).to.equal('NOT_FOUND');
      expect(codeOf(await send(s, 'session:open', { subjectId }))).to.equal('FORBIDDEN');
      expect(codeOf(await send(t, 'session:open', { subjectId: bareSubjectId, policy: { preset: 'location' } }))).to.equal(
        'SUBJECT_LOCATION_MISSING',
      );
      expect(codeOf(await send(t, 'session:open', { subjectId: bareSubjectId, policy: { preset: 'network' } }))).to.equal(
        'SUBJECT_NETWORK_MISSING',
      );
      expect(
        codeOf(await send(t, 'session:open', { subjectId, policy: { preset: 'location-code-selfie' } })),
        'FACE_ENABLED=false',
      ).to.equal('POLICY_UNSUPPORTED');
      const listed = data(await send(t, 'session:list-active', {}));
      expect(listed, 'refused opens open nothing').to.deep.equal([]);
    });

    it('one session of a subject at a time, one class of a teacher at a time', async () => {
      const first = data(await send(t, 'session:open', { subjectId, policy: { preset: 'manual' } }));
      const second = await send(t, 'session:open', { subjectId, policy: { preset: 'manual' } });
      expect(codeOf(second)).to.equal('SESSION_ALREADY_OPEN');
      expect(!second.ok && second.error.details).to.deep.equal({ sessionIds: [first.id], field: 'parallel' });
      const elsewhere = await send(t, 'session:open', { subjectId: bareSubjectId, policy: { preset: 'manual' } });
      expect(codeOf(elsewhere)).to.equal('TEACHER_DOUBLE_BOOKED');
      expect(!elsewhere.ok && elsewhere.error.details).to.include({ field: 'teacherOverlap', teacherId: teacher.user.id });
      expect(codeOf(await send(t, 'session:reopen', { sessionId: first.id }))).to.equal('SESSION_NOT_CLOSED');
      expect(codeOf(await send(s, 'checkin:challenge', { sessionId: first.id }))).to.equal('LIVENESS_NOT_REQUIRED');
      const outsiderTokens = await dep.http[0]!.login(outsider.email, pupils[2]!.password);
      const o = await open(0, () => outsiderTokens.accessToken);
      expect(codeOf(await send(o, 'session:join', { sessionId: first.id }))).to.equal('NOT_ENROLLED');
      expect(codeOf(await send(o, 'checkin:submit', { sessionId: first.id }))).to.equal('NOT_ENROLLED');
      expect(codeOf(await send(t, 'session:join', { sessionId: first.id }))).to.equal('FORBIDDEN');
      expect(codeOf(await send(s, 'session:watch', { sessionId: first.id }))).to.equal('FORBIDDEN');
      expect(codeOf(await send(t, 'session:watch', { sessionId: 'no-such-session' }))).to.equal('SESSION_NOT_FOUND');
      const mark = await send(t, 'checkin:mark', { sessionId: first.id, studentId: outsider.id, status: 'present' });
      expect(codeOf(mark)).to.equal('NOT_ENROLLED');
      data(await send(t, 'session:cancel', { sessionId: first.id, reason: 'opened by mistake' }));
      expect(codeOf(await send(t, 'session:code', { sessionId: first.id }))).to.equal('SESSION_CANCELLED');
      expect(codeOf(await send(s, 'checkin:submit', { sessionId: first.id }))).to.equal('SESSION_CANCELLED');
      expect(data(await send(t, 'session:cancel', { sessionId: first.id })).status, 'cancel is safe to repeat').to.equal('cancelled');
    });

    it('a scheduled session refuses check-ins until it starts', async () => {
      const later = data(
        await send(t, 'session:open', { subjectId, startsAt: inHours(3), closesAt: inHours(4), policy: { preset: 'manual' } }),
      );
      expect(later.status).to.equal('scheduled');
      expect(codeOf(await send(s, 'checkin:submit', { sessionId: later.id }))).to.equal('SESSION_NOT_OPEN');
      data(await send(t, 'session:cancel', { sessionId: later.id }));
    });

    it('a command beyond SOCKET_MAX_IN_FLIGHT (8) unanswered on one socket is refused at once, running nothing', async () => {
      // Forty sent in one tick: nine were once all answered one by one on a loaded machine.
      const acks = await Promise.all(Array.from({ length: 40 }, () => send(s, 'session:list-active', {})));
      const refused = acks.flatMap((a) => (a.ok ? [] : [a.error]));
      expect(refused.length).to.be.within(1, 32);
      for (const error of refused) {
        expect(error.code).to.equal('RATE_LIMITED');
        expect(error.details).to.deep.include({ limit: 'in-flight', maxInFlight: 8, retryAfterMs: 250 });
      }
    });
  });
});
