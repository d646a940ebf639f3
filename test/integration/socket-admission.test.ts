import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { HoldTimers } from '../../src/realtime/admission.js';
import { readAdmissionRefusal } from '../../src/shared/admission.js';
import { createClass, type TestClass } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { connectClient, waitFor, type ClientSocket } from '../support/sockets.js';

/**
 * The admission check of Socket.IO handshakes (src/realtime/admission.ts): past its bound a node
 * refuses new connections BUSY in engine.io's allowRequest, before any token is checked. Here
 * the bound of handshakes in flight is forced to one, and one handshake is held in flight by a
 * client whose `auth` callback has not answered yet (socket.io-client asks it after the
 * engine.io connection opened, before it sends its CONNECT packet).
 */
describe('socket handshake admission', function () {
  this.timeout(60_000);
  let srv: TestServer;
  let made: TestClass;
  const sockets: ClientSocket[] = [];
  const token = (i: number) => srv.app.tokenService.signAccess(made.students[i]!).token;

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv.cleanup();
  });

  /** A client whose handshake stays in flight until `answer` is called. */
  async function heldHandshake(tokenText: string): Promise<{ socket: ClientSocket; answer: () => void }> {
    let answer: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => {
      const socket: ClientSocket = connect(srv.baseUrl, {
        auth: (cb) => {
          answer = () => cb({ token: tokenText });
          resolve();
        },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      sockets.push(socket);
    });
    await asked;
    return { socket: sockets[sockets.length - 1]!, answer };
  }

  /**
   * The first connect_error of a client that does not retry, and the admission refusal read from
   * it in the listener itself (as the pages do: the client discards the request right after).
   */
  function firstError(opts: Parameters<typeof connect>[1]): Promise<{ err: Error; refusal: ReturnType<typeof readAdmissionRefusal> }> {
    const socket: ClientSocket = connect(srv.baseUrl, { reconnection: false, forceNew: true, ...opts });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected; a refusal was expected')));
      socket.once('connect_error', (err) => resolve({ err, refusal: readAdmissionRefusal(err) }));
    });
  }

  /** Hold timers that fire only when the test calls a release (`holds`: those set and not cleared). */
  function testTimers(): { timers: HoldTimers; holds: Map<number, { release: () => void; ms: number }> } {
    const holds = new Map<number, { release: () => void; ms: number }>();
    let next = 0;
    const timers: HoldTimers = {
      set: (release, ms) => {
        next += 1;
        holds.set(next, { release, ms });
        return next;
      },
      clear: (handle) => holds.delete(handle as number),
    };
    return { timers, holds };
  }

  it('refuses a new handshake BUSY while the bound of handshakes in flight is reached, readable over long-polling, and admits it once that one connected', async () => {
    // The held handshake must count however long the refusals take: its hold bound never ends here.
    srv = await startTestServer(
      { SOCKET_ADMISSION_MAX_HANDSHAKES: '1', SOCKET_ADMISSION_MAX_LAG_MS: '0' },
      { admissionTimers: testTimers().timers },
    );
    made = await createClass(srv.store, 3);
    const held = await heldHandshake(token(0));

    // Long-polling: engine.io's HTTP 403 carries the refusal, which the client's error holds.
    const polling = await firstError({ auth: { token: token(1) }, transports: ['polling'] });
    expect(polling.refusal).to.deep.equal({
      code: 'BUSY',
      message: 'The service is busy; retry later.',
      details: { cause: 'admission', retryAfterMs: 1_000 },
    });
    // The pages' transports: WebSocket refused (its body unreadable), then long-polling refused, readable.
    const pageLike = await firstError({ auth: { token: token(1) }, transports: ['websocket', 'polling'], tryAllTransports: true });
    expect(pageLike.refusal?.code).to.equal('BUSY');
    // WebSocket alone: only "websocket error", which socket.io-client retries with its own back-off.
    const ws = await firstError({ auth: { token: token(1) }, transports: ['websocket'] });
    expect(ws.err.message).to.equal('websocket error');
    expect(ws.refusal).to.equal(null);

    held.answer();
    await new Promise<void>((resolve, reject) => {
      held.socket.once('connect', resolve);
      held.socket.once('connect_error', reject);
    });
    // The held handshake is over: the next one is admitted.
    sockets.push(await connectClient(srv.baseUrl, token(1)));
  });

  it('counts a handshake refused by the authentication middleware as over once its client closes the connection', async () => {
    // The hold bound never ends a handshake here: only the close can.
    srv = await startTestServer(
      { SOCKET_ADMISSION_MAX_HANDSHAKES: '1', SOCKET_ADMISSION_MAX_LAG_MS: '0' },
      { admissionTimers: testTimers().timers },
    );
    made = await createClass(srv.store, 2);
    const refused = (await firstError({ auth: { token: 'not-a-token' }, transports: ['websocket'] })).err;
    expect((refused as Error & { data?: { code?: string } }).data?.code).to.equal('TOKEN_INVALID');
    // The refused client closes its connection; the node stops counting the handshake then (the
    // bound here is for a count that never drops, far past the close's round trip).
    await waitFor(() => srv.app.realtime.admittedHandshakes === 0);
    sockets.push(await connectClient(srv.baseUrl, token(0)));
  });

  it('stops counting a handshake whose client never sends its CONNECT after SOCKET_ADMISSION_HOLD_MS, so idle handshakes cannot lock students out', async () => {
    const { timers, holds } = testTimers();
    srv = await startTestServer(
      { SOCKET_ADMISSION_MAX_HANDSHAKES: '1', SOCKET_ADMISSION_MAX_LAG_MS: '0', SOCKET_ADMISSION_HOLD_MS: '1000' },
      { admissionTimers: timers },
    );
    made = await createClass(srv.store, 1);
    // An anonymous engine.io handshake, one plain GET, and nothing after it: no token, no CONNECT.
    // Held until socket.io's connect timeout (45 s) it filled the bound for that long, every 45 s
    // for the price of one request per unit of the bound (500 by default).
    const open = await fetch(`${srv.baseUrl}/socket.io/?EIO=4&transport=polling`);
    expect(open.status).to.equal(200);
    await open.text();
    const busy = await firstError({ auth: { token: token(0) }, transports: ['polling'] });
    expect(busy.refusal?.code).to.equal('BUSY');
    // Only the idle handshake is held, for SOCKET_ADMISSION_HOLD_MS: its hold ends, not socket.io's 45 s.
    expect([...holds.values()].map((h) => h.ms)).to.deep.equal([1_000]);
    [...holds.values()][0]!.release();
    expect(srv.app.realtime.admittedHandshakes, 'the idle handshake no longer counts').to.equal(0);
    sockets.push(await connectClient(srv.baseUrl, token(0)));
  });

  it("refuses an anonymous client's idle handshakes past its address's share of the bound, and a student at another address still connects", async () => {
    srv = await startTestServer({ SOCKET_ADMISSION_MAX_HANDSHAKES: '4', SOCKET_ADMISSION_MAX_LAG_MS: '0', TRUST_PROXY: 'true' });
    made = await createClass(srv.store, 1);
    // Plain GETs from one address, nothing after them: each held its place in the bound for the
    // hold period, so a few hundred a second (the default bound is 500, held 5 s) locked every
    // student out for as long as the client kept on.
    const attacker = { 'x-forwarded-for': '198.51.100.66' };
    const idle: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await fetch(`${srv.baseUrl}/socket.io/?EIO=4&transport=polling`, { headers: attacker });
      await res.text();
      idle.push(res.status);
    }
    // Four fifths of the bound by default: 3 of 4.
    expect(idle).to.deep.equal([200, 200, 200, 403, 403]);
    expect(srv.app.realtime.admittedHandshakes).to.equal(3);
    const student: ClientSocket = connect(srv.baseUrl, {
      auth: { token: token(0) },
      transports: ['polling'],
      extraHeaders: { 'x-forwarded-for': '198.51.100.7' },
      reconnection: false,
      forceNew: true,
    });
    sockets.push(student);
    await new Promise<void>((resolve, reject) => {
      student.once('connect', () => resolve());
      student.once('connect_error', (err) => reject(err));
    });
  });

  it('refuses none of a class connecting at once under the default bound of handshakes', async () => {
    srv = await startTestServer();
    made = await createClass(srv.store, 40);
    const all = await Promise.all(made.students.map((s) => connectClient(srv.baseUrl, srv.app.tokenService.signAccess(s).token)));
    sockets.push(...all);
    expect(all.every((s) => s.connected)).to.equal(true);
  });
});
