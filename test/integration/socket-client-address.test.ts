import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import type { ClientSocket } from '../support/sockets.js';

/**
 * The address a socket's network check reads (socket.data.ip) follows TRUST_PROXY exactly as
 * express's req.ip does: one compiled proxy-addr rule serves both transports.
 */
describe('socket client address behind a proxy (TRUST_PROXY)', function () {
  this.timeout(15_000);
  const servers: TestServer[] = [];
  const sockets: ClientSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const s of servers.splice(0)) await s.cleanup();
  });

  /** Connects a logged-in student through `server` sending `forwardedFor`; answers the address the server recorded. */
  async function addressSeen(trustProxy: string, forwardedFor: string): Promise<string | null> {
    const server = await startTestServer({ TRUST_PROXY: trustProxy });
    servers.push(server);
    const org = await createOrg(server.store);
    const student = await createUser(server.store, org.id, 'student');
    const { accessToken } = await server.login(student.email, PASSWORD);
    const socket: ClientSocket = connect(server.baseUrl, {
      auth: { token: accessToken },
      transports: ['websocket'],
      extraHeaders: { 'x-forwarded-for': forwardedFor },
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    const [seen] = await server.app.realtime.io.fetchSockets();
    return (seen?.data as { ip?: string | null } | undefined)?.ip ?? null;
  }

  it('takes the first untrusted hop from the right when the peer is a trusted proxy (a list with a CIDR)', async () => {
    // The test client is the proxy (127.0.0.1); the client before it appended its own address.
    expect(await addressSeen('127.0.0.0/8,::1/128', '6.6.6.6, 2001:DB8::7')).to.equal('2001:db8::7');
  });

  it('accepts the named subnets and skips every trusted hop', async () => {
    expect(await addressSeen('loopback', '198.51.100.7, 127.0.0.2')).to.equal('198.51.100.7');
  });

  it('trusts a hop count', async () => {
    expect(await addressSeen('2', '6.6.6.6, 198.51.100.7, 192.0.2.1')).to.equal('198.51.100.7');
  });

  it('ignores a spoofed X-Forwarded-For when no proxy is trusted', async () => {
    expect(await addressSeen('false', '198.51.100.7')).to.equal('127.0.0.1');
  });
});
