import { useBalancedNodes } from '../support/balanced-nodes.js';
import { killUnderPollingPhones, POLLING_BATCHED, POLLING_STUDENTS } from '../support/polling-node-killed.js';
import { useRedis } from '../support/redis-server.js';
import { startStickyBalancer } from '../support/sticky-balancer.js';

// docs/protocol.md §2 (long-polling where the upgrade is refused) and docs/deploy.md (the
// balancer keeps each client on one node; behind one address, by a cookie it sets): every client
// on long-polling alone, behind a balancer sticky by cookie. The node the phones stick to is
// killed (SIGKILL) with check-ins in flight: their next request finds it refusing, the balancer
// sends them to A and moves their cookie; they handshake again, rejoin, each pending check-in is
// answered once (found stored by the join, or sent again), and both screens converge to the store.
describe('a node killed under long-polling clients behind a cookie-sticky balancer', function () {
  this.timeout(90_000);
  const start = useBalancedNodes(useRedis('polling-node-killed'));

  it('the phones come back on the other node by themselves, every pending check-in answered once, the screens equal the store', async () => {
    const nodes = await start('polling-node-killed', POLLING_STUDENTS, POLLING_BATCHED, startStickyBalancer);
    await killUnderPollingPhones(nodes, null, ['the projector on A', "the teacher's phone, moved from B"]);
  });
});
