import { expect } from 'chai';
import path from 'node:path';
import { ABANDONED_VERIFICATIONS_INTERVAL_MS } from '../../src/domain/checkins/abandoned-verifications.js';
import { verificationLimitMs } from '../../src/domain/checkins/selfie-verifier.js';
import type { FaceEngine } from '../../src/domain/face/face-engine.js';
import type { AnalyseResult } from '../../src/domain/face/face-types.js';
import { FakeFaceEngine } from '../support/fake-face-engine.js';
import { createClass } from '../support/fixtures.js';
import { useRedis } from '../support/redis-server.js';
import { command, nextEvent, nextRosterUpdate, ok, waitFor } from '../support/sockets.js';
import { useNodes } from '../support/use-nodes.js';

/**
 * A face engine whose analyses never end: the selfie stays in the node's memory, as it does in
 * a real pool's queue or worker at the moment the node is killed.
 */
class StuckFaceEngine implements FaceEngine {
  analyses = 0;
  private readonly status_ = new FakeFaceEngine().status();
  analyse(): Promise<AnalyseResult> {
    this.analyses += 1;
    return new Promise<AnalyseResult>(() => undefined);
  }
  status() {
    return this.status_;
  }
}

// Node B is killed (no goodbye, nothing drained) while a student's selfie waits for its verdict
// in B's memory. The student's phone reconnects to A: they see their own check-in, a retry is
// idempotent, and the verification that will never come is given up by the cluster's job once
// the longest a running node may take has passed: FACE_CHECK_FAILED for the teacher, told to
// the student and the screen, never "being verified" for ever.
describe('fault: a node killed while a selfie waits for its verdict', function () {
  this.timeout(60_000);
  const suite = useRedis('fault-selfie-node-killed');
  const nodes = useNodes(suite);

  it('the student sees their check-in on another node, a retry changes nothing, and the lost verification is given up for the teacher', async () => {
    let aheadMs = 0;
    const stuck = new StuckFaceEngine();
    const [a, b] = await nodes.start(2, {
      sqlitePath: path.join(suite.dir, 'attendance.db'),
      faces: [new FakeFaceEngine(), stuck],
      appClocks: [() => new Date(Date.now() + aheadMs), undefined],
    });
    // The test runs the job itself, on A.
    await a!.app.abandonedVerifications.stop();
    await b!.app.abandonedVerifications.stop();
    const { teacher, students, subject, org } = await createClass(a!.store, 1);
    const student = students[0]!;

    const projector = await nodes.client(a!, teacher);
    const policy = { selfie: true, geofence: false, rotatingCode: false, network: false };
    const session = ok(await command(projector, 'session:open', { subjectId: subject.id, policy }));
    ok(await command(projector, 'session:watch', { sessionId: session.id }));

    const phoneOnB = await nodes.client(b!, student);
    ok(await command(phoneOnB, 'session:join', { sessionId: session.id }));
    const acked = ok(await command(phoneOnB, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array([9, 9, 9]) }));
    expect(acked).to.include({ status: 'pending', reason: 'SELFIE_PENDING', verifying: true });
    await waitFor(() => stuck.analyses === 1);
    await b!.kill();

    // The phone comes back through the balancer to A.
    const phone = await nodes.client(a!, student);
    const joined = ok(await command(phone, 'session:join', { sessionId: session.id }));
    expect(joined.checkin).to.include({ recordId: acked.recordId, status: 'pending', verifying: true });
    const retried = ok(await command(phone, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array([9, 9, 9]) }));
    expect(retried).to.include({ recordId: acked.recordId, attempts: 1, recordVersion: acked.recordVersion });
    expect(await a!.store.records.listBySession(org.id, session.id)).to.have.length(1);

    // Before the longest a running node takes, the verification may still come: left alone.
    const limitMs = verificationLimitMs(a!.config.face.taskTimeoutMs);
    aheadMs = limitMs - 5_000;
    await a!.app.abandonedVerifications.tick();
    expect((await a!.store.records.get(org.id, acked.recordId))!.verification).to.include({ state: 'queued' });

    const told = nextEvent(phone, 'checkin:decision', (v) => v.reason === 'FACE_CHECK_FAILED');
    const shown = nextRosterUpdate(projector, (u) => u.entry.reason === 'FACE_CHECK_FAILED');
    // Past the job's interval too, so this run is due after the one above.
    aheadMs = limitMs + ABANDONED_VERIFICATIONS_INTERVAL_MS;
    expect(await a!.app.abandonedVerifications.tick(), 'the job ran on A').to.equal(true);

    const stored = (await a!.store.records.get(org.id, acked.recordId))!;
    expect(stored).to.include({ status: 'pending', reason: 'FACE_CHECK_FAILED' });
    expect(stored.flags).to.include('FACE_CHECK_FAILED');
    expect(stored.verification).to.include({ state: 'failed' });
    const [view] = await told;
    expect(view).to.include({ recordId: acked.recordId, status: 'pending', verifying: false });
    const update = await shown;
    expect(update.entry).to.include({ studentId: student.id, status: 'pending', recordVersion: stored.version });
    // The screen's roster, read again, is the store's.
    const snapshot = ok(await command(projector, 'session:watch', { sessionId: session.id }));
    const entry = snapshot.entries.find((e) => e.studentId === student.id);
    expect(entry).to.include({ reason: 'FACE_CHECK_FAILED', recordVersion: stored.version });
  });
});
