// Socket.IO side of a client written from docs/protocol.md alone: connecting with the token in the
// handshake's `auth` (§2), commands with a client timeout (§4), the roster rules of §8 and the
// student's record kept by `recordVersion` (§6).
import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  AckError,
  CheckinView,
  RosterCounts,
  RosterEntry,
  RosterSnapshot,
  RosterUpdates,
  SessionView,
} from './protocol-types.js';

export class RefusedConnection extends Error {
  constructor(
    readonly code: string | undefined,
    readonly details: Record<string, unknown> | undefined,
  ) {
    super(`connection refused: ${code ?? 'no code'}`);
  }
}

/** Connects with the function form of `auth` (§2), so every reconnection sends the current token. */
export async function connect(baseUrl: string, token: () => string): Promise<Socket> {
  const socket = io(baseUrl, {
    auth: (cb) => cb({ token: token() }),
    transports: ['websocket'],
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: Error & { data?: { code?: string; details?: Record<string, unknown> } }) => {
      socket.close();
      reject(new RefusedConnection(err.data?.code, err.data?.details));
    });
  });
  return socket;
}

/** A command with its acknowledgement, typed as §4 says (socket.io-client types it `any`). */
export async function ask<T>(socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<Ack<T>> {
  const ack: Ack<T> = await socket.timeout(timeoutMs).emitWithAck(event, payload);
  return ack;
}

/** The data of an ok answer, or an error carrying the answer's code. */
export async function must<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const ack = await ask<T>(socket, event, payload);
  if (!ack.ok) throw new CommandRefused(event, ack.error);
  return ack.data;
}

export class CommandRefused extends Error {
  constructor(
    readonly event: string,
    readonly error: AckError,
  ) {
    super(`${event} refused: ${error.code} ${error.message}`);
  }
}

/** Waits for the first event `name` whose payload passes `test`. */
export function nextEvent<T>(socket: Socket, name: string, test: (p: T) => boolean = () => true, ms = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(name, on);
      reject(new Error(`no ${name} within ${ms} ms`));
    }, ms);
    const on = (payload: T): void => {
      if (!test(payload)) return;
      clearTimeout(timer);
      socket.off(name, on);
      resolve(payload);
    };
    socket.on(name, on);
  });
}

/**
 * A watched session's roster by the rules of §8: the apply rule (one entry per student, replaced
 * only by a newer `recordVersion`), updates buffered while a watch is in flight, the gap rule (a
 * version missing for ~1 s asks for a snapshot), `roster:resync` and a watch again after every
 * reconnection (the snapshot replaces, entries held included).
 */
