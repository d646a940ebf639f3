import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startNodeOn } from '../../../scripts/lib/loadtest-cluster.js';
import { addressInUse, freePort } from '../../../scripts/lib/ports.js';
import { repoRoot } from '../../../scripts/lib/repo-root.js';

// The load test names each node's port before the node binds it (scripts/lib/ports.ts): when
// another program takes it first, the node's refusal must read as a taken port, so that
// startNodeProcess starts it again on another instead of failing the run.
describe('load test nodes (scripts/lib/loadtest-cluster.ts)', function () {
  this.timeout(180_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'loadtest-cluster-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a node started on a taken port is refused in words addressInUse recognises', async () => {
    const port = await freePort();
    // Accepts and never answers, as a program that took the port may; its connections are
    // ended with it, or closing it would wait for them.
    const held = new Set<net.Socket>();
    const holder = net.createServer((socket) => held.add(socket));
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.listen(port, '127.0.0.1', resolve);
    });
    try {
      const env = {
        NODE_ENV: 'test',
        SQLITE_PATH: path.join(dir, 'taken.sqlite'),
        SEED_DEMO: 'false',
        LOG_LEVEL: 'warn',
        JWT_SECRET: 'loadtest-cluster-test-0123456789abcdefghij',
        FACE_ENABLED: 'false',
      };
      const started = await startNodeOn(port, repoRoot(import.meta.url), 'taken', env).then(
        async (node) => {
          await node.stop();
          return 'started on a taken port';
        },
        (err: unknown) => err,
      );
      expect(addressInUse(started), String(started)).to.equal(true);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
