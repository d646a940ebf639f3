import { expect } from 'chai';
import { rooms, type CheckinView } from '../../src/shared/events.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import { command, connectClient, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

// A check-in's `checkin:decision` push on one node (no Redis adapter): every socket of the
// student hears it once, and the push is written to the student's socket without a broadcast
// through the adapter (src/realtime/fanout.ts `decision`). Across nodes: multi-node.test.ts.

describe('decision push on one node', function () {
  this.timeout(20_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv?.cleanup();
  });

  /**
   * Settles once everything the server sent the socket before now has arrived: socket.io keeps
   * one connection's packets in order, so a second push (or one to a classmate), sent with the
   * first as the check-in was decided, comes before the acknowledgement of a later command.
   */
  async function deliveredSoFar(socket: ClientSocket): Promise<void> {
    ok(await command(socket, 'session:list-active', {}));
  }

  /** The rooms of every broadcast the node's adapter makes from now on. */
  function broadcastsOf(server: TestServer): string[][] {
    const adapter = server.app.realtime.io.of('/').adapter;
    const seen: string[][] = [];
    const original = adapter.broadcast.bind(adapter);
    adapter.broadcast = (packet, opts) => {
      seen.push([...opts.rooms]);
      original(packet, opts);
    };
    return seen;
  }

  it("reaches the student's one socket once, without a broadcast to the student's room", async () => {
    srv = await startTestServer();
    const { sessionId, students, phones } = await openLiveClass(srv, sockets, 1);
    const [student, phone] = [students[0]!, phones[0]!];
    const broadcasts = broadcastsOf(srv);
    const pushes: CheckinView[] = [];
    phone.on('checkin:decision', (v) => pushes.push(v));

    const ack = ok(await command(phone, 'checkin:submit', { sessionId }));
    await waitFor(() => pushes.length > 0);
    await deliveredSoFar(phone);
    expect(pushes).to.deep.equal([ack]);
    expect(broadcasts.filter((r) => r.includes(rooms.user(student.id)))).to.deep.equal([]);
  });

  it("reaches each of a student's sockets on the node once, as one broadcast encoded once", async () => {
    srv = await startTestServer();
    const { sessionId, students, phones } = await openLiveClass(srv, sockets, 2);
    const [student, phone] = [students[0]!, phones[0]!];
    const laptop = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(student).token);
    sockets.push(laptop);
    const broadcasts = broadcastsOf(srv);
    const pushes = { phone: [] as CheckinView[], laptop: [] as CheckinView[], classmate: [] as CheckinView[] };
    phone.on('checkin:decision', (v) => pushes.phone.push(v));
    laptop.on('checkin:decision', (v) => pushes.laptop.push(v));
    phones[1]!.on('checkin:decision', (v) => pushes.classmate.push(v));

    const onLaptop = nextEvent(laptop, 'checkin:decision', (v: CheckinView) => v.sessionId === sessionId);
    const ack = ok(await command(phone, 'checkin:submit', { sessionId }));
    expect(await onLaptop).to.deep.equal([ack]);
    await Promise.all([phone, laptop, phones[1]!].map(deliveredSoFar));
    expect(pushes).to.deep.equal({ phone: [ack], laptop: [ack], classmate: [] });
    expect(broadcasts.filter((r) => r.includes(rooms.user(student.id)))).to.deep.equal([[rooms.user(student.id)]]);
  });
});