export class RosterFeed {
  readonly entries = new Map<string, RosterEntry>();
  version = 0;
  snapshots = 0;
  private seen = new Set<number>();
  private buffered: RosterUpdates['updates'] = [];
  private inFlight: Promise<void> | null = null;
  private again = false;
  private gapTimer: NodeJS.Timeout | null = null;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly socket: Socket,
    readonly sessionId: string,
  ) {
    const onUpdates = (msg: RosterUpdates): void => {
      if (msg.sessionId !== this.sessionId) return;
      if (this.inFlight !== null) this.buffered.push(...msg.updates);
      else this.apply(msg.updates);
    };
    const onResync = (msg: { sessionId: string }): void => {
      if (msg.sessionId === this.sessionId) void this.resync();
    };
    const onConnect = (): void => void this.resync();
    socket.on('roster:updates', onUpdates);
    socket.on('roster:resync', onResync);
    socket.on('connect', onConnect);
    this.listeners.push(
      () => socket.off('roster:updates', onUpdates),
      () => socket.off('roster:resync', onResync),
      () => socket.off('connect', onConnect),
    );
  }

  /** `session:watch` and the snapshot in place of what is held; a resync asked meanwhile takes another. */
  resync(): Promise<void> {
    if (this.inFlight !== null) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      do {
        this.again = false;
        const snap = await must<RosterSnapshot>(this.socket, 'session:watch', { sessionId: this.sessionId });
        this.snapshots += 1;
        this.entries.clear();
        for (const e of snap.entries) this.entries.set(e.studentId, e);
        this.version = snap.version;
        this.seen = new Set();
        const buffered = this.buffered;
        this.buffered = [];
        this.apply(buffered);
      } while (this.again);
    })().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private apply(updates: RosterUpdates['updates']): void {
    for (const { version, entry } of updates) {
      const held = this.entries.get(entry.studentId);
      if (held === undefined || entry.recordVersion > held.recordVersion) this.entries.set(entry.studentId, entry);
      if (version > this.version) this.seen.add(version);
    }
    this.checkGap();
  }

  private checkGap(): void {
    const top = Math.max(this.version, ...this.seen);
    let v = this.version;
    while (this.seen.has(v + 1)) {
      v += 1;
      this.seen.delete(v);
    }
    this.version = v;
    if (v >= top) {
      if (this.gapTimer !== null) clearTimeout(this.gapTimer);
      this.gapTimer = null;
      return;
    }
    this.gapTimer ??= setTimeout(() => {
      this.gapTimer = null;
      void this.resync();
    }, 1_000);
  }

  entry(studentId: string): RosterEntry {
    const e = this.entries.get(studentId);
    if (e === undefined) throw new Error(`no roster entry for ${studentId}`);
    return e;
  }

  /** The buckets of §16, counted from the entries. */
  counts(): RosterCounts {
    const c: RosterCounts = { present: 0, late: 0, pending: 0, rejected: 0, excused: 0, absent: 0, notYet: 0, total: 0 };
    for (const e of this.entries.values()) {
      c[e.status === 'not-yet' ? 'notYet' : e.status] += 1;
      c.total += 1;
    }
    return c;
  }

  stop(): void {
    if (this.gapTimer !== null) clearTimeout(this.gapTimer);
    for (const off of this.listeners) off();
  }
}

/** A student's own records by session, the higher `recordVersion` winning (§6). */
export class OwnRecords {
  readonly bySession = new Map<string, CheckinView>();
  readonly statuses: SessionView[] = [];
  constructor(socket: Socket) {
    socket.on('checkin:decision', (v: CheckinView) => this.keep(v));
    socket.on('session:status', (s: SessionView) => this.statuses.push(s));
  }
  keep(v: CheckinView | null): void {
    if (v === null) return;
    const held = this.bySession.get(v.sessionId);
    if (held === undefined || v.recordVersion > held.recordVersion) this.bySession.set(v.sessionId, v);
  }
}

/** What a student's phone does with each refusal protocol.md §5.6, §5.7 and §4 list for its commands. */
export type StudentReaction = 'fix-and-retry' | 'wait-and-retry' | 'read-final-record' | 'tell-and-stop' | 'log-in-again' | 'new-challenge';

export const studentReactions: Record<string, StudentReaction> = {
  VALIDATION_FAILED: 'fix-and-retry',
  LOCATION_REQUIRED: 'fix-and-retry',
  LIVENESS_REQUIRED: 'new-challenge',
  LIVENESS_CHALLENGE_INVALID: 'new-challenge',
  LIVENESS_NOT_REQUIRED: 'fix-and-retry',
  BUSY: 'wait-and-retry',
  UNAVAILABLE: 'wait-and-retry',
  RATE_LIMITED: 'wait-and-retry',
  RECORD_CHANGED: 'wait-and-retry',
  SESSION_NOT_OPEN: 'wait-and-retry',
  SESSION_CLOSED: 'read-final-record',
  OUTSIDE_WINDOW: 'read-final-record',
  SESSION_CANCELLED: 'tell-and-stop',
  SESSION_NOT_FOUND: 'tell-and-stop',
  NOT_ENROLLED: 'tell-and-stop',
  FORBIDDEN: 'tell-and-stop',
  ACCOUNT_DISABLED: 'tell-and-stop',
  ORGANISATION_DISABLED: 'tell-and-stop',
  PASSWORD_CHANGE_REQUIRED: 'log-in-again',
  TOKEN_REVOKED: 'log-in-again',
  INTERNAL: 'wait-and-retry',
};

/** The reaction to a refusal; a code the docs do not list for a student's commands is an error of the docs. */
export function studentReaction(code: string): StudentReaction {
  const r = studentReactions[code];
  if (r === undefined) throw new Error(`${code} is not a refusal protocol.md lists for a student's commands`);
  return r;
}
