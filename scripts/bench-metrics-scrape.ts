/**
 * Metrics scrape benchmark (not a test): how long one `/metrics` scrape holds a node's event loop
 * with many sockets open. Opens S loopback TCP connections in this process (a node with S
 * students has S sockets and S descriptors), then times R scrapes of a registry with prom-client's
 * default metrics and of one with the node's (src/observability/process-metrics.ts), alternated.
 * Prints per registry: the scrape's wall time, the longest event-loop stall seen while it ran
 * (a timer every millisecond), and this process's CPU per scrape.
 *
 *   node --import tsx scripts/bench-metrics-scrape.ts [--sockets 2040] [--runs 20]
 */
import net from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerProcessMetrics } from '../src/observability/process-metrics.js';

const { values: args } = parseArgs({
  options: { sockets: { type: 'string', default: '2040' }, runs: { type: 'string', default: '20' } },
});
const socketCount = Number(args.sockets);
const runs = Number(args.runs);

const server = net.createServer((s) => s.resume());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as net.AddressInfo;
const clients: net.Socket[] = [];
for (let i = 0; i < socketCount; i += 1) {
  clients.push(
    await new Promise<net.Socket>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => resolve(c));
    }),
  );
}

const prom = new Registry();
collectDefaultMetrics({ register: prom });
const ours = new Registry();
registerProcessMetrics(ours);

/** One scrape: its wall time, the longest gap between 1 ms timer ticks meanwhile, its CPU. */
async function scrape(registry: Registry): Promise<{ wallMs: number; stallMs: number; cpuMs: number }> {
  let last = performance.now();
  let stall = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await registry.metrics();
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  // The tick after the scrape shows a stall that ended with it.
  await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(tick);
  return { wallMs, stallMs: Math.max(stall, performance.now() - last - 5), cpuMs: (used.user + used.system) / 1000 };
}

const results = {
  'prom-client defaults': [] as Awaited<ReturnType<typeof scrape>>[],
  'the node (process-metrics.ts)': [] as Awaited<ReturnType<typeof scrape>>[],
};
for (let i = 0; i < 2; i += 1) {
  await prom.metrics();
  await ours.metrics();
}
for (let i = 0; i < runs; i += 1) {
  results['prom-client defaults'].push(await scrape(prom));
  results['the node (process-metrics.ts)'].push(await scrape(ours));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`${socketCount} sockets, ${runs} scrapes each, load average ${loadavg()[0]!.toFixed(1)}\n`);
for (const [name, rs] of Object.entries(results)) {
  process.stdout.write(
    `${name}: scrape ${median(rs.map((r) => r.wallMs)).toFixed(1)} ms (median), event-loop stall ${median(rs.map((r) => r.stallMs)).toFixed(1)} ms median / ${Math.max(...rs.map((r) => r.stallMs)).toFixed(1)} ms worst, CPU ${median(rs.map((r) => r.cpuMs)).toFixed(1)} ms\n`,
  );
}
for (const c of clients) c.destroy();
server.close();
