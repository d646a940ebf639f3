import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { User } from '../../src/domain/ports/users.js';
import { PASSWORD, createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import type { ClientSocket } from '../support/sockets.js';

const PER_ADDRESS = 5;
const PER_USER = 3;

/**
 * A node dies and its students reconnect at once to another node, all from the school's one
 * address: handshakes with a valid access token are counted per user, so a class larger than the
 * per-address budget is not locked out; handshakes without one are still counted per address.
 */
describe('socket handshakes of a reconnect burst from one school address', function () {
  this.timeout(30_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer({
      SOCKET_CONNECT_RATE_PER_MINUTE: String(PER_ADDRESS),
      SOCKET_CONNECT_USER_RATE_PER_MINUTE: String(PER_USER),
    });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  function handshake(auth: Record<string, unknown>): Promise<string> {
    const socket: ClientSocket = connect(srv.baseUrl, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    return new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (err) => resolve((err as Error & { data?: { code?: string } }).data?.code ?? err.message));
      // The server closed the connection without answering its CONNECT.
      socket.once('disconnect', (reason) => resolve(reason));
    });
  }
  const token = (u: User) => srv.app.tokenService.signAccess(u).token;

  it('four times the per-address budget of students, each with its token, all connect at once', async () => {
    const org = await createOrg(srv.store);
    const students = await Promise.all(Array.from({ length: PER_ADDRESS * 4 }, () => createUser(srv.store, org.id, 'student')));
    const outcomes = await Promise.all(students.map((s) => handshake({ token: token(s) })));
    expect(outcomes).to.deep.equal(students.map(() => 'connected'));
  });

  it('one user past their own budget is refused RATE_LIMITED', async () => {
    const org = await createOrg(srv.store);
    const student = await createUser(srv.store, org.id, 'student');
    const outcomes: string[] = [];
    for (let i = 0; i <= PER_USER; i += 1) outcomes.push(await handshake({ token: token(student) }));
    expect(outcomes).to.deep.equal([...Array.from({ length: PER_USER }, () => 'connected'), 'RATE_LIMITED']);
  });

  it("a logged-out token spends its own login's budget, not the user's next login's", async () => {
    const org = await createOrg(srv.store);
    const student = await createUser(srv.store, org.id, 'student');
    const old = await srv.login(student.email, PASSWORD);
    expect((await srv.request('POST', '/api/v1/auth/logout', { body: { refreshToken: old.refreshToken } })).status).to.equal(204);
    // A copy of the logged-out token (a shared computer, a classmate) is handshaken until it is refused.
    const spent: string[] = [];
    for (let i = 0; i <= PER_USER; i += 1) spent.push(await handshake({ token: old.accessToken }));
    expect(spent).to.deep.equal([...Array.from({ length: PER_USER }, () => 'TOKEN_REVOKED'), 'RATE_LIMITED']);
    const fresh = await srv.login(student.email, PASSWORD);
    expect(await handshake({ token: fresh.accessToken })).to.equal('connected');
  });

  it('handshakes without a valid token are counted per address', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i <= PER_ADDRESS; i += 1) outcomes.push(await handshake({ token: `not-a-token-${i}` }));
    expect(outcomes.slice(0, PER_ADDRESS)).to.deep.equal(Array.from({ length: PER_ADDRESS }, () => 'TOKEN_INVALID'));
    expect(outcomes[PER_ADDRESS]).to.equal('RATE_LIMITED');
  });

  it('a token as large as a Socket.IO message may be is neither verified nor even parsed', async () => {
    // Verifying it is milliseconds of CPU, parsing its packet more: its connection is closed unread (text-packet-bound.ts).
    const huge = `${'a'.repeat(200)}.${'b'.repeat(500_000)}.${'c'.repeat(50)}`;
    const tokens = srv.app.tokenService;
    const verify = tokens.verifyAccess.bind(tokens);
    const verified: number[] = [];
    tokens.verifyAccess = (token) => {
      verified.push(token.length);
      return verify(token);
    };
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < 3; i += 1) outcomes.push(await handshake({ token: huge }));
    } finally {
      tokens.verifyAccess = verify;
    }
    expect(outcomes).to.deep.equal(['transport close', 'transport close', 'transport close']);
    expect(verified).to.deep.equal([]);
  });
});
