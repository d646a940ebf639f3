import type { Socket as NetSocket } from 'node:net';
import type { Logger } from '../logger.js';
import type { QueuedBound, QueuedConnection } from './queued-bound.js';

/** The parts of an engine.io socket this file touches (engine.io 6 `Socket`, not typed for this). */
interface EngineSocket extends QueuedConnection {
  flush(): void;
  readonly transport: { readonly name: string; readonly socket?: { readonly _socket?: NetSocket; terminate?(): void } };
}

/**
 * Packets of one engine.io connection queued during one turn of the event loop leave in one
 * write: a check-in's `checkin:decision` push and its acknowledgement (sent a few promise steps
 * apart) were two `writev` calls, 14 % of a loaded node's time. engine.io sends what is queued at
 * once and then holds the rest until the write completes, so a second packet of the same turn
 * always needed a second write. Here a connection's flush waits until the end of the current
 * microtask queue (`process.nextTick`), and its WebSocket frames are written with the TCP socket
 * corked, which makes them one `writev`. Nothing waits for a timer: a packet leaves in the same
 * turn as before, only after the promise steps queued with it.
 *
 * One instance per server; it keeps only the connections with a flush pending this turn.
 */
export class WriteCoalescing {
  private pending = new Set<EngineSocket>();
  private scheduled = false;
  /** Shared by every connection (no closure per socket): queues the connection's flush. */
  private readonly deferredFlush: () => void;

  constructor(
    private readonly logger: Logger,
    /** Told of each connection a flush left with packets waiting (a client slower than its traffic). */
    private readonly queued?: QueuedBound,
  ) {
    const pending = (socket: EngineSocket) => {
      this.pending.add(socket);
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.run());
      }
    };
    this.deferredFlush = function (this: EngineSocket) {
      pending(this);
    };
  }

  /** Called for each new engine.io connection (`io.engine.on('connection')`). */
  attach(socket: EngineSocket): void {
    socket.flush = this.deferredFlush;
  }

  private run(): void {
    this.scheduled = false;
    const sockets = this.pending;
    this.pending = new Set();
    for (const socket of sockets) {
      const flush = (Object.getPrototypeOf(socket) as EngineSocket).flush;
      const tcp = socket.transport.name === 'websocket' ? socket.transport.socket?._socket : undefined;
      tcp?.cork();
      try {
        flush.call(socket);
        // Packets left waiting: the transport has not finished an earlier write.
        if (socket.writeBuffer.length > 0) this.queued?.check(socket);
      } catch (err) {
        // Run from process.nextTick, where a throw would end the process; the other connections still flush.
        this.logger.error({ err }, 'socket flush failed');
      } finally {
        tcp?.uncork();
      }
    }
  }
}
