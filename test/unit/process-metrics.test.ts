import fs from 'node:fs';
import net from 'node:net';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { registerProcessMetrics } from '../../src/observability/process-metrics.js';

/** The value of an unlabelled gauge in the registry's text exposition. */
function value(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} is not in the scrape`);
  return Number(line.split(' ')[1]);
}

describe('process metrics without walking the handles on the event loop', () => {
  const sockets: net.Socket[] = [];
  let server: net.Server;

  before(async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    for (let i = 0; i < 50; i += 1) {
      sockets.push(
        await new Promise<net.Socket>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
        }),
      );
    }
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads the open file descriptors without readdirSync, and counts them', async function () {
    if (process.platform !== 'linux') this.skip();
    const registry = new Registry();
    registerProcessMetrics(registry);
    const sync = fs.readdirSync;
    let syncCalls = 0;
    fs.readdirSync = ((...args: Parameters<typeof sync>) => {
      syncCalls += 1;
      return sync(...args);
    }) as typeof sync;
    let text: string;
    try {
      text = await registry.metrics();
    } finally {
      fs.readdirSync = sync;
    }
    expect(syncCalls).to.equal(0);
    const open = fs.readdirSync('/proc/self/fd').length - 1;
    // The client sockets and their server ends are open: at least 100 descriptors.
    expect(value(text, 'process_open_fds')).to.be.within(Math.max(100, open - 10), open + 10);
  });

  it('serves the active resources by type and in total from one walk, and no handle walk', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const handles = (process as unknown as { _getActiveHandles: () => unknown[] })._getActiveHandles;
    let handleWalks = 0;
    (process as unknown as { _getActiveHandles: () => unknown[] })._getActiveHandles = () => {
      handleWalks += 1;
      return handles.call(process);
    };
    let text: string;
    try {
      text = await registry.metrics();
    } finally {
      (process as unknown as { _getActiveHandles: () => unknown[] })._getActiveHandles = handles;
    }
    expect(handleWalks).to.equal(0);
    expect(text).not.to.match(/^nodejs_active_handles/m);
    const total = value(text, 'nodejs_active_resources_total');
    expect(total).to.be.at.least(100);
    const tcp = text.split('\n').find((l) => l.startsWith('nodejs_active_resources{type="TCPSocketWrap"}'));
    expect(Number(tcp?.split(' ')[1])).to.be.at.least(100);
    // The process's other defaults are still there (CPU, memory, event-loop lag).
    expect(text).to.match(/^process_cpu_seconds_total /m);
    expect(text).to.match(/^nodejs_eventloop_lag_p99_seconds /m);
  });
});
