import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import { connectRawSocketIo, type RawSocketIoClient } from '../support/raw-socket-io.js';
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
