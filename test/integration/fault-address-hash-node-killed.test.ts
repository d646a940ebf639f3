import { expect } from 'chai';
import { useBalancedNodes } from '../support/balanced-nodes.js';
import { killUnderPollingPhones, POLLING_BATCHED, POLLING_STUDENTS } from '../support/polling-node-killed.js';
import { useRedis } from '../support/redis-server.js';
import { addressUpstream, startAddressHashBalancer } from '../support/sticky-balancer.js';

/** Student i's phone connects from 127.0.1.(i + 1): Linux routes all of 127.0.0.0/8 to loopback. */
const phoneAddress = (i: number) => `127.0.1.${i + 1}`;
/** The first loopback address of 127.0.2.0/24 whose hash names `upstream`: the projector on A, the teacher's phone on B. */
const screenAddress = (upstream: number) => {
  for (let host = 1; host < 255; host += 1) if (addressUpstream(`127.0.2.${host}`, 2) === upstream) return `127.0.2.${host}`;
  throw new Error(`no address of 127.0.2.0/24 hashes to upstream ${upstream}`);
};

// docs/deploy.md: the documented stickiness is by the client's address (Caddy `lb_policy
// ip_hash`, nginx `hash $remote_addr consistent`), not a cookie. Each test client connects from
// its own loopback address (an http.Agent's `localAddress` for long-polling), through a balancer
// hashing the whole address; B, holding the phones whose address hashes to it, is killed
// (SIGKILL) with check-ins in flight. The balancer passes B over for A, as Caddy does with an
// upstream that refuses; the phones handshake again there, each pending check-in is answered
// once, both screens converge to the store, and the phones of A never noticed.
describe('a node killed under long-polling clients behind a balancer hashing client addresses', function () {
  this.timeout(90_000);
  const start = useBalancedNodes(useRedis('address-hash-node-killed'));

  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  it("B's phones come back on A by themselves, every pending check-in answered once, A's phones untouched, the screens equal the store", async () => {
    const nodes = await start('address-hash-node-killed', POLLING_STUDENTS, POLLING_BATCHED, startAddressHashBalancer);
    const onB = Array.from({ length: POLLING_STUDENTS }, (_, i) => addressUpstream(phoneAddress(i), 2) === 1);
    expect(onB.filter(Boolean).length, 'phones whose address hashes to B').to.be.within(POLLING_STUDENTS / 4, (3 * POLLING_STUDENTS) / 4);

    const { phones } = await killUnderPollingPhones(nodes, { screens: [screenAddress(0), screenAddress(1)], phone: phoneAddress }, [
      'the projector on A',
      "the teacher's phone, moved from B",
    ]);
    // Stickiness by address: exactly the phones hashed to B lost their connection.
    expect(phones.map((p) => p.disconnects > 0)).to.deep.equal(onB);
  });
});
