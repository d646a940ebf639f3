import { expect } from 'chai';
import { BENCH_ROOM } from '../../scripts/lib/bench-node.js';
import type { CheckinView } from '../../src/shared/events.js';
import { KILLED_CLASS_STUDENTS, readAfterKill, useKilledClass } from '../support/killed-class.js';
import { command, ok, waitFor } from '../support/sockets.js';

/** Answered before the pause. */
const BEFORE = 20;
/** How long the node stays stopped: well under the 45 s after which a socket is dropped. */
const PAUSE_MS = 3_000;

// docs/deploy.md "A node pauses (SIGSTOP, a virtual machine stalled, a long garbage collection)":
// a paused node answers nothing until it resumes; its students' commands wait in their
// connections and are answered then, no socket dropped; "Group commit: a batch the pause caught
// is written and answered when the node resumes". A real node process stopped with SIGSTOP while
// a class's check-ins arrive, continued with SIGCONT.
describe('a node paused (SIGSTOP) while a class checks in, then continued', function () {
  this.timeout(90_000);
  const start = useKilledClass();

  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  it('answers every check-in sent during the pause once it resumes, each stored once, no socket dropped', async () => {
    // Batches of the default size: the class's small ones hold 80 check-ins waiting (eight
    // batches) and answer the rest BUSY at once, which is the store-slow rule, not this one.
    const { bench, live, sessionId, phones } = await start('paused-node-checkins', { CHECKIN_BATCH_MAX: '200' });
    let drops = 0;
    for (const p of phones) p.on('disconnect', () => (drops += 1));
    const submit = (i: number) =>
      command(
        phones[i]!,
        'checkin:submit',
        { sessionId, location: { lat: BENCH_ROOM.lat, lon: BENCH_ROOM.lon, accuracy: 10, timestamp: Date.now() } },
        60_000,
      );
    for (let i = 0; i < BEFORE; i += 10) {
      const acks = await Promise.all(Array.from({ length: 10 }, (_, k) => submit(i + k)));
      expect(acks.every((a) => ok(a).status === 'present')).to.equal(true);
    }

    live.child.kill('SIGSTOP');
    try {
      const answers: (CheckinView | null)[] = Array.from({ length: KILLED_CLASS_STUDENTS }, () => null);
      const during = Array.from({ length: KILLED_CLASS_STUDENTS - BEFORE }, (_, k) =>
        submit(BEFORE + k).then((a) => (answers[BEFORE + k] = ok(a))),
      );
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      expect(
        answers.filter((a) => a !== null),
        'answered by a stopped node',
      ).to.have.length(0);
      live.child.kill('SIGCONT');
      await Promise.all(during);
      expect(answers.slice(BEFORE).every((a) => a?.status === 'present')).to.equal(true);
    } finally {
      // A failed step must not leave the node stopped: the describe's `after` could not end it.
      live.child.kill('SIGCONT');
    }
    await waitFor(() => phones.every((p) => p.connected));
    expect(drops, 'sockets dropped by the pause').to.equal(0);

    await live.stop();
    const { stored, audited } = await readAfterKill(bench, sessionId);
    expect(stored).to.have.length(KILLED_CLASS_STUDENTS);
    expect(stored.filter((r) => r.attempts !== 1)).to.deep.equal([]);
    expect(stored.every((r) => audited.has(r.id))).to.equal(true);
  });
});
