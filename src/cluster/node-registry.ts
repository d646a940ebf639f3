import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** The Redis hash of live nodes: field NODE_ID, value a JSON `NodeEntry`. */
export const NODE_REGISTRY_KEY = 'attendance:nodes';

/** Defaults: an entry is refreshed every 10 s and counts as live for 30 s after its last refresh. */
export const NODE_REGISTRY_TIMING = { refreshMs: 10_000, liveMs: 30_000 } as const;

/**
 * How far a node's clock may be from its peers' before it reports it (docs/deploy.md, "The
 * nodes' clocks disagree"): below the 30 s a location fix may be ahead of the server, and a
 * small part of the shortest code period's tolerance, yet well above the error of one Redis
 * round trip under load.
 */
export const CLOCK_SKEW_LIMIT_MS = 5_000;

interface NodeEntry {
  /** One per process, so a second process under the same NODE_ID shows. */
  instance: string;
  /** The signing key's fingerprint (signingKeyFingerprint). */
  key: string;
  /** When the entry was last refreshed (ms since the epoch, by Redis's clock). */
  seenAt: number;
  /** The node's clock minus Redis's at that refresh; absent in entries of releases before it. */
  offsetMs?: number;
}

/** This node's clock against Redis's and its live peers' (NodeRegistry.clock). */
export interface ClockReport {
  /** This node's clock minus Redis's, as last measured. */
  offsetMs: number;
  /** Each live peer's: this node's clock minus the peer's. */
  peers: Record<string, number>;
  /**
   * True when this node's clock is more than the limit from Redis's and from a peer's: the node
   * is the odd one out. A Redis host with a wrong clock makes no node skewed while the nodes agree.
   */
  skewed: boolean;
}

/**
 * A short fingerprint of the key that signs this node's tokens: nodes compare it to find a peer
 * whose tokens they would refuse. It tells nothing of the secret (an HMAC keyed by it; for RS256
 * a hash of the public key, which is public anyway).
 */
export function signingKeyFingerprint(jwt: Config['jwt']): string {
  const digest = jwt.secret
    ? createHmac('sha256', jwt.secret).update('attendance signing key fingerprint').digest('hex')
    : createHash('sha256')
        .update(jwt.publicKey ?? '')
        .digest('hex');
  return digest.slice(0, 16);
}

/** A node that must not start next to the nodes already running (index.ts exits 1 with the message). */
export class NodeConflictError extends Error {
  override name = 'NodeConflictError';
}

interface RegistryOptions {
  nodeId: string;
  keyFingerprint: string;
  logger: Logger;
  refreshMs?: number;
  liveMs?: number;
  /** This host's clock (tests skew it). */
  now?: () => number;
  maxSkewMs?: number;
}

/**
 * The nodes sharing one Redis, each with its NODE_ID and signing-key fingerprint, so that two
 * mistakes of a multi-node deploy stop the start with a line saying what to fix instead of
 * showing later as something else:
 * - two processes under one NODE_ID hold each other's scheduler leases (a lease's owner is the
 *   NODE_ID), so both would run the jobs that one node should run;
 * - a node with another JWT_SECRET refuses every token the others sign, so students are logged
 *   out whenever a reconnect lands on it.
 * A node killed without stopping leaves its entry until it ages out; a starting node that meets a
 * conflicting entry waits up to one and a half refresh periods to see whether its holder still
 * refreshes it, and starts when it does not (a restart after a crash is not refused). Two nodes
 * starting at the same moment can both pass: the running check logs such a pair as an error.
 */
