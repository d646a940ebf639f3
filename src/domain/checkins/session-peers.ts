import { PeerIndex } from '../checks/peer-index.js';
import type { AttendanceRecord, PeerMarkChanges, RecordRepository, VersionedPeerMark } from '../ports/records.js';

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
  /**
   * The roster version up to which the index holds every change: the last read's, then each
   * of this node's own stored writes that follows it without a gap (a version between them is
   * someone else's change, not yet read). -1: none known.
   */
  upTo: number;
  /** This node's stored writes merged past `upTo`, by roster version, waiting for the gap before them to be read. */
  ahead: Set<number>;
  builtAt: number;
  usedAt: number;
}

/**
 * Each session's other records, indexed for the proxy signals and kept on the node across group
 * commits, so that a batch reads only what changed since the last one instead of the whole
 * session. The store stays the truth: every batch first reads the changes since the highest
 * roster version seen (this node's writes and any other node's alike), and a record count that
 * differs from the index's size after the merge (a record deleted) makes it read the session
 * whole. Records are filed by student id, which the store's unique key makes one per session and
 * which each entry holds anyway: keyed by record id, every peer kept its record's id string too
 * (about 50 bytes a peer, each promoted to the old space; docs/multi-node.md, "Round 31, old
 * space"). A student's record deleted and written again replaces its entry. Nothing here is shared between nodes, and none of it is needed for correctness of the
 * records themselves: only the flags read it.
 */
export class SessionPeers {
  /** In least-recently-used order: a Map iterates in insertion order and a use re-inserts. */
  private readonly sessions = new Map<string, Cached>();

  constructor(
    private readonly records: Pick<RecordRepository, 'listPeerMarkChanges'>,
    private readonly now: () => number,
    private readonly limits: { sessions: number; peers: number; maxAgeMs: number } = {
      ...SESSION_PEER_LIMITS,
      maxAgeMs: SESSION_PEER_MAX_AGE_MS,
    },
  ) {}

  /** The session's records as the store holds them now, indexed; for one batch at a time. */
  async current(orgId: string, sessionId: string): Promise<PeerIndex> {
    return (await this.currentAll(orgId, [sessionId])).get(sessionId)!;
  }

  /**
   * `current` for several sessions of one organisation (a batch's): one read of the changes of
   * all of them, and one more only for those read whole (new, too old, or a record deleted).
   */
  async currentAll(orgId: string, sessionIds: readonly string[]): Promise<Map<string, PeerIndex>> {
    const at = this.now();
    const ids = [...new Set(sessionIds)];
    const found = new Map<string, Cached | undefined>();
    for (const sessionId of ids) {
      const key = `${orgId}\n${sessionId}`;
      const cached = this.sessions.get(key);
      this.sessions.delete(key);
      found.set(sessionId, cached && at - cached.builtAt <= this.limits.maxAgeMs ? cached : undefined);
    }
    const kept = ids.filter((id) => found.get(id));
    if (kept.length > 0) {
      const changes = await this.records.listPeerMarkChanges(
        orgId,
        kept.map((sessionId) => {
          const cached = found.get(sessionId)!;
          // Nothing to read while the session's version is the one the index holds everything up to.
          return cached.upTo < 0
            ? { sessionId, afterRosterVersion: cached.after }
            : { sessionId, afterRosterVersion: cached.after, unlessRosterVersion: cached.upTo };
        }),
      );
      kept.forEach((sessionId, i) => {
        const cached = found.get(sessionId)!;
        const answer = changes[i]!;
        if ('unchanged' in answer) return;
        merge(cached, answer);
        if (cached.index.size !== answer.count) found.set(sessionId, undefined);
      });
    }
    const whole = ids.filter((id) => !found.get(id));
    if (whole.length > 0) {
      const all = await this.records.listPeerMarkChanges(
        orgId,
        whole.map((sessionId) => ({ sessionId, afterRosterVersion: null })),
      );
      whole.forEach((sessionId, i) => {
        const cached: Cached = { index: new PeerIndex(), after: -1, upTo: -1, ahead: new Set(), builtAt: at, usedAt: at };
        const answer = all[i]!;
        // Not asked with unlessRosterVersion: a whole read always has its records.
        if (!('unchanged' in answer)) merge(cached, answer);
        found.set(sessionId, cached);
      });
    }
    const out = new Map<string, PeerIndex>();
    for (const sessionId of ids) {
      const cached = found.get(sessionId)!;
      cached.usedAt = at;
      this.sessions.set(`${orgId}\n${sessionId}`, cached);
      out.set(sessionId, cached.index);
    }
    this.evict(at, ids.length);
    return out;
  }

  /**
   * This node's writes of the session, as stored (the group commit's, once its batch is
   * durable): merged into the index at once, so that the next batch need not read them back;
   * while no other change comes between them and what was read, it reads nothing at all
   * (listPeerMarkChanges' `unlessRosterVersion`). A session not kept is left to its next read.
   */
  wrote(orgId: string, sessionId: string, records: readonly AttendanceRecord[]): void {
    const cached = this.sessions.get(`${orgId}\n${sessionId}`);
    if (!cached) return;
    for (const r of records) {
      cached.index.set(r.studentId, peerMarkOf(r));
      if (r.rosterVersion > cached.upTo) cached.ahead.add(r.rosterVersion);
    }
    advance(cached);
  }

  /** How many sessions are kept (for tests and the bounds). */
  get size(): number {
    return this.sessions.size;
  }

  /** Drops the least recently used beyond the bounds, but never the `inUse` just used (last in the map). */
  private evict(at: number, inUse: number): void {
    let peers = 0;
    for (const c of this.sessions.values()) peers += c.index.size;
    for (const [key, c] of this.sessions) {
      const stale = at - c.usedAt > this.limits.maxAgeMs;
      if (!stale && this.sessions.size <= this.limits.sessions && peers <= this.limits.peers) break;
      // Those just used stay even when they alone are over a bound: the batch needs them.
      if (this.sessions.size <= inUse) break;
      this.sessions.delete(key);
      peers -= c.index.size;
    }
  }
}

function merge(cached: Cached, changes: PeerMarkChanges): void {
  for (const mark of changes.marks) {
    cached.index.set(mark.studentId, mark);
    if (mark.rosterVersion > cached.after) cached.after = mark.rosterVersion;
  }
  // A read holds every change up to the highest version it saw; own writes past it may follow on.
  cached.upTo = cached.after;
  for (const v of cached.ahead) if (v <= cached.upTo) cached.ahead.delete(v);
  advance(cached);
}

/** `upTo` over the own writes that follow it without a gap; the next read asks for changes after them. */
function advance(cached: Cached): void {
  while (cached.upTo >= 0 && cached.ahead.delete(cached.upTo + 1)) cached.upTo += 1;
  if (cached.upTo > cached.after) cached.after = cached.upTo;
}

/** What the store's peer read gives for the record (listPeerMarksSince). */
function peerMarkOf(r: AttendanceRecord): VersionedPeerMark {
  return {
    id: r.id,
    rosterVersion: r.rosterVersion,
    studentId: r.studentId,
    deviceId: r.deviceId ?? null,
    ip: r.ip,
    userAgent: r.userAgent ?? null,
    location: r.location === null ? null : { lat: r.location.lat, lon: r.location.lon },
  };
}
