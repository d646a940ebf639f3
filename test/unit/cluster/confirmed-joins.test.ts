import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { Server, type Namespace } from 'socket.io';
import { confirmingJoins, type SubscribedRooms } from '../../../src/cluster/confirmed-joins.js';
import { createLogger } from '../../../src/logger.js';

/** A subscriber connection whose PINGs the test answers, one by one, in order. */
class FakeSubscriber extends EventEmitter {
  status = 'ready';
  readonly pings: Array<{ answer(): void; fail(): void }> = [];

  ping(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.pings.push({ answer: () => resolve('PONG'), fail: () => reject(new Error('connection lost')) });
    });
  }
}

type Adapter = Namespace['adapter'];

/** Whether `p` settled by the time every pending callback of this turn has run. */
async function settled(p: Promise<void> | void): Promise<boolean> {
  if (!p) return true;
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('confirmingJoins: a join answers once Redis has taken the subscription', () => {
  // Servers with no HTTP server attached: nothing to close after a test.
  /** A namespace's adapter, the in-memory one wrapped, with the fake subscriber's first PING (the adapter's start) answered. */
  async function adapterOf(
    subscribed: SubscribedRooms,
    sub = new FakeSubscriber(),
    waitLimitMs?: number,
  ): Promise<{ adapter: Adapter; sub: FakeSubscriber }> {
    const plain = new Server().of('/').adapter.constructor as new (nsp: Namespace) => Adapter;
    const io = new Server({
      adapter: confirmingJoins((nsp) => new plain(nsp), sub as unknown as Redis, subscribed, createLogger('silent'), waitLimitMs),
    });
    const adapter = io.of('/').adapter;
    await new Promise((resolve) => setImmediate(resolve));
    if (sub.status === 'ready') {
      expect(sub.pings).to.have.length(1);
      sub.pings.shift()!.answer();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { adapter, sub };
  }

  it('holds the first join of a room, and a second socket joining it meanwhile, until the PING sent after the subscription answers', async () => {
    const { adapter, sub } = await adapterOf('per-room');
    const first = adapter.addAll('s1', new Set(['s1', 'user:1']));
    const second = adapter.addAll('s2', new Set(['s2', 'user:1']));
    expect(await settled(first)).to.equal(false);
    expect(await settled(second)).to.equal(false);
    // One PING for both: they joined in one turn.
    expect(sub.pings).to.have.length(1);
    sub.pings.shift()!.answer();
    expect(await settled(first)).to.equal(true);
    expect(await settled(second)).to.equal(true);
    // Subscribed: the next join of the room answers at once, with no PING.
    expect(adapter.addAll('s3', new Set(['s3', 'user:1']))).to.equal(undefined);
    expect(sub.pings).to.have.length(0);
  });

  it("does not wait for a socket's own room, which has no channel", async () => {
    const { adapter, sub } = await adapterOf('per-room');
    expect(adapter.addAll('s1', new Set(['s1']))).to.equal(undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sub.pings).to.have.length(0);
  });

  it('answers the join when the PING fails or the connection drops meanwhile: the link restore covers an outage', async () => {
    const { adapter, sub } = await adapterOf('per-room');
    const failed = adapter.addAll('s1', new Set(['s1', 'user:1']));
    await new Promise((resolve) => setImmediate(resolve));
    sub.pings.shift()!.fail();
    expect(await settled(failed)).to.equal(true);
    const dropped = adapter.addAll('s2', new Set(['s2', 'user:2']));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sub.pings).to.have.length(1);
    sub.emit('close');
    expect(await settled(dropped)).to.equal(true);
  });

  it('answers the join unconfirmed when Redis stops answering with the connection still up', async () => {
    const { adapter, sub } = await adapterOf('per-room', new FakeSubscriber(), 50);
    const held = adapter.addAll('s1', new Set(['s1', 'user:1']));
    await new Promise((resolve) => setImmediate(resolve));
    // Sent, never answered, never closed: a paused Redis.
    expect(sub.pings).to.have.length(1);
    expect(sub.status).to.equal('ready');
    expect(await settled(held)).to.equal(false);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await settled(held)).to.equal(true);
  });

  it('does not wait while the subscriber is down', async () => {
    const sub = new FakeSubscriber();
    const { adapter } = await adapterOf('per-room', sub);
    sub.status = 'reconnecting';
    expect(await settled(adapter.addAll('s1', new Set(['s1', 'user:1'])))).to.equal(true);
    expect(sub.pings).to.have.length(0);
  });

  it("classic adapter: only joins before the adapter's own subscriptions are confirmed wait", async () => {
    const sub = new FakeSubscriber();
    const plain = new Server().of('/').adapter.constructor as new (nsp: Namespace) => Adapter;
    const io = new Server({
      adapter: confirmingJoins((nsp) => new plain(nsp), sub as unknown as Redis, 'at-start', createLogger('silent')),
    });
    const adapter = io.of('/').adapter;
    const early = adapter.addAll('s1', new Set(['s1', 'user:1']));
    expect(await settled(early)).to.equal(false);
    sub.pings.shift()!.answer();
    expect(await settled(early)).to.equal(true);
    expect(adapter.addAll('s2', new Set(['s2', 'user:2']))).to.equal(undefined);
    expect(sub.pings).to.have.length(0);
  });
});
