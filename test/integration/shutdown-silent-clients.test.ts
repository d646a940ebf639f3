import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import type { ClosingConnection } from '../../src/realtime/connection-closing.js';
import { connectRawSocketIo, type RawSocketIoClient } from '../support/raw-socket-io.js';
import { connectVanishingPolling } from '../support/raw-polling.js';
import type { ClientSocket } from '../support/sockets.js';

/**
 * Past this, a node's stop is held by its clients: the WebSocket library waits 30 s for a close
 * frame that a silent client never sends, and Docker kills a node 10 s after SIGTERM by default.
 * The node's own bound is a grace of a few seconds (docs/multi-node.md, "Start and shutdown").
 */
const STOPPED_WELL_BEFORE_MS = 10_000;

// A node closes whatever its clients do: one that never answers the close frame, one that stopped
// reading (a phone gone from the network: nothing comes back, not even the end of the connection).
describe('closing a node with clients that never answer', function () {
  this.timeout(45_000);
  let srv: TestServer | null = null;
  const sockets: ClientSocket[] = [];
  const raw: RawSocketIoClient[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const r of raw.splice(0)) r.socket.destroy();
    await srv?.cleanup();
    srv = null;
  });

  for (const silence of ['never answers the close frame', 'stopped reading', 'never asked for a Socket.IO connection'] as const) {
    it(`stops in seconds beside a client that ${silence}`, async () => {
      srv = await startTestServer();
      // A class live on the node, its students connected with socket.io-client, beside the silent one.
      const { students } = await openLiveClass(srv, sockets, 3);
      const token = srv.app.tokenService.signAccess(students[0]!).token;
      const silent = await connectRawSocketIo(srv.baseUrl, silence === 'never asked for a Socket.IO connection' ? undefined : token);
      raw.push(silent);
      if (silence === 'stopped reading') silent.socket.pause();

      const ended = new Promise<void>((resolve) => silent.socket.once('close', () => resolve()));
      const started = Date.now();
      await srv.app.close();
      const took = Date.now() - started;
      srv = null;
      expect(took, 'milliseconds from close() to closed').to.be.below(STOPPED_WELL_BEFORE_MS);
      // The node cut the connection itself rather than leave it to the client.
      silent.socket.resume();
      await ended;
    });
  }
});

// The grace is a setting (CONNECTION_CLOSE_GRACE_MS): a long-polling client gone between two polls
// is cut when it ends, not when engine.io's own 30 s wait for its next poll does.
describe('closing a node beside a long-polling client that vanished', function () {
  this.timeout(45_000);
  const GRACE_MS = 1_500;
  let srv: TestServer | null = null;
  const sockets: ClientSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv?.cleanup();
    srv = null;
  });

  it('closes its connection at the grace and stops in time', async () => {
    srv = await startTestServer({ CONNECTION_CLOSE_GRACE_MS: String(GRACE_MS) });
    const { students } = await openLiveClass(srv, sockets, 2);
    const engine = srv.app.realtime.io.engine;
    const token = srv.app.tokenService.signAccess(students[0]!).token;
    let vanished: ClosingConnection | null = null;
    engine.once('connection', (conn: ClosingConnection) => (vanished = conn));
    await connectVanishingPolling(srv.baseUrl, token);
    let closedAfter: number | null = null;
    const started = Date.now();
    vanished!.once('close', () => (closedAfter = Date.now() - started));

    await srv.app.close();
    const took = Date.now() - started;
    srv = null;
    expect(closedAfter, 'the vanished connection was closed by the node').to.not.equal(null);
    // Not before the grace: the other clients' connections were given it to close in order.
    expect(closedAfter!, 'milliseconds to the vanished connection closed').to.be.at.least(GRACE_MS - 50);
    expect(took, 'milliseconds from close() to closed').to.be.below(STOPPED_WELL_BEFORE_MS);
  });
});
