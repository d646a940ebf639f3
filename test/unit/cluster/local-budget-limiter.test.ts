import { expect } from 'chai';
import { localBudget, LocalBudgetLimiter, type SharedCounter } from '../../../src/cluster/local-budget-limiter.js';

const WINDOW_MS = 60_000;

/** The Redis counter's rules (rate-limiter-flexible): a fixed window opened by the first count, refused ones counted too. */
class FakeCounter implements SharedCounter {
  readonly windows = new Map<string, { count: number; endsAt: number }>();
  calls: Array<{ key: string; points: number }> = [];
  failNext = false;

  constructor(
    private readonly points: number,
    private readonly now: () => number,
  ) {}

  count(key: string, points: number) {
    this.calls.push({ key, points });
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('redis went away'));
    }
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= t) {
      w = { count: 0, endsAt: t + WINDOW_MS };
      this.windows.set(key, w);
    }
    w.count += points;
    const left = w.endsAt - t;
    return Promise.resolve(
      w.count <= this.points
        ? { allowed: true, retryAfterMs: 0, windowLeftMs: left }
        : { allowed: false, retryAfterMs: left, windowLeftMs: left },
    );
  }

  /** Into the running window only, never below zero (FlexibleRateLimiter.refund). */
  refund(key: string) {
    const w = this.windows.get(key);
    if (w && w.endsAt > this.now() && w.count > 0) w.count -= 1;
    return Promise.resolve();
  }

  reset(key: string) {
    this.windows.delete(key);
    return Promise.resolve();
  }
}

