import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/** An engine.io connection, as shutdown sees it. */
export interface ClosingConnection {
  readonly readyState: string;
  readonly transport: { emit(event: 'close'): unknown };
  close(discard?: boolean): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The sockets of this server's WebSocket upgrades still open: engine.io keeps no handle on them
 * that shutdown can reach, and they outlive the HTTP server's own connection list.
 */
export function trackUpgradedSockets(server: HttpServer | HttpsServer): ReadonlySet<Duplex> {
  const open = new Set<Duplex>();
  server.prependListener('upgrade', (_req: unknown, socket: Duplex) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return open;
}

/**
 * Closes every connection within `graceMs` (CONNECTION_CLOSE_GRACE_MS): past it the connection is
 * cut, because the WebSocket library alone would wait 30 s for a close frame that a client gone
 * from the network, or one that never answers (python-socketio with websocket-client), does not
 * send, and engine.io 30 s for the next poll of a long-polling client gone between two polls;
 * the node's stop with them. First the connection's own close: the answers it
 * has queued are written, then the close frame (no disconnect packet, so socket.io-client
 * reconnects elsewhere). Then each WebSocket's socket is ended, so what was written still leaves
 * before the end of the connection, and one still open at the end of the grace is destroyed.
 */
export async function closeConnections(
  connections: readonly ClosingConnection[],
  sockets: ReadonlySet<Duplex>,
  graceMs: number,
): Promise<void> {
  const deadline = Date.now() + graceMs;
  for (const conn of connections) conn.close();
  await allClosed(connections, (c) => c.readyState === 'closed', deadline);
  // One whose answers could not leave (a client that stopped reading) gets its close frame now.
  for (const conn of connections) if (conn.readyState !== 'closed') conn.close(true);
  // A long-polling one stays closing until its client polls again for the close packet, which one
  // gone from the network never does (engine.io waits 30 s): its transport is taken as closed.
  for (const conn of connections) if (conn.readyState !== 'closed') conn.transport.emit('close');
  const open = [...sockets];
  for (const socket of open) socket.end();
  await allClosed(open, (s) => s.closed, deadline);
  for (const socket of open) socket.destroy();
}

type Closable = { once(event: 'close', listener: () => void): unknown };

function allClosed<T extends Closable>(items: readonly T[], isClosed: (item: T) => boolean, deadline: number): Promise<void> {
  const open = items.filter((item) => !isClosed(item));
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let left = open.length;
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    const closed = () => {
      left -= 1;
      if (left > 0) return;
      clearTimeout(timer);
      resolve();
    };
    for (const c of open) c.once('close', closed);
  });
}
