import { expect } from 'chai';
import { caddyAvailable, startLanCaddy } from '../support/caddy.js';
import { proxiedNodesCases, useProxiedNodes } from '../support/proxied-nodes.js';
import { onFreePorts } from '../../scripts/lib/ports.js';

/**
 * deploy/caddy's LAN mode run for real (test/support/caddy.ts says what differs from compose) in
 * front of two nodes sharing Redis and one SQLite file, the nodes with TRUST_PROXY=1 as in
 * docker-compose.yml. Each client connects from an address of its own in 127.0.0.0/8, so the
 * proxy sees distinct clients as it would on a school's Wi-Fi.
 */
const PUBLIC_PER_MINUTE = 5;

describe('Caddy (deploy/caddy, LAN mode) in front of two nodes', function () {
  this.timeout(60_000);
  const fixture = useProxiedNodes('caddy-proxy', {
    missing: () => (caddyAvailable() ? null : 'caddy is not installed (scripts/test-setup.sh installs it with apt-get)'),
    env: { TRUST_PROXY: '1', FACE_ENABLED: 'false', HTTP_PUBLIC_RATE_PER_MINUTE: String(PUBLIC_PER_MINUTE) },
    start: (upstreams) =>
      onFreePorts(2, ([httpPort, httpsPort]) =>
        startLanCaddy({ upstreams, siteAddress: 'localhost, 127.0.0.1', httpPort: httpPort!, httpsPort: httpsPort! }),
      ),
    target: (caddy) => ({
      httpsPort: caddy.httpsPort,
      ca: caddy.rootPem,
      log: caddy.log,
      // No SNI for an IP address, as browsers do.
      servername: '',
      host: (servername) => `${servername || '127.0.0.1'}:${caddy.httpsPort}`,
    }),
  });
  const { request, socketFrom, connected } = fixture.clients;
  const { tokenFor, addressesSeen } = fixture;

  it('serves HTTPS under the local CA for each site address, with HSTS, and redirects plain HTTP', async () => {
    for (const servername of ['localhost', '']) {
      const res = await request('127.0.0.2', '/healthz', { servername });
      expect(res.status, servername).to.equal(200);
      expect(res.headers['strict-transport-security']).to.equal('max-age=31536000');
    }
    const plain = await fetch(`http://127.0.0.1:${fixture.proxy.httpPort}/student.html`, { redirect: 'manual' });
    expect(plain.status).to.be.oneOf([301, 308]);
    // Caddy 2.6 leaves a non-standard HTTPS port out of the redirect; compose publishes 443.
    expect(plain.headers.get('location')).to.match(new RegExp(`^https://127\\.0\\.0\\.1(:${fixture.proxy.httpsPort})?/student\\.html$`));
  });

  it('serves the root certificate devices install at /school-root.crt', async () => {
    const res = await request('127.0.0.2', '/school-root.crt');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/x-x509-ca-cert');
    expect(res.body).to.equal(fixture.proxy.rootPem);
  });

  it("gives the nodes the client's own address: not Caddy's, not a forged X-Forwarded-For", async () => {
    const token = await tokenFor('127.0.0.4');
    const socket = socketFrom('127.0.0.4', token, { transports: ['websocket'], headers: { 'x-forwarded-for': '198.51.100.7' } });
    await connected(socket);
    const seen = (await addressesSeen()).map((s) => s.ip);
    expect(seen).to.include('127.0.0.4');
    expect(seen).to.not.include('198.51.100.7');
    expect(seen).to.not.include('127.0.0.1');
  });

  proxiedNodesCases(fixture, {
    socketIoTitle: 'carries Socket.IO: long-polling kept on one node, then upgraded to a WebSocket',
    publicPerMinute: PUBLIC_PER_MINUTE,
    killedNodeSocket: { transports: ['websocket'] },
  });
});
