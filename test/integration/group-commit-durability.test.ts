import { expect } from 'chai';
import { BENCH_ROOM as ROOM } from '../../scripts/lib/bench-node.js';
import type { CheckinView } from '../../src/shared/events.js';
import { endKilledRun, readAfterKill, SUBMIT_PACE_MS, useKilledClass } from '../support/killed-class.js';
import { command, waitFor } from '../support/sockets.js';

/** The node is killed once this many check-ins are acknowledged, with the others still in batches. */
const KILL_AFTER_ACKS = 25;
/** Submissions left unanswered at most at once (three batches of CHECKIN_BATCH_MAX). */
const IN_FLIGHT = 30;

// Group commit acknowledges a check-in only once its batch is stored: a node killed (SIGKILL,
// no shutdown) while batches are queued loses nothing it acknowledged, and stores it once.
describe('group commit of check-ins survives a kill -9 of the node', function () {
  this.timeout(60_000);
  const startClass = useKilledClass();

  it('every acknowledged check-in is stored exactly once, with its audit entry, after a restart', async () => {
    const { bench, live, sessionId, phones } = await startClass('group-commit');
    const { students } = bench;

    const acknowledged = new Map<string, CheckinView>();
    const answers: Promise<void>[] = [];
    let answered = 0;
    let unanswered = 0;
    let killed = false;
    for (const [i, phone] of phones.entries()) {
      // Never more than IN_FLIGHT unanswered: on a loaded machine the acknowledgements come
      // slower than the pace, and a class sent in full before the KILL_AFTER_ACKS-th of them
      // would leave no submission to kill the node behind.
      await waitFor(() => i - answered < IN_FLIGHT, 30_000, 2);
      const location = { lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() };
      const answer = command(phone, 'checkin:submit', { sessionId, location }, 5_000);
      // The first submission after KILL_AFTER_ACKS acknowledgements kills the node right
      // behind it: it and the others still in their batch window are in flight.
      if (acknowledged.size >= KILL_AFTER_ACKS) {
        killed = true;
        live.child.kill('SIGKILL');
      }
      answers.push(
        answer
          .then(
            (ack) => {
              if (ack.ok) acknowledged.set(students[i]!.id, ack.data);
            },
            () => {
              unanswered += 1; // the node died before answering
            },
          )
          .finally(() => (answered += 1)),
      );
      if (killed) break; // only check-ins sent to a live node count
      // Paced, as a class arrives: sent at once, the queue bound also refused a third BUSY.
      await new Promise((r) => setTimeout(r, SUBMIT_PACE_MS));
    }
    await endKilledRun(live, killed, answers);
    expect(unanswered, 'check-ins left unanswered by the kill').to.be.above(0);

    const { stored, audited } = await readAfterKill(bench, sessionId);
    for (const [studentId, view] of acknowledged) {
      const record = stored.find((r) => r.studentId === studentId);
      expect(record, `acknowledged check-in of ${studentId} is stored`).to.not.equal(undefined);
      expect(record).to.include({ id: view.recordId, status: view.status, version: view.recordVersion });
      expect(audited.has(view.recordId), 'its audit entry is stored with it').to.equal(true);
    }
    expect(stored.length).to.be.at.least(acknowledged.size);
  });
});
