import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { startTestServer } from '../../support/http.js';
import { addressInUse, ephemeralRange, freePort, onFreePort, onFreePorts } from '../../../scripts/lib/ports.js';
import { skipBecause } from '../../support/skip.js';

/** Listens on `port` (loopback) until closed: the port taken by someone else. */
function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('ports named before binding (scripts/lib/ports.ts)', () => {
  it('hands out ports outside the range the kernel gives outgoing connections, distinct from those asked to avoid', async () => {
    const { low, high } = ephemeralRange();
    const seen: number[] = [];
    for (let i = 0; i < 50; i++) seen.push(await freePort(seen));
    for (const port of seen) expect(port < low || port > high, `${port} is in ${low}-${high}`).to.equal(true);
    expect(new Set(seen).size).to.equal(seen.length);
  });

  it('starts again on other ports when the chosen one was taken before the server bound it', async () => {
    const taken: net.Server[] = [];
    const tried: number[] = [];
    try {
      const srv = await onFreePort(async (port) => {
        tried.push(port);
        // Someone binds the port between the choice and the start, on the first try only.
        if (tried.length === 1) taken.push(await occupy(port));
        return startTestServer({ METRICS_PORT: String(port) });
      });
      try {
        expect(tried).to.have.length(2);
        expect((await fetch(`http://127.0.0.1:${tried[1]}/metrics`)).status).to.equal(200);
      } finally {
        await srv.cleanup();
      }
    } finally {
      for (const s of taken) await close(s);
    }
  });

  it('throws at once a failure that is not a taken port, and gives up after the tries it was given', async () => {
    let calls = 0;
    const boom = onFreePort(() => {
      calls++;
      return Promise.reject(new Error('config refused'));
    });
    await boom.then(
      () => expect.fail('resolved'),
      (err: Error) => expect(err.message).to.equal('config refused'),
    );
    expect(calls).to.equal(1);

    calls = 0;
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    await onFreePorts(2, () => (calls++, Promise.reject(inUse)), 3).then(
      () => expect.fail('resolved'),
      (err: unknown) => expect(err).to.equal(inUse),
    );
    expect(calls).to.equal(3);
  });

  it("recognises redis-server's own words for a taken port", async function () {
    if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
      skipBecause(this, 'redis-server is not installed (CI installs it)');
    }
    const port = await freePort();
    const holder = await occupy(port);
    try {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      // 'close', not 'exit': the child's last output can still be on its way when it exits.
      await new Promise((resolve) => child.once('close', resolve));
      expect(addressInUse(new Error(out)), out).to.equal(true);
    } finally {
      await close(holder);
    }
  });
});
