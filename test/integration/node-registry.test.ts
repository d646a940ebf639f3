import { expect } from 'chai';
import { Redis } from 'ioredis';
import { NODE_REGISTRY_KEY, NodeConflictError, NodeRegistry, signingKeyFingerprint } from '../../src/cluster/node-registry.js';
import { pino } from 'pino';
import { useRedis } from '../support/redis-server.js';
import { waitFor } from '../support/sockets.js';

// Nodes sharing one Redis refuse to start beside a running node with their NODE_ID or with
// another JWT key (src/cluster/node-registry.ts), over a real Redis, with the timing shortened.
describe('node registry: a second NODE_ID or another JWT key is refused at start', function () {
  this.timeout(20_000);
  const suite = useRedis('node-registry');
  // Refreshed often so the cases run quickly, but alive for many refreshes: one stall of this
  // loaded process longer than liveMs - refreshMs made each node take the other for dead.
  const TIMING = { refreshMs: 200, liveMs: 5_000 };
  let clients: Redis[] = [];
  let joined: NodeRegistry[] = [];
  /** Every entry a registry removed from Redis, as `<its node> removed <entry>`. */
  let removed: string[] = [];

  async function client(): Promise<Redis> {
    const c = new Redis(suite.redis.url, { lazyConnect: true });
    await c.connect();
    clients.push(c);
    return c;
  }

  /**
   * A newcomer watching a conflicting entry whether a running node (refreshing every 200 ms) still
   * refreshes it, for 1.5 of its refresh periods: 90 s, past the test's timeout, so it can only be
   * refused by seeing the refresh, however long this loaded process stalls (with its own 300 ms,
   * then 3 s, one stall made a running node look dead and the newcomer start beside it).
   */
  const PATIENT = { refreshMs: 60_000 };
  /** What a node logs when it finds a conflicting entry and waits to see whether it is refreshed. */
  const WAITING = 'waiting to see whether it still runs';

  async function registry(
    nodeId: string,
    key: string,
    logged: string[] = [],
    skewMs = 0,
    timing: Partial<typeof TIMING> = {},
  ): Promise<NodeRegistry> {
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(line) });
    const now = () => Date.now() + skewMs;
    const redis = await client();
    const hdel = redis.hdel.bind(redis) as (key: string, ...fields: string[]) => Promise<number>;
    (redis as unknown as { hdel: typeof hdel }).hdel = (hash, ...fields) => {
      removed.push(...fields.map((f) => `${nodeId} removed ${f}`));
      return hdel(hash, ...fields);
    };
    const r = new NodeRegistry(redis, { nodeId, keyFingerprint: key, logger, now, ...TIMING, ...timing });
    joined.push(r);
    return r;
  }

  beforeEach(async () => {
    await (await client()).del(NODE_REGISTRY_KEY);
  });
  afterEach(async () => {
    for (const r of joined) r.stop();
    for (const c of clients) c.disconnect(false);
    clients = [];
    joined = [];
    removed = [];
  });

  async function entries(): Promise<Record<string, { key: string }>> {
    const raw = await (await client()).hgetall(NODE_REGISTRY_KEY);
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as { key: string }]));
  }

  /**
   * Settles once each node's entry has been written again `times` times after this call, each
   * write ending a refresh of that node (the refresh reports conflicts and removes stale entries
   * before it writes). Polls the stamps: a missed one is a later one, never fewer refreshes.
   */
  async function refreshes(nodeIds: string[], times: number, meanwhile: () => Promise<unknown> = async () => null): Promise<void> {
    const raw = await client();
    const stamps = () => raw.hmget(NODE_REGISTRY_KEY, ...nodeIds);
    const seen = nodeIds.map(() => new Set<string | null>());
    for (const [i, stamp] of (await stamps()).entries()) seen[i]!.add(stamp);
    await waitFor(async () => {
      await meanwhile();
      for (const [i, stamp] of (await stamps()).entries()) seen[i]!.add(stamp);
      return seen.every((s) => s.size > times);
    }, 15_000);
  }

  it('nodes with their own NODE_IDs and one key join side by side', async () => {
    await (await registry('a', 'k1')).join();
    await (await registry('b', 'k1')).join();
    expect(Object.keys(await entries()).sort()).to.deep.equal(['a', 'b']);
  });

  it('a second process under a running NODE_ID is refused, naming NODE_ID', async () => {
    await (await registry('a', 'k1')).join();
    const second = await registry('a', 'k1', [], 0, PATIENT);
    const err = await second.join().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(NodeConflictError);
    expect((err as Error).message).to.contain('NODE_ID=a');
    expect(Object.keys(await entries())).to.deep.equal(['a']);
  });

  it('a node with another key than a running node is refused, naming JWT_SECRET', async () => {
    await (await registry('a', 'k1')).join();
    const err = await (await registry('b', 'k2', [], 0, PATIENT)).join().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(NodeConflictError);
    expect((err as Error).message)
      .to.contain('node a signs tokens with another key')
      .and.to.contain('JWT_SECRET');
    expect(Object.keys(await entries())).to.deep.equal(['a']);
  });

  it('a restart after a crash is not refused: the dead entry, no longer refreshed, is replaced', async () => {
    const crashed = await registry('a', 'k1');
    await crashed.join();
    crashed.stop(); // killed: the entry stays in Redis, nobody refreshes it
    const logged: string[] = [];
    const started = Date.now();
    // Entries live for 10 minutes by the newcomer's count, past the test's timeout: it can only
    // start by giving up on a refresh after one and a half refresh periods (300 ms), not by the
    // entry aging out, however long this loaded process stalls.
    await (await registry('a', 'k2', logged, 0, { liveMs: 600_000 })).join();
    expect(logged.filter((l) => l.includes(WAITING))).to.have.length(1);
    expect(Date.now() - started, 'waited one and a half refresh periods').to.be.at.least(300);
    expect((await entries())['a']?.key).to.equal('k2');
  });

  it('a graceful stop removes the entry, so the next start with a new key does not wait', async () => {
    const old = await registry('a', 'k1');
    await old.join();
    await old.leave();
    expect(await entries()).to.deep.equal({});
    const logged: string[] = [];
    await (await registry('a', 'k2', logged)).join();
    // Not a time bound (a loaded machine's round trips to Redis can outlast one): no wait at all.
    expect(logged.filter((l) => l.includes(WAITING))).to.deep.equal([]);
  });

  it('a running node logs, once, a conflicting node that started at the same moment', async () => {
    const logged: string[] = [];
    await (await registry('a', 'k1', logged)).join();
    const raw = await client();
    // What a node starting in the same instant would have written after passing its own check.
    const intruder = () => raw.hset(NODE_REGISTRY_KEY, 'b', JSON.stringify({ instance: 'x', key: 'k2', seenAt: Date.now() }));
    await intruder();
    // Written again and again, as a running node would, until a refresh of `a` has seen it, and
    // then through two more refreshes of `a`, each of which sees it again.
    await waitFor(
      async () => {
        await intruder();
        return logged.some((l) => l.includes('node b signs tokens'));
      },
      10_000,
      100,
    );
    await refreshes(['a'], 2, intruder);
    const lines = logged.filter((l) => l.includes('node b signs tokens with another key'));
    expect(lines, logged.join('')).to.have.length(1);
    expect(JSON.parse(lines[0]!)).to.include({ level: 50, peer: 'b' });
  });

  it('the fingerprint tells keys apart without containing the secret', () => {
    const secret = 'x'.repeat(40);
    const a = signingKeyFingerprint({ algorithm: 'HS256', secret, privateKey: null, publicKey: null } as never);
    const b = signingKeyFingerprint({ algorithm: 'HS256', secret: 'y'.repeat(40), privateKey: null, publicKey: null } as never);
    expect(a).to.match(/^[0-9a-f]{16}$/);
    expect(a).to.not.equal(b);
    expect(a).to.equal(signingKeyFingerprint({ algorithm: 'HS256', secret, privateKey: null, publicKey: null } as never));
  });

  describe('a node whose clock disagrees with the others (3 min ahead, then 3 min behind)', () => {
    const ALIVE_A_MINUTE = { liveMs: 60_000 };
    for (const skewMs of [180_000, -180_000]) {
      it(`${skewMs > 0 ? 'ahead' : 'behind'}: entries age by Redis's clock, and the skewed node, not its peer, reports its clock`, async () => {
        const loggedA: string[] = [];
        const loggedB: string[] = [];
        // Alive for a minute: well under the skew, so a node aging entries by its own clock removes
        // its peer's, and past any stall of this loaded process between two refreshes.
        const a = await registry('a', 'k1', loggedA, 0, ALIVE_A_MINUTE);
        await a.join();
        const b = await registry('b', 'k1', loggedB, skewMs, ALIVE_A_MINUTE);
        await b.join();
        // Several refreshes of both: neither takes the other's live entry for a dead one and removes it.
        await refreshes(['a', 'b'], 5);
        expect(removed).to.deep.equal([]);
        expect(Object.keys(await entries()).sort()).to.deep.equal(['a', 'b']);
        // Measured over Redis round trips, which a stall of this process lengthens (the error is
        // half of one): 30 s still tells 180 s from none.
        const clockB = b.clock();
        expect(clockB.skewed).to.equal(true);
        expect(clockB.offsetMs).to.be.closeTo(skewMs, 30_000);
        expect(clockB.peers['a']).to.be.closeTo(skewMs, 30_000);
        expect(a.clock().skewed).to.equal(false);
        expect(a.clock().peers['b']).to.be.closeTo(-skewMs, 30_000);
        const lines = loggedB.filter((l) => l.includes("this node's clock"));
        expect(lines, loggedB.join('')).to.have.length(1);
        expect(JSON.parse(lines[0]!)).to.include({ level: 50 });
        expect(lines[0]).to.contain(skewMs > 0 ? '180 s ahead' : '180 s behind');
        expect(loggedA.filter((l) => l.includes("this node's clock"))).to.deep.equal([]);
      });
    }

    it('a conflicting node is still seen by a node whose clock is ahead', async () => {
      await (await registry('a', 'k1')).join();
      const err = await (await registry('b', 'k2', [], 180_000, PATIENT)).join().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(NodeConflictError);
    });
  });
});
