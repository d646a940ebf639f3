import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { JwtTokenSigner } from '../../src/adapters/jwt-token-signer.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import type { AppSocket } from '../../src/realtime/types.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, nextEvent, ok, type ClientSocket } from '../support/sockets.js';

const ROOM = { lat: 48.8566, lon: 2.3522, radiusM: 100 };
const here = () => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() });
const USER_AGENT = 'Mozilla/5.0 (Linux; Android 14) footprint-test';
const IN_RANGE = '198.51.100.7';
const OUT_OF_RANGE = '203.0.113.9';

/** The server's clock, moved forward to reach a token's expiry (the node's sweep runs each second). */
const clock = {
  offset: 0,
  now: (): Date => new Date(Date.now() + clock.offset),
};

/**
 * What a connected socket keeps at the node (issue #20, memory per socket): once authenticated
 * it no longer holds the upgrade request, its headers or the token, and what was read from them
 * still serves: the client address for the network check, the user agent on the record, the
 * per-user rate limits and the token-expiry disconnect.
 */
describe('socket footprint after authentication', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let students: User[];
  let subject: Subject;
  const sockets: ClientSocket[] = [];

  before(async () => {
    // The test client is the proxy: the address it forwards is the student's.
    srv = await startTestServer({ TRUST_PROXY: 'loopback', CHECKIN_RATE_PER_MINUTE: '2' }, { clock: clock.now });
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    students = await Promise.all([1, 2, 3, 4].map(() => createUser(srv.store, org.id, 'student')));
    subject = await srv.store.subjects.create(org.id, {
      code: 'FOOT1',
      name: 'Footprint',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: ['198.51.100.0/24'],
    });
    await srv.store.subjects.enrol(
      org.id,
      subject.id,
      students.map((s) => s.id),
    );
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  async function client(token: string, forwardedFor = IN_RANGE): Promise<ClientSocket> {
    const socket: ClientSocket = connect(srv.baseUrl, {
      auth: { token },
      transports: ['websocket'],
      extraHeaders: { 'user-agent': USER_AGENT, 'x-forwarded-for': forwardedFor, cookie: 'unrelated=1' },
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return socket;
  }

  const tokenOf = (u: User) => srv.app.tokenService.signAccess(u).token;

  /** The node's side of a connected client. */
  function serverSide(socket: ClientSocket): AppSocket {
    const found = srv.app.realtime.io.of('/').sockets.get(socket.id!);
    if (!found) throw new Error('no such socket at the node');
    return found;
  }

  async function openSession(): Promise<string> {
    const t = await client(tokenOf(teacher));
    return ok(await command(t, 'session:open', { subjectId: subject.id, policy: { rotatingCode: false, network: true }, parallel: true }))
      .id;
  }

  it('keeps neither the upgrade request, its headers nor the token', async () => {
    const token = tokenOf(students[0]!);
    const socket = await client(token);
    const held = serverSide(socket);
    expect(held.handshake.headers).to.deep.equal({});
    expect(held.handshake.auth).to.deep.equal({});
    expect(held.request).to.equal(null);
    expect(held.data).to.include({ userId: students[0]!.id, ip: IN_RANGE, userAgent: USER_AGENT });
    // Nothing reachable from the socket's own fields still spells the token.
    const seen = new Set<unknown>();
    const holdsToken = (v: unknown, depth: number): boolean => {
      if (typeof v === 'string') return v.includes(token);
      if (typeof v !== 'object' || v === null || seen.has(v) || depth > 3) return false;
      seen.add(v);
      return Object.values(v).some((x) => holdsToken(x, depth + 1));
    };
    expect(holdsToken({ handshake: held.handshake, data: held.data }, 0)).to.equal(false);
  });

  it('checks the network against the address read at the handshake and records the user agent', async () => {
    const sessionId = await openSession();
    const inside = await client(tokenOf(students[1]!), IN_RANGE);
    const outside = await client(tokenOf(students[2]!), OUT_OF_RANGE);
    const accepted = ok(await command(inside, 'checkin:submit', { sessionId, location: here() }));
    expect(accepted.reason).to.equal(null);
    expect(accepted.flags).to.not.include('NETWORK_NOT_ALLOWED');
    const refused = ok(await command(outside, 'checkin:submit', { sessionId, location: here() }));
    expect([refused.reason, ...refused.flags]).to.include('NETWORK_NOT_ALLOWED');
    const record = await srv.store.records.getForStudent(org.id, sessionId, students[1]!.id);
    expect(record?.userAgent).to.equal(USER_AGENT);
  });

  it('still counts each student against the check-in budget', async () => {
    const sessionId = await openSession();
    const socket = await client(tokenOf(students[3]!));
    const codes: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const ack = await command(socket, 'checkin:submit', { sessionId, location: here() });
      codes.push(ack.ok ? 'ok' : ack.error.code);
    }
    expect(codes[2]).to.equal('RATE_LIMITED');
    expect(codes.slice(0, 2)).to.not.include('RATE_LIMITED');
  });

  it('still disconnects the socket when the token it connected with expires', async () => {
    const ttlMs = srv.config.jwt.accessTtlS * 1000;
    const expiringIn = 5_000;
    const signer = new JwtTokenSigner(srv.config.jwt, () => new Date(clock.now().getTime() - (ttlMs - expiringIn)));
    const socket = await client(signer.signAccess(students[0]!).token);
    expect(serverSide(socket).handshake.auth).to.deep.equal({});
    const expired = nextEvent(socket, 'auth:expired', () => true, 5_000);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    clock.offset += expiringIn;
    await expired;
    expect(await gone).to.equal('io server disconnect');
  });
});
