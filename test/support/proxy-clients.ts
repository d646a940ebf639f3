import { expect } from 'chai';
import https from 'node:https';
import { io as connect } from 'socket.io-client';
import type { TestNode } from './nodes.js';
import type { ClientSocket } from './sockets.js';

/** What the clients need of a started proxy (test/support/nginx.ts, caddy.ts), and the site they ask it for. */
export interface ProxyTarget {
  httpsPort: number;
  /** The one certificate (PEM) the clients trust. */
  ca: string;
  /** The proxy's log so far, for a failure's message. */
  log(): string;
  /** The TLS server name sent by default ('' for none, as browsers send for an address). */
  servername: string;
  /** The Host header of a request sent with `servername`. */
  host(servername: string): string;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface ProxyRequestOptions {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `type` as its content type. */
  body?: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
  servername?: string;
}

export interface ProxySocketOptions {
  /** Socket.IO's path, when the proxy publishes it under a prefix. */
  path?: string;
  transports?: string[];
  upgrade?: boolean;
  reconnection?: boolean;
  headers?: Record<string, string>;
}

export interface Credentials {
  email: string;
  password: string;
}

/**
 * HTTPS requests and Socket.IO clients through a proxy on 127.0.0.1, each leaving from an address
 * `from` of its own in 127.0.0.0/8, so the proxy sees distinct clients as on a school's Wi-Fi.
 * `target` is read at each call (the proxy starts in a `before` hook).
 */
export function proxyClients(target: () => ProxyTarget) {
  const agents = new Map<string, https.Agent>();
  const sockets: ClientSocket[] = [];
  /** An agent whose connections leave from `from` and trust only the proxy's certificate. */
  const agent = (from: string) => {
    let a = agents.get(from);
    if (!a) {
      a = new https.Agent({ ca: target().ca, localAddress: from });
      agents.set(from, a);
    }
    return a;
  };

  function request(from: string, pathname: string, opts: ProxyRequestOptions = {}): Promise<Answer> {
    const { httpsPort, servername: defaultName, host } = target();
    const json = opts.json === undefined ? undefined : JSON.stringify(opts.json);
    const body = json ?? opts.body;
    const type = json === undefined ? opts.type : 'application/json';
    const servername = opts.servername ?? defaultName;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: httpsPort,
          path: pathname,
          method: opts.method ?? 'GET',
          agent: agent(from),
          servername,
          headers: { host: host(servername), ...(type ? { 'content-type': type } : {}), ...opts.headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  }

  const login = (from: string, credentials: Credentials, opts: { prefix?: string; headers?: Record<string, string> } = {}) =>
    request(from, `${opts.prefix ?? ''}/api/v1/auth/login`, {
      method: 'POST',
      json: credentials,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });

  async function tokenFor(from: string, credentials: Credentials, prefix = ''): Promise<string> {
    const res = await login(from, credentials, { prefix });
    expect(res.status, res.body).to.equal(200);
    return (JSON.parse(res.body) as { accessToken: string }).accessToken;
  }

  /** A client (closed by `disconnectAll`) that does not reconnect unless asked to. */
  function socketFrom(from: string, token: string, opts: ProxySocketOptions = {}): ClientSocket {
    const { httpsPort, ca } = target();
    const socket: ClientSocket = connect(`https://127.0.0.1:${httpsPort}`, {
      ...(opts.path ? { path: opts.path } : {}),
      auth: { token },
      agent: agent(from) as unknown as string,
      ca,
      ...(opts.transports ? { transports: opts.transports } : {}),
      ...(opts.upgrade === false ? { upgrade: false } : {}),
      ...(opts.headers ? { extraHeaders: opts.headers } : {}),
      reconnection: opts.reconnection ?? false,
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
      forceNew: true,
    });
    sockets.push(socket);
    return socket;
  }

  /** Connected, or rejected with the proxy's log. */
  const connected = (socket: ClientSocket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(new Error(`${err.message}\n${target().log().slice(-2000)}`)));
    });

  const disconnectAll = () => {
    for (const s of sockets.splice(0)) s.disconnect();
  };

  return { request, login, tokenFor, socketFrom, connected, disconnectAll };
}

/** The addresses each running node recorded for its own sockets. */
export async function addressesSeen(nodes: TestNode[]): Promise<Array<{ node: string; ip: string | null }>> {
  const seen: Array<{ node: string; ip: string | null }> = [];
  for (const node of nodes.filter((n) => !n.down)) {
    for (const s of await node.app.realtime.io.local.fetchSockets()) {
      seen.push({ node: node.name, ip: (s.data as { ip?: string | null }).ip ?? null });
    }
  }
  return seen;
}
