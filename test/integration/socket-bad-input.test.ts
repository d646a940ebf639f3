import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { io as connect } from 'socket.io-client';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser } from '../support/fixtures.js';
import type { TestServer } from '../support/http.js';
import { useSocketClass } from '../support/socket-class.js';
import { command, connectRefused, ok } from '../support/sockets.js';

const ROOM = { lat: 40.4168, lon: -3.7038, radiusM: 80 };
const here = () => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() });

describe('socket.io: authentication and bad input', function () {
  this.timeout(20_000);
  const cls = useSocketClass({
    env: { CHECKIN_RATE_PER_MINUTE: '4', SOCKET_MAX_BUFFER_BYTES: '65536' },
    code: 'BAD1',
    name: 'Bad input',
    location: ROOM,
  });
  const client = cls.client;
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let student: User;
  let outsider: User;
  let foreigner: User;
  let subject: Subject;
  let sessionId: string;
  const recordCount = async () => (await srv.store.records.listBySession(org.id, sessionId)).length;

  before(async () => {
    ({ srv, org, teacher, student, outsider, subject } = cls.current());
    foreigner = await createUser(srv.store, (await createOrg(srv.store)).id, 'student');
    const t = await client(teacher);
    sessionId = ok(await command(t, 'session:open', { subjectId: subject.id, policy: { rotatingCode: false } })).id;
  });

  it('refuses connections without a valid token, with coded connect_error', async () => {
    expect((await connectRefused(srv.baseUrl, {})).code).to.equal('UNAUTHENTICATED');
    expect((await connectRefused(srv.baseUrl, { token: 'not-a-jwt' })).code).to.equal('TOKEN_INVALID');
    const forged = jwt.sign({ org: org.id, role: 'admin' }, 'x'.repeat(40), { subject: teacher.id, algorithm: 'HS256' });
    expect((await connectRefused(srv.baseUrl, { token: forged })).code).to.equal('TOKEN_INVALID');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: teacher.id, org: org.id, role: 'admin' })).toString('base64url')}.`;
    expect((await connectRefused(srv.baseUrl, { token: unsigned })).code).to.equal('TOKEN_INVALID');
    // A token in the query string is ignored.
    const viaQuery = connect(srv.baseUrl, {
      query: { token: srv.app.tokenService.signAccess(student).token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const err = await new Promise<{ data: { code: string } }>((resolve) => viaQuery.once('connect_error', (e) => resolve(e as never)));
    viaQuery.disconnect();
    expect(err.data.code).to.equal('UNAUTHENTICATED');
    await srv.store.users.update(org.id, outsider.id, { active: false });
    expect((await connectRefused(srv.baseUrl, { token: srv.app.tokenService.signAccess(outsider).token })).code).to.equal(
      'ACCOUNT_DISABLED',
    );
    await srv.store.users.update(org.id, outsider.id, { active: true });
  });

  it('answers malformed payloads with VALIDATION_FAILED and stores nothing', async () => {
    const s = await client(student);
    const bad: unknown[] = [
      'a string',
      {},
      { sessionId, location: { ...here(), lat: Number.NaN } },
      { sessionId, location: { ...here(), lat: 95 } },
      { sessionId, location: { ...here(), lon: -181 } },
      { sessionId, location: { ...here(), lat: '40.1' } },
      { sessionId, location: { ...here(), accuracy: -5 } },
      { sessionId, location: { ...here(), accuracy: Number.POSITIVE_INFINITY } },
      { sessionId, location: { lat: 1, lon: 2 } },
      { sessionId, location: { ...here(), timestamp: 'yesterday' } },
      // Past the last valid Date (8.64e15 ms): new Date() of these is invalid.
      { sessionId, location: { ...here(), timestamp: 8.7e15 } },
      { sessionId, location: { ...here(), timestamp: 8.64e15 + 1 } },
      { sessionId, location: { ...here(), timestamp: 1e300 } },
      { sessionId, location: { ...here(), timestamp: 0 } },
      { sessionId, location: { ...here(), timestamp: -1 } },
      { sessionId, location: { ...here(), lat: 1e308 } },
      { sessionId, location: { ...here(), accuracy: 0 } },
      { sessionId, location: { ...here(), accuracy: 100_001 } },
      { sessionId: 'x'.repeat(500), location: here() },
    ];
    for (const payload of bad) {
      const ack = await command(s, 'checkin:submit', payload as never);
      expect(ack.ok, JSON.stringify(payload)).to.equal(false);
      if (!ack.ok) expect(ack.error.code).to.equal('VALIDATION_FAILED');
    }
    // The geofence needs a fix: a coded error naming the field, nothing written.
    const noFix = await command(s, 'checkin:submit', { sessionId });
    expect(noFix.ok ? 'ok' : noFix.error.code).to.equal('LOCATION_REQUIRED');
    if (!noFix.ok) expect(noFix.error.details).to.deep.equal({ field: 'location' });
    expect(await recordCount()).to.equal(0);
    const t = await client(teacher);
    const openBad = await command(t, 'session:open', { subjectId: subject.id, closesAt: 'tomorrow' });
    expect(openBad.ok ? 'ok' : openBad.error.code).to.equal('VALIDATION_FAILED');
    const teacherBad: [Parameters<typeof command>[1], unknown][] = [
      ['checkin:decide', { sessionId, studentId: student.id, decision: 'accept', expectedVersion: 1e300 }],
      ['checkin:decide', { sessionId, studentId: student.id, decision: 'accept', expectedVersion: -1 }],
      ['checkin:mark', { sessionId, studentId: student.id, status: 'present', expectedVersion: 2 ** 53 }],
      ['session:open', { subjectId: subject.id, policy: { codePeriodS: 1e9 } }],
      ['session:open', { subjectId: subject.id, policy: { maxAttempts: 0 } }],
      ['session:open', { subjectId: subject.id, policy: { preset: 'gps-only' } }],
      ['session:open', { subjectId: subject.id, startsAt: '+275760-09-13T00:00:00.000Z' }],
    ];
    for (const [event, payload] of teacherBad) {
      const ack = await command(t, event, payload as never);
      expect(ack.ok ? 'ok' : ack.error.code, JSON.stringify(payload)).to.equal('VALIDATION_FAILED');
    }
  });

  it('refuses unknown sessions, other organisations, the unenrolled and wrong roles', async () => {
    const cases: [User, string, string][] = [
      [student, 'no-such-session', 'SESSION_NOT_FOUND'],
      [foreigner, sessionId, 'SESSION_NOT_FOUND'],
      [outsider, sessionId, 'NOT_ENROLLED'],
      [teacher, sessionId, 'FORBIDDEN'],
    ];
    for (const [user, sid, code] of cases) {
      const ack = await command(await client(user), 'checkin:submit', { sessionId: sid, location: here() });
      expect(ack.ok ? 'ok' : ack.error.code, user.email).to.equal(code);
    }
    const studentWatch = await command(await client(student), 'session:watch', { sessionId });
    expect(studentWatch.ok ? 'ok' : studentWatch.error.code).to.equal('FORBIDDEN');
    const studentClose = await command(await client(student), 'session:close', { sessionId });
    expect(studentClose.ok ? 'ok' : studentClose.error.code).to.equal('FORBIDDEN');
    const selfie = await command(await client(teacher), 'session:open', { subjectId: subject.id, policy: { selfie: true } });
    expect(selfie.ok ? null : selfie.error.code).to.equal('POLICY_UNSUPPORTED');
    expect(await recordCount()).to.equal(0);
  });

  it('closes the connection on an oversized payload and stays up for others', async () => {
    const s = await client(student);
    const gone = new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason)));
    s.emit('checkin:submit', { sessionId, location: here(), code: 'x'.repeat(200_000) } as never, () => undefined);
    // The server drops the transport itself (maxHttpBufferSize), not the socket.io session.
    expect(await gone).to.equal('transport close');
    const again = await client(student);
    const ack = await command(again, 'session:join', { sessionId });
    expect(ack.ok).to.equal(true);
    expect(await recordCount()).to.equal(0);
  });

  it('rate-limits check-in submissions per student with a retry hint', async () => {
    const s = await client(student);
    const results = [];
    for (let i = 0; i < 6; i += 1) results.push(await command(s, 'checkin:submit', { sessionId, location: here() }));
    const limited = results.filter((r) => !r.ok && r.error.code === 'RATE_LIMITED');
    expect(limited.length).to.be.greaterThan(0);
    const first = limited[0]!;
    if (!first.ok) expect(first.error.details?.['retryAfterMs']).to.be.a('number').above(0);
    expect(await recordCount()).to.equal(1);
  });

  it('survives a command without an acknowledgement callback', async () => {
    const s = await client(student);
    s.emit('session:join', { sessionId } as never, undefined as never);
    const ack = await command(s, 'session:list-active', {});
    expect(ok(ack).map((x) => x.id)).to.include(sessionId);
  });
});
