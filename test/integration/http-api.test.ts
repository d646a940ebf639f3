import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { DEMO_PASSWORDS, seedDemo } from '../../src/domain/seed.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type ApiResponse, type TestServer, refusal } from '../support/http.js';
import { cheapPasswordHasher } from '../support/passwords.js';

const API = '/api/v1';

describe('HTTP API', () => {
  let srv: TestServer;
  let admin: string;
  let ada: string;
  let alan: string;
  let student: string;

  before(async () => {
    srv = await startTestServer({ BODY_LIMIT_BYTES: '4096' });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    admin = (await srv.login('admin@demo.school', DEMO_PASSWORDS.admin)).accessToken;
    ada = (await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher)).accessToken;
    alan = (await srv.login('alan@demo.school', DEMO_PASSWORDS.teacher)).accessToken;
    student = (await srv.login('student01@demo.school', DEMO_PASSWORDS.student)).accessToken;
  });
  after(() => srv.cleanup());

  describe('auth', () => {
    it('logs in, reads /me, refreshes, and logs out', async () => {
      const login = await srv.request('POST', `${API}/auth/login`, {
        body: { email: 'Ada@Demo.School', password: DEMO_PASSWORDS.teacher },
      });
      expect(login.status).to.equal(200);
      expect(login.body.user).to.include({ email: 'ada@demo.school', role: 'teacher' });
      expect(login.body.user).to.not.have.property('passwordHash');

      const me = await srv.request('GET', `${API}/me`, { token: login.body.accessToken });
      expect(me.status).to.equal(200);
      expect(me.body.email).to.equal('ada@demo.school');

      const refreshed = await srv.request('POST', `${API}/auth/refresh`, { body: { refreshToken: login.body.refreshToken } });
      expect(refreshed.status).to.equal(200);
      const reused = await srv.request('POST', `${API}/auth/refresh`, { body: { refreshToken: login.body.refreshToken } });
      expect(reused.status).to.equal(401);
      expect(reused.body.error.code).to.equal('REFRESH_TOKEN_REUSED');
      const newer = await srv.request('POST', `${API}/auth/refresh`, { body: { refreshToken: refreshed.body.refreshToken } });
      expect(newer.body.error.code).to.equal('REFRESH_TOKEN_INVALID');

      const again = await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher);
      const out = await srv.request('POST', `${API}/auth/logout`, { body: { refreshToken: again.refreshToken } });
      expect(out.status).to.equal(204);
      const afterLogout = await srv.request('POST', `${API}/auth/refresh`, { body: { refreshToken: again.refreshToken } });
      expect(refusal(afterLogout)).to.deep.equal([401, 'REFRESH_TOKEN_INVALID']);
    });

    it('answers 401 INVALID_CREDENTIALS for a wrong password, 401 without or with a bad token', async () => {
      const bad = await srv.request('POST', `${API}/auth/login`, { body: { email: 'ada@demo.school', password: 'nope-nope' } });
      expect(bad.status).to.equal(401);
      expect(bad.body).to.deep.equal({ error: { code: 'INVALID_CREDENTIALS', message: 'Email or password is wrong.' } });
      expect((await srv.request('GET', `${API}/me`)).body.error.code).to.equal('UNAUTHENTICATED');
      expect((await srv.request('GET', `${API}/me`, { token: 'abc.def.ghi' })).body.error.code).to.equal('TOKEN_INVALID');
    });
  });

  describe('login throttling', () => {
    const ACCOUNT_FREE = 5;
    let own: TestServer;
    let email: string;

    /** A login from `ip` (the server trusts X-Forwarded-For here, as behind a proxy). */
    const login = (ip: string, body: Record<string, unknown>): Promise<ApiResponse> =>
      own.request('POST', `${API}/auth/login`, { body, headers: { 'x-forwarded-for': ip } });

    before(async () => {
      // A first pause longer than any case, so a slow machine cannot let a guess through after it.
      own = await startTestServer({
        TRUST_PROXY: 'true',
        LOGIN_ACCOUNT_FREE_FAILURES: String(ACCOUNT_FREE),
        LOGIN_BACKOFF_BASE_MS: '600000',
        LOGIN_BACKOFF_MAX_MS: '3600000',
      });
    });
    after(() => own.cleanup());
    beforeEach(async () => {
      const org = await createOrg(own.store);
      email = (await createUser(own.store, org.id, 'admin')).email;
    });

    it('answers most of 60 concurrent wrong passwords for one account 429 with Retry-After, before checking them', async () => {
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => login(`192.0.2.${i + 1}`, { email, password: `guess-${i}` })));
      const limited = answers.filter((r) => r.status === 429);
      expect(limited.length, answers.map((r) => r.status).join(',')).to.be.at.least(60 - ACCOUNT_FREE);
      expect(answers.filter((r) => r.status === 401).length).to.be.at.most(ACCOUNT_FREE);
      const first = limited[0]!;
      expect(first.body.error.code).to.equal('RATE_LIMITED');
      expect(first.body.error.details.retryAfterMs).to.be.a('number').above(0);
      expect(Number(first.headers.get('retry-after'))).to.be.at.least(1);
    });

    it('lets the owner in from a known device after an attacker spent the account budget', async () => {
      const first = await login('198.51.100.7', { email, password: PASSWORD });
      expect(first.status).to.equal(200);
      expect(first.body.deviceToken).to.be.a('string');
      await Promise.all(Array.from({ length: 30 }, (_, i) => login(`203.0.113.${i + 1}`, { email, password: `guess-${i}` })));
      expect(refusal(await login('198.51.100.7', { email, password: PASSWORD }))).to.deep.equal([429, 'RATE_LIMITED']);
      const known = await login('198.51.100.7', { email, password: PASSWORD, deviceToken: first.body.deviceToken });
      expect(known.status).to.equal(200);
      expect(known.body.user.email).to.equal(email);
    });

    it("counts guesses at an account against it, whatever device tokens another organisation's account of its email got", async () => {
      const victimOrg = await createOrg(own.store);
      const victim = await createUser(own.store, victimOrg.id, 'teacher');
      const theirs = await createOrg(own.store);
      const theirAdmin = await createUser(own.store, theirs.id, 'admin');
      const asTheirAdmin = (await login('198.51.100.20', { email: theirAdmin.email, password: PASSWORD })).body.accessToken as string;
      // Their admin gives an account of their own organisation the victim's email, and a password they chose.
      const twin = await own.request('POST', `${API}/users`, {
        token: asTheirAdmin,
        body: { name: 'Twin', email: victim.email, role: 'teacher', password: 'twin-password-1' },
      });
      expect(twin.status).to.equal(201);
      const attacker = '203.0.113.200';
      let deviceToken: string | undefined;
      /** A fresh device token from a login of the twin (each login hands out a new device). */
      const mint = async () => {
        const res = await login(attacker, { email: victim.email, password: 'twin-password-1', organisation: theirs.slug, deviceToken });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        deviceToken = res.body.deviceToken as string;
      };
      const guessAtVictim = async (password: string) => {
        await mint();
        return login(attacker, { email: victim.email, password, organisation: victimOrg.slug, deviceToken });
      };

      const answers: number[] = [];
      for (let i = 0; i < ACCOUNT_FREE + 3; i += 1) answers.push((await guessAtVictim(`guess-${i}`)).status);
      expect(answers).to.deep.equal([...Array<number>(ACCOUNT_FREE).fill(401), 429, 429, 429]);
      // Held back, the right password is not even checked.
      expect(refusal(await guessAtVictim(PASSWORD))).to.deep.equal([429, 'RATE_LIMITED']);
    });

    it('does not hold a NAT address back for the failures of other accounts behind it', async () => {
      const org = await createOrg(own.store);
      for (let i = 0; i < 25; i += 1) {
        expect(refusal(await login('100.64.0.1', { email: `nobody${i}@school.test`, password: 'wrong-password' }))).to.deep.equal([
          401,
          'INVALID_CREDENTIALS',
        ]);
      }
      const pupil = await createUser(own.store, org.id, 'student');
      expect((await login('100.64.0.1', { email: pupil.email, password: PASSWORD })).status).to.equal(200);
    });

    it('answers ORGANISATION_REQUIRED only to the right password', async () => {
      const other = await createOrg(own.store);
      await createUser(own.store, other.id, 'teacher', { email });
      const wrong = await login('198.51.100.9', { email, password: 'wrong-password' });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.error.code).to.equal('INVALID_CREDENTIALS');
      const right = await login('198.51.100.9', { email, password: PASSWORD });
      expect(right.status).to.equal(400);
      expect(right.body.error.code).to.equal('ORGANISATION_REQUIRED');
    });
  });

  describe('users (admin)', () => {
    it('creates, reads, lists with filters, updates and deactivates', async () => {
      const created = await srv.request('POST', `${API}/users`, {
        token: admin,
        body: { name: 'Grace Hopper', email: 'Grace@Demo.School', role: 'teacher', password: 'grace-password' },
      });
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ email: 'grace@demo.school', hasPassword: true, active: true });
      expect(created.body).to.not.have.property('passwordHash');
      const id = created.body.id as string;

      const dup = await srv.request('POST', `${API}/users`, {
        token: admin,
        body: { name: 'G', email: 'grace@demo.school', role: 'teacher' },
      });
      expect(dup.status).to.equal(409);
      expect(dup.body.error.code).to.equal('EMAIL_TAKEN');

      expect((await srv.request('GET', `${API}/users/${id}`, { token: admin })).body.name).to.equal('Grace Hopper');

      const teachers = await srv.request('GET', `${API}/users?role=teacher&limit=2&offset=0`, { token: admin });
      expect(teachers.status).to.equal(200);
      expect(teachers.body).to.include({ total: 3, limit: 2, offset: 0 });
      expect(teachers.body.items).to.have.length(2);
      const search = await srv.request('GET', `${API}/users?q=hopper`, { token: admin });
      expect(search.body.items.map((u: { id: string }) => u.id)).to.deep.equal([id]);
      const tooMany = await srv.request('GET', `${API}/users?limit=500`, { token: admin });
      expect(tooMany.status).to.equal(400);
      expect(tooMany.body.error.details.issues[0].path).to.equal('limit');

      const patched = await srv.request('PATCH', `${API}/users/${id}`, { token: admin, body: { name: 'Rear Admiral Hopper' } });
      expect(patched.body.name).to.equal('Rear Admiral Hopper');
      const weak = await srv.request('PATCH', `${API}/users/${id}`, { token: admin, body: { password: 'short' } });
      expect(refusal(weak)).to.deep.equal([400, 'VALIDATION_FAILED']);

      const grace = await srv.login('grace@demo.school', 'grace-password');
      const deactivated = await srv.request('POST', `${API}/users/${id}/deactivate`, { token: admin });
      expect(deactivated.body.active).to.equal(false);
      expect((await srv.request('GET', `${API}/me`, { token: grace.accessToken })).body.error.code).to.equal('ACCOUNT_DISABLED');
      const refresh = await srv.request('POST', `${API}/auth/refresh`, { body: { refreshToken: grace.refreshToken } });
      expect(refusal(refresh)).to.deep.equal([401, 'REFRESH_TOKEN_INVALID']);
      const inactive = await srv.request('GET', `${API}/users?active=false`, { token: admin });
      expect(inactive.body.items.map((u: { id: string }) => u.id)).to.include(id);
    });

    it('imports CSV all-or-nothing, reporting every bad row with its line', async () => {
      const before = (await srv.request('GET', `${API}/users?limit=1`, { token: admin })).body.total;
      const csv = [
        'name,email,role,student_number',
        'Good One,good1@demo.school,student,X1',
        'Bad Mail,not-an-email,student,X2',
        'Dup,good1@demo.school,student,X3',
        'No Number,nonum@demo.school,student,',
        'Wrong Role,wr@demo.school,janitor,',
        'Taken,ada@demo.school,teacher,',
      ].join('\n');
      const res = await srv.request('POST', `${API}/users/import`, { token: admin, raw: csv, contentType: 'text/csv' });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      const rows = res.body.error.details.rows as Array<{ line: number; reason: string }>;
      expect(rows.map((r) => r.line)).to.deep.equal([3, 4, 5, 6, 7]);
      expect(rows[0]!.reason).to.match(/email .* invalid/);
      expect(rows[1]!.reason).to.match(/duplicate email.*line 2/);
      expect(rows[2]!.reason).to.match(/student number is missing/);
      expect(rows[3]!.reason).to.match(/unknown role/);
      expect(rows[4]!.reason).to.match(/already taken/);
      expect((await srv.request('GET', `${API}/users?limit=1`, { token: admin })).body.total).to.equal(before);

      const good = 'name,email,role,student_number\nNew A,newa@demo.school,student,N1\nNew B,newb@demo.school,teacher,\n';
      const ok = await srv.request('POST', `${API}/users/import`, { token: admin, body: { csv: good } });
      expect(ok.status).to.equal(201);
      expect(ok.body.created).to.equal(2);
      expect(ok.body.users[0].hasPassword).to.equal(false);
      expect((await srv.request('GET', `${API}/users?limit=1`, { token: admin })).body.total).to.equal(before + 2);
      const noLogin = await srv.request('POST', `${API}/auth/login`, { body: { email: 'newa@demo.school', password: 'anything-at-all' } });
      expect(noLogin.status).to.equal(401);
    });
    it('checks a CSV without writing on a dry run: the same per-row errors, or 200 with the count', async () => {
      const before = (await srv.request('GET', `${API}/users?limit=1`, { token: admin })).body.total;
      const bad = 'name,email,role,student_number\nDry A,drya@demo.school,student,D1\nDry B,not-an-email,student,D2\n';
      const refused = await srv.request('POST', `${API}/users/import?dryRun=true`, { token: admin, raw: bad, contentType: 'text/csv' });
      expect(refused.status).to.equal(400);
      expect(refused.body.error.details.rows.map((r: { line: number }) => r.line)).to.deep.equal([3]);
      const good = 'name,email,role,student_number\nDry A,drya@demo.school,student,D1\nDry C,dryc@demo.school,student,D3\n';
      const checked = await srv.request('POST', `${API}/users/import?dryRun=true`, { token: admin, raw: good, contentType: 'text/csv' });
      expect(checked.status).to.equal(200);
      expect(checked.body).to.deep.equal({ created: 0, users: [], checked: 2 });
      expect((await srv.request('GET', `${API}/users?limit=1`, { token: admin })).body.total).to.equal(before);
      const imported = await srv.request('POST', `${API}/users/import`, { token: admin, raw: good, contentType: 'text/csv' });
      expect(imported.status).to.equal(201);
      expect(imported.body).to.include({ created: 2, checked: 2 });
    });

    it('validates an empty text/csv import as an empty csv field', async () => {
      const res = await srv.request('POST', `${API}/users/import`, { token: admin, raw: '', contentType: 'text/csv' });
      expect(res.status).to.equal(400);
      expect(res.body.error.details.issues).to.deep.equal([
        { path: 'csv', message: 'Too small: expected string to have >=1 characters', code: 'tooShort', params: { minimum: 1 } },
      ]);
    });

    it('deactivates a user on a single node without a stray console warning', async () => {
      const created = await srv.request('POST', `${API}/users`, {
        token: admin,
        body: { name: 'Quiet', email: 'quiet@demo.school', role: 'teacher', password: 'a-long-password' },
      });
      expect(created.status).to.equal(201);
      const warned: unknown[][] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => warned.push(args);
      try {
        const res = await srv.request('POST', `${API}/users/${created.body.id}/deactivate`, { token: admin });
        expect(res.status).to.equal(200);
      } finally {
        console.warn = warn;
      }
      expect(warned).to.deep.equal([]);
    });
  });

  describe('unknown fields', () => {
    it('refuses a misspelt body field with VALIDATION_FAILED naming it, and changes nothing', async () => {
      const before = (await srv.request('GET', `${API}/organisation`, { token: admin })).body;
      const typo = await srv.request('PATCH', `${API}/organisation`, {
        token: admin,
        body: { settings: { sessionMinute: 45, defaultPolicy: { geofense: true } } },
      });
      expect(refusal(typo)).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(typo.body.error.details.issues).to.have.deep.members([
        { path: 'settings.sessionMinute', message: 'Unknown field.', code: 'unknownField', params: {} },
        { path: 'settings.defaultPolicy.geofense', message: 'Unknown field.', code: 'unknownField', params: {} },
      ]);
      expect((await srv.request('GET', `${API}/organisation`, { token: admin })).body).to.deep.equal(before);

      const subject = await srv.request('POST', `${API}/subjects`, {
        token: admin,
        body: { code: 'TYPO1', name: 'Typo', location: { lat: 1, lon: 2, radiusM: 30, radius: 30 }, teacherIDs: [] },
      });
      expect(refusal(subject)).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(subject.body.error.details.issues.map((i: { path: string }) => i.path)).to.have.members(['location.radius', 'teacherIDs']);
      const list = await srv.request('GET', `${API}/subjects?q=TYPO1`, { token: admin });
      expect(list.body.total).to.equal(0);
    });
  });

  describe('my network', () => {
    it('tells any user their address as the network check sees it, with the range to allow', async () => {
      const res = await srv.request('GET', `${API}/me/network`, { token: student });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ ip: '127.0.0.1', range: '127.0.0.1/32' });
    });
  });

  describe('subjects', () => {
    it('lets a teacher list their subject and its 30 students; students see only enrolled subjects', async () => {
      const list = await srv.request('GET', `${API}/subjects`, { token: ada });
      expect(list.body.items.map((s: { code: string }) => s.code)).to.deep.equal(['CS101']);
      const id = list.body.items[0].id as string;
      const students = await srv.request('GET', `${API}/subjects/${id}/students?limit=200`, { token: ada });
      expect(students.body.total).to.equal(30);
      expect(students.body.items[0]).to.include({ email: 'student01@demo.school', studentNumber: 'S0001' });
      expect((await srv.request('GET', `${API}/subjects`, { token: alan })).body.total).to.equal(0);
      expect((await srv.request('GET', `${API}/subjects`, { token: student })).body.items[0].id).to.equal(id);
    });

    it('lets a teacher create only subjects they alone teach; an admin names the teachers', async () => {
      const adaId = (await srv.request('GET', `${API}/me`, { token: ada })).body.id as string;
      const alanId = (await srv.request('GET', `${API}/me`, { token: alan })).body.id as string;
      const adaSubjects = async () => (await srv.request('GET', `${API}/subjects`, { token: ada })).body.total as number;
      const before = await adaSubjects();
      for (const teacherIds of [[adaId], [adaId, alanId], [alanId, adaId]]) {
        const refused = await srv.request('POST', `${API}/subjects`, { token: alan, body: { code: 'NAMED1', name: 'Named', teacherIds } });
        expect(refused.status, JSON.stringify(teacherIds)).to.equal(403);
        expect(refused.body.error.code).to.equal('FORBIDDEN');
      }
      expect(await adaSubjects()).to.equal(before);
      const all = await srv.request('GET', `${API}/subjects?q=NAMED1`, { token: admin });
      expect(all.body.total).to.equal(0);

      const own = await srv.request('POST', `${API}/subjects`, {
        token: alan,
        body: { code: 'NAMED1', name: 'Own', teacherIds: [alanId] },
      });
      expect(own.status).to.equal(201);
      expect(own.body.teacherIds).to.deep.equal([alanId]);
      const none = await srv.request('POST', `${API}/subjects`, { token: alan, body: { code: 'NAMED3', name: 'Own too', teacherIds: [] } });
      expect(none.body.teacherIds).to.deep.equal([alanId]);
      const named = await srv.request('POST', `${API}/subjects`, {
        token: admin,
        body: { code: 'NAMED2', name: 'Both', teacherIds: [adaId, alanId] },
      });
      expect(named.status).to.equal(201);
      expect(named.body.teacherIds).to.deep.equal([adaId, alanId]);
      for (const s of [own.body, none.body, named.body]) {
        expect((await srv.request('DELETE', `${API}/subjects/${s.id as string}`, { token: admin })).status).to.equal(204);
      }
    });

    it('creates, updates, enrols, sets location and network, and deletes', async () => {
      const created = await srv.request('POST', `${API}/subjects`, { token: alan, body: { code: 'MATH1', name: 'Calculus' } });
      expect(created.status).to.equal(201);
      const s = created.body;
      const me = await srv.request('GET', `${API}/me`, { token: alan });
      expect(s.teacherIds).to.deep.equal([me.body.id]);
      const dup = await srv.request('POST', `${API}/subjects`, { token: alan, body: { code: 'MATH1', name: 'Again' } });
      expect(dup.body.error.code).to.equal('SUBJECT_CODE_TAKEN');

      expect((await srv.request('PATCH', `${API}/subjects/${s.id}`, { token: alan, body: { name: 'Calculus I' } })).body.name).to.equal(
        'Calculus I',
      );
      const users = await srv.request('GET', `${API}/users?role=student&limit=3`, { token: admin });
      const ids = users.body.items.map((u: { id: string }) => u.id) as string[];
      const enrol = await srv.request('POST', `${API}/subjects/${s.id}/enrolments`, { token: alan, body: { studentIds: ids } });
      expect(enrol.body).to.deep.equal({ enrolled: 3, total: 3 });
      const unknown = await srv.request('POST', `${API}/subjects/${s.id}/enrolments`, {
        token: alan,
        body: { studentIds: ['nope', me.body.id] },
      });
      expect(unknown.status).to.equal(400);
      expect(unknown.body.error.details.unknownStudentIds).to.deep.equal(['nope', me.body.id]);
      const removed = await srv.request('DELETE', `${API}/subjects/${s.id}/enrolments`, {
        token: alan,
        body: { studentIds: [ids[0], 'ghost'] },
      });
      expect(removed.body).to.deep.equal({ removed: 1, notEnrolledIds: ['ghost'], total: 2 });

      const loc = await srv.request('PUT', `${API}/subjects/${s.id}/location`, {
        token: alan,
        body: { lat: 48.85, lon: 2.35, radiusM: 80 },
      });
      expect(loc.body.location).to.deep.equal({ lat: 48.85, lon: 2.35, radiusM: 80 });
      const badLoc = await srv.request('PUT', `${API}/subjects/${s.id}/location`, { token: alan, body: { lat: 91, lon: 0, radiusM: 80 } });
      expect(refusal(badLoc)).to.deep.equal([400, 'VALIDATION_FAILED']);
      const net = await srv.request('PUT', `${API}/subjects/${s.id}/network`, {
        token: alan,
        body: { allowedIpRanges: ['10.0.0.0/8', '2001:db8::/32'] },
      });
      expect(net.body.allowedIpRanges).to.deep.equal(['10.0.0.0/8', '2001:db8::/32']);
      const badNet = await srv.request('PUT', `${API}/subjects/${s.id}/network`, {
        token: alan,
        body: { allowedIpRanges: ['10.0.0.300/8'] },
      });
      expect(refusal(badNet)).to.deep.equal([400, 'VALIDATION_FAILED']);

      expect((await srv.request('DELETE', `${API}/subjects/${s.id}`, { token: alan })).status).to.equal(204);
      expect(refusal(await srv.request('GET', `${API}/subjects/${s.id}`, { token: alan }))).to.deep.equal([404, 'NOT_FOUND']);
    });
  });

  describe('protocol', () => {
    it('answers 405 METHOD_NOT_ALLOWED with the documented methods in Allow, and 404 off the API paths', async () => {
      const cases: [string, string, string][] = [
        ['DELETE', `${API}/auth/login`, 'POST'],
        ['PUT', `${API}/users/some-id`, 'GET, HEAD, PATCH'],
        // Its own methods, not those of /users/:id that the path also matches.
        ['OPTIONS', `${API}/users/import`, 'POST'],
      ];
      for (const [method, path, allow] of cases) {
        const res = await srv.request(method, path, { token: admin });
        expect(res.status, `${method} ${path}`).to.equal(405);
        expect(res.headers.get('allow'), `${method} ${path}`).to.equal(allow);
        expect(res.body.error.code).to.equal('METHOD_NOT_ALLOWED');
      }
      const unknown = await srv.request('DELETE', `${API}/no-such-thing`, { token: admin });
      expect(refusal(unknown)).to.deep.equal([404, 'NOT_FOUND']);
    });

    it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
      const res = await srv.request('POST', `${API}/auth/login`, { body: { email: 'a@b.c', password: 'x'.repeat(10_000) } });
      expect(res.status).to.equal(413);
      expect(res.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
    });

    it('answers 400 MALFORMED_JSON for broken JSON', async () => {
      const res = await srv.request('POST', `${API}/auth/login`, { raw: '{"email": ', contentType: 'application/json' });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('MALFORMED_JSON');
    });

    it('answers 400 MALFORMED_JSON for a truncated or corrupt gzip body, and reads a whole one', async () => {
      const body = gzipSync(JSON.stringify({ email: 'nobody@demo.school', password: 'not-the-password' }));
      const send = (bytes: Buffer) =>
        fetch(`${srv.baseUrl}${API}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: new Uint8Array(bytes),
        });
      const whole = await send(body);
      expect([whole.status, ((await whole.json()) as { error: { code: string } }).error.code]).to.deep.equal([401, 'INVALID_CREDENTIALS']);
      for (const broken of [body.subarray(0, body.length - 12), Buffer.concat([body.subarray(0, 10), Buffer.from('not deflate data')])]) {
        const res = await send(broken);
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('MALFORMED_JSON');
      }
    });

    it('answers 415 for a body of another media type', async () => {
      const res = await srv.request('POST', `${API}/auth/login`, { raw: 'email=a', contentType: 'application/x-www-form-urlencoded' });
      expect(refusal(res)).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);
    });

    it('answers unknown routes with 404 JSON and echoes a sane request id', async () => {
      const res = await srv.request('GET', '/api/v1/nowhere', { headers: { 'x-request-id': 'abc-123' } });
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ error: { code: 'NOT_FOUND', message: 'Not found.' } });
      expect(res.headers.get('x-request-id')).to.equal('abc-123');
      const insane = await srv.request('GET', '/api/v1/nowhere', { headers: { 'x-request-id': 'a b<script>' } });
      expect(insane.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });

    it('serves /healthz and /readyz', async () => {
      expect((await srv.request('GET', '/healthz')).status).to.equal(200);
      const ready = await srv.request('GET', '/readyz');
      expect(ready.status).to.equal(200);
      expect(ready.body).to.have.all.keys('store', 'passwords');
      expect(ready.body.store).to.deep.equal({ kind: 'sqlite', ok: true });
      expect(ready.body.passwords).to.include({ running: 0, waiting: 0, ok: true });
    });
  });
});
