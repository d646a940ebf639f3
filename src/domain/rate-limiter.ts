/**
 * A `sharedOnly` limiter's count could not be asked (Redis down or restarting): nothing was
 * admitted. Work that can wait waits; it is not a failure of that work.
 */
export class SharedCountUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SharedCountUnavailable';
  }
}

export interface RateLimitResult {
  allowed: boolean;
  /** How long until the key has room again; 0 when allowed. */
  retryAfterMs: number;
}

/**
 * A fixed-window counter per key. The in-memory implementation serves one node; a Redis one
 * (src/cluster) shares the counters across nodes; both live outside the domain (src/adapters).
 */
export interface RateLimiter {
  /** Counts one event for the key; not allowed once the window's budget is spent. */
  consume(key: string): Promise<RateLimitResult>;
  /**
   * Counts one event for the key when that needs no I/O (a count in memory, a node's local
   * budget) and gives the answer now; null, counting nothing, when only consume() can tell. Lets
   * a socket command that the budget is far from stopping skip an await.
   */
  tryConsume(key: string): RateLimitResult | null;
  /** Gives one counted event back (e.g. a login attempt that turned out to succeed). */
  refund(key: string): Promise<void>;
  /** Forgets the key's count. */
  reset(key: string): Promise<void>;
}

export interface RateLimiterOptions {
  /** Events allowed per window. */
  points: number;
  windowS: number;
  keyPrefix: string;
  /**
   * Never admit past `points` across nodes: every event asks the shared counter, none is admitted
   * on a node's local budget (brute-force limits: login attempts, reset emails). docs/limits.md.
   */
  exact?: boolean;
  /**
   * While the shared counter is out of reach (Redis down or restarting), refuse by throwing rather
   * than count on each node: a bound of the whole deployment (the mail relay's per-minute limit),
   * which N nodes counting alone would pass N times over. For work that can wait, never for logins.
   */
  sharedOnly?: boolean;
  /**
   * Any `windowS` seconds admit at most `points` events, not each fixed window (the mail relay's
   * per-minute limit); a refused event is not counted. Kept as the times admitted, so for a few
   * keys only. With Redis it is always shared-only.
   */
  sliding?: boolean;
}

export interface BackoffOptions {
  /** Attempts in a row admitted at once; from the last of them on, one per pause. */
  freeAttempts: number;
  /** The first pause; each further attempt doubles it. */
  baseMs: number;
  maxMs: number;
  /** How long a key's attempts are remembered, counted from the first of them. */
  memoryS: number;
  keyPrefix: string;
}

export interface BackoffAdmission extends RateLimitResult {
  /** Gives an admitted attempt back when it was not evaluated after all (another limit refused it). */
  undo(): Promise<void>;
}

/**
 * Exponential back-off per key instead of a hard lock (src/adapters/backoff-limiter.ts holds
 * the rules; memory and Redis share them). A success resets the key.
 */
export interface BackoffLimiter {
  /** Counts one attempt before it is evaluated; refused while the key's pause runs. */
  consume(key: string): Promise<BackoffAdmission>;
  /** Forgets the key's attempts and ends its pause (after a success). */
  reset(key: string): Promise<void>;
}
