import { PeerIndex } from '../checks/peer-index.js';
import type { PeerMarkChanges, RecordRepository } from '../ports/records.js';

/**
 * How many sessions' indexes, and peers in all, a node keeps between batches; beyond either, the
 * least recently used sessions are dropped (and read whole again if they come back).
 */
export const SESSION_PEER_LIMITS = { sessions: 500, peers: 100_000 } as const;

/**
 * An index is read whole again once this old, and dropped once unused this long (a closed
 * session): a bound on what a version read cannot see (a MongoDB change whose version was never
 * stamped, docs/multi-node.md "Group commit").
 */
export const SESSION_PEER_MAX_AGE_MS = 60_000;

interface Cached {
  index: PeerIndex;
  /** The highest roster version merged; what the next read asks for changes after. */
  after: number;
  builtAt: number;
  usedAt: number;
}

/**
 * Each session's other records, indexed for the proxy signals and kept on the node across group
 * commits, so that a batch reads only what changed since the last one instead of the whole
 * session. The store stays the truth: every batch first reads the changes since the highest
 * roster version seen (this node's writes and any other node's alike), and a record count that
 * differs from the index's size after the merge (a record deleted) makes it read the session
 * whole. Nothing here is shared between nodes, and none of it is needed for correctness of the
 * records themselves: only the flags read it.
 */
export class SessionPeers {
  /** In least-recently-used order: a Map iterates in insertion order and a use re-inserts. */
  private readonly sessions = new Map<string, Cached>();

  constructor(
    private readonly records: Pick<RecordRepository, 'listPeerMarksSince'>,
    private readonly now: () => number,
    private readonly limits: { sessions: number; peers: number; maxAgeMs: number } = {
      ...SESSION_PEER_LIMITS,
      maxAgeMs: SESSION_PEER_MAX_AGE_MS,
    },
  ) {}

  /** The session's records as the store holds them now, indexed; for one batch at a time. */
  async current(orgId: string, sessionId: string): Promise<PeerIndex> {
    const key = `${orgId}\n${sessionId}`;
    const at = this.now();
    let cached = this.sessions.get(key);
    this.sessions.delete(key);
    if (cached && at - cached.builtAt > this.limits.maxAgeMs) cached = undefined;
    if (cached) {
      const changes = await this.records.listPeerMarksSince(orgId, sessionId, cached.after);
      merge(cached, changes);
      if (cached.index.size !== changes.count) cached = undefined;
    }
    if (!cached) {
      cached = { index: new PeerIndex(), after: -1, builtAt: at, usedAt: at };
      merge(cached, await this.records.listPeerMarksSince(orgId, sessionId, null));
    }
    cached.usedAt = at;
    this.sessions.set(key, cached);
    this.evict(at);
    return cached.index;
  }

  /** How many sessions are kept (for tests and the bounds). */
  get size(): number {
    return this.sessions.size;
  }

  private evict(at: number): void {
    let peers = 0;
    for (const c of this.sessions.values()) peers += c.index.size;
    for (const [key, c] of this.sessions) {
      const stale = at - c.usedAt > this.limits.maxAgeMs;
      if (!stale && this.sessions.size <= this.limits.sessions && peers <= this.limits.peers) break;
      // The one just used stays even when it alone is over the peer bound: the batch needs it.
      if (this.sessions.size === 1) break;
      this.sessions.delete(key);
      peers -= c.index.size;
    }
  }
}

function merge(cached: Cached, changes: PeerMarkChanges): void {
  for (const mark of changes.marks) {
    cached.index.set(mark.id, mark);
    if (mark.rosterVersion > cached.after) cached.after = mark.rosterVersion;
  }
}
