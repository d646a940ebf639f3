import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { refusal, startTestServer, type TestServer } from '../support/http.js';
import type { ClientSocket } from '../support/sockets.js';

const API = '/api/v1';
/** One subscriber's IPv6 network: a client may use any of its 2^64 addresses. */
const NETWORK = '2001:db8:42:7';
const inNetwork = (n: number) => `${NETWORK}::${n.toString(16)}`;
const LIMIT = 3;

/**
 * Limits counted per client address (logins, public routes, socket handshakes) count an IPv6
 * client by its /64: a device picks any address of its network (privacy addresses, or on
 * purpose), so per address it had as many budgets as it cared to use.
 */
describe('per-address limits count an IPv6 client by its /64', function () {
  this.timeout(20_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer({
      TRUST_PROXY: 'true',
      LOGIN_ADDRESS_PER_MINUTE: String(LIMIT),
      HTTP_PUBLIC_RATE_PER_MINUTE: '1000',
      SOCKET_CONNECT_RATE_PER_MINUTE: String(LIMIT),
    });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  it('throttles failed logins across the addresses of one /64, not those of another network', async () => {
    const statuses: Array<[number, string | null]> = [];
    for (let i = 1; i <= LIMIT + 2; i += 1) {
      // A new account each time, so only the per-address throttle can refuse.
      const res = await srv.request('POST', `${API}/auth/login`, {
        body: { email: `spray${i}@school.test`, password: 'wrong-password' },
        headers: { 'x-forwarded-for': inNetwork(i) },
      });
      statuses.push(refusal(res));
    }
    expect(statuses.slice(0, LIMIT)).to.deep.equal(Array.from({ length: LIMIT }, () => [401, 'INVALID_CREDENTIALS']));
    expect(statuses.slice(LIMIT)).to.deep.equal([
      [429, 'RATE_LIMITED'],
      [429, 'RATE_LIMITED'],
    ]);
    const elsewhere = await srv.request('POST', `${API}/auth/login`, {
      body: { email: 'spray-other@school.test', password: 'wrong-password' },
      headers: { 'x-forwarded-for': '2001:db8:42:8::1' },
    });
    expect(refusal(elsewhere)).to.deep.equal([401, 'INVALID_CREDENTIALS']);
  });

  it('refuses socket handshakes past the budget whichever address of the /64 they come from', async () => {
    // Without a valid token: a handshake that bears one is counted per user instead.
    const token = 'not-a-valid-token';
    const outcomes: string[] = [];
    for (let i = 1; i <= LIMIT + 1; i += 1) {
      const socket: ClientSocket = connect(srv.baseUrl, {
        auth: { token },
        transports: ['websocket'],
        extraHeaders: { 'x-forwarded-for': inNetwork(100 + i) },
        reconnection: false,
        forceNew: true,
      });
      sockets.push(socket);
      outcomes.push(
        await new Promise<string>((resolve) => {
          socket.once('connect', () => resolve('connected'));
          socket.once('connect_error', (err) => resolve((err as Error & { data?: { code?: string } }).data?.code ?? err.message));
        }),
      );
    }
    expect(outcomes).to.deep.equal([...Array.from({ length: LIMIT }, () => 'TOKEN_INVALID'), 'RATE_LIMITED']);
  });

  it('keeps counting an IPv4 client, and an IPv4-mapped IPv6 one, by its address', async () => {
    const first = await srv.request('POST', `${API}/auth/login`, {
      body: { email: 'v4-1@school.test', password: 'wrong-password' },
      headers: { 'x-forwarded-for': '198.51.100.20' },
    });
    const neighbour = await srv.request('POST', `${API}/auth/login`, {
      body: { email: 'v4-2@school.test', password: 'wrong-password' },
      headers: { 'x-forwarded-for': '198.51.100.21' },
    });
    expect([refusal(first), refusal(neighbour)]).to.deep.equal([
      [401, 'INVALID_CREDENTIALS'],
      [401, 'INVALID_CREDENTIALS'],
    ]);
    const statuses: Array<[number, string | null]> = [];
    for (let i = 0; i < LIMIT; i += 1) {
      const res = await srv.request('POST', `${API}/auth/login`, {
        body: { email: `v4-mapped${i}@school.test`, password: 'wrong-password' },
        headers: { 'x-forwarded-for': i % 2 === 0 ? '::ffff:198.51.100.20' : '198.51.100.20' },
      });
      statuses.push(refusal(res));
    }
    expect(statuses.at(-1)).to.deep.equal([429, 'RATE_LIMITED']);
  });
});
