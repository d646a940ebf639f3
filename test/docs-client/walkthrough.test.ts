// A school's first term, by a client written from README.md, docs/*.md, the OpenAPI document and
// the shared event map only: first admin on a fresh production deployment of two nodes, set-up,
// imports, invitations over real SMTP, logins, a live session with students on both nodes, a
// screen that resyncs after missed versions, decisions, a close sent to both nodes at once,
// corrections, reports, a guardian's alert email, and an erasure. Each step depends on the last.
import { expect } from 'chai';
import { tokenFromMail, decodedMail } from '../support/mail.js';
import type { CheckinView, RosterSnapshot, SessionView } from '../../src/shared/events.js';
import { ADMIN, ORG, PUBLIC_URL, createFirstAdmin, importAndInvite, people, useDeployment, useSockets, usersCsv } from './deployment.js';
import { detailsOf, refusalOf, type Tokens, type UserView } from './http-client.js';
import { codeOf, connectRefused, data, nextEvent, RosterFeed, send, type DocsSocket } from './socket-client.js';

const ROOM = { lat: 48.8462, lon: 2.3447, radiusM: 80 };
/** A fix `metres` north of the room's centre, taken now. */
const fix = (metres: number, accuracy = 8) => ({ lat: ROOM.lat + metres / 111_320, lon: ROOM.lon, accuracy, timestamp: Date.now() });

