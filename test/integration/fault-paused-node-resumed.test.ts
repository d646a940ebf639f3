import { expect } from 'chai';
import { BENCH_ROOM } from '../../scripts/lib/bench-node.js';
import type { Ack } from '../../src/shared/errors.js';
import type { CheckinView } from '../../src/shared/events.js';
import { expectScreensEqual, openWatched, readSession, useBalancedNodes } from '../support/balanced-nodes.js';
import { newPhone } from '../support/page-clients.js';
import { useRedis } from '../support/redis-server.js';
import { command, ok, waitFor } from '../support/sockets.js';

// docs/deploy.md "A node pauses": node B (a real process) is stopped (SIGSTOP) and holds a
// student's submission sent meanwhile (unread in its socket: the group commit's window is at most
// 100 ms, too short to stop a real process inside it on purpose). The student moves to node A (a new page; the balancer's health check would send it
// there), finds nothing stored, checks in there and is answered; the teacher then rejects that
// record. B resumes (SIGCONT) with the stale submission: it must not become a second record, a
// second attempt or a second 'checkin.submit' entry, nor undo the teacher's decision, and the
// answer B finally gives the old page is the store's record. Established: B reads the submission
// on resuming, finds the record (now final) and answers it unchanged, as any resubmission is.
describe('a node paused (SIGSTOP) holding a submission, then resumed after the student moved', function () {
  this.timeout(90_000);
  const start = useBalancedNodes(useRedis('paused-node-resumed'));

  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  it('the stale submission changes nothing: one record, one submission, the decision kept, the old page told the store', async () => {
    const nodes = await start('paused-node-resumed', 2, { CHECKIN_RATE_PER_MINUTE: '600' });
    const { bench, a, b } = nodes;
    const watched = await openWatched(nodes, { geofence: true, rotatingCode: false, maxAttempts: 2 });
    const sid = watched.sessionId;
    const student = bench.students[0]!;
    const token = bench.tokens.signAccess(student).token;
    const submit = (socket: ReturnType<typeof newPhone>['socket']) =>
      command(
        socket,
        'checkin:submit',
        { sessionId: sid, location: { lat: BENCH_ROOM.lat, lon: BENCH_ROOM.lon, accuracy: 10, timestamp: Date.now() } },
        60_000,
      );

    const old = newPhone(b.url, token, () => sid);
    nodes.keep(old.socket);
    await waitFor(() => old.socket.connected);
    b.child.kill('SIGSTOP');
    let staleAnswer: Ack<CheckinView> | null = null;
    const stale = submit(old.socket).then((ack) => (staleAnswer = ack));
    let moved: CheckinView;
    let rejected: number;
    try {
      const phone = newPhone(a.url, token, () => sid);
      nodes.keep(phone.socket);
      await waitFor(() => phone.socket.connected);
      expect(ok(await command(phone.socket, 'session:join', { sessionId: sid })).checkin, 'B wrote nothing before its pause').to.equal(
        null,
      );
      moved = ok(await submit(phone.socket));
      expect(moved.status).to.equal('present');
      const decided = ok(
        await command(watched.projector.socket, 'checkin:decide', { sessionId: sid, studentId: student.id, decision: 'reject' }),
      );
      expect(decided.status).to.equal('rejected');
      rejected = decided.recordVersion!;
      expect(staleAnswer, 'a stopped node answers nothing').to.equal(null);
    } finally {
      b.child.kill('SIGCONT');
    }
    // B resumes and answers the old page (its socket lived: the pause was well under the heartbeat).
    await stale;
    const { records, submitted } = await readSession(bench, sid);
    expect(records.map((r) => r.studentId)).to.deep.equal([student.id]);
    const [record] = records;
    expect(record!.id).to.equal(moved.recordId);
    // The teacher's rejection uses up the attempts (no retry after a teacher's no); the version is
    // the decision's: B's stale submission wrote nothing, neither a record nor a retry.
    expect(`${record!.status}@${record!.version}/${record!.attempts}`, 'the record after B resumed').to.equal(`rejected@${rejected}/2`);
    expect(submitted, "'checkin.submit' audit entries").to.equal(1);
    const answer = ok(staleAnswer!);
    expect(`${answer.recordId}:${answer.status}`, "B's answer to the old page").to.equal(`${record!.id}:rejected`);
    await expectScreensEqual(watched, records, ['the projector on A', "the teacher's phone on B"]);
  });
});
