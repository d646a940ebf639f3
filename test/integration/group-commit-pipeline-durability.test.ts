import { expect } from 'chai';
import { BENCH_ROOM as ROOM } from '../../scripts/lib/bench-node.js';
import type { CheckinView } from '../../src/shared/events.js';
import { endKilledRun, KILLED_CLASS_STUDENTS as STUDENTS, readAfterKill, SUBMIT_PACE_MS, useKilledClass } from '../support/killed-class.js';
import { command, waitFor, type ClientSocket } from '../support/sockets.js';

/** The node is killed once this many answers are acknowledged, with later ones still in batches. */
const KILL_AFTER_ACKS = 40;
/** Submissions left unanswered at most at once (several batches of CHECKIN_BATCH_MAX). */
const IN_FLIGHT = 40;
/** Steps between a student's two submissions: 2 × LAG others in between, above CHECKIN_BATCH_MAX (10). */
const LAG = 6;
/** About 11 km north of the room: refused OUTSIDE_GEOFENCE, a retry allowed. */
const FAR = { lat: ROOM.lat + 0.1, lon: ROOM.lon };
const INSIDE = { lat: ROOM.lat, lon: ROOM.lon };

// With CHECKIN_BATCH_PIPELINE=2 a batch is handed to the store while the one before it commits.
// A node killed (SIGKILL) with two batches out must still have stored every check-in it
// acknowledged, once, and the two batches in the order they were cut: each student sends a
// refused check-in (outside the room) and, a batch later, one from inside. If the second is read
// before the first is stored, both are new records and the first must win (both answered with
// it); if it is read after, it is the retry (attempts 2). A record stored present at its first
// attempt means the later submission was committed before the earlier one.
describe('group commit with two batches in flight survives a kill -9 of the node', function () {
  this.timeout(90_000);
  const startClass = useKilledClass();

  it('stores each acknowledged check-in once and keeps a student’s two submissions in order', async () => {
    const { bench, live, sessionId, phones } = await startClass('group-commit-pipeline', { CHECKIN_BATCH_PIPELINE: '2' });
    const { students } = bench;

    /** Each student's acknowledged answers, in the order their submissions were sent. */
    const acknowledged = new Map<string, CheckinView[]>();
    const answers: Promise<void>[] = [];
    let sent = 0;
    let answered = 0;
    let acks = 0;
    let unanswered = 0;
    let killed = false;
    const submit = (studentId: string, phone: ClientSocket, at: { lat: number; lon: number }) => {
      const location = { ...at, accuracy: 10, timestamp: Date.now() };
      sent += 1;
      answers.push(
        command(phone, 'checkin:submit', { sessionId, location }, 5_000)
          .then(
            (ack) => {
              if (!ack.ok) return;
              acks += 1;
              const views = acknowledged.get(studentId) ?? [];
              views.push(ack.data);
              acknowledged.set(studentId, views);
            },
            () => {
              unanswered += 1; // the node died before answering
            },
          )
          .finally(() => (answered += 1)),
      );
    };
    // Student i's refused check-in goes out at step i, its second one at step i + LAG: more than
    // CHECKIN_BATCH_MAX submissions apart, so never in the same batch (a batch is consecutive).
    for (let step = 0; step < STUDENTS + LAG; step += 1) {
      await waitFor(() => sent - answered < IN_FLIGHT, 30_000, 2);
      if (step < STUDENTS) submit(students[step]!.id, phones[step]!, FAR);
      if (step >= LAG) submit(students[step - LAG]!.id, phones[step - LAG]!, INSIDE);
      if (acks >= KILL_AFTER_ACKS) {
        killed = true;
        live.child.kill('SIGKILL');
        break; // only check-ins sent to a live node count
      }
      await new Promise((r) => setTimeout(r, SUBMIT_PACE_MS));
    }
    await endKilledRun(live, killed, answers);
    expect(unanswered, 'check-ins left unanswered by the kill').to.be.above(0);

    const { stored, audited } = await readAfterKill(bench, sessionId);
    for (const r of stored) {
      // At attempt 1 the record is the refused submission's; only a retry (2) is the inside one's.
      const inOrder = r.attempts === 1 ? r.reason === 'GEOFENCE_OUTSIDE' : r.attempts === 2;
      expect(inOrder, `${r.studentId}: ${r.status} (${r.reason}) at attempt ${r.attempts}: the later submission stored first`).to.equal(
        true,
      );
    }
    for (const [studentId, views] of acknowledged) {
      const record = stored.find((r) => r.studentId === studentId);
      expect(record, `acknowledged check-in of ${studentId} is stored`).to.not.equal(undefined);
      expect(audited.has(record!.id), 'its audit entry is stored with it').to.equal(true);
      for (const view of views) {
        expect(view.recordId, 'answered with the stored record').to.equal(record!.id);
        // A retry stored after the last answer (its own answer lost to the kill) may be ahead.
        expect(record!.version, 'the store is at least where the answer said').to.be.at.least(view.recordVersion);
        if (record!.version === view.recordVersion) expect(view.status).to.equal(record!.status);
      }
    }
  });
});
