import { createHash } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The cookie naming a client's node, as Caddy's `lb_policy cookie` sets its `lb` cookie. */
export const STICKY_COOKIE = 'lb';

export interface StickyBalancer {
  /** The loopback port clients connect to. */
  port: number;
  /** HTTP requests answered by each upstream port so far. */
  readonly relayed: Map<number, number>;
  /** Requests whose chosen upstream refused the connection, sent to another (a node killed). */
  readonly moved: number;
  /** Requests cut by their upstream after they were sent (a node killed under a long-poll), answered 502. */
  readonly cut: number;
  /** Ends every connection and stops listening. */
  close(): Promise<void>;
}

/** How a sticky balancer picks a request's upstream, and what its answer tells the client. */
interface Stickiness {
  /** The upstream index this request belongs to; null lets the balancer take the next in turn. */
  wanted(req: IncomingMessage, upstreams: number): number | null;
  /** Headers to add to the answer of upstream `index` when it is not the wanted one. */
  moveHeaders(index: number, answer: OutgoingHttpHeaders): OutgoingHttpHeaders;
}

/**
 * An HTTP load balancer on loopback with cookie stickiness, as docs/deploy.md tells operators to
 * configure for Socket.IO's long-polling behind one address (Caddy `lb_policy cookie`, nginx Plus
 * `sticky cookie`): a request without the cookie goes to the next upstream in turn and its answer
 * sets the cookie; a request with it goes to that upstream. An upstream refusing the connection
 * (a node killed) is passed over for the next one and the cookie set again, as Caddy's
 * `lb_try_duration` does; a request cut after it reached its upstream is answered 502, never sent
 * again. No WebSocket upgrade: clients use `transports: ['polling']`.
 */
export function startStickyBalancer(upstreamPorts: readonly number[]): Promise<StickyBalancer> {
  return startBalancer(upstreamPorts, {
    wanted: (req, upstreams) => stickyIndex(req.headers.cookie, upstreams),
    moveHeaders: (index, answer) => {
      const own = `${STICKY_COOKIE}=${index}; Path=/; HttpOnly`;
      const set = answer['set-cookie'];
      return { ...answer, 'set-cookie': [...(Array.isArray(set) ? set : set === undefined ? [] : [String(set)]), own] };
    },
  });
}

/**
 * The upstream index of a client address, as a balancer hashing the whole address does (nginx
 * `hash $remote_addr consistent`, Caddy `lb_policy ip_hash`): exported so a test can tell which
 * node its clients' addresses land on.
 */
export function addressUpstream(address: string, upstreams: number): number {
  return createHash('sha1').update(address).digest().readUInt32BE(0) % upstreams;
}

/**
 * A balancer sticky by the client's address, the documented default (docs/deploy.md): every
 * request of one address goes to the upstream its hash names; one refusing the connection (a node
 * killed) is passed over for the next, as Caddy's `ip_hash` does over available upstreams and
 * nginx's `proxy_next_upstream error`. Nothing is set on the client. Test clients need distinct
 * source addresses on loopback (`localAddress`, page-clients.ts).
 */
export function startAddressHashBalancer(upstreamPorts: readonly number[]): Promise<StickyBalancer> {
  return startBalancer(upstreamPorts, {
    wanted: (req, upstreams) => addressUpstream(req.socket.remoteAddress ?? '', upstreams),
    moveHeaders: (_index, answer) => answer,
  });
}

/** The balancer both policies share: relaying, passing over a refusing upstream, 502 on a cut. */
async function startBalancer(upstreamPorts: readonly number[], stickiness: Stickiness): Promise<StickyBalancer> {
  const relayed = new Map<number, number>();
  const sockets = new Set<Socket>();
  // A fresh connection per request: a kept-alive one to a killed node would fail as a cut, not a refusal.
  const agent = new Agent({ keepAlive: false });
  let next = 0;
  let moved = 0;
  let cut = 0;

  /** Sends to the upstream `first + tries`; `wanted` is the cookie's, null without one. */
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, wanted: number | null, first: number, tries: number) => {
    const index = (first + tries) % upstreamPorts.length;
    const port = upstreamPorts[index]!;
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent });
    let reached = false;
    upstream.on('socket', (s) => s.once('connect', () => (reached = true)));
    upstream.on('error', () => {
      if (!reached && tries + 1 < upstreamPorts.length) {
        if (wanted !== null && tries === 0) moved += 1;
        return forward(req, res, body, wanted, first, tries + 1);
      }
      if (!reached) return void res.writeHead(502).end();
      cut += 1;
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    upstream.on('response', (answer) => {
      relayed.set(port, (relayed.get(port) ?? 0) + 1);
      const headers = index === wanted ? answer.headers : stickiness.moveHeaders(index, answer.headers);
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const wanted = stickiness.wanted(req, upstreamPorts.length);
      const first = wanted ?? next;
      if (wanted === null) next = (next + 1) % upstreamPorts.length;
      forward(req, res, Buffer.concat(chunks), wanted, first, 0);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    relayed,
    get moved() {
      return moved;
    },
    get cut() {
      return cut;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}

function stickyIndex(cookie: string | undefined, upstreams: number): number | null {
  const match = new RegExp(`(?:^|;\\s*)${STICKY_COOKIE}=(\\d+)`).exec(cookie ?? '');
  const index = match ? Number(match[1]) : NaN;
  return Number.isInteger(index) && index < upstreams ? index : null;
}
