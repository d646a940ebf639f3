import { expect } from 'chai';
import { expectScreensEqual, openWatched, readSession, useBalancedNodes } from '../support/balanced-nodes.js';
import { deliver, newPhone, type Phone } from '../support/page-clients.js';
import { useRedis } from '../support/redis-server.js';
import { waitFor } from '../support/sockets.js';

const STUDENTS = 200;
/** Checked in before the kill, all acknowledged. */
const BEFORE = 80;
/** Sent at once; the node is killed once KILL_AFTER_ACKS of them are answered, the rest in flight. */
const BURST = 60;
const KILL_AFTER_ACKS = 5;
/** Small batches with a window, so check-ins of the burst are still in a batch when the node dies. */
const BATCHED = { CHECKIN_RATE_PER_MINUTE: '600', CHECKIN_BATCH_WINDOW_MS: '20', CHECKIN_BATCH_MAX: '10' };

// docs/multi-node.md "When a node or Redis dies": a node killed (SIGKILL) with a class connected
// and check-ins in flight; its clients come back through the balancer to another node by their
// own reconnection, the check-in acknowledged before is kept and the one in flight stored once,
// and the teachers' screens converge to the store. Real node processes, real Redis, one SQLite file.
describe('a node killed (SIGKILL) under a class of 200 behind a balancer', function () {
  this.timeout(90_000);
  const start = useBalancedNodes(useRedis('node-killed-class'));

  it('its phones reconnect to the other node by themselves; no acknowledged check-in lost, none doubled; both screens equal the store', async () => {
    const nodes = await start('node-killed-class', STUDENTS, BATCHED);
    const { bench, a, b, balancer, url, portOf } = nodes;
    const { students, tokens } = bench;
    // The balancer takes turns: the projector lands on A, the teacher's phone on B.
    const watched = await openWatched(nodes, { geofence: true, rotatingCode: false });
    const { sessionId: sid, teacherPhone } = watched;
    expect([balancer.relayed.get(portOf(a)), balancer.relayed.get(portOf(b))]).to.deep.equal([1, 1]);

    const phones: Phone[] = [];
    for (let i = 0; i < STUDENTS; i += 50) {
      const batch = students.slice(i, i + 50).map((s) => {
        const phone = newPhone(url, tokens.signAccess(s).token, () => sid);
        nodes.keep(phone.socket);
        phones.push(phone);
        return waitFor(() => phone.socket.connected);
      });
      await Promise.all(batch);
    }
    expect(balancer.relayed.get(portOf(b)), 'students on the node to kill').to.be.above(STUDENTS / 4);

    for (let i = 0; i < BEFORE; i += 20) await Promise.all(phones.slice(i, i + 20).map((p) => deliver(p, sid)));
    expect(phones.slice(0, BEFORE).every((p) => p.answer?.status === 'present')).to.equal(true);

    // The burst: B is killed (no shutdown) once KILL_AFTER_ACKS of it are answered.
    let burstAnswers = 0;
    const burst = phones.slice(BEFORE, BEFORE + BURST).map((p) =>
      deliver(p, sid, () => {
        burstAnswers += 1;
        if (burstAnswers === KILL_AFTER_ACKS) b.child.kill('SIGKILL');
      }),
    );
    // The rest arrive after the kill, some from phones still reconnecting.
    await waitFor(() => b.child.signalCode === 'SIGKILL', 30_000, 5);
    const late = phones.slice(BEFORE + BURST).map((p) => deliver(p, sid));
    await Promise.all([...burst, ...late]);

    const cut = phones.filter((p) => p.disconnects > 0);
    expect(cut.length, "B's phones lost their connection").to.be.above(STUDENTS / 4);
    expect(phones.filter((p) => p.lostAnswer).length, 'check-ins in flight when B died').to.be.above(0);
    // Every phone is back, on A: the balancer found B refusing and passed it on.
    // A phone whose check-in was answered before the kill reconnects on its own backoff (up to
    // reconnectionDelayMax), which may end after the last delivery: wait for it, bounded.
    await waitFor(() => phones.every((p) => p.socket.connected), 20_000, 20);
    await waitFor(() => teacherPhone.socket.connected && teacherPhone.feed.watching === sid, 20_000, 20);

    const { records, submitted } = await readSession(bench, sid);
    // One record per student, one submission's audit entry per record, one attempt each: nothing doubled.
    expect(records.length).to.equal(STUDENTS);
    expect(new Set(records.map((r) => r.studentId)).size).to.equal(STUDENTS);
    expect(submitted, "'checkin.submit' audit entries").to.equal(STUDENTS);
    expect(records.filter((r) => r.attempts !== 1).map((r) => r.studentId)).to.deep.equal([]);
    // Every answer a student was shown is the stored record.
    const byStudent = new Map(records.map((r) => [r.studentId, r]));
    for (const [i, p] of phones.entries()) {
      const stored = byStudent.get(students[i]!.id);
      expect(p.answer?.recordId, `student ${i}`).to.equal(stored?.id);
      expect(p.answer?.status, `student ${i}`).to.equal(stored?.status);
    }
    // A phone of B whose answer was lost and whose record was stored finds it held, unchanged.
    for (const p of phones.filter((x) => x.foundHeld)) expect(p.submissions, 'a held record is not sent again').to.equal(1);
    // Grace rule: a phone of B checked in before the kill, back on A, is told its record by its resync's join.
    const before = phones.slice(0, BEFORE).filter((p) => p.disconnects > 0);
    expect(before.length).to.be.above(0);
    await waitFor(() => before.every((p) => p.held?.recordId === p.answer?.recordId));

    await expectScreensEqual(watched, records, ['the projector on A', "the teacher's phone, moved from B"]);
  });
});
