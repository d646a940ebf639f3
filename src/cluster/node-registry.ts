import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** The Redis hash of live nodes: field NODE_ID, value a JSON `NodeEntry`. */
export const NODE_REGISTRY_KEY = 'attendance:nodes';

/** Defaults: an entry is refreshed every 10 s and counts as live for 30 s after its last refresh. */
export const NODE_REGISTRY_TIMING = { refreshMs: 10_000, liveMs: 30_000 } as const;

interface NodeEntry {
  /** One per process, so a second process under the same NODE_ID shows. */
  instance: string;
  /** The signing key's fingerprint (signingKeyFingerprint). */
  key: string;
  /** When the entry was last refreshed (ms since the epoch). */
  seenAt: number;
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
  now?: () => number;
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
  /** This host's clock: entries are compared by age, so hosts' clocks must agree within seconds (NTP). */
  private readonly now: () => number;
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
  }

  /**
   * Adds this node, or throws NodeConflictError when a live node has the same NODE_ID or another
   * signing key. Then refreshes the entry every refresh period until leave().
   */
  async join(): Promise<void> {
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
    const entries = await this.read();
    for (const [nodeId, entry] of this.conflicts(entries)) {
      const what = `${nodeId}\n${entry.instance}\n${entry.key}`;
      if (this.reported.has(what)) continue;
      this.reported.add(what);
      this.options.logger.error({ peer: nodeId }, this.describe(nodeId));
    }
    const stale = [...entries].filter(([, e]) => this.now() - e.seenAt > this.liveMs).map(([nodeId]) => nodeId);
    if (stale.length > 0) await this.redis.hdel(NODE_REGISTRY_KEY, ...stale);
    await this.write();
  }

  private write(): Promise<number> {
    const entry: NodeEntry = { instance: this.instance, key: this.options.keyFingerprint, seenAt: this.now() };
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
      if (this.now() - entry.seenAt > this.liveMs || entry.instance === this.instance) continue;
      if (nodeId === this.options.nodeId || entry.key !== this.options.keyFingerprint) found.set(nodeId, entry);
    }
    return found;
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
    return typeof e.instance === 'string' && typeof e.key === 'string' && typeof e.seenAt === 'number'
      ? { instance: e.instance, key: e.key, seenAt: e.seenAt }
      : null;
  } catch {
    // Not written by this service's registry (another release or a hand edit): not a node to compare with.
    return null;
  }
}
