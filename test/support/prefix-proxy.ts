import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A loopback reverse proxy that publishes a backend under `prefix` and strips it, as a school's
 * nginx `location /attendance/ { proxy_pass http://app/; }` does: requests, and WebSocket
 * upgrades, under the prefix reach the backend without it (Host kept); anything else is a 404
 * here and is listed in `outside`, so a test sees a page escaping the prefix.
 */
export interface PrefixProxy {
  /** The proxy's address with the prefix and a trailing slash: http://127.0.0.1:PORT/attendance/ */
  url: string;
  /** Paths asked of the proxy outside the prefix. */
  outside: string[];
  /** Points the proxy at the backend (started after the proxy, as its PUBLIC_URL names the proxy). */
  target(baseUrl: string): void;
  close(): Promise<void>;
}

export interface PrefixProxyOptions {
  /** Answers every WebSocket upgrade 403, as a filtering proxy of some school networks does. */
  refuseWebSockets?: boolean;
}

export async function startPrefixProxy(prefix: string, opts: PrefixProxyOptions = {}): Promise<PrefixProxy> {
  let backend: URL | null = null;
  const outside: string[] = [];
  const sockets = new Set<Duplex>();
  const track = (s: Duplex) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };

  /** The backend path of a proxied URL, or null when it is outside the prefix. */
  const strip = (url: string): string | null => (url.startsWith(`${prefix}/`) ? url.slice(prefix.length) : null);

  const server: Server = createServer((req, res) => {
    const path = strip(req.url ?? '');
    if (req.url === prefix) {
      res.writeHead(301, { location: `${prefix}/` }).end();
      return;
    }
    if (path === null || !backend) {
      outside.push(req.url ?? '');
      res.writeHead(404, { 'content-type': 'text/plain' }).end('outside the published prefix');
      return;
    }
    const upstream = request(
      { host: backend.hostname, port: backend.port, method: req.method, path, headers: forwarded(req) },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });

  server.on('connection', track);
  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    if (opts.refuseWebSockets) {
      client.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    const path = strip(req.url ?? '');
    if (path === null || !backend) {
      outside.push(req.url ?? '');
      client.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    const upstream: Socket = connect(Number(backend.port), backend.hostname, () => {
      const lines = [`${req.method} ${path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}/`,
    outside,
    target(baseUrl) {
      backend = new URL(baseUrl);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The request's headers as a proxy passes them on, with the usual X-Forwarded-* added. */
function forwarded(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = value;
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
  headers['x-forwarded-proto'] = 'http';
  return headers;
}
