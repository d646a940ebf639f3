import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** What a relay does with one accepted connection: the fault it plays (test/support/cuttable-relay.ts, slow-uplink.ts). */
export interface RelayFault {
  /** False: the connection is accepted and closed at once, relaying nothing. */
  accepts?(): boolean;
  /** Carries the client's bytes to the upstream; a plain pipe without it. */
  uplink?(client: Socket, upstream: Socket): void;
}

export interface TcpRelay {
  /** The loopback port the relay listens on. */
  port: number;
  /** Ends every connection relayed so far, both sides. */
  destroyAll(): void;
  /** Ends every relayed connection and stops listening. */
  close(): Promise<void>;
}

/**
 * A loopback TCP relay to `target`'s host and port: each accepted connection gets an upstream of
 * its own, and the end of either side ends the other.
 */
export async function startTcpRelay(target: URL, fault: RelayFault = {}): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (fault.accepts && !fault.accepts()) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A reset of one side ends the other; nothing to report in a relay.
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    if (fault.uplink) fault.uplink(client, upstream);
    else client.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const destroyAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    destroyAll,
    close: async () => {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
