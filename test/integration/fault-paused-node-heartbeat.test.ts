import { expect } from 'chai';
import { BENCH_ROOM } from '../../scripts/lib/bench-node.js';
import { expectScreensEqual, openWatched, readSession, useBalancedNodes } from '../support/balanced-nodes.js';
import { CONNECT_TIMEOUT_MS, newPhone, RECONNECTION_DELAY_MAX_MS, type Phone } from '../support/page-clients.js';
import { useRedis } from '../support/redis-server.js';
import { command, ok, waitFor } from '../support/sockets.js';

const STUDENTS = 4;
/** Socket.IO's heartbeat: a ping every 25 s, 20 s for its answer (the service keeps the defaults). */
const HEARTBEAT_MS = 25_000 + 20_000;
/** Slack for timers on a loaded machine. */
const SLACK_MS = 5_000;
/** How long a tap waits for its answer before it treats it as lost (the page's slow-link path). */
const ANSWER_WAIT_MS = 4_000;

// docs/deploy.md "A node pauses": a paused node answers nothing; a socket is dropped after 45 s
// without an answer to the heartbeat, and the pages then reconnect to another node. Here node B
// (a real process) is stopped with SIGSTOP and kept stopped: its phone's check-in goes
// unanswered, the phone drops within the heartbeat, comes back through the balancer on A, finds
// nothing stored and sends again. Then B is continued, the first submission perhaps still in
// its socket's buffer: the record stays one, with one submission.
describe('a node paused (SIGSTOP) past the heartbeat: its phones move to the other node', function () {
  // The heartbeat's 45 s, a reconnection that may first meet the stopped node (20 s of
  // socket.io-client's connect timeout), B's resumption: about 2 min on a loaded machine.
  this.timeout(240_000);
  const start = useBalancedNodes(useRedis('paused-node-heartbeat'));

  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  it("drops B's sockets within 45 s, they resync on A, the unanswered check-in is stored once even after B resumes", async () => {
    const nodes = await start('paused-node-heartbeat', STUDENTS, { CHECKIN_RATE_PER_MINUTE: '600' });
    const { bench, a, b, balancer, url, portOf } = nodes;
    const watched = await openWatched(nodes, { geofence: true, rotatingCode: false });
    const sid = watched.sessionId;

    // Phones one at a time, each placed by the balancer's turn: noted by which node's count grew.
    const placed: { phone: Phone; node: 'a' | 'b'; student: string }[] = [];
    for (const s of bench.students) {
      const onB = balancer.relayed.get(portOf(b)) ?? 0;
      const phone = newPhone(url, bench.tokens.signAccess(s).token, () => sid);
      nodes.keep(phone.socket);
      await waitFor(() => phone.socket.connected);
      placed.push({ phone, node: (balancer.relayed.get(portOf(b)) ?? 0) > onB ? 'b' : 'a', student: s.id });
    }
    const onA = placed.find((p) => p.node === 'a')!;
    const onB = placed.find((p) => p.node === 'b')!;
    const submit = (p: Phone, timeoutMs: number) =>
      command(
        p.socket,
        'checkin:submit',
        { sessionId: sid, location: { lat: BENCH_ROOM.lat, lon: BENCH_ROOM.lon, accuracy: 10, timestamp: Date.now() } },
        timeoutMs,
      );

    b.child.kill('SIGSTOP');
    try {
      const pausedAt = Date.now();
      // A serves as before.
      expect(ok(await submit(onA.phone, 10_000)).status).to.equal('present');
      const lost = await submit(onB.phone, ANSWER_WAIT_MS).then(
        () => false,
        () => true,
      );
      expect(lost, 'a stopped node answers nothing').to.equal(true);

      await waitFor(() => onB.phone.disconnects > 0, HEARTBEAT_MS + SLACK_MS, 100);
      const droppedAfterMs = Date.now() - pausedAt;
      expect(droppedAfterMs, 'dropped within the heartbeat').to.be.below(HEARTBEAT_MS + SLACK_MS);
      // Back through the balancer: B accepts TCP connections (its kernel does) but answers no
      // handshake, so the page's next attempt, the balancer's next turn, reaches A. B's three
      // sockets reconnect at once and the balancer takes turns among them: one may meet B twice
      // (a connect timeout and a backoff each) before A. 60 s left ~10 s for that on a loaded
      // machine (a run at load 12 took 104 s in all); the bound is three such meetings.
      await waitFor(
        () => onB.phone.socket.connected && watched.teacherPhone.socket.connected,
        3 * (CONNECT_TIMEOUT_MS + RECONNECTION_DELAY_MAX_MS),
        100,
      );
      const joined = ok(await command(onB.phone.socket, 'session:join', { sessionId: sid }));
      expect(joined.checkin, 'B stored nothing while stopped').to.equal(null);
      expect(ok(await submit(onB.phone, 10_000)).status).to.equal('present');
    } finally {
      b.child.kill('SIGCONT');
    }
    // B serves again, with whatever waited in its sockets' buffers read (the unanswered check-in may be among it).
    await waitFor(async () => (await fetch(`${b.url}/readyz`).catch(() => null))?.status === 200, 30_000, 250);
    await new Promise((r) => setTimeout(r, 1_000));

    const { records, submitted } = await readSession(bench, sid);
    expect(records.map((r) => r.studentId).sort()).to.deep.equal([onA.student, onB.student].sort());
    expect(submitted, "'checkin.submit' audit entries").to.equal(2);
    expect(records.every((r) => r.attempts === 1)).to.equal(true);
    expect(a.child.exitCode).to.equal(null);
    await expectScreensEqual(watched, records, ['the projector on A', "the teacher's phone, moved from B"]);
  });
});
