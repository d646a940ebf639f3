import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface FailoverBalancer {
  /** The loopback port clients connect to. */
  port: number;
  /** Connections relayed to each upstream port so far (the failed tries excluded). */
  readonly relayed: Map<number, number>;
  /** Ends every relayed connection and stops listening. */
  close(): Promise<void>;
}

/**
 * A TCP load balancer on loopback as a deployment's does it with its passive health check
 * (nginx `proxy_next_upstream error`, Caddy `lb_try_duration`): each new connection goes to the
 * next upstream in turn, and one whose connection is refused (a node killed) is tried on the
 * next, until every upstream refused it. It holds no stickiness: clients must use the WebSocket
 * transport alone, one TCP connection per Socket.IO connection.
 */
export async function startFailoverBalancer(upstreamPorts: readonly number[]): Promise<FailoverBalancer> {
  const sockets = new Set<Socket>();
  const relayed = new Map<number, number>();
  let next = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    // A reset of one side ends the other; nothing to report in a balancer.
    s.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    const first = next;
    next = (next + 1) % upstreamPorts.length;
    const tryUpstream = (tries: number) => {
      if (tries === upstreamPorts.length || client.destroyed) return void client.destroy();
      const port = upstreamPorts[(first + tries) % upstreamPorts.length]!;
      const upstream = connect(port, '127.0.0.1');
      client.once('close', () => upstream.destroy());
      let connected = false;
      upstream.once('error', () => {
        if (!connected) tryUpstream(tries + 1);
      });
      upstream.once('connect', () => {
        connected = true;
        track(upstream);
        relayed.set(port, (relayed.get(port) ?? 0) + 1);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        upstream.pipe(client);
        client.pipe(upstream);
        client.resume();
      });
    };
    tryUpstream(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    relayed,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
