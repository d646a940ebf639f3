import type { AppSocket } from './types.js';

/** How long before expiry a socket is told to renew its token. */
export const EXPIRY_WARNING_MS = 60_000;

/**
 * The warning's lead for tokens that live `ttlS` seconds: a minute, or a third of a shorter
 * life, so that a renewed token is not due for renewal the moment it arrives (with a 30 s
 * token, a one-minute lead would have the page renew in a loop).
 */
export function expiryWarningMs(ttlS: number): number {
  return Math.min(EXPIRY_WARNING_MS, Math.floor((ttlS * 1000) / 3));
}
const SWEEP_MS = 1_000;

/**
 * Tells sockets that their access token is about to expire (`auth:expiring`, about a minute
 * before) and cuts them at expiry (`auth:expired`, then a disconnect), to the second.
 *
 * One sweep per node over per-second buckets instead of two timers per socket: with 10,000
 * sockets the timers and their closures were a measurable part of each connection's memory.
 */
export class TokenExpiryWatch {
  private readonly warnings = new Map<number, Set<AppSocket>>();
  private readonly expiries = new Map<number, Set<AppSocket>>();
  private readonly timer: NodeJS.Timeout;
  private lastSweep: number;
  /** Shared by every socket: socket.io calls it with `this` bound to the disconnected socket. */
  private readonly onDisconnect: (this: AppSocket) => void;

  constructor(
    private readonly now: () => Date,
    private readonly warningMs = EXPIRY_WARNING_MS,
  ) {
    this.lastSweep = this.second();
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
    const untrack = (socket: AppSocket) => this.untrack(socket);
    this.onDisconnect = function (this: AppSocket) {
      untrack(this);
    };
  }

  /** Starts watching a connected socket's socket.data.tokenExpiresAt. */
  track(socket: AppSocket): void {
    this.schedule(socket);
    socket.on('disconnect', this.onDisconnect);
  }

  /** Moves the deadline after `auth:renew`. */
  renew(socket: AppSocket, expiresAt: number): void {
    this.untrack(socket);
    socket.data.tokenExpiresAt = expiresAt;
    this.schedule(socket);
  }

  close(): void {
    clearInterval(this.timer);
    this.warnings.clear();
    this.expiries.clear();
  }

  /** Runs what is due; public so a test clock can drive it. */
  sweep(): void {
    const now = this.second();
    this.lastSweep = now;
    for (const [at, sockets] of this.warnings) {
      if (at > now) continue;
      this.warnings.delete(at);
      for (const s of sockets) s.emit('auth:expiring', { expiresAt: new Date(s.data.tokenExpiresAt).toISOString() });
    }
    for (const [at, sockets] of this.expiries) {
      if (at > now) continue;
      this.expiries.delete(at);
      for (const s of sockets) {
        s.emit('auth:expired');
        s.disconnect(true);
      }
    }
  }

  private schedule(socket: AppSocket): void {
    const expiresAt = socket.data.tokenExpiresAt;
    add(this.warnings, this.bucket(expiresAt - this.warningMs), socket);
    add(this.expiries, this.bucket(expiresAt), socket);
  }

  private untrack(socket: AppSocket): void {
    const expiresAt = socket.data.tokenExpiresAt;
    remove(this.warnings, this.bucket(expiresAt - this.warningMs), socket);
    remove(this.expiries, this.bucket(expiresAt), socket);
    // A bucket already clamped to the next sweep: look there too.
    remove(this.warnings, this.lastSweep + 1, socket);
    remove(this.expiries, this.lastSweep + 1, socket);
  }

  /** The sweep second at or after `ms`, never one already swept (those would never run). */
  private bucket(ms: number): number {
    return Math.max(Math.ceil(ms / 1000), this.lastSweep + 1);
  }

  private second(): number {
    return Math.floor(this.now().getTime() / 1000);
  }
}

function add(map: Map<number, Set<AppSocket>>, at: number, socket: AppSocket): void {
  let set = map.get(at);
  if (!set) map.set(at, (set = new Set()));
  set.add(socket);
}

function remove(map: Map<number, Set<AppSocket>>, at: number, socket: AppSocket): void {
  const set = map.get(at);
  if (!set?.delete(socket)) return;
  if (set.size === 0) map.delete(at);
}
