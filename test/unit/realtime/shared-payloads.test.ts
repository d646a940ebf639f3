import { expect } from 'chai';
import { Server } from 'socket.io';
import { SharedPayloads } from '../../../src/realtime/shared-payloads.js';
import type { CheckinView } from '../../../src/shared/events.js';
import type { AppServer } from '../../../src/realtime/types.js';

type Packet = Parameters<AppServer['encoder']['encode']>[0];

const EVENT = 2;
const ACK = 3;

function view(): CheckinView {
  return {
    sessionId: 's-1',
    recordId: 'r-1',
    status: 'present',
    reason: null,
    flags: ['GEOFENCE_IMPRECISE'],
    attempts: 1,
    attemptsLeft: 0,
    submittedAt: '2026-12-06T09:00:00.000Z',
    decidedAt: '2026-12-06T09:00:00.000Z',
    note: 'caf\u00e9 "quoted" \u2028',
    recordVersion: 3,
    verifying: false,
  };
}

/** Each packet's data that JSON.stringify was given while `fn` ran. */
function stringified(fn: () => void): unknown[] {
  const seen: unknown[] = [];
  const original = JSON.stringify;
  JSON.stringify = ((value: unknown, ...rest: never[]) => {
    seen.push(value);
    return original(value, ...rest);
  }) as typeof JSON.stringify;
  try {
    fn();
  } finally {
    JSON.stringify = original;
  }
  return seen;
}

describe('SharedPayloads (a check-in view encoded once for its push and its answer)', () => {
  let io: AppServer;
  let plain: AppServer;
  let shared: SharedPayloads;

  // Servers attached to nothing: their encoders only, no engine or handle to close.
  beforeEach(() => {
    io = new Server() as AppServer;
    plain = new Server() as AppServer;
    shared = new SharedPayloads(io.encoder);
  });

  it('writes the push and the answer around one encoding of the view: the same text, the view not stringified again', () => {
    const v = view();
    const push: Packet = { type: EVENT, nsp: '/', data: ['checkin:decision', v] };
    const answer: Packet = { type: ACK, nsp: '/', id: 17, data: [{ ok: true, data: v }] };
    shared.share(v);
    let pushed: unknown[] = [];
    let answered: unknown[] = [];
    const given = stringified(() => {
      pushed = io.encoder.encode(push);
      answered = io.encoder.encode(answer);
    });
    expect(given).to.not.include(v);
    expect(given).to.not.include(push.data);
    expect(given).to.not.include(answer.data);
    expect(pushed).to.deep.equal(plain.encoder.encode(push));
    expect(answered).to.deep.equal(plain.encoder.encode(answer));
    expect(answered).to.deep.equal([`317[{"ok":true,"data":${JSON.stringify(v)}}]`]);
  });

  it('keeps a namespace and a roster batch as socket.io writes them', () => {
    const batch = { sessionId: 's-1', updates: [{ version: 4, entry: { studentId: 'u-1', name: 'Ada' } }] };
    shared.share(batch);
    const packet: Packet = { type: EVENT, nsp: '/admin', data: ['roster:updates', batch] };
    const expected = plain.encoder.encode(packet);
    let encoded: unknown[] = [];
    const given = stringified(() => (encoded = io.encoder.encode(packet)));
    expect(encoded).to.deep.equal(expected);
    expect(given).to.not.include(packet.data);
  });

  it('leaves every other packet to socket.io: unshared payloads, other answers, binary data', () => {
    const v = view();
    shared.share(v);
    const packets: Packet[] = [
      { type: EVENT, nsp: '/', data: ['checkin:decision', view()] },
      { type: EVENT, nsp: '/', data: ['checkin:decision', v, 'extra'] },
      { type: ACK, nsp: '/', id: 1, data: [{ data: v, ok: true }] },
      { type: ACK, nsp: '/', id: 2, data: [{ ok: true, data: v, more: 1 }] },
      { type: ACK, nsp: '/', id: 3, data: [{ ok: false, error: { code: 'BUSY', message: 'x' } }] },
      { type: EVENT, nsp: '/', data: ['face:photo', Buffer.from([1, 2, 3])] },
      { type: 0, nsp: '/', data: { sid: 'x' } },
    ];
    for (const p of packets) expect(io.encoder.encode(p)).to.deep.equal(plain.encoder.encode(p));
  });

  it('forgets a view once its answer used it (the answer is its last packet); later packets encode it afresh, the same', () => {
    const v = view();
    shared.share(v);
    const answer: Packet = { type: ACK, nsp: '/', id: 5, data: [{ ok: true, data: v }] };
    io.encoder.encode(answer);
    const given = stringified(() => expect(io.encoder.encode(answer)).to.deep.equal(plain.encoder.encode(answer)));
    expect(given).to.include(answer.data);
  });
});
