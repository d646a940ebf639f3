import { expect } from 'chai';
import { expectScreensEqual, openWatched, readSession, useBalancedNodes } from '../support/balanced-nodes.js';
import { deliver, newPhone, type Phone } from '../support/page-clients.js';
import { useRedis } from '../support/redis-server.js';
import { startStickyBalancer } from '../support/sticky-balancer.js';
import { waitFor } from '../support/sockets.js';

const STUDENTS = 40;
/** Checked in before the kill. */
const BEFORE = 10;
/** Sent at once; B is killed once KILL_AFTER_ACKS of them are answered, the rest in flight. */
const BURST = 20;
const KILL_AFTER_ACKS = 3;
/** Small batches with a window, so check-ins of the burst are still in a batch when the node dies. */
const BATCHED = { CHECKIN_RATE_PER_MINUTE: '600', CHECKIN_BATCH_WINDOW_MS: '20', CHECKIN_BATCH_MAX: '5' };

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
    const nodes = await start('polling-node-killed', STUDENTS, BATCHED, startStickyBalancer);
    const { bench, b, balancer, url, portOf } = nodes;
    const { students, tokens } = bench;
    const watched = await openWatched(nodes, { geofence: true, rotatingCode: false }, 'polling');
    const { sessionId: sid, projector, teacherPhone } = watched;
    expect(projector.socket.io.engine.transport.name).to.equal('polling');

    const phones: Phone[] = students.map((s) => newPhone(url, tokens.signAccess(s).token, () => sid, 'polling'));
    nodes.keep(...phones.map((p) => p.socket));
    await waitFor(() => phones.every((p) => p.socket.connected));
    // Sticky: a long-polling session's every request reached the node that admitted it.
    expect(balancer.moved, 'requests moved before the kill').to.equal(0);
    const onB = balancer.relayed.get(portOf(b)) ?? 0;
    expect(onB, 'requests on B').to.be.above(STUDENTS);

    await Promise.all(phones.slice(0, BEFORE).map((p) => deliver(p, sid)));
    expect(phones.slice(0, BEFORE).every((p) => p.answer?.status === 'present')).to.equal(true);

    let burstAnswers = 0;
    const burst = phones.slice(BEFORE, BEFORE + BURST).map((p) =>
      deliver(p, sid, () => {
        burstAnswers += 1;
        if (burstAnswers === KILL_AFTER_ACKS) b.child.kill('SIGKILL');
      }),
    );
    await waitFor(() => b.child.signalCode === 'SIGKILL', 30_000, 5);
    const late = phones.slice(BEFORE + BURST).map((p) => deliver(p, sid));
    await Promise.all([...burst, ...late]);

    const cut = phones.filter((p) => p.disconnects > 0);
    expect(cut.length, "B's phones lost their connection").to.be.above(STUDENTS / 4);
    expect(phones.filter((p) => p.lostAnswer).length, 'check-ins in flight when B died').to.be.above(0);
    expect(balancer.cut, 'long-polls cut by the kill').to.be.above(0);
    expect(balancer.moved, "requests of B's clients moved to A").to.be.above(0);
    // A phone whose check-in was answered before the kill reconnects on its own backoff (up to
    // reconnectionDelayMax), which may end after the last delivery: wait for it, bounded.
    await waitFor(() => phones.every((p) => p.socket.connected && p.socket.io.engine.transport.name === 'polling'), 20_000, 20);
    await waitFor(() => teacherPhone.socket.connected && teacherPhone.feed.watching === sid, 20_000, 20);
    const { records, submitted } = await readSession(bench, sid);
    expect(records.length).to.equal(STUDENTS);
    expect(new Set(records.map((r) => r.studentId)).size).to.equal(STUDENTS);
    expect(submitted, "'checkin.submit' audit entries").to.equal(STUDENTS);
    expect(records.filter((r) => r.attempts !== 1).map((r) => r.studentId)).to.deep.equal([]);
    const byStudent = new Map(records.map((r) => [r.studentId, r]));
    for (const [i, p] of phones.entries()) {
      const stored = byStudent.get(students[i]!.id);
      expect(p.answer?.recordId, `student ${i}`).to.equal(stored?.id);
      expect(p.answer?.status, `student ${i}`).to.equal(stored?.status);
    }
    for (const p of phones.filter((x) => x.foundHeld)) expect(p.submissions, 'a held record is not sent again').to.equal(1);
    // Grace rule: a phone of B checked in before the kill is told its record by its resync's join on A.
    const before = phones.slice(0, BEFORE).filter((p) => p.disconnects > 0);
    expect(before.length).to.be.above(0);
    await waitFor(() => before.every((p) => p.held?.recordId === p.answer?.recordId));

    await expectScreensEqual(watched, records, ['the projector on A', "the teacher's phone, moved from B"]);
  });
});
