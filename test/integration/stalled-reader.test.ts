import type { Socket as NetSocket } from 'node:net';
import { expect } from 'chai';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, type ClientSocket } from '../support/sockets.js';

/** The node's side of one connection, as engine.io 6 keeps it. */
interface NodeConnection {
  readonly writeBuffer: readonly unknown[];
  once(event: 'close', listener: (reason: string) => void): void;
}

/** The client's side: its WebSocket, whose TCP socket the test stops reading. */
interface ClientEngine {
  readonly id: string;
  readonly transport: { readonly ws: { readonly _socket: NetSocket; send(data: string): void } };
}

const MAX_QUEUED = 256 * 1024;

/** What a counter of the node's metrics holds (0 before its first count). */
async function counted(srv: TestServer, name: string): Promise<number> {
  const metric = srv.app.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** A malformed session:join: 100 unknown fields, each named past the 64 characters a refusal repeats (~14 KB back for ~8 KB). */
function malformed(): Record<string, string> {
  const payload: Record<string, string> = { sessionId: 'x' };
  for (let i = 0; i < 100; i++) payload[`${i}-${'k'.repeat(70)}`] = '';
  return payload;
}

/**
 * A student's socket that stops reading but keeps answering the heartbeat (a pong sent blindly,
 * never reading the ping) while it sends malformed commands: each refusal lists up to 100
 * unknown field names, and a refusal costs no budget. The node used to keep all of it for as
 * long as the socket lived. (The bound here is small so that a few megabytes, past what the
 * loopback's socket buffers take unread, reach it.)
 */
describe('a socket that stops reading but answers the heartbeat', function () {
  this.timeout(120_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];
  before(async () => {
    srv = await startTestServer({ SOCKET_MAX_QUEUED_BYTES: String(MAX_QUEUED) });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  it('is closed once more than SOCKET_MAX_QUEUED_BYTES wait for it; the queue is freed and others go on', async () => {
    const org = await createOrg(srv.store);
    const [attacker, other] = await Promise.all([createUser(srv.store, org.id, 'student'), createUser(srv.store, org.id, 'student')]);
    const stalled = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(attacker).token);
    const healthy = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(other).token);
    sockets.push(stalled, healthy);

    const engine = stalled.io.engine as unknown as ClientEngine;
    const clients = (srv.app.realtime.io.engine as unknown as { clients: Record<string, NodeConnection> }).clients;
    const conn = clients[engine.id];
    expect(conn, 'the node has the connection').to.not.equal(undefined);
    const closed = new Promise<string>((resolve) => conn!.once('close', resolve));

    const ws = engine.transport.ws;
    ws._socket.pause();
    const payload = malformed();

    // Each round queues eight refusals (~110 KB) behind the unread ones; the node must close the
    // connection before the attacker is done (~110 MB), however long that takes here.
    let reason: string | null = null;
    void closed.then((r) => (reason = r));
    for (let round = 0; round < 1_000 && reason === null; round++) {
      for (let i = 0; i < 8; i++) (stalled.emit as (ev: string, ...args: unknown[]) => void)('session:join', payload, () => undefined);
      ws.send('3');
      // The client's writes go out before the next round (no fixed sleep: the socket's own drain).
      // (or the node's close of the connection, which ends the client's socket mid-write).
      const drained = new Promise<void>((resolve) =>
        ws._socket.writableLength === 0 ? setImmediate(resolve) : ws._socket.once('drain', resolve),
      );
      await Promise.race([drained, closed]);
    }
    // Closed by the bound while the attacker was still at it (without it the node kept everything
    // queued until the pongs stopped, then closed it 45 s later for the missing heartbeat).
    expect(reason, 'closed while the client still answered the heartbeat').to.equal('forced close');
    // Nothing of it stays on the node: the connection is gone from the server's list.
    expect(clients[engine.id]).to.equal(undefined);
    // Counted, so an operator sees clients closed for it.
    expect(await counted(srv, 'attendance_socket_queue_overflow_closes_total')).to.equal(1);

    // The student's other socket, and the node, are unaffected.
    const ack = await command(healthy, 'session:list-active', {});
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
  });

  it('a client that reads keeps its connection through the same refusals', async () => {
    const org = await createOrg(srv.store);
    const student = await createUser(srv.store, org.id, 'student');
    const socket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(student).token);
    sockets.push(socket);
    const closedBefore = await counted(srv, 'attendance_socket_queue_overflow_closes_total');
    const payload = malformed();
    // Eight at a time (the in-flight bound), as a client waiting for its answers sends them:
    // ~1 MB through, ~110 KB at once.
    for (let round = 0; round < 10; round++) {
      const acks = await Promise.all(Array.from({ length: 8 }, () => command(socket, 'session:join', payload as never)));
      expect(acks.map((ack) => (ack.ok ? null : ack.error.code))).to.deep.equal(Array.from({ length: 8 }, () => 'VALIDATION_FAILED'));
    }
    expect(socket.connected).to.equal(true);
    expect(await counted(srv, 'attendance_socket_queue_overflow_closes_total')).to.equal(closedBefore);
  });
});
