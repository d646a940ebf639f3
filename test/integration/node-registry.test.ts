import { expect } from 'chai';
import { Redis } from 'ioredis';
import { NODE_REGISTRY_KEY, NodeConflictError, NodeRegistry, signingKeyFingerprint } from '../../src/cluster/node-registry.js';
import { pino } from 'pino';
import { useRedis } from '../support/redis-server.js';

// Nodes sharing one Redis refuse to start beside a running node with their NODE_ID or with
// another JWT key (src/cluster/node-registry.ts), over a real Redis, with the timing shortened.
describe('node registry: a second NODE_ID or another JWT key is refused at start', function () {
  this.timeout(20_000);
  const suite = useRedis('node-registry');
  const TIMING = { refreshMs: 200, liveMs: 600 };
  let clients: Redis[] = [];
  let joined: NodeRegistry[] = [];

  async function client(): Promise<Redis> {
    const c = new Redis(suite.redis.url, { lazyConnect: true });
    await c.connect();
    clients.push(c);
    return c;
  }

  async function registry(nodeId: string, key: string, logged: string[] = []): Promise<NodeRegistry> {
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(line) });
    const r = new NodeRegistry(await client(), { nodeId, keyFingerprint: key, logger, ...TIMING });
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
  });

  async function entries(): Promise<Record<string, { key: string }>> {
    const raw = await (await client()).hgetall(NODE_REGISTRY_KEY);
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as { key: string }]));
  }

  it('nodes with their own NODE_IDs and one key join side by side', async () => {
    await (await registry('a', 'k1')).join();
    await (await registry('b', 'k1')).join();
    expect(Object.keys(await entries()).sort()).to.deep.equal(['a', 'b']);
  });

  it('a second process under a running NODE_ID is refused, naming NODE_ID', async () => {
    await (await registry('a', 'k1')).join();
    const second = await registry('a', 'k1');
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
    const err = await (await registry('b', 'k2')).join().then(
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
    const started = Date.now();
    await (await registry('a', 'k2')).join();
    expect(Date.now() - started, 'waited about one and a half refresh periods').to.be.within(250, 2_000);
    expect((await entries())['a']?.key).to.equal('k2');
  });

  it('a graceful stop removes the entry, so the next start with a new key does not wait', async () => {
    const old = await registry('a', 'k1');
    await old.join();
    await old.leave();
    expect(await entries()).to.deep.equal({});
    const started = Date.now();
    await (await registry('a', 'k2')).join();
    expect(Date.now() - started).to.be.below(250);
  });

  it('a running node logs, once, a conflicting node that started at the same moment', async () => {
    const logged: string[] = [];
    await (await registry('a', 'k1', logged)).join();
    const raw = await client();
    // What a node starting in the same instant would have written after passing its own check.
    const intruder = () => raw.hset(NODE_REGISTRY_KEY, 'b', JSON.stringify({ instance: 'x', key: 'k2', seenAt: Date.now() }));
    await intruder();
    for (let i = 0; i < 30 && !logged.some((l) => l.includes('node b signs tokens')); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await intruder();
    }
    await new Promise((resolve) => setTimeout(resolve, TIMING.refreshMs * 3));
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
});
