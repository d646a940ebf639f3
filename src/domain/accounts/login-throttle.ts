import { createHash } from 'node:crypto';
import type { LoginLimits } from '../../config.js';
import { AppError } from '../../shared/app-error.js';
import type { BackoffLimiter, BackoffOptions, RateLimiter, RateLimiterOptions } from '../rate-limiter.js';
import { addressLimitKey } from '../checks/network.js';

/** Failures in a row are forgotten this long after the first of them (or at the next success). */
const FAILURE_MEMORY_S = 24 * 60 * 60;

/** The counters of the login throttle; see LoginThrottle. */
export interface LoginLimiters {
  /** Per client address: failed and unfinished attempts per minute. Throttles, never locks. */
  address: RateLimiter;
  /** Per account (email), from any address: back-off. */
  account: BackoffLimiter;
  /** Per address and account together: back-off with a smaller free budget. */
  addressAccount: BackoffLimiter;
  /** Per known device (instead of the account and address limits): back-off. */
  device: BackoffLimiter;
}

/** Builds one limiter of each kind: in memory for one node, in Redis for several. */
export interface LoginLimiterFactories {
  rate(opts: RateLimiterOptions): RateLimiter;
  backoff(opts: BackoffOptions): BackoffLimiter;
}

/** The settings of every login limiter, written once for both backends. */
export function createLoginLimiters(limits: LoginLimits, make: LoginLimiterFactories): LoginLimiters {
  const backoff = (freeAttempts: number, keyPrefix: string): BackoffOptions => ({
    freeAttempts,
    baseMs: limits.backoffBaseMs,
    maxMs: limits.backoffMaxMs,
    memoryS: FAILURE_MEMORY_S,
    keyPrefix,
  });
  return {
    // Password guesses: exact across nodes, never the budget plus each node's local share.
    address: make.rate({ points: limits.addressPerMinute, windowS: 60, keyPrefix: 'login:address', exact: true }),
    account: make.backoff(backoff(limits.accountFreeFailures, 'login:account')),
    addressAccount: make.backoff(backoff(limits.addressAccountFreeFailures, 'login:address-account')),
    device: make.backoff(backoff(limits.addressAccountFreeFailures, 'login:device')),
  };
}

export interface LoginAttempt {
  /** The password matched: forget what this attempt counted, so successes never count. */
  succeeded(): Promise<void>;
  /**
   * The password was never checked (the node was too busy to, or shutting down): give back all
   * it counted, so a class retrying a BUSY login neither backs off its accounts nor spends its
   * school address's budget. Nothing was learnt about the password, so nothing is owed.
   */
  unchecked(): Promise<void>;
}

/**
 * Admits login attempts before the password is checked. Every attempt is counted first,
 * atomically (in memory and in Redis alike), so concurrent wrong passwords cannot all be
 * evaluated; a refused attempt answers RATE_LIMITED with `details.retryAfterMs` and is not
 * evaluated. A failure stays counted; a success gives back what it counted.
 *
 * - Without a known-device token: per address (a throttle: a one-minute window, so a school
 *   behind one NAT address is at worst slowed for under a minute, never locked; successes do
 *   not count), per account and per address-and-account (exponential back-off, no hard lock).
 * - With a valid known-device token for the email: only per device, so the owner still logs in
 *   from a device they used before while an attacker holds the account in back-off.
 */
export class LoginThrottle {
  constructor(private readonly limiters: LoginLimiters) {}

  async admit(who: { email: string; ip: string | null; device: string | null }): Promise<LoginAttempt> {
    const { address, account, addressAccount, device } = this.limiters;
    if (who.device !== null) {
      const key = who.device;
      const r = await device.consume(key);
      if (!r.allowed) throw rateLimited(r.retryAfterMs);
      return { succeeded: () => device.reset(key), unchecked: r.undo };
    }

    // Emails stay out of the limiter keys (they are Redis keys in a cluster).
    const acct = createHash('sha256').update(who.email, 'utf8').digest('base64url').slice(0, 32);
    const taken: Array<() => Promise<void>> = [];
    const onSuccess: Array<() => Promise<void>> = [];
    const refuse = async (retryAfterMs: number): Promise<never> => {
      await Promise.all(taken.map((undo) => undo()));
      throw rateLimited(retryAfterMs);
    };

    // An IPv6 client by its /64: any address of it is the same client's.
    const ip = who.ip === null ? null : addressLimitKey(who.ip);
    if (ip) {
      const r = await address.consume(ip);
      if (!r.allowed) return refuse(r.retryAfterMs);
      taken.push(() => address.refund(ip));
      onSuccess.push(() => address.refund(ip));
    }
    const a = await account.consume(acct);
    if (!a.allowed) return refuse(a.retryAfterMs);
    taken.push(a.undo);
    onSuccess.push(() => account.reset(acct));
    if (ip) {
      const pair = `${ip}|${acct}`;
      const p = await addressAccount.consume(pair);
      if (!p.allowed) return refuse(p.retryAfterMs);
      taken.push(p.undo);
      onSuccess.push(() => addressAccount.reset(pair));
    }
    return {
      succeeded: async () => {
        await Promise.all(onSuccess.map((forget) => forget()));
      },
      unchecked: async () => {
        await Promise.all(taken.map((undo) => undo()));
      },
    };
  }
}

function rateLimited(retryAfterMs: number): AppError {
  return new AppError('RATE_LIMITED', 'Too many login attempts; retry later.', { retryAfterMs });
}
