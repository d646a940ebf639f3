/**
 * The clients of `scripts/bench-checkins.ts`, either socket.io-client (one per student, a promise
 * and a timer per message) or the load generator's lean client (scripts/lib/lean-socket.ts:
 * pre-encoded frames, answers read by id). Both sides of the bench (the service and the bare
 * echo) use the same kind in one run, so that their ratio compares servers, not clients: the
 * clients share the 2-core machine and the closed loop with the server they measure.
 */
import type { Socket } from 'socket.io-client';
import type { Ack } from '../../src/shared/errors.js';
import type { RosterUpdates } from '../../src/shared/events.js';
import { connectBench, emitAck } from './bench-node.js';
import { CheckinFrames, LeanClients, type LeanSocket } from './lean-socket.js';
import { RosterFrameReader } from './roster-frames.js';

export type BenchClientKind = 'socketio' | 'lean';
export const BENCH_CLIENT_KINDS: readonly BenchClientKind[] = ['socketio', 'lean'];

/** Handshakes in flight at once (as connectBench). */
const CONNECT_BATCH = 50;

/** One closed-loop phase: per message its send and answer times (performance.now()) and whether it was acknowledged ok. */
export interface Phase {
  sentAt: Float64Array;
  answeredAt: Float64Array;
  ok: Uint8Array;
  errors: number;
}

/** What a message of a phase is: the socket that sends it, and the session of a check-in (none: an echo). */
export type MessageOf = (j: number) => { socket: number; sessionId: string | null };

export interface BenchClients {
  /** Connects one socket per token (CONNECT_BATCH at a time); sockets are numbered in order, over calls. */
  connect(url: string, tokens: readonly string[]): Promise<void>;
  request<T>(socket: number, event: string, payload: unknown): Promise<Ack<T>>;
  /** Each `roster:updates` push to `socket`, read into one reader (read it at once). */
  onRoster(socket: number, listener: (batch: RosterFrameReader) => void): void;
  /**
   * Sends `n` messages, `window` in flight at most, the next as soon as one is answered; their
   * times go into `into` as they happen (a roster listener reads the send times meanwhile).
   */
  run(n: number, window: number, message: MessageOf, into?: Phase): Promise<Phase>;
  /** Disconnects every socket, for good. */
  close(): void;
  /** The reader of the roster pushes (lean: frames scanned, compared, parsed in full, drift). */
  readonly reader: RosterFrameReader;
}

export function benchClients(kind: BenchClientKind, location: { lat: number; lon: number; accuracy: number }): BenchClients {
  return kind === 'lean' ? new LeanBench(location) : new SocketIoBench(location);
}

/** A phase of `n` messages, nothing sent yet. */
export const newPhase = (n: number): Phase => ({
  sentAt: new Float64Array(n).fill(Number.NaN),
  answeredAt: new Float64Array(n).fill(Number.NaN),
  ok: new Uint8Array(n),
  errors: 0,
});

class SocketIoBench implements BenchClients {
  private sockets: Socket[] = [];
  readonly reader = new RosterFrameReader();

  constructor(private readonly location: { lat: number; lon: number; accuracy: number }) {}

  async connect(url: string, tokens: readonly string[]): Promise<void> {
    await connectBench(url, tokens, { into: this.sockets });
  }

  request<T>(socket: number, event: string, payload: unknown): Promise<Ack<T>> {
    return emitAck<T>(this.sockets[socket]!, event, payload);
  }

  onRoster(socket: number, listener: (batch: RosterFrameReader) => void): void {
    this.sockets[socket]!.on('roster:updates', (batch: RosterUpdates) => {
      this.reader.fill(batch);
      listener(this.reader);
    });
  }

  async run(n: number, window: number, message: MessageOf, p: Phase = newPhase(n)): Promise<Phase> {
    let next = 0;
    const { lat, lon, accuracy } = this.location;
    await Promise.all(
      Array.from({ length: Math.min(window, n) }, async () => {
        while (next < n) {
          const j = next++;
          const { socket, sessionId } = message(j);
          const location = { lat, lon, accuracy, timestamp: Date.now() };
          p.sentAt[j] = performance.now();
          const ack = await (
            sessionId === null
              ? emitAck(this.sockets[socket]!, 'echo', location)
              : emitAck(this.sockets[socket]!, 'checkin:submit', { sessionId, location })
          ).catch((): null => null);
          p.answeredAt[j] = performance.now();
          if (ack?.ok) p.ok[j] = 1;
          else p.errors += 1;
        }
      }),
    );
    return p;
  }

  close(): void {
    for (const s of this.sockets.splice(0)) s.disconnect();
  }
}

class LeanBench implements BenchClients {
  private sockets: LeanSocket[] = [];
  private onAnswer: (id: number, at: number, code: string | null) => void = () => undefined;
  /** The first ack id of the next phase: ids never repeat, so an earlier phase's late answer cannot pass for a later one's. */
  private nextId = 0;
  private readonly clients = new LeanClients((id, at, code) => this.onAnswer(id, at, code), 10_000);
  private readonly frames: CheckinFrames;
  readonly reader = new RosterFrameReader();

  constructor(private readonly location: { lat: number; lon: number; accuracy: number }) {
    this.frames = new CheckinFrames(location);
  }

  async connect(url: string, tokens: readonly string[]): Promise<void> {
    for (let i = 0; i < tokens.length; i += CONNECT_BATCH) {
      const batch = await Promise.all(tokens.slice(i, i + CONNECT_BATCH).map((token) => this.clients.connect(url, token)));
      this.sockets.push(...batch);
    }
  }

  request<T>(socket: number, event: string, payload: unknown): Promise<Ack<T>> {
    return this.sockets[socket]!.request<T>(event, payload);
  }

  onRoster(socket: number, listener: (batch: RosterFrameReader) => void): void {
    this.sockets[socket]!.onRaw('roster:updates', (text) => {
      if (this.reader.read(text)) listener(this.reader);
    });
  }

  run(n: number, window: number, message: MessageOf, p: Phase = newPhase(n)): Promise<Phase> {
    if (n === 0) return Promise.resolve(p);
    const { lat, lon, accuracy } = this.location;
    const echoFrom = `["echo",{"lat":${lat},"lon":${lon},"accuracy":${accuracy},"timestamp":`;
    let next = 0;
    let answered = 0;
    const base = this.nextId;
    this.nextId += n;
    return new Promise<Phase>((resolve) => {
      // The message's ack id is `base` plus its index: the answer names it.
      const send = (): void => {
        const j = next++;
        const id = base + j;
        const { socket, sessionId } = message(j);
        const frame = sessionId === null ? `42${id}${echoFrom}${Date.now()}}]` : this.frames.frame(id, sessionId, Date.now());
        p.sentAt[j] = performance.now();
        // Not connected: answered at once, off this stack (a run of them would nest).
        if (!this.sockets[socket]!.send(id, frame)) queueMicrotask(() => this.onAnswer(id, performance.now(), 'NOT_CONNECTED'));
      };
      this.onAnswer = (id, at, code) => {
        const j = id - base;
        // An earlier phase's answer arriving after its own timeout: not this phase's.
        if (j < 0 || j >= n) return;
        p.answeredAt[j] = at;
        if (code === null) p.ok[j] = 1;
        else p.errors += 1;
        answered += 1;
        if (next < n) send();
        else if (answered === n) resolve(p);
      };
      for (let k = 0; k < Math.min(window, n); k += 1) send();
    });
  }

  close(): void {
    this.clients.close();
    this.sockets = [];
  }
}
