import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A loopback TCP relay one node's Redis connections go through, so that the test can take that
 * node alone off Redis for as long as it needs (a network cut: its peers keep publishing), where
 * a CLIENT KILL is followed by a reconnection within 100 ms, racing whatever the test does next.
 */
export interface CuttableRelay {
  /** The target URL with this relay's address in place of the target's. */
  url: string;
  /** Ends every relayed connection and refuses new ones (accepted, then closed) until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableRelay(targetUrl: string): Promise<CuttableRelay> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (!open) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A reset of one side ends the other; nothing to report in a relay.
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
