import { expect } from 'chai';
import path from 'node:path';
import { limitSettings } from '../../src/app.js';
import { createLimiters, type Limiters } from '../../src/domain/limiters.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';

/** A login address budget whose local share (0.1) would be 3 per node: the overshoot would show. */
const LOGIN_PER_MINUTE = 30;
const RESETS_PER_HOUR = 20;
const NODES = 3;

/**
 * Brute-force limits must hold across nodes, not only within the documented P + (N - 1) x S of
 * the other limits (docs/limits.md, "Across nodes"): an attacker who spends a budget on one node
 * and then moves on must get nothing more from the others.
 */
describe('login and reset limits across nodes are exact (3 nodes, real Redis)', function () {
  this.timeout(60_000);
  let fileNo = 0;
  let cluster: StartedNodes | null = null;
  const suite = useRedis('login-limits-across-nodes');

  beforeEach(async () => {
    fileNo += 1;
    cluster = await startNodes(NODES, {
      redisUrl: suite.redis.url,
      sqlitePath: path.join(suite.dir, `attendance-${fileNo}.db`),
      env: { LOGIN_ADDRESS_PER_MINUTE: String(LOGIN_PER_MINUTE), RESET_EMAILS_PER_HOUR: String(RESETS_PER_HOUR) },
    });
  });
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = null;
  });

  it('wrong passwords from one address, the budget spent on one node then tried on the others: exactly the budget is evaluated', async () => {
    const nodes = cluster!.nodes;
    // A new email each time, so only the per-address limit can refuse (not the per-account back-off).
    let n = 0;
    const attempt = async (url: string) => {
      n += 1;
      const res = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `guess${n}@school.test`, password: 'wrong-password-1' }),
      });
      return res.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_PER_MINUTE; i += 1) statuses.push(await attempt(nodes[0]!.url));
    for (const node of nodes.slice(1)) for (let i = 0; i < 5; i += 1) statuses.push(await attempt(node.url));
    const evaluated = statuses.filter((s) => s !== 429).length;
    expect({ evaluated, refusedAtTheEnd: statuses.slice(LOGIN_PER_MINUTE).every((s) => s === 429) }).to.deep.equal({
      evaluated: LOGIN_PER_MINUTE,
      refusedAtTheEnd: true,
    });
  });

  it('reset emails to one address, spent on one node then asked on the others: exactly the budget is sent', async () => {
    const nodes = cluster!.nodes;
    const limiters: Limiters[] = nodes.map((node) => createLimiters(limitSettings(node.config), node.cluster.limiters));
    const key = `victim-${fileNo}@school.test`;
    const allowed: boolean[] = [];
    for (let i = 0; i < RESETS_PER_HOUR; i += 1) allowed.push((await limiters[0]!.reset.consume(key)).allowed);
    for (const l of limiters.slice(1)) for (let i = 0; i < 5; i += 1) allowed.push((await l.reset.consume(key)).allowed);
    expect(allowed.filter(Boolean).length).to.equal(RESETS_PER_HOUR);
  });
});
