/**
 * A minimal Socket.IO client for the load generator (`scripts/loadtest.ts --client lean`, the
 * default): the same wire protocol as socket.io-client over one WebSocket (engine.io v4, no
 * long-polling and no upgrade; Socket.IO v5 packets in text frames), without its per-socket
 * machinery. At 5,000 check-ins/s over 2,040 sockets socket.io-client spent about a third of the
 * generator's busy time in its parser, emitters, engine.io timers and debug calls, and made a
 * promise, a closure and a timer per check-in; on a 2-core machine that time is taken from the
 * node being measured, and its event-loop delay lands in every latency it reports.
 *
 * What it speaks (test/integration/lean-socket.test.ts checks it against the real server):
 *   engine.io  `0{...}` open (read for pingInterval/pingTimeout), `2` ping -> `3` pong, `1` close
 *   socket.io  `40{"token":...}` CONNECT with the auth, `40{"sid"}` / `44{...}` its answer,
 *              `42<id>["event",payload]` an EVENT with an ack id, `43<id>[answer]` its ACK,
 *              `42["event",payload]` a push, `41` the server's DISCONNECT
 * The hot path (`send`) takes a frame the caller has already encoded, its ack id the caller's
 * own number, and reports answers to one handler per client set: no per-message closure,
 * promise or timer; acknowledgements are told ok or not from their first characters and parsed
 * only when refused. Binary attachments (selfies) are not spoken: --selfies uses socket.io-client.
 */
import { WebSocket } from 'ws';
import type { Ack } from '../../src/shared/errors.js';

/** Answers to `send`: `code` null when acknowledged `{ok:true}`; `at` is performance.now(). */
export type AnswerHandler = (id: number, at: number, code: string | null) => void;

export interface LeanOptions {
  /** Reconnect (same token) after the connection closes unasked; the answers it was waiting for are told DISCONNECTED. */
  reconnect?: boolean;
  /** Delay before a reconnect (ms). */
  reconnectDelayMs?: number;
  connectTimeoutMs?: number;
}

/** An ack id range of its own for `request` (setup calls), far above any plan index `send` uses. */
const REQUEST_IDS_FROM = 1e12;
const OK_PREFIX = '[{"ok":true';
// A zero mask: the frame format is the standard one (a client frame is masked), but masking costs
// nothing and draws no random bytes for each of thousands of frames a second (ws's generateMask).
const zeroMask = (mask: Buffer) => void mask.fill(0);

/**
 * The sockets of one run and their shared parts: the answer handler, and one timer that times
 * out acknowledgements (instead of a timer per message).
 */
export class LeanClients {
  private readonly sockets = new Set<LeanSocket>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    readonly onAnswer: AnswerHandler,
    readonly ackTimeoutMs = 15_000,
  ) {
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const s of this.sockets) s.expire(now - this.ackTimeoutMs);
    }, 250);
    this.sweep.unref();
  }

  /** Opens a socket and resolves once its Socket.IO CONNECT is accepted (rejects on refusal, close or timeout). */
  connect(url: string, token: string, options: LeanOptions = {}): Promise<LeanSocket> {
    const socket = new LeanSocket(this, url, token, options);
    this.sockets.add(socket);
    return socket.opened().then(
      () => socket,
      (err: unknown) => {
        socket.close();
        throw err;
      },
    );
  }

  /** @internal */
  forget(socket: LeanSocket): void {
    this.sockets.delete(socket);
  }

  /** Closes every socket (the clients stay usable for another run). */
  closeSockets(): void {
    for (const s of [...this.sockets]) s.close();
  }

  close(): void {
    clearInterval(this.sweep);
    this.closeSockets();
  }
}

