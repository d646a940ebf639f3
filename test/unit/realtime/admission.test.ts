import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { HandshakeAdmission, type AdmissionReason, type HoldTimers } from '../../../src/realtime/admission.js';
import { LoopLag } from '../../../src/realtime/loop-lag.js';
import { readAdmissionRefusal } from '../../../src/shared/admission.js';

/** A handshake request as engine.io hands it to allowRequest (a polling one: no Upgrade header). */
const request = (address = '192.0.2.1'): IncomingMessage =>
  ({ headers: {}, socket: Object.assign(new EventEmitter(), { remoteAddress: address }) }) as unknown as IncomingMessage;

/** Counted by the connection's own address (the server passes TRUST_PROXY's). */
const byPeer = (req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown';

/** What a socket.io-client error holds for a refused long-polling handshake (engine.io's 403 body). */
const pollingError = (refusal: string) => ({ description: 403, context: { responseText: JSON.stringify({ code: 4, message: refusal }) } });

describe('handshake admission', () => {
  let now = 0;
  let lag: LoopLag;
  const refused: AdmissionReason[] = [];
  beforeEach(() => {
    now = 1_000;
    refused.length = 0;
    // Its timer never fires within a test: only the overdue tick tells the lag.
    lag = new LoopLag(50, () => now);
  });
  afterEach(() => lag.close());

  it('refuses while the event loop is later than the bound, with a hint of twice the lag (at least 1 s), and admits once it is not', () => {
    const admission = new HandshakeAdmission(
      { maxHandshakes: 0, maxHandshakesPerAddress: 0, maxLagMs: 200, holdMs: 5_000 },
      byPeer,
      lag,
      (r) => refused.push(r),
    );
    now += 50 + 150;
    expect(admission.admit(request())).to.equal(null);
    now += 600;
    const refusal = admission.admit(request());
    expect(readAdmissionRefusal(pollingError(refusal!))).to.deep.equal({
      code: 'BUSY',
      message: 'The service is busy; retry later.',
      details: { cause: 'admission', retryAfterMs: 1_500 },
    });
    expect(refused).to.deep.equal(['lag']);
    expect(admission.handshakes).to.equal(1);
  });

  it('refuses past the bound of handshakes in flight, and counts one settled by its request or by its connection', () => {
    const admission = new HandshakeAdmission(
      { maxHandshakes: 2, maxHandshakesPerAddress: 0, maxLagMs: 0, holdMs: 5_000 },
      byPeer,
      lag,
      (r) => refused.push(r),
    );
    const a = request();
    const b = request();
    expect(admission.admit(a)).to.equal(null);
    expect(admission.admit(b)).to.equal(null);
    expect(admission.admit(request())).to.be.a('string');
    expect(refused).to.deep.equal(['handshakes']);

    admission.settle(a);
    admission.settle(a);
    expect(admission.handshakes).to.equal(1);
    // b's engine.io connection opens, then the authentication lets the request go.
    const conn = Object.assign(new EventEmitter(), { request: b as object | null });
    admission.watch(conn);
    conn.request = null;
    conn.emit('close');
    expect(admission.handshakes).to.equal(0);
    expect(conn.listenerCount('close')).to.equal(0);
    expect(admission.admit(request())).to.equal(null);
  });

  it('refuses a handshake whose address holds its share of the bound, while others are admitted, and admits it again once one of them settles', () => {
    const admission = new HandshakeAdmission(
      { maxHandshakes: 4, maxHandshakesPerAddress: 2, maxLagMs: 0, holdMs: 5_000 },
      byPeer,
      lag,
      (r) => refused.push(r),
    );
    const first = request('198.51.100.9');
    expect(admission.admit(first)).to.equal(null);
    expect(admission.admit(request('198.51.100.9'))).to.equal(null);
    expect(readAdmissionRefusal(pollingError(admission.admit(request('198.51.100.9'))!))?.code).to.equal('BUSY');
    expect(refused).to.deep.equal(['address']);
    expect(admission.admit(request('192.0.2.7'))).to.equal(null);
    expect(admission.handshakes).to.equal(3);
    admission.settle(first);
    expect(admission.admit(request('198.51.100.9'))).to.equal(null);
  });

  it('settles an admitted WebSocket upgrade when its socket closes (ws aborted it: no engine.io event), and leaves no listener', () => {
    const admission = new HandshakeAdmission({ maxHandshakes: 1, maxHandshakesPerAddress: 0, maxLagMs: 0, holdMs: 5_000 }, byPeer, lag);
    const socket = new EventEmitter();
    const upgrade = { headers: { upgrade: 'websocket' }, socket } as unknown as IncomingMessage;
    expect(admission.admit(upgrade)).to.equal(null);
    socket.emit('close');
    expect(admission.handshakes).to.equal(0);
    expect(socket.listenerCount('close')).to.equal(0);
  });

  it('stops counting a handshake never settled once its hold bound passes, and clears the hold of one settled before', () => {
    const holds = new Map<number, { release: () => void; ms: number }>();
    let next = 0;
    const timers: HoldTimers = {
      set: (release, ms) => {
        holds.set(++next, { release, ms });
        return next;
      },
      clear: (handle) => holds.delete(handle as number),
    };
    const admission = new HandshakeAdmission(
      { maxHandshakes: 2, maxHandshakesPerAddress: 0, maxLagMs: 0, holdMs: 3_000 },
      byPeer,
      lag,
      undefined,
      timers,
    );
    const idle = request();
    const prompt = request();
    expect(admission.admit(idle)).to.equal(null);
    expect(admission.admit(prompt)).to.equal(null);
    expect(admission.admit(request())).to.be.a('string');
    expect([...holds.values()].map((h) => h.ms)).to.deep.equal([3_000, 3_000]);

    admission.settle(prompt);
    expect(holds.size, "a settled handshake's hold is cleared").to.equal(1);
    // The idle one's client never sent its CONNECT: its hold passes.
    holds.get(1)!.release();
    expect(admission.handshakes).to.equal(0);
    admission.settle(idle);
    expect(admission.handshakes, 'settled once only').to.equal(0);
    expect(admission.admit(request())).to.equal(null);
  });

  it("reads no admission refusal from the origin check's 403 or from another error", () => {
    expect(readAdmissionRefusal(pollingError('origin not allowed'))).to.equal(null);
    expect(readAdmissionRefusal(new Error('websocket error'))).to.equal(null);
    expect(readAdmissionRefusal(null)).to.equal(null);
  });
});
