import { expect } from 'chai';
import { Agent } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { BENCH_ROOM as ROOM } from '../../scripts/lib/bench-node.js';
import type { ClientToServerEvents, CheckinView, ServerToClientEvents } from '../../src/shared/events.js';
import type { Ack } from '../../src/shared/errors.js';
import { RosterFeed } from '../../src/web/lib/roster.js';
import { command, ok, onRosterUpdate, waitFor } from './sockets.js';

/**
 * Clients that behave as the service's pages do when the connection or a node fails (reconnect,
 * resync, a tap's delivery), for the fault tests that run real node processes behind a balancer.
 */

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How long a tap waits for its answer before it reads the record the server holds (the page's slow-link path). */
export const ANSWER_WAIT_MS = 4_000;

/** The pages' longest wait between two reconnection attempts (socket.io-client's reconnectionDelayMax). */
export const RECONNECTION_DELAY_MAX_MS = 5_000;
/** How long socket.io-client waits for a connection before it tries again (its `timeout`; the pages keep the default). */
export const CONNECT_TIMEOUT_MS = 20_000;

/**
 * How a page's socket reaches the node: WebSocket alone (through the failover balancer, which
 * keeps no stickiness), or long-polling alone (a network that refuses the upgrade), which needs
 * a sticky balancer (sticky-balancer.ts) and keeps its cookie as a browser does.
 */
export type PageTransport = 'websocket' | 'polling';

/**
 * A socket through the balancer as the pages make it (docs/protocol.md §2): socket.io-client's own
 * reconnection, and after every `connect`, the page's resync (`onSync`). `from` is the loopback
 * address it connects from (Linux routes all of 127.0.0.0/8 to loopback), so a balancer hashing
 * client addresses tells the phones apart: engine.io-client hands `agent` to its long-polling
 * requests and `localAddress` (with `agent`) to its WebSocket.
 */
export function pageSocket(
  url: string,
  token: string,
  onSync: (s: AppSocket) => void,
  transport: PageTransport = 'websocket',
  from?: string,
): AppSocket {
  const source = from === undefined ? {} : { agent: new Agent({ localAddress: from }), localAddress: from };
  const socket: AppSocket = io(url, {
    // engine.io-client types `agent` as string | boolean; in Node it is passed to http.request.
    ...(source as Record<string, unknown>),
    auth: { token },
    transports: [transport],
    // In Node, engine.io-client keeps cookies (the balancer's) only with withCredentials.
    withCredentials: transport === 'polling',
    forceNew: true,
    reconnectionDelayMax: RECONNECTION_DELAY_MAX_MS,
  });
  socket.on('connect', () => onSync(socket));
  return socket;
}

/** A student's phone: its connection, what its last `session:join` said, and its tap's story. */
export interface Phone {
  socket: AppSocket;
  held: CheckinView | null;
  /** The answer the student was shown (the submission's, or the held record after a lost answer). */
  answer: CheckinView | null;
  submissions: number;
  /** A submission went unanswered (the node died with it). */
  lostAnswer: boolean;
  /** After a lost answer, the record the server held was the answer (stored before the node died). */
  foundHeld: boolean;
  disconnects: number;
}

/** A phone through `url` whose every connect joins `sessionId()` (the page's resync), keeping what the join said. */
export function newPhone(
  url: string,
  token: string,
  sessionId: () => string | null,
  transport: PageTransport = 'websocket',
  from?: string,
): Phone {
  const phone: Phone = {
    socket: null as unknown as AppSocket,
    held: null,
    answer: null,
    submissions: 0,
    lostAnswer: false,
    foundHeld: false,
    disconnects: 0,
  };
  phone.socket = pageSocket(
    url,
    token,
    (sock) => {
      const id = sessionId();
      if (!id) return;
      void command(sock, 'session:join', { sessionId: id }).then(
        (ack) => (phone.held = ack.ok ? ack.data.checkin : phone.held),
        () => undefined,
      );
    },
    transport,
    from,
  );
  phone.socket.on('disconnect', () => (phone.disconnects += 1));
  return phone;
}

/** studentId → `status@recordVersion` of each entry with a record: what a screen shows, comparable to the store. */
export function shownRoster(feed: RosterFeed): Map<string, string> {
  return new Map(
    feed.roster
      .list()
      .filter((e) => e.recordId !== null)
      .map((e) => [e.studentId, `${e.status}@${e.recordVersion}`]),
  );
}

/**
 * One tap delivered as the student page does (src/web/lib/checkin-delivery.ts): sent once
 * connected; no answer means read the held record once connected again (`session:join`) and send
 * again only when there is none; BUSY / UNAVAILABLE sent again after the hint.
 */
export async function deliver(phone: Phone, sessionId: string, onAnswer: () => void = () => undefined): Promise<void> {
  for (let tries = 0; tries < 6; tries += 1) {
    await waitFor(() => phone.socket.connected, 20_000, 10);
    if (phone.lostAnswer) {
      const joined = ok(await command(phone.socket, 'session:join', { sessionId }));
      if (joined.checkin) {
        phone.foundHeld = true;
        phone.answer = joined.checkin;
        return onAnswer();
      }
    }
    phone.submissions += 1;
    const location = { lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() };
    let ack: Ack<CheckinView>;
    try {
      ack = await command(phone.socket, 'checkin:submit', { sessionId, location }, ANSWER_WAIT_MS);
    } catch {
      phone.lostAnswer = true;
      continue;
    }
    if (ack.ok) {
      phone.answer = ack.data;
      return onAnswer();
    }
    expect(['BUSY', 'UNAVAILABLE'], `${ack.error.code}: ${ack.error.message}`).to.include(ack.error.code);
    await new Promise((r) => setTimeout(r, Number(ack.error.details?.['retryAfterMs'] ?? 1_000)));
  }
  throw new Error('check-in not delivered in 6 tries');
}

/** A teacher's screen on the pages' roster logic: watches again after every connect, resyncs on gaps and notices. */
export function screen(
  url: string,
  token: string,
  sessionId: () => string | null,
  transport: PageTransport = 'websocket',
  from?: string,
): { socket: AppSocket; feed: RosterFeed } {
  let socket: AppSocket | null = null;
  const feed = new RosterFeed({
    fetchSnapshot: async (id) => ok(await command(socket!, 'session:watch', { sessionId: id })),
    gapWaitMs: 300,
  });
  socket = pageSocket(
    url,
    token,
    () => {
      const id = sessionId();
      if (id) void feed.watch(id);
    },
    transport,
    from,
  );
  onRosterUpdate(socket, (u) => feed.update(u));
  socket.on('roster:resync', (n) => feed.resyncNotice(n));
  return { socket, feed };
}
