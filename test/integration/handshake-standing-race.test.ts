import { expect } from 'chai';
import { EventEmitter, once } from 'node:events';
import { io as connect } from 'socket.io-client';
import type { AccessEndCode } from '../../src/shared/events.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, waitFor, type ClientSocket } from '../support/sockets.js';

/** No sweep: only the connection's own check can cut a socket that missed the announcement. */
const NO_SWEEP = { SOCKET_RECHECK_MS: '0' };

/**
 * A change of a user's standing stored and announced between the handshake's read of the user and
 * the socket's connection: the announcement finds no connected socket of the user, so the
 * connection itself must see the change (StandingSweep.checkConnected). The handshake's read is
 * held (a slow store) while the change is made over HTTP, then let go.
 */
describe("a change of standing between a socket's handshake read and its connection", function () {
  this.timeout(30_000);
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  const sockets: ClientSocket[] = [];
  /**
   * The next handshake read of this user (`user`), or of this login's end (`login`, the
   * handshake's last read), is held until `release`; `reached` once it has read.
   */
  let hold: { read: 'user' | 'login'; id: string; reached: () => void; release: Promise<void> } | null = null;
  const held = async (read: 'user' | 'login', id: string | undefined) => {
    const h = hold;
    if (!h || h.read !== read || h.id !== id) return;
    hold = null;
    h.reached();
    await h.release;
  };
  const standingReads = new Map<string, number>();
  const standingRead = new EventEmitter();

  before(async () => {
    const slow = (store: Store): Store => ({
      ...store,
      users: {
        ...store.users,
        get: async (orgId, id) => {
          const user = await store.users.get(orgId, id);
          await held('user', id);
          return user;
        },
        getStandings: async (orgId, ids) => {
          const users = await store.users.getStandings(orgId, ids);
          for (const userId of ids) standingReads.set(userId, (standingReads.get(userId) ?? 0) + 1);
          standingRead.emit('read');
          return users;
        },
      },
      refreshTokens: {
        ...store.refreshTokens,
        familyRevoked: async (sid) => {
          const revoked = await store.refreshTokens.familyRevoked(sid);
          await held('login', sid);
          return revoked;
        },
      },
    });
    srv = await startTestServer(NO_SWEEP, { wrapStore: slow });
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
  });
  afterEach(() => {
    hold = null;
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(async () => srv?.cleanup());

  const asAdmin = () => srv.app.tokenService.signAccess(admin).token;

  /**
   * Connects with `token` while the handshake's read `read` of `id` is held, runs `change` in that
   * window, then lets the handshake go on; resolves once connected, with what the socket is told.
   */
  async function connectAcross(read: 'user' | 'login', id: string, token: string, change: () => Promise<void>) {
    let reached!: () => void;
    let release!: () => void;
    const readDone = new Promise<void>((resolve) => (reached = resolve));
    hold = { read, id, reached, release: new Promise<void>((resolve) => (release = resolve)) };
    const socket: ClientSocket = connect(srv.baseUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    const told: AccessEndCode[] = [];
    socket.on('auth:revoked', ({ code }) => told.push(code));
    const connected = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    await readDone;
    await change();
    release();
    await connected;
    return { socket, told };
  }

  it('cuts the socket of a user deactivated in between, saying ACCOUNT_DISABLED', async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const { socket, told } = await connectAcross('user', student.id, srv.app.tokenService.signAccess(student).token, async () => {
      const res = await srv.request('POST', `/api/v1/users/${student.id}/deactivate`, { token: asAdmin(), body: {} });
      expect(res.status).to.equal(200);
    });
    await waitFor(() => socket.disconnected, 10_000).catch(() => {
      throw new Error('the socket of the deactivated user stayed connected');
    });
    expect(told).to.deep.equal(['ACCOUNT_DISABLED']);
  });

  it('cuts the socket of a login ended in between, saying TOKEN_REVOKED', async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const login = await srv.login(student.email, PASSWORD);
    const sid = srv.app.tokenService.verifyAccess(login.accessToken).sid!;
    const { socket, told } = await connectAcross('login', sid, login.accessToken, async () => {
      const res = await srv.request('POST', '/api/v1/auth/logout', { body: { refreshToken: login.refreshToken } });
      expect(res.status).to.equal(204);
    });
    await waitFor(() => socket.disconnected, 10_000).catch(() => {
      throw new Error('the socket of the ended login stayed connected');
    });
    expect(told).to.deep.equal(['TOKEN_REVOKED']);
  });

  it("keeps the socket when the change in between was someone else's", async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const other = await createUser(srv.store, org.id, 'student');
    const reads = () => standingReads.get(student.id) ?? 0;
    const before = reads();
    const { socket, told } = await connectAcross('user', student.id, srv.app.tokenService.signAccess(student).token, async () => {
      const res = await srv.request('POST', `/api/v1/users/${other.id}/deactivate`, { token: asAdmin(), body: {} });
      expect(res.status).to.equal(200);
    });
    // The organisation's version moved, so the connection read the student's standing again.
    while (reads() === before) await once(standingRead, 'read');
    const ack = await command(socket, 'session:list-active', {});
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    expect(socket.connected).to.equal(true);
    expect(told).to.deep.equal([]);
  });
});
