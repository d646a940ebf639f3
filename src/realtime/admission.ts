import type { IncomingMessage } from 'node:http';
import { admissionRefusalText } from '../shared/admission.js';
import type { LoopLag } from './loop-lag.js';

/** The bounds past which this node refuses new handshakes (SOCKET_ADMISSION_*); 0 turns one off. */
export interface AdmissionLimits {
  /** Handshakes admitted and not yet connected, refused or closed. */
  maxHandshakes: number;
  /**
   * Of those, the most one client address may hold. Without it one anonymous client filled the
   * whole bound with plain GETs (500 in under 3 s, again every hold period), and every student was
   * refused as long as it kept on.
   */
  maxHandshakesPerAddress: number;
  /** How late the event loop may be, in milliseconds. */
  maxLagMs: number;
  /**
   * How long one handshake may count, in milliseconds. A client's CONNECT follows its engine.io
   * handshake by one round trip and its authentication takes milliseconds: one still unsettled
   * after this is a client idling (or an attacker holding the bound: an anonymous GET each, kept
   * until socket.io's 45 s connect timeout, refused every student that long). It goes on; it
   * just stops counting.
   */
  holdMs: number;
}

/** The timer of a handshake's hold bound; injected by tests. */
export interface HoldTimers {
  set(release: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: HoldTimers = {
  set: (release, ms) => setTimeout(release, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type AdmissionReason = 'handshakes' | 'address' | 'lag';

/** The hint of a refusal for too many handshakes: about the time a node takes to finish its bound of them. */
const HANDSHAKES_RETRY_MS = 1_000;
/** A lag refusal's hint is twice the lag, within these: the loop must catch up before more work arrives. */
const LAG_RETRY_MIN_MS = 1_000;
const LAG_RETRY_MAX_MS = 10_000;

type Connection = {
  readonly request: object | null;
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
};

/**
 * Admission of Socket.IO handshakes, asked by engine.io's `allowRequest` before anything else is
 * done for them: while the node is over a bound, a new connection is refused there, before its
 * token is checked, its user read or its rooms joined, so the phones of a reconnect storm that the
 * node cannot serve yet cost it one HTTP answer each and retry later (docs/protocol.md §2). Only
 * handshakes are asked: the requests of a connection already open are never refused.
 *
 * A handshake is counted from its admission until its socket connects, or its connection closes
 * (a refusal by the authentication middleware is followed by the client closing it), or engine.io
 * gives up on it, and never longer than the hold bound.
 */
export class HandshakeAdmission {
  private inFlight = 0;
  /** Handshakes in flight by client address (addressOf); an address leaves it at none. */
  private readonly byAddress = new Map<string, number>();
  /** Each admitted handshake's release, by its request and, once there, its engine.io connection. */
  private readonly admitted = new WeakMap<object, () => void>();
  private readonly connections = new WeakMap<() => void, Connection>();
  /** Made once: in a storm it is the answer to most handshakes. */
  private readonly handshakesRefusal = admissionRefusalText(HANDSHAKES_RETRY_MS);

  constructor(
    private readonly limits: AdmissionLimits,
    /** The client address a handshake is counted under (TRUST_PROXY's, by /64 for IPv6: addressLimitKey). */
    private readonly addressOf: (req: IncomingMessage) => string,
    /** Null with the lag bound off. */
    private readonly lag: Pick<LoopLag, 'currentMs'> | null,
    private readonly onRefused: (reason: AdmissionReason) => void = () => undefined,
    private readonly timers: HoldTimers = realTimers,
  ) {}

  /** Handshakes admitted and not yet settled. */
  get handshakes(): number {
    return this.inFlight;
  }

  /** Null when the handshake may proceed (it is counted until settled), else the refusal for `allowRequest`. */
  admit(req: IncomingMessage): string | null {
    const { maxHandshakes, maxHandshakesPerAddress, maxLagMs } = this.limits;
    if (maxHandshakes > 0 && this.inFlight >= maxHandshakes) {
      this.onRefused('handshakes');
      return this.handshakesRefusal;
    }
    const address = this.addressOf(req);
    const ofAddress = this.byAddress.get(address) ?? 0;
    if (maxHandshakesPerAddress > 0 && ofAddress >= maxHandshakesPerAddress) {
      this.onRefused('address');
      return this.handshakesRefusal;
    }
    if (maxLagMs > 0 && this.lag) {
      const lagMs = this.lag.currentMs();
      if (lagMs > maxLagMs) return this.refuse('lag', Math.round(Math.min(LAG_RETRY_MAX_MS, Math.max(LAG_RETRY_MIN_MS, 2 * lagMs))));
    }
    this.count(req, address);
    return null;
  }

  /**
   * The handshake of this request or engine.io connection is over (connected or failed); unknown
   * or settled ones are ignored.
   */
  settle(requestOrConnection: object): void {
    this.admitted.get(requestOrConnection)?.();
  }

  /**
   * Follows an admitted handshake to its engine.io connection: the connection closing before the
   * socket connected settles it, and the connection names it from then on (the authentication
   * lets the request go: socket-auth.ts).
   */
  watch(conn: Connection): void {
    const release = conn.request ? this.admitted.get(conn.request) : undefined;
    if (!release) return;
    this.admitted.set(conn, release);
    conn.once('close', release);
    this.connections.set(release, conn);
  }

  private count(req: IncomingMessage, address: string): void {
    this.inFlight += 1;
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    // A WebSocket upgrade that ws aborts (a bad key) reaches no engine.io event: its socket's
    // close settles it. A polling handshake's socket may be a proxy's, shared by many clients.
    const upgrade = req.headers.upgrade !== undefined;
    let settled = false;
    // Lets go of the request and the connection: nothing of a settled handshake stays referenced.
    const release = (): void => {
      if (settled) return;
      settled = true;
      this.timers.clear(hold);
      this.inFlight -= 1;
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.byAddress.set(address, left);
      else this.byAddress.delete(address);
      this.admitted.delete(req);
      if (upgrade) req.socket.removeListener('close', release);
      const conn = this.connections.get(release);
      if (conn) {
        this.connections.delete(release);
        this.admitted.delete(conn);
        conn.removeListener('close', release);
      }
    };
    const hold = this.timers.set(release, this.limits.holdMs);
    this.admitted.set(req, release);
    if (upgrade) req.socket.once('close', release);
  }

  private refuse(reason: AdmissionReason, retryAfterMs: number): string {
    this.onRefused(reason);
    return admissionRefusalText(retryAfterMs);
  }
}
