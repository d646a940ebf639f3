// A class of fifty, by a client written from README.md and docs/protocol.md alone: users come in
// with their passwords in the CSV import, the teacher opens a geofence and code session, fifty
// students on both nodes check in (some outside the room, some with a wrong code, some with a
// coarse fix), one is deactivated mid-session, the teacher decides, closes, corrects and exports
// the day. Each step depends on the last.
import { expect } from 'chai';
import type { SessionView } from '../../src/shared/events.js';
import { ADMIN, createFirstAdmin, people, useDeployment, useSockets } from './deployment.js';
import { refusalOf, type Tokens, type UserView } from './http-client.js';
import { codeOf, connectRefused, data, nextEvent, RosterFeed, send, type DocsSocket } from './socket-client.js';

const ROOM = { lat: 45.7597, lon: 4.8422, radiusM: 60 };
/** A fix `metres` east of the room's centre, taken now. */
const fix = (metres: number, accuracy = 10) => ({
  lat: ROOM.lat,
  lon: ROOM.lon + metres / (111_320 * Math.cos((ROOM.lat * Math.PI) / 180)),
  accuracy,
  timestamp: Date.now(),
});
const CLASS = 50;
/** Who does what: indexes into the class. */
const OUTSIDE = [0, 1, 2, 3, 4];
const WRONG_CODE = [5, 6, 7, 8, 9];
const COARSE = [10, 11, 12];
/** Checks in, then is deactivated mid-session. */
const DEACTIVATED = 49;
/** Never checks in, and is deactivated before the close. */
const ABSENTEE = 48;

