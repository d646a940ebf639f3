import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * A WebSocket upgrade's `101 Switching Protocols` answer and the engine.io open packet that
 * follows it leave in one write. ws writes the answer at once and engine.io queues the open
 * packet in the same turn (WriteCoalescing flushes it at the end of the turn's microtasks), so
 * they were two system calls per handshake; when a school's phones reconnect together,
 * socket writes were the largest part of the node's time (docs/deploy.md, "Many sockets
 * reconnect at once"). The upgrade's socket is corked from the request until the end of that
 * turn's I/O (setImmediate): nothing waits for a timer, and a socket closed meanwhile was
 * flushed by its end().
 */
export function corkUpgrades(server: HttpServer | HttpsServer): void {
  server.prependListener('upgrade', (_req: unknown, socket: Duplex) => {
    socket.cork();
    setImmediate(() => socket.uncork());
  });
}
