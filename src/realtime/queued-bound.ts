import type { Logger } from '../logger.js';

/** The parts of an engine.io socket (engine.io 6 `Socket`) this file reads or closes. */
export interface QueuedConnection {
  readonly id: string;
  /** Packets waiting for the transport: engine.io replaces the array when it sends them. */
  readonly writeBuffer: readonly { readonly data?: unknown }[];
  /** A WebSocket transport's `socket` is the ws connection, whose `terminate` drops the TCP connection. */
  readonly transport: { readonly socket?: { terminate?(): void } };
  close(discard: boolean): void;
}

/** How much of one queue was already counted (the queue only grows until it is sent and replaced). */
interface Counted {
  packets: number;
  bytes: number;
}

/**
 * Bounds what one connection may have waiting to be written. engine.io queues a connection's
 * packets while its transport has not finished the previous write, and never drops them: a client
 * that stopped reading but still answered the heartbeat (a "3" sent blindly every 25 s) kept its
 * connection open for good, and everything the node had for it piled up, e.g. the refusals of
 * malformed commands, which cost no budget (a student's socket grew the node by 15 MB a second,
 * test/integration/stalled-reader.test.ts). Past `maxBytes` the connection is closed at once,
 * its queue discarded: the client sees a lost connection and reconnects, as after a network drop,
 * and resyncs what it missed (docs/protocol.md §2).
 *
 * Checked after each flush that left packets waiting, counting only the packets added since the
 * last check, so a long queue of small packets is not summed again at every packet.
 */
export class QueuedBound {
  private readonly counted = new WeakMap<object, Counted>();

  constructor(
    private readonly maxBytes: number,
    private readonly logger: Logger,
    /** Told each connection it closed (metrics). */
    private readonly onClosed: () => void = () => undefined,
  ) {}

  /** Closes `conn` when its waiting packets hold more than the bound; true when it did. */
  check(conn: QueuedConnection): boolean {
    const queue = conn.writeBuffer;
    if (queue.length === 0 || this.maxBytes <= 0) return false;
    let seen = this.counted.get(queue);
    if (!seen) {
      seen = { packets: 0, bytes: 0 };
      this.counted.set(queue, seen);
    }
    for (let i = seen.packets; i < queue.length; i++) seen.bytes += packetBytes(queue[i]!.data);
    seen.packets = queue.length;
    if (seen.bytes <= this.maxBytes) return false;
    this.logger.warn(
      { connection: conn.id, queuedBytes: seen.bytes, queuedPackets: seen.packets, maxBytes: this.maxBytes },
      'socket closed: more queued for it than SOCKET_MAX_QUEUED_BYTES (a client that stopped reading)',
    );
    const ws = conn.transport.socket;
    conn.close(true);
    // ws's close waits up to 30 s for the client's answer, holding the write the client never
    // read; a client that stopped reading will not answer.
    ws?.terminate?.();
    this.onClosed();
    return true;
  }
}

/** A packet's payload size: string length (characters, as sent for JSON) or binary length. */
function packetBytes(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