describe('docs client: a class of fifty checks in (two production nodes)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-fifty');
  const [teacherPerson, ...pupils] = people('f', 1, CLASS);
  const open = useSockets(dep);
  let admin: Tokens;
  let teacher: Tokens;
  let subjectId = '';
  let session: SessionView;
  let teacherSocket: DocsSocket;
  let screen: RosterFeed;
  const students: { user: UserView; tokens: Tokens; socket: DocsSocket }[] = [];
  const sid = (i: number) => students[i]!.user.id;

  before(async function () {
    this.timeout(180_000);
    await createFirstAdmin(dep);
    admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password);
  });
  after(() => screen?.stop());

  it("imports the class with a password column: each row's password logs in at once, with no change asked", async () => {
    // README "CSV user import": columns name,email,role,student_number and an optional password.
    const csv = [
      'name,email,role,student_number,password',
      ...[teacherPerson!, ...pupils].map((p) => `${p.name},${p.email},${p.role},${p.studentNumber},${p.password}`),
    ];
    const imported = await dep.http[0]!.request<{ created: number; users: UserView[] }>('POST', '/api/v1/users/import', {
      token: admin.accessToken,
      raw: csv.join('\n') + '\n',
      contentType: 'text/csv',
    });
    expect(imported.status, imported.text).to.equal(201);
    expect(imported.body.created).to.equal(CLASS + 1);
    const byEmail = new Map(imported.body.users.map((u) => [u.email, u]));
    expect(byEmail.get(pupils[0]!.email)).to.include({ hasPassword: true, mustChangePassword: false });

    const subject = await dep.http[1]!.post<{ id: string }>(
      '/api/v1/subjects',
      { code: 'PHYS-50', name: 'Physics', teacherIds: [byEmail.get(teacherPerson!.email)!.id], location: ROOM },
      admin.accessToken,
    );
    expect(subject.status, subject.text).to.equal(201);
    subjectId = subject.body.id;
    const enrol = await dep.http[0]!.post(
      `/api/v1/subjects/${subjectId}/enrolments`,
      { studentIds: pupils.map((p) => byEmail.get(p.email)!.id) },
      admin.accessToken,
    );
    expect(enrol.body).to.deep.equal({ enrolled: CLASS, total: CLASS });

    teacher = await dep.http[1]!.login(teacherPerson!.email, teacherPerson!.password);
    expect(teacher.user.mustChangePassword).to.equal(false);
    for (const [i, p] of pupils.entries()) {
      const tokens = await dep.http[i % 2]!.login(p.email, p.password);
      students.push({ user: byEmail.get(p.email)!, tokens, socket: await open(i % 2, () => tokens.accessToken) });
    }
    expect(data(await send(students[0]!.socket, 'session:list-active', {}))).to.deep.equal([]);
  });

  it('fifty check-ins on both nodes: outside the room, a wrong code then a retry, coarse fixes, the rest present', async () => {
    teacherSocket = await open(0, () => teacher.accessToken);
    session = data(await send(teacherSocket, 'session:open', { subjectId, policy: { preset: 'location-code' } }));
    expect(session.policy).to.include({ geofence: true, rotatingCode: true, maxAttempts: 2 });
    screen = new RosterFeed(teacherSocket, session.id);
    expect((await screen.start()).counts).to.deep.include({ notYet: CLASS, total: CLASS });

    // One code read off the screen serves the whole class: it stays valid one to two periods (§9).
    const { code } = data(await send(teacherSocket, 'session:code', { sessionId: session.id }));
    const wrong = code === '000000' ? '111111' : '000000';
    const acks = await Promise.all(
      students
        .slice(0, ABSENTEE)
        .concat(students.slice(ABSENTEE + 1))
        .map((s) => {
          const i = students.indexOf(s);
          return send(s.socket, 'checkin:submit', {
            sessionId: session.id,
            code: WRONG_CODE.includes(i) ? wrong : code,
            location: OUTSIDE.includes(i) ? fix(2_000) : COARSE.includes(i) ? fix(20, 800) : fix(i % 30),
          });
        }),
    );
    // acks is in class order with ABSENTEE left out, so every index below ABSENTEE is its own.
    const outcome = (i: number) => {
      const view = data(acks[i]!);
      return `${view.status} ${view.reason ?? ''}`.trim();
    };
    for (const i of OUTSIDE) expect(outcome(i), `student ${i}`).to.equal('rejected GEOFENCE_OUTSIDE');
    for (const i of WRONG_CODE) expect(outcome(i), `student ${i}`).to.equal('rejected CODE_INVALID');
    for (const i of COARSE) expect(outcome(i), `student ${i}`).to.equal('pending GEOFENCE_IMPRECISE');
    const present = acks.filter((a) => a.ok && a.data.status === 'present').length;
    expect(present).to.equal(CLASS - 1 - OUTSIDE.length - WRONG_CODE.length - COARSE.length);
    expect(data(acks[WRONG_CODE[0]!]!).attemptsLeft).to.equal(1);

    const fresh = data(await send(teacherSocket, 'session:code', { sessionId: session.id })).code;
    for (const i of WRONG_CODE) {
      const retry = data(await send(students[i]!.socket, 'checkin:submit', { sessionId: session.id, code: fresh, location: fix(5) }));
      expect(retry).to.include({ status: 'present', attempts: 2, attemptsLeft: 0 });
    }
    const tally = (entries: Map<string, { status: string }>, status: string) =>
      [...entries.values()].filter((e) => e.status === status).length;
    await screen.until((e) => tally(e, 'present') === present + WRONG_CODE.length && tally(e, 'pending') === COARSE.length);
  });

  it('a student deactivated mid-session: auth:revoked, refused at reconnect, login and refresh; kept on the roster', async () => {
    const victim = students[DEACTIVATED]!;
    const revoked = nextEvent(victim.socket, 'auth:revoked');
    const gone = new Promise<string>((resolve) => victim.socket.once('disconnect', resolve));
    // The student had checked in present before: deactivation changes no record.
    const off = await dep.http[1]!.post(`/api/v1/users/${sid(DEACTIVATED)}/deactivate`, {}, admin.accessToken);
    expect(off.status, off.text).to.equal(200);
    expect((await revoked)[0]).to.deep.equal({ code: 'ACCOUNT_DISABLED' });
    expect(await gone).to.equal('io server disconnect');
    for (const node of dep.nodes)
      expect((await connectRefused(node.url, { token: victim.tokens.accessToken })).data.code).to.equal('ACCOUNT_DISABLED');
    const login = await dep.http[0]!.post('/api/v1/auth/login', {
      email: pupils[DEACTIVATED]!.email,
      password: pupils[DEACTIVATED]!.password,
    });
    expect(refusalOf(login)).to.deep.equal([403, 'ACCOUNT_DISABLED']);
    expect(refusalOf(await dep.http[1]!.get('/api/v1/me', victim.tokens.accessToken)), 'its unexpired access token').to.deep.equal([
      403,
      'ACCOUNT_DISABLED',
    ]);
    // protocol.md §1: deactivation revoked the refresh tokens.
    const refresh = await dep.http[1]!.post('/api/v1/auth/refresh', { refreshToken: victim.tokens.refreshToken });
    expect(refusalOf(refresh)).to.deep.equal([401, 'REFRESH_TOKEN_INVALID']);
    const snapshot = data(await send(teacherSocket, 'session:watch', { sessionId: session.id }));
    expect(snapshot.entries.find((e) => e.studentId === sid(DEACTIVATED))?.status).to.equal('present');
  });

  it('the teacher accepts and rejects with expectedVersion, closes, corrects with a reason and exports the day', async () => {
    const [accepted, rejected, leftPending] = COARSE.map((i) => screen.entries.get(sid(i))!);
    const accept = data(
      await send(teacherSocket, 'checkin:decide', {
        sessionId: session.id,
        studentId: accepted!.studentId,
        decision: 'accept',
        expectedVersion: accepted!.recordVersion,
      }),
    );
    expect(accept).to.include({ status: 'present', reason: 'ACCEPTED_BY_TEACHER' });
    const reject = data(
      await send(teacherSocket, 'checkin:decide', {
        sessionId: session.id,
        studentId: rejected!.studentId,
        decision: 'reject',
        note: 'not in the room',
        expectedVersion: rejected!.recordVersion,
      }),
    );
    expect(reject).to.include({ status: 'rejected', reason: 'REJECTED_BY_TEACHER', note: 'not in the room' });

    // A second student deactivated before checking in: still enrolled, so closing records them absent.
    const absentee = students[ABSENTEE]!;
    const withdrawn = await dep.http[0]!.post(`/api/v1/users/${absentee.user.id}/deactivate`, {}, admin.accessToken);
    expect(withdrawn.status).to.equal(200);

    const closed = data(await send(teacherSocket, 'session:close', { sessionId: session.id }));
    expect(closed.session.status).to.equal('closed');
    // Present: 36 at once, 5 retries, 1 accepted; absent: 5 outside, 1 rejected, 1 pending, 1 never checked in.
    expect(closed.counts).to.deep.include({ present: 42, absent: 8, pending: 0, rejected: 0, notYet: 0, total: CLASS });
    const records = await dep.http[1]!.get<{ entries: { studentId: string; status: string; reason: string | null; flags: string[] }[] }>(
      `/api/v1/sessions/${session.id}/records`,
      teacher.accessToken,
    );
    const entry = (id: string) => records.body.entries.find((e) => e.studentId === id)!;
    expect(entry(leftPending!.studentId)).to.deep.include({ status: 'absent', reason: 'PENDING_AT_CLOSE' });
    expect(entry(leftPending!.studentId).flags).to.include('UNRESOLVED_AT_CLOSE');
    expect(entry(absentee.user.id)).to.deep.include({ status: 'absent', reason: 'NO_CHECKIN' });

    const noReason = await send(teacherSocket, 'checkin:mark', {
      sessionId: session.id,
      studentId: leftPending!.studentId,
      status: 'late',
    });
    expect(codeOf(noReason)).to.equal('VALIDATION_FAILED');
    const corrected = data(
      await send(teacherSocket, 'checkin:mark', {
        sessionId: session.id,
        studentId: leftPending!.studentId,
        status: 'late',
        reason: 'seen at the back, phone without GPS',
      }),
    );
    expect(corrected).to.include({ status: 'late', reason: 'CORRECTED_BY_TEACHER' });

    const day = session.day;
    const csv = await dep.http[0]!.get(`/api/v1/subjects/${subjectId}/attendance.csv?from=${day}&to=${day}`, teacher.accessToken);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    const rows = (csv.body as string).trim().split(/\r?\n/);
    expect(rows, 'a header and one row per student').to.have.length(CLASS + 1);
    const row = rows.find((r) => r.includes(pupils[COARSE[2]!]!.studentNumber))!;
    expect(row).to.include(',late,CORRECTED_BY_TEACHER,').and.include('seen at the back, phone without GPS');
    const summaries = await dep.http[1]!.get<{
      items: { present: number; late: number; absent: number; total: number; percentage: number }[];
    }>(`/api/v1/subjects/${subjectId}/summaries?from=${day}&to=${day}`, teacher.accessToken);
    expect(summaries.body.items).to.deep.equal([
      { ...summaries.body.items[0], present: 42, late: 1, absent: 7, total: CLASS, percentage: 86 },
    ]);
  });
});
