import { expect } from 'chai';
import http from 'node:http';
import { ensurePagesBuilt } from '../support/browser.js';
import { nginxBinary, siteConf, startNginx } from '../support/nginx.js';
import { proxiedNodesCases, useProxiedNodes } from '../support/proxied-nodes.js';
import { onFreePorts } from '../../scripts/lib/ports.js';
import { command, ok } from '../support/sockets.js';
import { longestLine, longestTarget, operationsOf } from '../support/longest-request.js';

/**
 * docs/deploy.md, "Several nodes without Docker": deploy/nginx/attendance.conf run for real
 * (test/support/nginx.ts says what differs from a school's server) in front of two nodes sharing
 * Redis and one SQLite file, each with the environment of step 2 that matters here
 * (`TRUST_PROXY=loopback`). Each client connects from an address of its own in 127.0.0.0/8, so
 * nginx sees distinct clients as it would on a school's Wi-Fi.
 */
const PUBLIC_PER_MINUTE = 5;
const SITE = 'attendance.school.lan';

describe('nginx (deploy/nginx/attendance.conf) in front of two nodes', function () {
  this.timeout(60_000);
  const fixture = useProxiedNodes('nginx-proxy', {
    missing: () => (nginxBinary() ? null : 'nginx is not installed (scripts/test-setup.sh installs it with apt-get)'),
    env: { TRUST_PROXY: 'loopback', FACE_ENABLED: 'false', HTTP_PUBLIC_RATE_PER_MINUTE: String(PUBLIC_PER_MINUTE) },
    prepare: () => ensurePagesBuilt('student.html'),
    start: (upstreams) =>
      onFreePorts(2, ([httpPort, httpsPort]) => {
        const ports = { httpPort: httpPort!, httpsPort: httpsPort! };
        return startNginx({ names: [SITE, '127.0.0.1'], ...ports, conf: (paths) => siteConf({ upstreams, ...ports }, paths) });
      }),
    target: (nginx) => ({ httpsPort: nginx.httpsPort, ca: nginx.certPem, log: nginx.log, servername: SITE, host: () => SITE }),
  });
  const { request, socketFrom, connected } = fixture.clients;
  const { tokenFor, addressesSeen } = fixture;

  it('serves the pages over HTTPS with HSTS, and redirects plain HTTP for the site name to HTTPS', async () => {
    const page = await request('127.0.0.2', '/student.html');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.headers['strict-transport-security']).to.equal('max-age=31536000');
    // `always`: error answers carry it too.
    const missing = await request('127.0.0.2', '/no-such-page');
    expect(missing.status).to.equal(404);
    expect(missing.headers['strict-transport-security']).to.equal('max-age=31536000');

    const plain = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: fixture.proxy.httpPort, path: '/student.html?x=1', headers: { host: SITE } },
        resolve,
      );
      req.once('error', reject);
    });
    plain.resume();
    expect(plain.statusCode, `${fixture.proxy.conf}`).to.equal(301);
    // The school's server listens on 443, so the redirect names no port.
    expect(plain.headers.location).to.equal(`https://${SITE}/student.html?x=1`);
  });

  it('carries the long-polling fallback, each client kept on one node while the clients spread over both', async () => {
    const token = await tokenFor('127.0.0.8');
    // A network that blocks WebSockets: every request of a polling session must reach the node
    // that holds its session id, or the handshake fails (`xhr poll error`, 400 from the other node).
    const clients = Array.from({ length: 12 }, (_, i) => `127.0.0.${20 + i}`);
    const polling = clients.map((from) => socketFrom(from, token, { transports: ['polling'], upgrade: false }));
    await Promise.all(polling.map(connected));
    for (const socket of polling) {
      for (let i = 0; i < 3; i += 1) expect(ok(await command(socket, 'session:list-active', {}))).to.be.an('array');
      expect(socket.io.engine.transport.name).to.equal('polling');
    }
    const nodes = (await addressesSeen()).filter((s) => clients.includes(s.ip ?? '')).map((s) => s.node);
    expect(nodes).to.have.length(clients.length);
    // `hash $remote_addr consistent`, unlike ip_hash (the first three bytes of an IPv4 address),
    // does not put a whole /24 Wi-Fi on one node.
    expect(new Set(nodes).size, nodes.join(' ')).to.equal(2);
  });

  it("gives the nodes the client's own address: not nginx's, not a forged X-Forwarded-For", async () => {
    const token = await tokenFor('127.0.0.4');
    for (const transports of [['websocket'], ['polling']]) {
      const socket = socketFrom('127.0.0.4', token, { transports, headers: { 'x-forwarded-for': '198.51.100.7' } });
      await connected(socket);
    }
    const seen = (await addressesSeen()).map((s) => s.ip);
    expect(seen.filter((ip) => ip === '127.0.0.4')).to.have.length(2);
    expect(seen).to.not.include('198.51.100.7');
    expect(seen).to.not.include('127.0.0.1');
  });

  it('passes the longest request the API document allows to the application (a request line past 8 KiB)', async () => {
    const from = '127.0.0.200';
    const token = await tokenFor(from);
    const ops = operationsOf(JSON.parse((await request(from, '/api/openapi.json')).body));
    const longest = ops.reduce((a, b) => (longestLine(b).length > longestLine(a).length ? b : a));
    expect(longestLine(longest).length).to.be.above(8 * 1024);
    const res = await request(from, longestTarget(longest).target, {
      method: longest.method.toUpperCase(),
      headers: { authorization: `Bearer ${token}` },
    });
    // The application's coded answer (a refusal: the values are no real filter), not nginx's 414 page.
    expect(res.headers['content-type'], `${longest.op}: ${res.status} ${res.body.slice(0, 200)}`).to.match(/^application\/json/);
    expect(JSON.parse(res.body).error.code).to.be.a('string');
  });

  proxiedNodesCases(fixture, {
    socketIoTitle: 'carries Socket.IO by WebSocket: the default client upgrades, a WebSocket-only client connects',
    publicPerMinute: PUBLIC_PER_MINUTE,
    killedNodeSocket: {},
  });
});