export class LeanSocket {
  private ws: WebSocket | null = null;
  private connected = false;
  private closedByUs = false;
  /** `send`'s ack ids waiting for an answer, with their send time (performance.now()). */
  private readonly outstanding = new Map<number, number>();
  private readonly requests = new Map<number, { resolve: (a: unknown) => void; reject: (e: Error) => void; at: number }>();
  private nextRequestId = REQUEST_IDS_FROM;
  private readonly listeners = new Map<string, (payload: unknown) => void>();
  private readonly rawListeners = new Map<string, (frame: string) => void>();
  private pingTimer: NodeJS.Timeout | null = null;
  private pingTimeoutMs = 45_000;
  private first: Promise<void>;
  /** Connections opened (1 + reconnects). */
  connections = 0;

  constructor(
    private readonly clients: LeanClients,
    private readonly url: string,
    private readonly token: string,
    private readonly options: LeanOptions,
  ) {
    this.first = this.open();
  }

  /** @internal */
  opened(): Promise<void> {
    return this.first;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Pushes of `event` go to `listener` (its payload parsed); one listener per event. */
  on(event: string, listener: (payload: unknown) => void): void {
    this.listeners.set(event, listener);
  }

  /**
   * Pushes of `event` go to `listener` as their whole text frame (`42["event",...]`), unparsed:
   * for a caller that reads only part of it (scripts/lib/roster-frames.ts). Takes the place of an
   * `on` listener of the same event.
   */
  onRaw(event: string, listener: (frame: string) => void): void {
    this.rawListeners.set(event, listener);
  }

  /**
   * Sends `frame`, a whole Socket.IO EVENT text (`42<id>["event",...]`) carrying ack id `id`;
   * its answer goes to the clients' handler. False (nothing sent) when not connected.
   */
  send(id: number, frame: string): boolean {
    if (!this.connected) return false;
    this.outstanding.set(id, performance.now());
    this.ws!.send(frame);
    return true;
  }

  /** A command with its answer as a promise (setup calls, not the measured check-ins). */
  request<T>(event: string, payload: unknown): Promise<Ack<T>> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    const id = this.nextRequestId++;
    return new Promise<Ack<T>>((resolve, reject) => {
      this.requests.set(id, { resolve: resolve as (a: unknown) => void, reject, at: performance.now() });
      this.ws!.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  close(): void {
    this.closedByUs = true;
    this.clients.forget(this);
    this.ws?.close();
    this.down('DISCONNECTED');
  }

  /** @internal Answers sent before `before` time out. */
  expire(before: number): void {
    for (const [id, at] of this.outstanding)
      if (at < before) {
        this.outstanding.delete(id);
        this.clients.onAnswer(id, performance.now(), 'ACK_TIMEOUT');
      }
    for (const [id, r] of this.requests)
      if (r.at < before) {
        this.requests.delete(id);
        r.reject(new Error('ACK_TIMEOUT'));
      }
  }

  private open(): Promise<void> {
    const target = new URL(this.url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    target.pathname = '/socket.io/';
    target.search = '?EIO=4&transport=websocket';
    const ws = new WebSocket(target, { perMessageDeflate: false, skipUTF8Validation: true, generateMask: zeroMask });
    this.ws = ws;
    this.connections += 1;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(bound);
        if (err) reject(err);
        else resolve();
      };
      const bound = setTimeout(() => {
        settle(new Error('connect timeout'));
        ws.terminate();
      }, this.options.connectTimeoutMs ?? 20_000);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        const text = data.toString();
        const refused = this.onFrame(text);
        if (refused !== undefined) settle(refused);
      });
      ws.on('error', (err) => settle(err));
      ws.on('close', () => {
        settle(new Error('closed before CONNECT'));
        if (this.ws !== ws) return;
        this.down('DISCONNECTED');
        if (!this.closedByUs && this.options.reconnect) {
          setTimeout(() => {
            if (!this.closedByUs) this.open().catch(() => undefined);
          }, this.options.reconnectDelayMs ?? 500);
        }
      });
    });
  }

  /** Reads one engine.io packet; returns null when it accepted the CONNECT, an error when it refused it. */
  private onFrame(text: string): Error | null | undefined {
    const type = text.charCodeAt(0);
    if (type === 52 /* 4 message */) {
      const sio = text.charCodeAt(1);
      if (sio === 51 /* 3 ACK */) this.onAck(text);
      else if (sio === 50 /* 2 EVENT */) this.onEvent(text);
      else if (sio === 48 /* 0 CONNECT */) {
        this.connected = true;
        this.armPing();
        return null;
      } else if (sio === 52 /* 4 CONNECT_ERROR */) {
        const body = JSON.parse(text.slice(2)) as { message?: string };
        return new Error(body.message ?? 'connect_error');
      } else if (sio === 49 /* 1 DISCONNECT */) this.ws?.close();
    } else if (type === 50 /* 2 ping */) {
      this.ws!.send('3');
      this.armPing();
    } else if (type === 48 /* 0 open */) {
      const open = JSON.parse(text.slice(1)) as { pingInterval: number; pingTimeout: number };
      this.pingTimeoutMs = open.pingInterval + open.pingTimeout;
      this.ws!.send(`40${JSON.stringify({ token: this.token })}`);
    } else if (type === 49 /* 1 close */) this.ws?.close();
    return undefined;
  }

  /** As engine.io-client: no ping within pingInterval + pingTimeout means the server is gone. */
  private armPing(): void {
    if (this.pingTimer) this.pingTimer.refresh();
    else {
      this.pingTimer = setTimeout(() => this.ws?.terminate(), this.pingTimeoutMs);
      this.pingTimer.unref();
    }
  }

  private onAck(text: string): void {
    let id = 0;
    let p = 2;
    for (let c = text.charCodeAt(p); c >= 48 && c <= 57; c = text.charCodeAt(++p)) id = id * 10 + (c - 48);
    const request = this.requests.get(id);
    if (request) {
      this.requests.delete(id);
      request.resolve((JSON.parse(text.slice(p)) as unknown[])[0]);
      return;
    }
    if (!this.outstanding.delete(id)) return;
    const at = performance.now();
    if (text.startsWith(OK_PREFIX, p)) {
      this.clients.onAnswer(id, at, null);
      return;
    }
    const [answer] = JSON.parse(text.slice(p)) as [Ack<unknown>];
    this.clients.onAnswer(id, at, answer.ok ? null : answer.error.code);
  }

  private onEvent(text: string): void {
    if (this.listeners.size === 0 && this.rawListeners.size === 0) return;
    // `42["name",...]`: pushes carry no ack id, so the name starts at 4.
    const end = text.indexOf('"', 4);
    const name = text.slice(4, end);
    const raw = this.rawListeners.get(name);
    if (raw) {
      raw(text);
      return;
    }
    const listener = this.listeners.get(name);
    if (!listener) return;
    const [, payload] = JSON.parse(text.slice(2)) as [string, unknown];
    listener(payload);
  }

  /** The connection is gone: what waited for it is told so. */
  private down(code: string): void {
    this.connected = false;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = null;
    const now = performance.now();
    for (const id of this.outstanding.keys()) this.clients.onAnswer(id, now, code);
    this.outstanding.clear();
    for (const r of this.requests.values()) r.reject(new Error(code));
    this.requests.clear();
  }
}

/**
 * Check-in frames with only the varying parts spliced: the ack id and the location's timestamp.
 * The payload is the one socket.io-client sent (`{sessionId, location:{lat,lon,accuracy,timestamp}}`).
 */
export class CheckinFrames {
  private readonly middles = new Map<string, string>();

  constructor(private readonly location: { lat: number; lon: number; accuracy: number }) {}

  frame(id: number, sessionId: string, timestamp: number): string {
    let middle = this.middles.get(sessionId);
    if (middle === undefined) {
      const { lat, lon, accuracy } = this.location;
      middle = `["checkin:submit",{"sessionId":${JSON.stringify(sessionId)},"location":{"lat":${lat},"lon":${lon},"accuracy":${accuracy},"timestamp":`;
      this.middles.set(sessionId, middle);
    }
    return `42${id}${middle}${timestamp}}}]`;
  }
}
