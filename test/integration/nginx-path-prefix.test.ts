import { expect } from 'chai';
import { longestLine, longestTarget, operationsOf } from '../support/longest-request.js';
import { ensurePagesBuilt } from '../support/browser.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { nginxBinary, pathPrefixConf, startNginx, type TestNginx } from '../support/nginx.js';
import { proxyClients, type Credentials } from '../support/proxy-clients.js';
import { onFreePorts } from '../../scripts/lib/ports.js';
import { command, ok } from '../support/sockets.js';
import { skipBecause } from '../support/skip.js';

/**
 * docs/deploy.md, "Under a path of an existing site": deploy/nginx/path-prefix.conf run for real
 * in the HTTPS server of a school's site (test/support/nginx.ts), in front of one node with
 * `PUBLIC_URL` naming the prefix and `TRUST_PROXY=loopback`, as the section says.
 */
const SITE = 'www.school.example';
const PREFIX = '/attendance';
/** The photos of one face enrolment at their largest, with room for the multipart framing. */
const ENROLMENT_BYTES = 5 * 8 * 1024 * 1024 + 64 * 1024;
/** An address a client puts in its own X-Forwarded-For. */
const FORGED = '198.51.100.7';

describe('nginx (deploy/nginx/path-prefix.conf) publishing a node under /attendance/', function () {
  this.timeout(60_000);
  let server: TestServer;
  let nginx: TestNginx;
  let student: Credentials;
  const clients = proxyClients(() => ({
    httpsPort: nginx.httpsPort,
    ca: nginx.certPem,
    log: nginx.log,
    servername: SITE,
    host: () => SITE,
  }));
  const { request } = clients;

  before(async function () {
    if (!nginxBinary()) skipBecause(this, 'nginx is not installed (scripts/test-setup.sh installs it with apt-get)');
    await ensurePagesBuilt('student.html');
    server = await startTestServer({ PUBLIC_URL: `https://${SITE}${PREFIX}/`, TRUST_PROXY: 'loopback', FACE_ENABLED: 'false' });
    const upstream = new URL(server.baseUrl).host;
    nginx = await onFreePorts(2, ([httpPort, httpsPort]) =>
      startNginx({
        names: [SITE, '127.0.0.1'],
        httpPort: httpPort!,
        httpsPort: httpsPort!,
        conf: (paths) => pathPrefixConf({ upstream, name: SITE, httpsPort: httpsPort! }, paths),
      }),
    );
    const org = await createOrg(server.store);
    student = { email: (await createUser(server.store, org.id, 'student')).email, password: PASSWORD };
  });
  after(async () => {
    clients.disconnectAll();
    await nginx?.stop();
    await server?.cleanup();
  });

  it('sends /attendance to /attendance/ and serves the pages, the API and its docs under the prefix', async () => {
    const bare = await request('127.0.0.2', PREFIX);
    expect(bare.status).to.equal(301);
    expect(new URL(String(bare.headers.location)).pathname).to.equal(`${PREFIX}/`);
    for (const page of ['/', '/student.html', '/teacher.html']) {
      const res = await request('127.0.0.2', `${PREFIX}${page}`);
      expect(res.status, page).to.equal(200);
      expect(res.headers['content-type'], page).to.match(/^text\/html/);
    }
    const openapi = await request('127.0.0.2', `${PREFIX}/api/openapi.json`);
    expect(openapi.status).to.equal(200);
    expect((JSON.parse(openapi.body) as { servers: Array<{ url: string }> }).servers[0]!.url).to.equal(PREFIX);
    // The school's own site keeps everything outside the prefix.
    expect((await request('127.0.0.2', '/socket.io/?EIO=4&transport=polling')).status).to.equal(404);
  });

  for (const transports of [['websocket'], ['polling']]) {
    it(`carries Socket.IO under the prefix by ${transports[0]}, with the client's own address and not one it forged`, async () => {
      const from = transports[0] === 'websocket' ? '127.0.0.3' : '127.0.0.4';
      const socket = clients.socketFrom(from, await clients.tokenFor(from, student, PREFIX), {
        path: `${PREFIX}/socket.io`,
        // A client inside TRUST_PROXY's range (here loopback, as a school LAN named by CIDR would
        // be) naming another address: appended to, it was read as the client's, a fresh address
        // per request past every per-address limit and the network check.
        headers: { 'x-forwarded-for': FORGED },
        transports,
        upgrade: false,
      });
      await clients.connected(socket);
      expect(ok(await command(socket, 'session:list-active', {}))).to.be.an('array');
      const seen = (await server.app.realtime.io.local.fetchSockets()).map((s) => (s.data as { ip?: string | null }).ip);
      expect(seen).to.include(from);
      expect(seen).to.not.include('127.0.0.1');
      expect(seen).to.not.include(FORGED);
    });
  }

  it("lets a face enrolment's largest upload through to the node, which answers with its own coded error", async () => {
    // The node's own limits refuse it (here the JSON body limit), with a coded JSON error; nginx's
    // limit, were it lower, would answer first with its bare HTML 413.
    const body = Buffer.alloc(ENROLMENT_BYTES, 'a');
    const res = await request('127.0.0.5', `${PREFIX}/api/v1/auth/login`, { method: 'POST', body, type: 'application/json' });
    expect(res.status).to.equal(413);
    expect(res.headers['content-type'], res.body.slice(0, 300)).to.match(/^application\/json/);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('passes the longest request the API document allows to the node (a request line past 8 KiB)', async () => {
    const ops = operationsOf(JSON.parse((await request('127.0.0.6', `${PREFIX}/api/openapi.json`)).body));
    const longest = ops.reduce((a, b) => (longestLine(b).length > longestLine(a).length ? b : a));
    expect(longestLine(longest).length).to.be.above(8 * 1024);
    const res = await request('127.0.0.6', `${PREFIX}${longestTarget(longest).target}`, {
      method: longest.method.toUpperCase(),
    });
    // The node's coded answer (no token: UNAUTHENTICATED), not nginx's 414 page.
    expect(res.headers['content-type'], `${longest.op}: ${res.status} ${res.body.slice(0, 200)}`).to.match(/^application\/json/);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).to.be.a('string');
  });
});
