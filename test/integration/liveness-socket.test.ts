import { expect } from 'chai';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { FakeFaceEngine, fakeAnalysis, fakeFace } from '../support/fake-face-engine.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, nextEvent, nextRosterUpdate, ok, type ClientSocket, userClient } from '../support/sockets.js';

const FACE = Float32Array.from([1, 0, 0, 0]);

/** Every selfie is the enrolled face; every frame shows it, still (a held photo). */
const stillEngine = () =>
  new FakeFaceEngine({
    answer: fakeAnalysis([fakeFace(FACE)]),
    frames: () => ({ ok: true, turn: 0.02, ear: 0.3, embedding: FACE }),
    status: { retryAfterMs: 500 },
  });

// The challenge and the frames over real Socket.IO: binary frames reach the engine, bad input
// is refused by the schema, and a still "recording" reaches the teacher as LIVENESS_FAILED.
describe('liveness challenge over socket.io', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let engine: FakeFaceEngine;
  let teacher: User;
  let student: User;
  let subject: Subject;
  const sockets: ClientSocket[] = [];
  const client = userClient(() => srv, sockets);

  before(async () => {
    engine = stillEngine();
    srv = await startTestServer({}, { face: engine });
    const org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    student = await createUser(srv.store, org.id, 'student');
    subject = await srv.store.subjects.create(org.id, {
      code: 'LIVE1',
      name: 'Liveness',
      teacherIds: [teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(org.id, subject.id, [student.id]);
    await srv.store.faces.put({
      orgId: org.id,
      userId: student.id,
      modelId: 'fake',
      modelVersion: '1',
      embeddings: [Array.from(FACE)],
      photos: null,
    });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  it('gives a challenge, refuses bad frames, and sends still frames to the teacher as LIVENESS_FAILED', async () => {
    const t = await client(teacher);
    const policy = { selfie: true, liveness: true, geofence: false, rotatingCode: false };
    const session = ok(await command(t, 'session:open', { subjectId: subject.id, policy }));
    expect(session.policy).to.include({ selfie: true, liveness: true });
    ok(await command(t, 'session:watch', { sessionId: session.id }));

    const s = await client(student);
    const c = ok(await command(s, 'checkin:challenge', { sessionId: session.id }));
    expect(['turn-left', 'turn-right', 'blink']).to.include(c.challenge);
    expect(c.prompt).to.be.a('string').and.not.equal('');

    const selfie = new Uint8Array([9, 9, 9]);
    const frame = (n = 2_000) => new Uint8Array(n).fill(7);
    const submit = (liveness?: unknown) =>
      command(s, 'checkin:submit', { sessionId: session.id, selfie, ...(liveness ? { liveness } : {}) } as never);
    const codeOf = (ack: Awaited<ReturnType<typeof submit>>) => (ack.ok ? 'ok' : ack.error.code);
    expect(codeOf(await submit())).to.equal('LIVENESS_REQUIRED');
    expect(codeOf(await submit({ token: c.token, frames: [frame(), frame()] }))).to.equal('VALIDATION_FAILED');
    expect(codeOf(await submit({ token: c.token, frames: [frame(), frame(), frame(150_001)] }))).to.equal('VALIDATION_FAILED');
    expect(codeOf(await submit({ token: `${c.token}x`, frames: [frame(), frame(), frame()] }))).to.equal('LIVENESS_CHALLENGE_INVALID');
    expect(await srv.store.records.listBySession(student.orgId, session.id)).to.have.length(0);

    const decided = nextEvent(s, 'checkin:decision', (v) => v.reason === 'LIVENESS_FAILED');
    const roster = nextRosterUpdate(t, (u) => u.entry.reason === 'LIVENESS_FAILED');
    const ack = ok(await submit({ token: c.token, frames: [frame(1_000), frame(1_100), frame(1_200), frame(1_300)] }));
    expect(ack).to.include({ status: 'pending', verifying: true });
    const [view] = await decided;
    expect(view).to.include({ status: 'pending', reason: 'LIVENESS_FAILED' });
    const update = await roster;
    expect(update.entry.flags).to.include('LIVENESS_FAILED');
    expect(update.entry.verification).to.include({ band: 'confident' });
    expect(engine.frameSizes).to.deep.equal([1_000, 1_100, 1_200, 1_300]);
  });
});
