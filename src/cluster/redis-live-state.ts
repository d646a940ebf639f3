import type { Redis } from 'ioredis';
import type { LiveState } from '../domain/live-state.js';

/** A session's roster version outlives any session (they close within a day). */
export const ROSTER_VERSION_TTL_S = 2 * 24 * 3_600;

/**
 * Roster versions shared by every node: one counter per session, INCR'd on each record change
 * and given a TTL so closed sessions do not pile up. INCR is atomic, so two nodes never hand
 * out the same version.
 *
 * Redis without persistence that restarts forgets the counters and versions start again at 1;
 * clients resync from the store's snapshot on the gap or on reconnect (docs/multi-node.md).
 */
export class RedisLiveState implements LiveState {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'attendance:roster-version:',
    private readonly ttlS = ROSTER_VERSION_TTL_S,
  ) {}

  async nextRosterVersion(sessionId: string): Promise<number> {
    const key = this.prefix + sessionId;
    // One round trip; EXPIRE re-arms the TTL on every change of a long session.
    const results = await this.redis.multi().incr(key).expire(key, this.ttlS).exec();
    const incr = results?.[0];
    if (!incr || incr[0]) throw incr?.[0] ?? new Error('redis INCR returned no result');
    return Number(incr[1]);
  }

  async rosterVersion(sessionId: string): Promise<number> {
    const v = await this.redis.get(this.prefix + sessionId);
    return v === null ? 0 : Number(v);
  }
}