export class NodeRegistry {
  private readonly instance = randomBytes(8).toString('hex');
  private readonly refreshMs: number;
  private readonly liveMs: number;
  /** This host's clock. Entries are stamped and aged by Redis's (TIME), which all nodes share. */
  private readonly now: () => number;
  private readonly maxSkewMs: number;
  /** This host's clock minus Redis's, measured at each refresh. */
  private offsetMs = 0;
  private report: ClockReport = { offsetMs: 0, peers: {}, skewed: false };
  private timer: NodeJS.Timeout | null = null;
  /** Conflicts already logged (by node and what differs), so a running conflict is logged once. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly options: RegistryOptions,
  ) {
    this.refreshMs = options.refreshMs ?? NODE_REGISTRY_TIMING.refreshMs;
    this.liveMs = options.liveMs ?? NODE_REGISTRY_TIMING.liveMs;
    this.now = options.now ?? Date.now;
    this.maxSkewMs = options.maxSkewMs ?? CLOCK_SKEW_LIMIT_MS;
  }

  /** This node's clock against Redis's and the live peers', as of the last refresh. */
  clock(): ClockReport {
    return this.report;
  }

  /**
   * Adds this node, or throws NodeConflictError when a live node has the same NODE_ID or another
   * signing key. Then refreshes the entry every refresh period until leave().
   */
  async join(): Promise<void> {
    await this.measureClock();
    const first = this.conflicts(await this.read());
    if (first.size > 0) {
      this.options.logger.info(
        { peers: [...first.keys()] },
        'a node registered in Redis conflicts with this one: waiting to see whether it still runs',
      );
      // Wait to see whether the conflicting entries are still refreshed by a running node.
      const deadline = this.now() + Math.ceil(this.refreshMs * 1.5);
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, this.refreshMs / 4)));
        await this.measureClock();
        const live = this.conflicts(await this.read());
        for (const [nodeId, entry] of live) {
          const before = first.get(nodeId);
          if (!before || before.instance !== entry.instance || before.seenAt !== entry.seenAt) {
            throw new NodeConflictError(this.describe(nodeId));
          }
        }
        if (live.size === 0 || this.now() >= deadline) break;
      }
      // Not refreshed: left by a node that stopped without leaving (killed, or cut from Redis).
      await this.redis.hdel(NODE_REGISTRY_KEY, ...first.keys());
    }
    await this.write();
    this.compareClocks(await this.read());
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.options.logger.warn({ err }, 'node registry: refresh failed; trying again'));
    }, this.refreshMs);
    this.timer.unref();
  }

  /** Stops refreshing, leaving the entry to age out (a node cut off from Redis). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Removes this node's entry (a graceful stop), so a restart with a new key is not held up. */
  async leave(): Promise<void> {
    this.stop();
    const mine = await this.redis.hget(NODE_REGISTRY_KEY, this.options.nodeId);
    if (mine && parseEntry(mine)?.instance === this.instance) await this.redis.hdel(NODE_REGISTRY_KEY, this.options.nodeId);
  }

  private async refresh(): Promise<void> {
    await this.measureClock();
    const entries = await this.read();
    this.compareClocks(entries);
    for (const [nodeId, entry] of this.conflicts(entries)) {
      const what = `${nodeId}\n${entry.instance}\n${entry.key}`;
      if (this.reported.has(what)) continue;
      this.reported.add(what);
      this.options.logger.error({ peer: nodeId }, this.describe(nodeId));
    }
    const stale = [...entries].filter(([, e]) => this.sharedNow() - e.seenAt > this.liveMs).map(([nodeId]) => nodeId);
    if (stale.length > 0) await this.redis.hdel(NODE_REGISTRY_KEY, ...stale);
    await this.write();
  }

  private write(): Promise<number> {
    const entry: NodeEntry = {
      instance: this.instance,
      key: this.options.keyFingerprint,
      seenAt: this.sharedNow(),
      offsetMs: Math.round(this.offsetMs),
    };
    return this.redis.hset(NODE_REGISTRY_KEY, this.options.nodeId, JSON.stringify(entry));
  }

  private async read(): Promise<Map<string, NodeEntry>> {
    const raw = await this.redis.hgetall(NODE_REGISTRY_KEY);
    const entries = new Map<string, NodeEntry>();
    for (const [nodeId, value] of Object.entries(raw)) {
      const entry = parseEntry(value);
      if (entry) entries.set(nodeId, entry);
    }
    return entries;
  }

  /** The live entries this node conflicts with: its NODE_ID in another process, or another key. */
  private conflicts(entries: Map<string, NodeEntry>): Map<string, NodeEntry> {
    const found = new Map<string, NodeEntry>();
    for (const [nodeId, entry] of entries) {
      if (this.sharedNow() - entry.seenAt > this.liveMs || entry.instance === this.instance) continue;
      if (nodeId === this.options.nodeId || entry.key !== this.options.keyFingerprint) found.set(nodeId, entry);
    }
    return found;
  }

  /**
   * Redis's clock as this node reads it: ages of entries computed with it do not depend on this
   * host's clock, so a node whose clock is minutes ahead does not take its peers' live entries
   * for dead ones (and remove them), nor miss a conflicting node.
   */
  private sharedNow(): number {
    return this.now() - this.offsetMs;
  }

  /** Reads Redis's TIME; the offset's error is at most half the round trip. */
  private async measureClock(): Promise<void> {
    const before = this.now();
    const [seconds, micros] = await this.redis.time();
    const after = this.now();
    this.offsetMs = (before + after) / 2 - (Number(seconds) * 1000 + Number(micros) / 1000);
  }

  private compareClocks(entries: Map<string, NodeEntry>): void {
    const peers: Record<string, number> = {};
    for (const [nodeId, entry] of entries) {
      if (entry.instance === this.instance || entry.offsetMs === undefined) continue;
      if (this.sharedNow() - entry.seenAt > this.liveMs) continue;
      peers[nodeId] = Math.round(this.offsetMs - entry.offsetMs);
    }
    const offsetMs = Math.round(this.offsetMs);
    const apart = Object.entries(peers).filter(([, diff]) => Math.abs(diff) > this.maxSkewMs);
    const skewed = apart.length > 0 && Math.abs(offsetMs) > this.maxSkewMs;
    if (skewed !== this.report.skewed) {
      if (skewed) {
        const way = `${Math.round(Math.abs(offsetMs) / 1000)} s ${offsetMs > 0 ? 'ahead' : 'behind'}`;
        this.options.logger.error(
          { offsetMs, peers },
          `this node's clock is ${way} of Redis's and of node ${apart.map(([id]) => id).join(', ')}: ` +
            'set up NTP on this host. Until then it reports not ready, and its scheduled opens and closes, late marks, ' +
            'code and location checks and token expiry run by the wrong time (docs/deploy.md)',
        );
      } else {
        this.options.logger.info({ offsetMs, peers }, "this node's clock agrees with its peers again");
      }
    }
    this.report = { offsetMs, peers, skewed };
  }

  private describe(nodeId: string): string {
    return nodeId === this.options.nodeId
      ? `another running node already uses NODE_ID=${nodeId}: give every node its own NODE_ID (scheduler leases are held by NODE_ID, so two nodes under one would both run the jobs of one)`
      : `node ${nodeId} signs tokens with another key: set the same JWT_SECRET (or RS256 key pair) on every node, or each refuses the logins of the others (docs/deploy.md, "Rotating JWT_SECRET")`;
  }
}

function parseEntry(value: string): NodeEntry | null {
  try {
    const e = JSON.parse(value) as Partial<NodeEntry>;
    if (typeof e.instance !== 'string' || typeof e.key !== 'string' || typeof e.seenAt !== 'number') return null;
    return { instance: e.instance, key: e.key, seenAt: e.seenAt, ...(typeof e.offsetMs === 'number' ? { offsetMs: e.offsetMs } : {}) };
  } catch {
    // Not written by this service's registry (another release or a hand edit): not a node to compare with.
    return null;
  }
}