describe('LocalBudgetLimiter (a shared limit without a round trip per event)', () => {
  let t: number;
  const now = () => t;
  beforeEach(() => {
    t = 1_700_000_000_000;
  });

  const nodes = (n: number, points: number, budget: number) => {
    const counter = new FakeCounter(points, now);
    const limiters = Array.from(
      { length: n },
      () => new LocalBudgetLimiter(counter, { windowS: WINDOW_MS / 1000, localBudget: budget }, now),
    );
    return { counter, limiters };
  };

  it('admits the local budget without asking the counter, then reports it with the next event', async () => {
    const { counter, limiters } = nodes(1, 10, 2);
    const [node] = limiters as [LocalBudgetLimiter];
    expect((await node.consume('a')).allowed).to.equal(true);
    expect((await node.consume('a')).allowed).to.equal(true);
    expect(counter.calls).to.deep.equal([]);
    expect((await node.consume('a')).allowed).to.equal(true);
    expect(counter.calls).to.deep.equal([{ key: 'a', points: 3 }]);
    expect((await node.consume('a')).allowed).to.equal(true);
    expect(counter.calls[1]).to.deep.equal({ key: 'a', points: 1 });
  });

  it('answers without a promise while the local budget lasts, then counts nothing and leaves the event to consume()', async () => {
    const { counter, limiters } = nodes(1, 10, 2);
    const [node] = limiters as [LocalBudgetLimiter];
    expect(node.tryConsume('a')).to.deep.include({ allowed: true });
    expect(node.tryConsume('a')).to.deep.include({ allowed: true });
    expect(node.tryConsume('a'), 'the shared counter must be asked').to.equal(null);
    expect(node.tryConsume('a'), 'still nothing counted').to.equal(null);
    expect(counter.calls).to.deep.equal([]);
    expect((await node.consume('a')).allowed).to.equal(true);
    expect(counter.calls, 'the two admitted locally and this one').to.deep.equal([{ key: 'a', points: 3 }]);
    expect(node.tryConsume('a'), 'asked in this window: every event asks').to.equal(null);
    t += WINDOW_MS;
    expect(node.tryConsume('a'), 'a new window has its local budget again').to.deep.include({ allowed: true });
  });

  it('on one node admits exactly the budget per window, then refuses until the shared window ends', async () => {
    const { limiters } = nodes(1, 10, 1);
    const [node] = limiters as [LocalBudgetLimiter];
    const results = [];
    for (let i = 0; i < 15; i += 1) results.push((await node.consume('a')).allowed);
    expect(results.filter(Boolean)).to.have.length(10);
    expect(results.slice(0, 10).every(Boolean)).to.equal(true);
    t += 30_000;
    const refused = await node.consume('a');
    expect(refused.allowed).to.equal(false);
    expect(refused.retryAfterMs).to.equal(WINDOW_MS - 30_000);
    t += WINDOW_MS - 30_000;
    expect((await node.consume('a')).allowed).to.equal(true);
  });

  it('keeps the local window to the shared one once it asked, so no fresh local budget lands in a spent window', async () => {
    const { counter, limiters } = nodes(1, 3, 1);
    const [node] = limiters as [LocalBudgetLimiter];
    await node.consume('a'); // local, t0
    t += 50_000;
    for (let i = 0; i < 3; i += 1) await node.consume('a'); // opens the shared window at t0 + 50 s: 4 counted
    t += 20_000; // the node's own window (t0 + 60 s) has ended, the shared one runs to t0 + 110 s
    expect((await node.consume('a')).allowed).to.equal(false);
    expect(counter.calls.at(-1)).to.deep.equal({ key: 'a', points: 1 });
    t += 40_000;
    expect((await node.consume('a')).allowed).to.equal(true);
    expect(counter.calls.at(-1)).to.deep.equal({ key: 'a', points: 1 });
  });

  it('across N nodes admits at most points + (N - 1) x budget per window, however the events are spread', async () => {
    for (const n of [2, 3, 5]) {
      for (const order of ['round-robin', 'one-node-last', 'blocks'] as const) {
        const points = 10;
        const budget = 2;
        const { limiters } = nodes(n, points, budget);
        let admitted = 0;
        const pick = (i: number): number =>
          order === 'round-robin'
            ? i % n
            : order === 'blocks'
              ? Math.floor(i / budget) % n
              : i < (n - 1) * budget
                ? Math.floor(i / budget)
                : n - 1;
        for (let i = 0; i < 200; i += 1) if ((await limiters[pick(i)]!.consume('a')).allowed) admitted += 1;
        expect(admitted, `${n} nodes, ${order}`).to.be.at.most(points + (n - 1) * budget);
        expect(admitted, `${n} nodes, ${order}`).to.be.at.least(points);
      }
    }
  });

  it('reaches the bound when the other nodes never ask: their local events are not in the shared count', async () => {
    const { limiters } = nodes(3, 10, 2);
    const [a, b, c] = limiters as [LocalBudgetLimiter, LocalBudgetLimiter, LocalBudgetLimiter];
    let admitted = 0;
    for (const node of [b, b, c, c]) if ((await node.consume('k')).allowed) admitted += 1;
    for (let i = 0; i < 50; i += 1) if ((await a.consume('k')).allowed) admitted += 1;
    expect(admitted).to.equal(10 + 2 * 2);
  });

  it('reports local events once when events of one key overlap the round trip', async () => {
    const { counter, limiters } = nodes(1, 10, 2);
    const [node] = limiters as [LocalBudgetLimiter];
    await node.consume('a');
    await node.consume('a');
    await Promise.all([node.consume('a'), node.consume('a'), node.consume('a')]);
    expect(counter.calls.map((c) => c.points)).to.deep.equal([3, 1, 1]);
    expect(counter.windows.get('a')?.count).to.equal(5);
  });

  it('keeps the unreported events when the counter fails, and reports them with the next event', async () => {
    const { counter, limiters } = nodes(1, 10, 2);
    const [node] = limiters as [LocalBudgetLimiter];
    await node.consume('a');
    await node.consume('a');
    counter.failNext = true;
    let failed = false;
    await node.consume('a').catch(() => {
      failed = true;
    });
    expect(failed).to.equal(true);
    await node.consume('a');
    expect(counter.calls.map((c) => c.points)).to.deep.equal([3, 3]);
  });

  it('gives a refund back to the local budget before the shared counter', async () => {
    const { counter, limiters } = nodes(1, 10, 2);
    const [node] = limiters as [LocalBudgetLimiter];
    await node.consume('a');
    await node.consume('a');
    await node.refund('a');
    await node.consume('a');
    expect(counter.calls).to.deep.equal([]);
    await node.consume('a'); // asks, carrying 2
    await node.refund('a');
    expect(counter.windows.get('a')?.count).to.equal(2);
  });

  it("takes no refund of an event this node never reported out of the shared count (another node's events)", async () => {
    const { counter, limiters } = nodes(2, 10, 1);
    const [a, b] = limiters as [LocalBudgetLimiter, LocalBudgetLimiter];
    await a.consume('k'); // admitted on node a alone: the shared count never holds it
    t += WINDOW_MS / 2;
    await b.consume('k');
    await b.consume('k'); // node b asks: the shared window holds its 2
    t += WINDOW_MS / 2 + 1; // node a's window has ended, the shared one runs
    await a.refund('k'); // the command node a admitted ended BUSY, after its window
    expect(counter.windows.get('k')?.count).to.equal(2);

    // Nor in a window of node a's own that has reported nothing: the refunded event was the earlier window's.
    await a.consume('k');
    await a.refund('k');
    await a.refund('k');
    expect(counter.windows.get('k')?.count).to.equal(2);
  });

  it('forgets a key on reset, here and in the counter', async () => {
    const { counter, limiters } = nodes(1, 3, 1);
    const [node] = limiters as [LocalBudgetLimiter];
    for (let i = 0; i < 5; i += 1) await node.consume('a');
    await node.reset('a');
    expect(counter.windows.has('a')).to.equal(false);
    expect((await node.consume('a')).allowed).to.equal(true);
  });

  it('drops ended windows once a window length has passed, without a timer', async () => {
    const { limiters } = nodes(1, 10, 2);
    const [node] = limiters as [LocalBudgetLimiter];
    for (let i = 0; i < 100; i += 1) await node.consume(`k${i}`);
    expect(node.size).to.equal(100);
    t += WINDOW_MS;
    await node.consume('late');
    expect(node.size).to.equal(1);
  });

  it('gives small budgets no local share, so they stay exact', () => {
    expect(localBudget(3, 0.1)).to.equal(0);
    expect(localBudget(10, 0.1)).to.equal(1);
    expect(localBudget(600, 0.1)).to.equal(60);
    expect(localBudget(10, 0)).to.equal(0);
    expect(localBudget(30, 0.1)).to.equal(3);
  });
});
