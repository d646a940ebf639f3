import { expect } from 'chai';
import type { CheckinView } from '../../../src/shared/events.js';
import { DELIVERY_TEXT, deliverCheckin, SLOW_NOTICE_MS, type DeliveryPorts } from '../../../src/web/lib/checkin-delivery.js';
import { CommandError, NoAnswerError } from '../../../src/web/lib/socket.js';

// The student page's check-in over a weak link, without a browser: a fake server answers each
// submission from a script, and "the store" is the record it holds.

function view(attempts: number, status: CheckinView['status'] = 'present'): CheckinView {
  return {
    sessionId: 's1',
    recordId: 'r1',
    status,
    reason: null,
    flags: [],
    attempts,
    attemptsLeft: status === 'rejected' ? 1 : 0,
    submittedAt: null,
    decidedAt: null,
    note: null,
    recordVersion: attempts,
    verifying: false,
  };
}

type Step = 'ok' | 'busy' | 'lost-after-write' | 'lost-before-write';

function harness(script: Step[], opts: { connected?: boolean; reconnects?: boolean; stored?: CheckinView } = {}) {
  let stored: CheckinView | null = opts.stored ?? null;
  let connected = opts.connected ?? true;
  const said: string[] = [];
  const slept: number[] = [];
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  let sends = 0;
  const ports: DeliveryPorts = {
    send: async () => {
      const step = script[sends++] ?? 'ok';
      if (step === 'busy') throw new CommandError({ code: 'BUSY', message: 'busy', details: { retryAfterMs: 2_000 } });
      if (step === 'lost-before-write') {
        connected = false;
        throw new NoAnswerError();
      }
      stored = view((stored?.attempts ?? 0) + 1);
      if (step === 'lost-after-write') {
        connected = false;
        throw new NoAnswerError();
      }
      return stored;
    },
    held: () => Promise.resolve(stored),
    isConnected: () => connected,
    connected: () => {
      if (opts.reconnects === false) return Promise.reject(new Error('not connected'));
      connected = true;
      return Promise.resolve();
    },
    progress: (text) => said.push(text),
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
    later: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => (t.cancelled = true);
    },
  };
  return { ports, said, slept, timers, sends: () => sends, stored: () => stored };
}

describe('student check-in delivery over a weak link (src/web/lib/checkin-delivery.ts)', () => {
  it('a check-in written before the link dropped is read back, not sent again', async () => {
    const h = harness(['lost-after-write']);
    const result = await deliverCheckin(h.ports, null);
    expect(result.attempts).to.equal(1);
    expect(h.sends()).to.equal(1);
    expect(h.said).to.include(DELIVERY_TEXT.checking);
  });

  it('a rejected attempt whose answer was lost is shown, not retried with the student’s last attempt', async () => {
    const before = view(1, 'rejected');
    const h = harness(['lost-after-write'], { stored: before });
    const result = await deliverCheckin(h.ports, before);
    expect(result.attempts).to.equal(2);
    expect(h.sends()).to.equal(1);
  });

  it('a check-in lost before it reached the server is sent once more, and only once', async () => {
    const once = harness(['lost-before-write', 'ok']);
    expect((await deliverCheckin(once.ports, null)).attempts).to.equal(1);
    expect(once.sends()).to.equal(2);

    const twice = harness(['lost-before-write', 'lost-before-write', 'ok']);
    const err = await deliverCheckin(twice.ports, null).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(DELIVERY_TEXT.notArrived);
    expect(twice.sends()).to.equal(2);
  });

  it('BUSY is retried once after the server’s hint, saying so; a second BUSY says what to do', async () => {
    const h = harness(['busy', 'ok']);
    expect((await deliverCheckin(h.ports, null)).status).to.equal('present');
    expect(h.slept).to.deep.equal([2_000]);
    expect(h.said.some((t) => /busy.*Trying again in 2 s/.test(t))).to.equal(true);

    const busy = harness(['busy', 'busy', 'ok']);
    const err = await deliverCheckin(busy.ports, null).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(DELIVERY_TEXT.stillBusy);
    expect(busy.sends()).to.equal(2);
    expect(busy.stored()).to.equal(null);
  });

  it('a tap while reconnecting waits for the connection; one that does not come back says what to do', async () => {
    const h = harness(['ok'], { connected: false });
    expect((await deliverCheckin(h.ports, null)).status).to.equal('present');
    expect(h.said[0]).to.equal(DELIVERY_TEXT.reconnecting);

    const gone = harness(['ok'], { connected: false, reconnects: false });
    const err = await deliverCheckin(gone.ports, null).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(DELIVERY_TEXT.notBack);
    expect(gone.sends()).to.equal(0);
  });

  it('a slow send is announced after a few seconds, and the notice is dropped once answered', async () => {
    const h = harness(['ok']);
    await deliverCheckin(h.ports, null);
    expect(h.timers).to.have.length(1);
    expect(h.timers[0]!.ms).to.equal(SLOW_NOTICE_MS);
    expect(h.timers[0]!.cancelled).to.equal(true);
  });
});