describe('docs client: a school from first admin to erasure (two production nodes, Redis, SMTP)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-walkthrough');
  const staff = people('w', 2, 0);
  const pupils = people('w', 0, 6);
  let admin: Tokens;
  let users: Map<string, UserView>;
  const id = (email: string) => users.get(email)!.id;
  let subjectId = '';
  const open = useSockets(dep);

  it('first run: nobody can log in until the admin CLI creates the organisation and its admin', async () => {
    expect(dep.nodes[0]!.output(), 'README: one warning line on an empty production store').to.match(/"level":40[^\n]*admin/i);
    const before = await dep.http[0]!.post('/api/v1/auth/login', { email: ADMIN.email, password: ADMIN.password });
    expect(refusalOf(before)).to.deep.equal([401, 'INVALID_CREDENTIALS']);
    await createFirstAdmin(dep);
    const again = await dep.admin(['org', 'create', '--name', 'Twice', '--slug', ORG.slug]);
    expect(again.code, 'README: exit 1, the coded error printed').to.equal(1);
    expect(again.stdout + again.stderr).to.include('ORGANISATION_SLUG_TAKEN');
    admin = await dep.http[1]!.login(ADMIN.email, ADMIN.password);
    expect(admin.user).to.include({ role: 'admin', name: ADMIN.name, hasPassword: true, mustChangePassword: false });
  });

  it('sets the organisation up; a misspelt setting is refused by name and changes nothing', async () => {
    const typo = await dep.http[0]!.request('PATCH', '/api/v1/organisation', {
      token: admin.accessToken,
      json: { settings: { sessionMinute: 50 } },
    });
    expect(refusalOf(typo)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(detailsOf(typo)['issues']).to.deep.include({
      path: 'settings.sessionMinute',
      message: 'Unknown field.',
      code: 'unknownField',
      params: {},
    });
    const patch = await dep.http[0]!.request('PATCH', '/api/v1/organisation', {
      token: admin.accessToken,
      json: {
        settings: { sessionMinutes: 50, lateGraceMinutes: 5, defaultPolicy: { geofence: true, rotatingCode: true }, notifyGuardians: true },
      },
    });
    expect(patch.status, patch.text).to.equal(200);
    const org = await dep.http[1]!.get<{ slug: string; timezone: string; settings: Record<string, unknown> }>(
      '/api/v1/organisation',
      admin.accessToken,
    );
    expect(org.body).to.include({ slug: ORG.slug, timezone: ORG.timezone });
    expect(org.body.settings).to.include({ sessionMinutes: 50, lateGraceMinutes: 5, notifyGuardians: true });
  });

  it('imports users all or nothing, checks first with dryRun, then invites them in one request (real SMTP)', async () => {
    const bad = await dep.http[0]!.request('POST', '/api/v1/users/import', {
      token: admin.accessToken,
      raw: usersCsv(staff) + 'Nobody,not-an-email,student,W9\n',
      contentType: 'text/csv',
    });
    expect(refusalOf(bad)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(detailsOf(bad)['rows']).to.be.an('array').with.length(1);
    expect((detailsOf(bad)['rows'] as { line: number }[])[0]!.line).to.equal(4);
    const dry = await dep.http[0]!.request<{ created: number; checked: number }>('POST', '/api/v1/users/import?dryRun=true', {
      token: admin.accessToken,
      json: { csv: usersCsv([...staff, ...pupils]) },
    });
    expect(dry.status).to.equal(200);
    expect(dry.body).to.include({ created: 0, checked: 8 });
    const listed = await dep.http[0]!.get<{ total: number }>('/api/v1/users', admin.accessToken);
    expect(listed.body.total, 'a refused file and a dry run write nothing').to.equal(1);

    users = await importAndInvite(dep, admin.accessToken, [...staff, ...pupils]);
    const mail = decodedMail(dep.smtp.received.find((m) => m.to.includes(staff[0]!.email))!.raw);
    expect(mail, 'README: PUBLIC_URL/reset.html#token=…&invite=1&back=teacher.html').to.match(
      new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/reset\\.html#token=[A-Za-z0-9_-]{43}&invite=1&back=teacher\\.html`),
    );
    const reused = await dep.http[1]!.post('/api/v1/auth/reset-password', { token: tokenFromMail(mail), password: 'another-pass-1' });
    expect(refusalOf(reused)).to.deep.equal([400, 'LINK_INVALID']);
  });

  it('imports guardian contacts all or nothing; the student reads their own', async () => {
    const rows = (extra = '') =>
      'name,relation,email,language,student_number\n' +
      pupils.map((p, i) => `Parent ${i + 1},mother,parent${i + 1}@family.test,${i === 4 ? 'fr' : 'en'},${p.studentNumber}`).join('\n') +
      '\n' +
      extra;
    const bad = await dep.http[1]!.request('POST', '/api/v1/guardians/import', {
      token: admin.accessToken,
      raw: rows('Ghost,father,ghost@family.test,en,NOPE1\n'),
      contentType: 'text/csv',
    });
    expect(refusalOf(bad)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect((detailsOf(bad)['rows'] as { line: number }[]).map((r) => r.line)).to.deep.equal([8]);
    const good = await dep.http[1]!.request('POST', '/api/v1/guardians/import', {
      token: admin.accessToken,
      raw: rows(),
      contentType: 'text/csv',
    });
    expect(good.status, good.text).to.equal(200);
    expect(good.body).to.deep.equal({ students: 6, contacts: 6 });
    const s5 = await dep.http[0]!.login(pupils[4]!.email, pupils[4]!.password);
    const own = await dep.http[0]!.get<{ items: { email: string; language: string }[] }>(
      `/api/v1/users/${s5.user.id}/guardians`,
      s5.accessToken,
    );
    // The OpenAPI document: `unsubscribed` is absent when none.
    expect(own.body.items).to.deep.equal([{ name: 'Parent 5', relation: 'mother', email: 'parent5@family.test', language: 'fr' }]);
  });

  it('creates a subject with its teacher, room and students; an alert rule for guardians', async () => {
    const subject = await dep.http[0]!.post<{ id: string }>(
      '/api/v1/subjects',
      { code: 'MATH-1', name: 'Mathematics', teacherIds: [id(staff[0]!.email)], location: ROOM },
      admin.accessToken,
    );
    expect(subject.status, subject.text).to.equal(201);
    subjectId = subject.body.id;
    const twice = await dep.http[1]!.post('/api/v1/subjects', { code: 'MATH-1', name: 'Again' }, admin.accessToken);
    expect(refusalOf(twice)).to.deep.equal([409, 'SUBJECT_CODE_TAKEN']);
    const enrol = await dep.http[1]!.post(
      `/api/v1/subjects/${subjectId}/enrolments`,
      { studentIds: pupils.map((p) => id(p.email)) },
      admin.accessToken,
    );
    expect(enrol.body).to.deep.equal({ enrolled: 6, total: 6 });
    const rule = await dep.http[0]!.post('/api/v1/alert-rules', { kind: 'consecutive-absences', count: 1 }, admin.accessToken);
    expect(rule.status, rule.text).to.equal(201);
  });

  it('login, refresh on the other node, refresh-token reuse, logout ending the socket of that login', async () => {
    const t = staff[1]!;
    const first = await dep.http[0]!.login(t.email, t.password);
    expect(first.deviceToken).to.be.a('string');
    const renewed = await dep.http[1]!.post<Tokens>('/api/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(renewed.status).to.equal(200);
    expect(renewed.body, 'protocol §1: a refresh answers no deviceToken').not.to.have.property('deviceToken');
    const reused = await dep.http[0]!.post('/api/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(refusalOf(reused)).to.deep.equal([401, 'REFRESH_TOKEN_REUSED']);
    for (const http of dep.http)
      expect(refusalOf(await http.get('/api/v1/me', renewed.body.accessToken))).to.deep.equal([401, 'TOKEN_REVOKED']);

    const login = await dep.http[0]!.login(t.email, t.password);
    const other = await dep.http[0]!.login(t.email, t.password);
    const socket = await open(1, () => login.accessToken);
    const revoked = nextEvent(socket, 'auth:revoked');
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    const out = await dep.http[0]!.post('/api/v1/auth/logout', { refreshToken: login.refreshToken });
    expect(out.status).to.equal(204);
    expect((await revoked)[0]).to.deep.equal({ code: 'TOKEN_REVOKED' });
    expect(await gone).to.equal('io server disconnect');
    expect((await connectRefused(dep.nodes[0]!.url, { token: login.accessToken })).data.code).to.equal('TOKEN_REVOKED');
    expect((await dep.http[1]!.get('/api/v1/me', other.accessToken)).status, 'other logins go on').to.equal(200);
  });

  describe('a live session across both nodes', () => {
    let teacher: Tokens;
    let session: SessionView;
    let teacherSocket: DocsSocket;
    let screen: RosterFeed;
    let phone: RosterFeed;
    const students: { tokens: Tokens; socket: DocsSocket }[] = [];
    const sid = (i: number) => students[i]!.tokens.user.id;
    const submit = async (i: number, extra: Record<string, unknown>) => {
      const code = data(await send(teacherSocket, 'session:code', { sessionId: session.id })).code;
      return send(students[i]!.socket, 'checkin:submit', { sessionId: session.id, code, ...extra });
    };

    before(async () => {
      teacher = await dep.http[0]!.login(staff[0]!.email, staff[0]!.password);
      teacherSocket = await open(0, () => teacher.accessToken);
      for (const [i, p] of pupils.entries()) {
        const tokens = await dep.http[i % 2]!.login(p.email, p.password);
        students.push({ tokens, socket: await open(i % 2, () => tokens.accessToken) });
      }
    });
    after(() => {
      screen?.stop();
      phone?.stop();
    });

    it("opens with the organisation's defaults; students on both nodes see it and join", async () => {
      const listening = nextEvent(students[1]!.socket, 'session:status');
      data(await send(students[1]!.socket, 'session:list-active', {}));
      session = data(await send(teacherSocket, 'session:open', { subjectId }));
      expect(session.policy).to.include({ preset: 'location-code', geofence: true, rotatingCode: true, network: false });
      expect(Date.parse(session.lateAfter) - Date.parse(session.startsAt)).to.equal(5 * 60_000);
      expect(Date.parse(session.closesAt) - Date.parse(session.startsAt)).to.equal(50 * 60_000);
      expect((await listening)[0].id, 'a listing student on the other node hears of it').to.equal(session.id);
      const admin2 = await dep.http[1]!.login(ADMIN.email, ADMIN.password);
      screen = new RosterFeed(await open(1, () => admin2.accessToken), session.id);
      phone = new RosterFeed(teacherSocket, session.id);
      const snap: RosterSnapshot = await screen.start();
      await phone.start();
      expect(snap.counts).to.deep.include({ notYet: 6, total: 6 });
      for (const s of students) {
        const joined = data(await send(s.socket, 'session:join', { sessionId: session.id }));
        expect(joined.checkin).to.equal(null);
      }
    });

    it('check-ins: present, outside, imprecise, missing location, wrong code then retry, join token', async () => {
      const decision = nextEvent(students[0]!.socket, 'checkin:decision');
      const present = data(await submit(0, { location: fix(5) }));
      expect(present).to.include({ status: 'present', reason: null, attempts: 1, verifying: false });
      expect((await decision)[0].recordVersion, 'ack and push carry one version').to.equal(present.recordVersion);

      const outside = data(await submit(1, { location: fix(2_000) }));
      expect(outside).to.include({ status: 'rejected', reason: 'GEOFENCE_OUTSIDE', attemptsLeft: 1 });
      const imprecise = data(await submit(2, { location: fix(10, 600) }));
      expect(imprecise).to.include({ status: 'pending', reason: 'GEOFENCE_IMPRECISE' });
      const noFix = await submit(3, {});
      expect(codeOf(noFix)).to.equal('LOCATION_REQUIRED');
      expect(!noFix.ok && noFix.error.details).to.deep.equal({ field: 'location' });
      const wrong = data(await send(students[3]!.socket, 'checkin:submit', { sessionId: session.id, code: '000000', location: fix(12) }));
      expect(wrong).to.include({ status: 'rejected', reason: 'CODE_INVALID', attemptsLeft: 1 });
      const retry = data(await submit(3, { location: fix(14) }));
      expect(retry).to.include({ status: 'present', attempts: 2 });
      const { joinToken } = data(await send(teacherSocket, 'session:code', { sessionId: session.id }));
      const viaLink = data(await send(students[5]!.socket, 'checkin:submit', { sessionId: session.id, joinToken, location: fix(20) }));
      expect(viaLink.status).to.equal('present');
      const expected = {
        [sid(0)]: 'present',
        [sid(1)]: 'rejected',
        [sid(2)]: 'pending',
        [sid(3)]: 'present',
        [sid(4)]: 'not-yet',
        [sid(5)]: 'present',
      };
      const matches = (feed: RosterFeed) => () => Object.entries(expected).every(([k, v]) => feed.status(k) === v);
      await screen.until(matches(screen));
      await phone.until(matches(phone));
    });

    it('a screen whose node missed updates while Redis was down resyncs to the store (roster:resync)', async () => {
      const notice = nextEvent(screen.socket, 'roster:resync', (n) => n.sessionId === session.id, 30_000);
      await dep.redisSuite.redis.kill();
      // The screen is on node B; student 2's retry goes through node A, whose broadcast needs Redis.
      const retried = data(await submit(1, { location: fix(6) }));
      expect(retried).to.include({ status: 'present', attempts: 2 });
      await dep.redisSuite.redis.start();
      await notice;
      await screen.until((e) => e.get(sid(1))?.status === 'present' && screen.resyncs.notice > 0, 20_000);
    });

    it('decisions with expectedVersion; a rejection by the teacher is final', async () => {
      const pending = phone.entries.get(sid(2))!;
      const stale = await send(teacherSocket, 'checkin:decide', {
        sessionId: session.id,
        studentId: sid(2),
        decision: 'accept',
        expectedVersion: pending.recordVersion - 1,
      });
      expect(codeOf(stale)).to.equal('RECORD_CHANGED');
      const accepted = data(
        await send(teacherSocket, 'checkin:decide', {
          sessionId: session.id,
          studentId: sid(2),
          decision: 'accept',
          expectedVersion: pending.recordVersion,
        }),
      );
      expect(accepted).to.include({ status: 'present', reason: 'ACCEPTED_BY_TEACHER', decidedBy: teacher.user.id });
      expect(
        codeOf(await send(teacherSocket, 'checkin:decide', { sessionId: session.id, studentId: sid(4), decision: 'accept' })),
      ).to.equal('RECORD_NOT_FOUND');
      const rejected = data(
        await send(teacherSocket, 'checkin:decide', {
          sessionId: session.id,
          studentId: sid(5),
          decision: 'reject',
          note: 'not in the room',
        }),
      );
      expect(rejected).to.include({ status: 'rejected', reason: 'REJECTED_BY_TEACHER' });
      const again: CheckinView = data(await submit(5, { location: fix(3) }));
      expect(again).to.include({ status: 'rejected', reason: 'REJECTED_BY_TEACHER', attemptsLeft: 0, note: 'not in the room' });
      await screen.until((e) => e.get(sid(2))?.status === 'present' && e.get(sid(5))?.status === 'rejected');
    });

    it('close sent to both nodes at once: one close, one audit entry, absents pushed to students and screens', async () => {
      const absent = nextEvent(students[4]!.socket, 'checkin:decision');
      const closedOnScreen = nextEvent(screen.socket, 'session:status', (s) => s.id === session.id && s.status === 'closed');
      const admin2 = await dep.http[1]!.login(ADMIN.email, ADMIN.password);
      const adminSocket = await open(1, () => admin2.accessToken);
      const [a, b] = await Promise.all([
        send(teacherSocket, 'session:close', { sessionId: session.id }),
        send(adminSocket, 'session:close', { sessionId: session.id }),
      ]);
      const [ra, rb] = [data(a), data(b)];
      expect(ra.counts).to.deep.equal(rb.counts);
      expect(ra.counts).to.deep.include({ present: 4, late: 0, absent: 2, pending: 0, rejected: 0, notYet: 0, total: 6 });
      expect((await absent)[0]).to.include({ status: 'absent', reason: 'NO_CHECKIN' });
      await closedOnScreen;
      await screen.until((e) => e.get(sid(4))?.status === 'absent' && e.get(sid(5))?.status === 'absent');
      expect(screen.entries.get(sid(5))!.reason, 'a rejected record keeps its reason').to.equal('REJECTED_BY_TEACHER');
      const audit = await dep.http[0]!.get<{ total: number }>(
        `/api/v1/reports/audit?sessionId=${session.id}&action=session.close`,
        admin.accessToken,
      );
      expect(audit.body.total).to.equal(1);
      const late = await send(students[4]!.socket, 'checkin:submit', { sessionId: session.id, code: '123456', location: fix(2) });
      expect(codeOf(late), 'protocol §5.7: even for a student who already has a record').to.equal('SESSION_CLOSED');
      expect(codeOf(await send(teacherSocket, 'session:code', { sessionId: session.id }))).to.equal('SESSION_CLOSED');
    });

    it("emails the absent student's guardian in their language; the unsubscribe link's GET changes nothing", async () => {
      const mail = await dep.smtp.next('parent5@family.test');
      const text = decodedMail(mail.raw);
      expect(text).to.include(pupils[4]!.name);
      const link = /List-Unsubscribe:\s*<([^>]+)>/.exec(text)?.[1];
      expect(link, 'RFC 8058 header').to.be.a('string');
      const page = await dep.http[0]!.get(new URL(link!).pathname + new URL(link!).search);
      expect(page.status).to.equal(200);
      const guardians = () =>
        dep.http[1]!.get<{ items: { unsubscribed?: string[] }[] }>(`/api/v1/users/${sid(4)}/guardians`, admin.accessToken);
      expect((await guardians()).body.items[0]!.unsubscribed).to.equal(undefined);
      const click = await dep.http[1]!.request('POST', new URL(link!).pathname + new URL(link!).search, {
        raw: 'List-Unsubscribe=One-Click',
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(click.status).to.equal(200);
      expect((await guardians()).body.items[0]!.unsubscribed).to.deep.equal(['alert']);
    });

    it('corrections after closing need a reason and update the daily summary', async () => {
      const noReason = await send(teacherSocket, 'checkin:mark', { sessionId: session.id, studentId: sid(4), status: 'present' });
      expect(codeOf(noReason)).to.equal('VALIDATION_FAILED');
      const issues = !noReason.ok ? (noReason.error.details?.['issues'] as { path: string }[]) : [];
      expect(
        issues.map((i) => i.path),
        'protocol §5.9: details.issues is [{ path: reason, message }]',
      ).to.deep.equal(['reason']);
      const fixed = data(
        await send(teacherSocket, 'checkin:mark', {
          sessionId: session.id,
          studentId: sid(4),
          status: 'present',
          reason: 'was at the nurse',
        }),
      );
      expect(fixed).to.include({ status: 'present', reason: 'CORRECTED_BY_TEACHER', correctionReason: 'was at the nurse' });
      const summaries = await dep.http[1]!.get<{ items: { present: number; absent: number; total: number; percentage: number }[] }>(
        `/api/v1/subjects/${subjectId}/summaries?from=${session.day}&to=${session.day}`,
        teacher.accessToken,
      );
      expect(summaries.body.items).to.have.length(1);
      expect(summaries.body.items[0]).to.include({ present: 5, absent: 1, total: 6, percentage: 83.3 });
    });

    it('reports and exports: CSV columns of §17, ranges the docs require', async () => {
      const csv = await dep.http[0]!.get(`/api/v1/sessions/${session.id}/records.csv`, teacher.accessToken);
      expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
      const lines = (csv.body as string).trim().split(/\r?\n/);
      expect(lines[0]).to.equal(
        'day,sessionId,startsAt,subjectCode,studentNumber,name,status,reason,flags,submittedAt,decidedAt,note,correctionReason,absenceCategory',
      );
      expect(lines).to.have.length(7);
      expect(lines.find((l) => l.includes(pupils[4]!.studentNumber)))
        .to.include('CORRECTED_BY_TEACHER')
        .and.include('was at the nurse');
      expect(refusalOf(await dep.http[0]!.get('/api/v1/attendance.csv', admin.accessToken))).to.deep.equal([400, 'VALIDATION_FAILED']);
      const all = await dep.http[0]!.get(`/api/v1/attendance.csv?from=${session.day}&to=${session.day}`, admin.accessToken);
      expect((all.body as string).trim().split(/\r?\n/)).to.have.length(7);
      expect(refusalOf(await dep.http[1]!.get(`/api/v1/reports/subjects/${subjectId}/trend`, teacher.accessToken))).to.deep.equal([
        400,
        'VALIDATION_FAILED',
      ]);
      const trend = await dep.http[1]!.get<{ items: { percentage: number }[] }>(
        `/api/v1/reports/subjects/${subjectId}/trend?from=${session.day}&to=${session.day}`,
        teacher.accessToken,
      );
      expect(trend.body.items.map((i) => i.percentage)).to.deep.equal([83.3]);
      const mine = await dep.http[0]!.get<{ items: { status: string }[] }>('/api/v1/me/attendance', students[5]!.tokens.accessToken);
      expect(mine.body.items.map((i) => i.status)).to.deep.equal(['absent']);
      const dash = await dep.http[0]!.get('/api/v1/reports/dashboard', admin.accessToken);
      expect(dash.status).to.equal(200);
    });

    it('erases a student: their sockets are cut, their records stay anonymised, the audit names nobody', async () => {
      const short = await dep.http[0]!.post(`/api/v1/users/${sid(0)}/erase`, { reason: 'no' }, admin.accessToken);
      expect(refusalOf(short)).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(
        refusalOf(await dep.http[0]!.post(`/api/v1/users/${admin.user.id}/erase`, { reason: 'leaving the school' }, admin.accessToken)),
      ).to.deep.equal([403, 'FORBIDDEN']);
      const cut = new Promise<string>((resolve) => students[0]!.socket.once('disconnect', resolve));
      const erased = await dep.http[1]!.post<{ tombstoneId: string; counts: Record<string, number> }>(
        `/api/v1/users/${sid(0)}/erase`,
        { reason: 'erasure request, ticket 12' },
        admin.accessToken,
      );
      expect(erased.status, erased.text).to.equal(200);
      // privacy.md: the answer, and what the person's id, token and password then answer.
      expect(erased.body.tombstoneId).to.match(/^erased-/);
      expect(erased.body.counts).to.include({ users: 1 });
      await cut;
      expect(refusalOf(await dep.http[0]!.get('/api/v1/me', students[0]!.tokens.accessToken))).to.deep.equal([401, 'TOKEN_INVALID']);
      expect(refusalOf(await dep.http[0]!.get(`/api/v1/users/${sid(0)}/export`, admin.accessToken))).to.deep.equal([404, 'NOT_FOUND']);
      const csv = await dep.http[0]!.get(`/api/v1/sessions/${session.id}/records.csv`, teacher.accessToken);
      const rows = (csv.body as string).trim().split(/\r?\n/);
      expect(rows, 'privacy.md: records kept for statistics, so the export still adds up to the summary').to.have.length(7);
      expect(csv.body as string).not.to.include(pupils[0]!.name);
      expect(
        rows.find((r) => r.includes('[erased]')),
        'status and times stay',
      ).to.match(/,\[erased\],present,/);
      const snapshot = data(await send(screen.socket, 'session:watch', { sessionId: session.id }));
      expect(snapshot.counts).to.deep.include({ present: 5, absent: 1, total: 6 });
      const trail = await dep.http[0]!.get<{ items: { entityId: string; userName: string | null }[] }>(
        `/api/v1/reports/audit?sessionId=${session.id}&action=checkin.submit`,
        admin.accessToken,
      );
      const theirs = trail.body.items.filter((e) => e.userName === null);
      expect(theirs, 'their check-in, named by nobody').to.have.length(1);
    });
  });
});
