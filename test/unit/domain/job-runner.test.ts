import { expect } from 'chai';
import { pino } from 'pino';
import { JobRunner } from '../../../src/domain/jobs/job-runner.js';
import { startTestServer } from '../../support/http.js';

/** A promise the test settles by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets every pending promise callback run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('background jobs (JobRunner)', () => {
  it('tracks a job until it settles, and drain waits for it and for jobs it starts', async () => {
    const runner = new JobRunner(pino({ level: 'silent' }));
    const first = gate();
    const second = gate();
    const done: string[] = [];
    runner.run('first', async () => {
      await first.promise;
      runner.run('second', async () => {
        await second.promise;
        done.push('second');
      });
      done.push('first');
    });
    expect(runner.pending).to.equal(1);
    let drained: boolean | null = null;
    const draining = runner.drain(10_000).then((d) => (drained = d));
    await turn();
    expect(drained).to.equal(null);
    first.open();
    await turn();
    expect(done).to.deep.equal(['first']);
    expect(drained).to.equal(null);
    second.open();
    await draining;
    expect(drained).to.equal(true);
    expect(done).to.deep.equal(['first', 'second']);
    expect(runner.pending).to.equal(0);
  });

  it('logs a failed job instead of losing it, and a drain that runs out of time', async () => {
    const logged: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line).msg) });
    const runner = new JobRunner(logger);
    runner.run('fails', async () => {
      throw new Error('boom');
    });
    expect(await runner.drain(1_000)).to.equal(true);
    expect(logged).to.include('background job failed');
    const stuck = gate();
    runner.run('stuck', () => stuck.promise);
    expect(await runner.drain(5)).to.equal(false);
    expect(logged).to.include('background jobs still running at shutdown; left unfinished');
    stuck.open();
    expect(await runner.drain(1_000)).to.equal(true);
  });

  it('close() of the application waits for a job in flight before closing the store', async () => {
    const server = await startTestServer();
    const slow = gate();
    let wrote = false;
    server.app.jobs.run('slow', async () => {
      await slow.promise;
      // Fails if the store was closed under the job.
      await server.store.organisations.create({ name: 'Late', slug: 'late', timezone: 'UTC' });
      wrote = true;
    });
    let closed = false;
    const httpClosed = new Promise((resolve) => server.app.httpServer.once('close', resolve));
    const closing = server.cleanup().then(() => (closed = true));
    // HTTP closes just before the drain; close() then waits there.
    await httpClosed;
    await turn();
    expect(closed).to.equal(false);
    slow.open();
    await closing;
    expect(wrote).to.equal(true);
  });
});
