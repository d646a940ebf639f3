import { expect } from 'chai';
import { createReadiness } from '../../../src/http/readiness.js';

describe('readiness probe', () => {
  it('answers each probe, and logs a check only when it starts failing and when it passes again', async () => {
    let up = false;
    const heard: string[] = [];
    const probe = createReadiness(
      [
        {
          name: 'face',
          facts: {},
          run: () => (up ? Promise.resolve() : Promise.reject(new Error('face engine not ready'))),
        },
      ],
      {
        failing: (name, err) => heard.push(`failing ${name}: ${(err as Error).message}`),
        recovered: (name) => heard.push(`recovered ${name}`),
      },
    );
    for (let i = 0; i < 3; i += 1) expect((await probe()).ok).to.equal(false);
    up = true;
    expect((await probe()).ok).to.equal(true);
    expect((await probe()).ok).to.equal(true);
    up = false;
    expect((await probe()).checks['face']?.ok).to.equal(false);
    expect(heard).to.deep.equal(['failing face: face engine not ready', 'recovered face', 'failing face: face engine not ready']);
  });

  it('reads a check that hangs as failing once its time is up', async () => {
    const heard: string[] = [];
    const probe = createReadiness(
      [{ name: 'redis', facts: {}, run: () => new Promise<void>(() => undefined) }],
      { failing: (name, err) => heard.push(`${name}: ${(err as Error).message}`), recovered: () => undefined },
      20,
    );
    expect((await probe()).ok).to.equal(false);
    expect(heard).to.deep.equal(['redis: readiness check timed out after 20 ms']);
  });
});

describe('readiness probe: why a check fails', () => {
  // Walking a deployment with MongoDB stopped, the operator's /readyz (METRICS_TOKEN) said only
  // `"store": { "kind": "mongo", "ok": false }`: the why was in the log alone.
  it("gives the operator the failure's message, and the public view nothing of it", async () => {
    let err: Error | null = new Error('mongo store unavailable (unreachable): the database server cannot be reached');
    const probe = createReadiness(
      [{ name: 'store', facts: { kind: 'mongo' }, run: () => (err ? Promise.reject(err) : Promise.resolve()) }],
      { failing: () => undefined, recovered: () => undefined },
    );
    const down = await probe();
    expect(down.checks['store']).to.deep.equal({ kind: 'mongo', ok: false });
    expect(down.operator['store']).to.deep.equal({ kind: 'mongo', ok: false, error: err.message });
    err = null;
    expect((await probe()).operator['store']).to.deep.equal({ kind: 'mongo', ok: true });
  });
});

describe('readiness probe: probes at once', () => {
  // /readyz is public and never rate limited (an orchestrator must always get an answer), and
  // each run pings the store and Redis: a flood of probes was a flood of database round trips,
  // taking connections from the check-ins. Probes that arrive while a run is on its way share it.
  it('runs the checks once for every probe that arrives while a run is on its way, and afresh after it', async () => {
    let runs = 0;
    const waiting: (() => void)[] = [];
    const finish = () => {
      for (const resolve of waiting.splice(0)) resolve();
    };
    const probe = createReadiness(
      [
        {
          name: 'store',
          facts: { kind: 'mongo' },
          run: () => {
            runs += 1;
            return new Promise<void>((resolve) => waiting.push(resolve));
          },
        },
      ],
      { failing: () => undefined, recovered: () => undefined },
    );
    const answers = Array.from({ length: 50 }, () => probe());
    await Promise.resolve();
    finish();
    for (const answer of await Promise.all(answers)) expect(answer.ok).to.equal(true);
    expect(runs).to.equal(1);
    const next = probe();
    await Promise.resolve();
    finish();
    expect((await next).ok).to.equal(true);
    expect(runs).to.equal(2);
  });
});
