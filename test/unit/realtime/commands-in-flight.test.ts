import { expect } from 'chai';
import { createLogger } from '../../../src/logger.js';
import { CommandsInFlight } from '../../../src/realtime/commands-in-flight.js';

describe('commands in flight', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it('settles once every tracked answer has ended, including one tracked while waiting', async () => {
    const inFlight = new CommandsInFlight(createLogger('silent'));
    const a = deferred();
    const b = deferred();
    inFlight.track(a.promise);
    let done: boolean | null = null;
    const settled = inFlight.settled(5_000).then((d) => (done = d));
    inFlight.track(b.promise);
    a.resolve();
    await new Promise((r) => setImmediate(r));
    expect(done).to.equal(null);
    b.resolve();
    await settled;
    expect(done).to.equal(true);
    expect(await inFlight.settled(5_000)).to.equal(true);
  });

  it('logs an answer that threw (the acknowledgement callback), counts it ended, and leaves no unhandled rejection', async () => {
    const errors: unknown[] = [];
    const logger = createLogger('silent');
    logger.error = ((obj: unknown) => void errors.push(obj)) as typeof logger.error;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const inFlight = new CommandsInFlight(logger);
      const failing = deferred();
      inFlight.track(failing.promise);
      const boom = new Error('ack threw');
      failing.reject(boom);
      expect(await inFlight.settled(5_000)).to.equal(true);
      await new Promise((r) => setTimeout(r, 10));
      expect(errors).to.deep.equal([{ err: boom }]);
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('times out with false while an answer is still pending', async () => {
    const inFlight = new CommandsInFlight(createLogger('silent'));
    inFlight.track(deferred().promise);
    expect(await inFlight.settled(20)).to.equal(false);
  });
});
