// The realtime side of a client written from docs/protocol.md alone: the shared event map and
// error table it tells clients to import, `auth` as a function (§2), typed acknowledgements with a
// client timeout (§4), and a roster feed that follows the rules of §8.
import { io, type Socket } from 'socket.io-client';
import type { Ack } from '../../src/shared/errors.js';
import type { ClientToServerEvents, RosterEntry, RosterSnapshot, RosterUpdates, ServerToClientEvents } from '../../src/shared/events.js';

/** One change of a `roster:updates` message (protocol.md §6). */
type RosterUpdate = RosterUpdates['updates'][number];

export type DocsSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Command = keyof ClientToServerEvents;
type PayloadOf<E extends Command> = Parameters<ClientToServerEvents[E]>[0];
type AckOf<E extends Command> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0];

export interface RefusedConnection {
  message: string;
  data: { code: string; message: string; details?: Record<string, unknown> };
}

/** Connects with `auth: (cb) => cb({ token })`, as §2 advises; resolves on `connect`. */
export function connect(url: string, token: () => string, opts: { path?: string } = {}): Promise<DocsSocket> {
  const socket: DocsSocket = io(url, {
    auth: (cb) => cb({ token: token() }),
    transports: ['websocket'],
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    ...(opts.path ? { path: opts.path } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Opens a connection the docs say is refused, and answers its `connect_error` (§2 table). */
export function connectRefused(url: string, auth: Record<string, unknown>, query?: Record<string, string>): Promise<RefusedConnection> {
  const socket: DocsSocket = io(url, { auth, ...(query ? { query } : {}), transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.close();
      reject(new Error('the connection was accepted'));
    });
    socket.once('connect_error', (err) => {
      const active = socket.active;
      socket.close();
      const data = (err as Error & { data?: RefusedConnection['data'] }).data;
      if (!data) return reject(err);
      // §2: "After a connect_error from the server socket.io-client does not reconnect on its own".
      if (active) return reject(new Error('the client would reconnect after a server refusal'));
      resolve({ message: err.message, data });
    });
  });
}

/** `socket.timeout(ms).emitWithAck(...)`, with the answer typed as §2 asks of clients. */
export async function send<E extends Command>(socket: DocsSocket, event: E, payload: PayloadOf<E>, timeoutMs = 10_000): Promise<AckOf<E>> {
  const emit = socket.timeout(timeoutMs).emitWithAck as (ev: string, p: unknown) => Promise<AckOf<E>>;
  return emit.call(socket.timeout(timeoutMs), event, payload);
}

/** The data of an `ok: true` acknowledgement; throws with the error of a refused one. */
export function data<T>(ack: Ack<T>): T {
  if (!ack.ok) throw new Error(`refused: ${ack.error.code} ${ack.error.message} ${JSON.stringify(ack.error.details ?? {})}`);
  return ack.data;
}

/** The error code of a refused acknowledgement (null when it succeeded). */
export function codeOf(ack: Ack<unknown>): string | null {
  return ack.ok ? null : ack.error.code;
}

/**
 * Resolves with the next `event` that passes `match`. The bound is for an event that never
 * comes: 20 s, as test/support/sockets.ts's EVENT_WAIT_MS, since a production node on a loaded
 * machine took over 5 s for a close and 10 s left half of that as slack.
 */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: DocsSocket,
  event: E,
  match: (...args: Parameters<ServerToClientEvents[E]>) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<Parameters<ServerToClientEvents[E]>> {
  return new Promise((resolve, reject) => {
    const listener = ((...args: Parameters<ServerToClientEvents[E]>) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      socket.off(event, listener as never);
      resolve(args);
    }) as never;
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on(event, listener);
  });
}

/**
 * A screen's roster of one session, kept by §8's rules: the apply rule (newer recordVersion
 * wins), the gap rule (a version missing for ~1 s means session:watch again), the resync rule
 * (roster:resync replaces everything), the reconnect rule, and buffering while a watch is in flight.
 */
export class RosterFeed {
  readonly entries = new Map<string, RosterEntry>();
  /** The version of the last snapshot. */
  snapshotVersion = -1;
  /** Every version applied since the last snapshot. */
  private seen = new Set<number>();
  private highest = -1;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private buffered: RosterUpdate[] = [];
  private gapTimer: NodeJS.Timeout | null = null;
  /** Snapshots taken, by why. */
  readonly resyncs = { watch: 0, gap: 0, notice: 0, reconnect: 0 };
  private listeners: (() => void)[] = [];

  constructor(
    readonly socket: DocsSocket,
    readonly sessionId: string,
    readonly gapWaitMs = 1_000,
  ) {
    socket.on('roster:updates', this.onUpdates);
    socket.on('roster:resync', this.onResync);
    socket.io.on('reconnect', this.onReconnect);
  }

  async start(): Promise<RosterSnapshot> {
    let snapshot: RosterSnapshot | null = null;
    await this.watch('watch', (s) => (snapshot = s));
    return snapshot!;
  }

  stop(): void {
    this.socket.off('roster:updates', this.onUpdates);
    this.socket.off('roster:resync', this.onResync);
    this.socket.io.off('reconnect', this.onReconnect);
    if (this.gapTimer) clearTimeout(this.gapTimer);
  }

  /** Resolves once `check` holds of the entries (checked after every change). */
  until(check: (entries: Map<string, RosterEntry>) => boolean, timeoutMs = 20_000): Promise<void> {
    if (check(this.entries)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(
          new Error(
            `roster condition not met within ${timeoutMs} ms: ${JSON.stringify([...this.entries.values()].map((e) => [e.name, e.status]))}`,
          ),
        );
      }, timeoutMs);
      const listener = () => {
        if (!check(this.entries)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve();
      };
      this.listeners.push(listener);
    });
  }

  status(studentId: string): string | undefined {
    return this.entries.get(studentId)?.status;
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  private readonly onUpdates = (batch: RosterUpdates): void => {
    if (batch.sessionId !== this.sessionId) return;
    if (this.inFlight) {
      this.buffered.push(...batch.updates);
      return;
    }
    for (const update of batch.updates) this.apply(update);
    this.checkGap();
    this.changed();
  };

  private readonly onResync = (notice: { sessionId: string }): void => {
    if (notice.sessionId === this.sessionId) void this.watch('notice');
  };

  private readonly onReconnect = (): void => {
    void this.watch('reconnect');
  };

  private apply(update: RosterUpdate): void {
    const held = this.entries.get(update.entry.studentId);
    if (!held || update.entry.recordVersion > held.recordVersion) this.entries.set(update.entry.studentId, update.entry);
    this.seen.add(update.version);
    this.highest = Math.max(this.highest, update.version);
  }

  private missing(): boolean {
    for (let v = this.snapshotVersion + 1; v <= this.highest; v += 1) if (!this.seen.has(v)) return true;
    return false;
  }

  private checkGap(): void {
    if (!this.missing()) {
      if (this.gapTimer) clearTimeout(this.gapTimer);
      this.gapTimer = null;
      return;
    }
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.missing()) void this.watch('gap');
    }, this.gapWaitMs);
  }

  private watch(why: keyof RosterFeed['resyncs'], onSnapshot?: (s: RosterSnapshot) => void): Promise<void> {
    if (this.inFlight) {
      // §8: "a resync asked for meanwhile needs another snapshot after that one".
      this.again = true;
      return this.inFlight;
    }
    this.resyncs[why] += 1;
    this.inFlight = (async () => {
      const snapshot = data(await send(this.socket, 'session:watch', { sessionId: this.sessionId }));
      onSnapshot?.(snapshot);
      this.entries.clear();
      for (const entry of snapshot.entries) this.entries.set(entry.studentId, entry);
      this.snapshotVersion = snapshot.version;
      this.highest = snapshot.version;
      this.seen = new Set();
      const buffered = this.buffered;
      this.buffered = [];
      this.inFlight = null;
      for (const update of buffered) if (update.version > snapshot.version) this.apply(update);
      for (const update of buffered) if (update.version <= snapshot.version) this.apply(update);
      this.checkGap();
      this.changed();
      if (this.again) {
        this.again = false;
        await this.watch(why);
      }
    })();
    return this.inFlight;
  }
}
