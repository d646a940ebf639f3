import { expect } from 'chai';
import { connect } from 'socket.io-client';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, type ClientSocket } from '../support/sockets.js';

const MAX = 4;

/** What a counter of the node's metrics holds (0 before its first count). */
async function counted(srv: TestServer, name: string): Promise<number> {
  const metric = srv.app.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** What one handshake ended with: connected, or the code of its refusal. */
function handshake(baseUrl: string, token: string, sockets: ClientSocket[]): Promise<{ code: string; details?: Record<string, unknown> }> {
  const socket: ClientSocket = connect(baseUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ code: 'connected' }));
    socket.once('connect_error', (err) => resolve((err as Error & { data: { code: string; details?: Record<string, unknown> } }).data));
  });
}

/**
 * A student who logs in again and again gets a fresh handshake budget with each login: without
 * a bound on open sockets, one account kept as many sockets open on a node as it liked.
 */
describe('open sockets per user', function () {
  this.timeout(60_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];
  before(async () => {
    srv = await startTestServer({ SOCKET_MAX_PER_USER: String(MAX) });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  it('refuses the handshakes past SOCKET_MAX_PER_USER, across logins and at once, and admits again once one closes', async () => {
    const org = await createOrg(srv.store);
    const [student, other] = await Promise.all([createUser(srv.store, org.id, 'student'), createUser(srv.store, org.id, 'student')]);
    // Three logins (each its own handshake budget), all handshaking in parallel.
    const tokens = [0, 1, 2].map(() => srv.app.tokenService.signAccess(student).token);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => handshake(srv.baseUrl, tokens[i % 3]!, sockets)));
    expect(results.filter((r) => r.code === 'connected')).to.have.length(MAX);
    const refused = results.filter((r) => r.code !== 'connected');
    expect(refused).to.have.length(12 - MAX);
    for (const r of refused) expect(r).to.deep.include({ code: 'RATE_LIMITED' });
    expect(refused[0]!.details).to.include({ limit: 'sockets', maxSockets: MAX });
    expect(refused[0]!.details!['retryAfterMs']).to.be.a('number');
    // Each refusal counted, for the operator's dashboard.
    expect(await counted(srv, 'attendance_socket_user_limit_refusals_total')).to.equal(12 - MAX);

    // Another user is not affected.
    const theirs = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(other).token);
    sockets.push(theirs);
    expect((await command(theirs, 'session:list-active', {})).ok).to.equal(true);

    // One of the student's sockets closes: the next handshake is admitted once the node saw it go.
    const open = sockets.filter((s) => s.connected && s !== theirs);
    expect(open).to.have.length(MAX);
    const gone = open[0]!;
    const userRoom = () => srv.app.realtime.io.of('/').adapter.rooms.get(`user:${student.id}`)?.size ?? 0;
    const left = new Promise<void>((resolve) => {
      const server = [...srv.app.realtime.io.of('/').sockets.values()].find((s) => s.id === gone.id);
      server!.once('disconnect', () => resolve());
    });
    gone.disconnect();
    await left;
    expect(userRoom()).to.equal(MAX - 1);
    expect((await handshake(srv.baseUrl, tokens[0]!, sockets)).code).to.equal('connected');
    expect((await handshake(srv.baseUrl, tokens[1]!, sockets)).code).to.equal('RATE_LIMITED');
    expect(await counted(srv, 'attendance_socket_user_limit_refusals_total')).to.equal(12 - MAX + 1);
  });
});
