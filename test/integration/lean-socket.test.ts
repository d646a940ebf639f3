import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import type { RosterUpdates } from '../../src/shared/events.js';
import { CheckinFrames, LeanClients, type LeanSocket } from '../../scripts/lib/lean-socket.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

const ROOM = { lat: 48.8566, lon: 2.3522, radiusM: 100 };
const GEOFENCE = { geofence: true, rotatingCode: false, network: false };

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The load generator's own Socket.IO client (scripts/lib/lean-socket.ts) against the real
 * server, so that it cannot drift from the protocol the service speaks: it connects with the
 * token, answers pings, sends pre-encoded check-ins and reads their acknowledgements by id,
 * receives the roster, and reconnects when the server closes it.
 */
describe('load generator lean Socket.IO client', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let student: User;
  let subject: Subject;
  const answers: { id: number; code: string | null }[] = [];
  let clients: LeanClients;

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    student = await createUser(srv.store, org.id, 'student');
    subject = await srv.store.subjects.create(org.id, {
      code: 'LEAN1',
      name: 'Lean client',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(org.id, subject.id, [student.id]);
    // Pings every 50 ms: a client that did not answer them would be closed within the test.
    const engineOpts = (srv.app.realtime.io.engine as unknown as { opts: { pingInterval: number; pingTimeout: number } }).opts;
    engineOpts.pingInterval = 50;
    engineOpts.pingTimeout = 100;
    clients = new LeanClients((id, _at, code) => answers.push({ id, code }), 2_000);
  });
  after(async () => {
    clients.close();
    await srv.cleanup();
  });

  const tokenOf = (u: User) => srv.app.tokenService.signAccess(u).token;

  async function openWatched(screen: LeanSocket): Promise<string> {
    const opened = await screen.request<{ id: string }>('session:open', { subjectId: subject.id, policy: GEOFENCE, parallel: true });
    if (!opened.ok) throw new Error(`session:open ${opened.error.code}`);
    const watched = await screen.request('session:watch', { sessionId: opened.data.id });
    expect(watched.ok).to.equal(true);
    return opened.data.id;
  }

  it('refuses to connect with a bad token, as the server refuses the CONNECT', async () => {
    const err = await clients.connect(srv.baseUrl, 'not-a-token').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
  });

  it('checks in, reads the ack by its id, and the screen gets the roster; a refusal carries its code', async () => {
    const screen = await clients.connect(srv.baseUrl, tokenOf(teacher));
    const batches: RosterUpdates[] = [];
    screen.on('roster:updates', (b) => batches.push(b as RosterUpdates));
    const sessionId = await openWatched(screen);
    const phone = await clients.connect(srv.baseUrl, tokenOf(student));
    // Past a few pings: the connection is still open (pongs answered).
    await new Promise((r) => setTimeout(r, 400));
    expect(phone.isConnected).to.equal(true);

    const frames = new CheckinFrames({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 15 });
    expect(phone.send(41, frames.frame(41, sessionId, Date.now()))).to.equal(true);
    await until('the ack', () => answers.some((a) => a.id === 41));
    expect(answers.find((a) => a.id === 41)).to.deep.equal({ id: 41, code: null });
    await until('the roster', () => batches.some((b) => b.updates.some((u) => u.entry.studentId === student.id)));
    expect(batches.every((b) => b.sessionId === sessionId)).to.equal(true);

    // A session that does not exist: refused, and the code is the server's.
    phone.send(42, frames.frame(42, 'no-such-session', Date.now()));
    await until('the refusal', () => answers.some((a) => a.id === 42));
    const refusal = answers.find((a) => a.id === 42)!;
    expect(refusal.code).to.be.a('string').and.not.be.oneOf(['ACK_TIMEOUT', 'DISCONNECTED']);
    screen.close();
    phone.close();
  });

  it('reconnects after the server closes it and checks in again; what was in flight is told DISCONNECTED', async () => {
    const screen = await clients.connect(srv.baseUrl, tokenOf(teacher));
    const sessionId = await openWatched(screen);
    const phone = await clients.connect(srv.baseUrl, tokenOf(student), { reconnect: true, reconnectDelayMs: 50 });
    const frames = new CheckinFrames({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 15 });
    // Sent as the server closes the socket: answered before the close, or told DISCONNECTED; never left waiting.
    phone.send(77, frames.frame(77, sessionId, Date.now()));
    for (const s of await srv.app.realtime.io.fetchSockets()) if (s.data.userId === student.id) s.disconnect(true);
    await until('the reconnect', () => phone.connections === 2 && phone.isConnected);
    await until('an answer to what was in flight', () => answers.some((a) => a.id === 77), 1_000);
    expect(answers.find((a) => a.id === 77)!.code).to.be.oneOf(['DISCONNECTED', null]);
    phone.send(78, frames.frame(78, await openWatched(screen), Date.now()));
    await until('the ack after the reconnect', () => answers.some((a) => a.id === 78));
    expect(answers.find((a) => a.id === 78)!.code).to.equal(null);
    screen.close();
    phone.close();
  });
});
