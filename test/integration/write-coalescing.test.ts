import type { Socket as NetSocket } from 'node:net';
import { expect } from 'chai';
import type { CheckinView } from '../../src/shared/events.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import { command, nextEvent, ok, type ClientSocket } from '../support/sockets.js';

/** The node's TCP socket of one user's connection (engine.io WebSocket transport, then ws). */
function tcpOf(srv: TestServer, userId: string): NetSocket {
  const socket = [...srv.app.realtime.io.of('/').sockets.values()].find((s) => s.data.userId === userId)!;
  const transport = socket.conn.transport as unknown as { name: string; socket: { _socket: NetSocket } };
  expect(transport.name).to.equal('websocket');
  return transport.socket._socket;
}

describe('write coalescing: the packets of one turn leave in one write', function () {
  this.timeout(20_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv?.cleanup();
  });

  it("sends a check-in's decision push and its acknowledgement with one TCP write, the push first", async () => {
    srv = await startTestServer();
    const { sessionId, students, phones } = await openLiveClass(srv, sockets, 1);
    const [student, phone] = [students[0]!, phones[0]!];

    const tcp = tcpOf(srv, student.id);
    let writes = 0;
    for (const method of ['_write', '_writev'] as const) {
      const original = tcp[method] as (...a: unknown[]) => void;
      (tcp as unknown as Record<string, unknown>)[method] = function (this: NetSocket, ...a: unknown[]) {
        writes += 1;
        original.apply(this, a);
      };
    }
    const order: string[] = [];
    const pushed = nextEvent(phone, 'checkin:decision', (v: CheckinView) => v.sessionId === sessionId).then((v) => {
      order.push('push');
      return v;
    });
    const answered = command(phone, 'checkin:submit', { sessionId }).then((ack) => {
      order.push('ack');
      return ok(ack);
    });
    const [push, ack] = await Promise.all([pushed, answered]);
    expect(ack.status).to.equal('present');
    expect(push).to.deep.equal([ack]);
    expect(order).to.deep.equal(['push', 'ack']);
    expect(writes, 'one write for both packets').to.equal(1);
  });
});
