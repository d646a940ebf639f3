/**
 * Standing re-check benchmark (not a test): what a SOCKET_RECHECK_MS pass over an idle node's
 * sockets costs the node's event loop. N students connect and join an open session (a teacher
 * watches it); while the node re-checks them every --recheck-ms, a probe asks /healthz every
 * few milliseconds on one kept-alive connection: the slowest answer is the longest the loop was
 * held (everything else on the node waited as long). The node logs each pass's length, its CPU
 * and its costliest slice's CPU at debug level ('socket standings checked'): CPU, unlike the
 * probe, holds on a machine others load (the node is idle but for the pass, so the process's CPU
 * is the pass's). A node without that line (an older --root) is measured by the probe alone.
 *
 *   node --import tsx scripts/bench-standing-sweep.ts [--sockets 10000] [--passes 4] [--recheck-ms 5000] [--root DIR]
 *
 * Loopback only, bounded (--timeout-s). The node is DIR/src/index.ts (default this repository)
 * in a child process over a SQLite file, no face engine.
 */
import http from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Socket } from 'socket.io-client';
import { connectBench, emitAck, seedBenchClass, startBenchNode } from './lib/bench-node.js';
import { repoRoot } from './lib/repo-root.js';

const { values: args } = parseArgs({
  options: {
    sockets: { type: 'string', default: '10000' },
    passes: { type: 'string', default: '4' },
    'recheck-ms': { type: 'string', default: '5000' },
    'probe-ms': { type: 'string', default: '5' },
    root: { type: 'string' },
    'timeout-s': { type: 'string', default: '600' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: bench-standing-sweep.ts [--sockets N] [--passes P] [--recheck-ms MS] [--probe-ms MS] [--root DIR] [--timeout-s S]\n',
  );
  process.exit(0);
}
const N = Number(args.sockets);
const PASSES = Number(args.passes);
const RECHECK_MS = Number(args['recheck-ms']);
const PROBE_MS = Number(args['probe-ms']);
const root = args.root ? path.resolve(args.root) : repoRoot(import.meta.url);

const deadline = setTimeout(
  () => {
    process.stderr.write(`bench-standing-sweep: over --timeout-s ${args['timeout-s']}, giving up\n`);
    process.exit(2);
  },
  Number(args['timeout-s']) * 1000,
);
deadline.unref();

interface PassLine {
  sockets: number;
  passMs: number;
  passCpuMs: number;
  longestSliceCpuMs: number;
}

/** GET /healthz over one kept-alive connection; answers the round trip in milliseconds. */
function probe(url: string, agent: http.Agent): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/healthz`, { agent }, (res) => {
        res.resume();
        res.once('end', () => resolve(performance.now() - t0));
      })
      .once('error', reject);
  });
}

const bench = await seedBenchClass('bench-standing-sweep', N, { SOCKET_RECHECK_MS: String(RECHECK_MS), LOG_LEVEL: 'debug' });
const node = await startBenchNode(root, bench.env);
const passes: PassLine[] = [];
let buf = '';
node.child.stdout?.on('data', (d: Buffer) => {
  buf += d.toString();
  let nl: number;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (!line.includes('socket standings checked')) continue;
    passes.push(JSON.parse(line) as PassLine);
  }
});
const open: Socket[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
try {
  const url = node.url;
  const [teacherSocket] = await connectBench(url, [bench.tokens.signAccess(bench.teacher).token], { into: open });
  const opened = await emitAck<{ id: string }>(teacherSocket!, 'session:open', { subjectId: bench.subject.id });
  if (!opened.ok) throw new Error(`session:open: ${opened.error.code}`);
  const sessionId = opened.data.id;
  const watched = await emitAck(teacherSocket!, 'session:watch', { sessionId });
  if (!watched.ok) throw new Error(`session:watch: ${watched.error.code}`);
  const t0 = performance.now();
  await connectBench(
    url,
    bench.students.map((s) => bench.tokens.signAccess(s).token),
    {
      into: open,
      then: async (s) => {
        const joined = await emitAck(s, 'session:join', { sessionId });
        if (!joined.ok) throw new Error(`session:join: ${joined.error.code}`);
      },
    },
  );
  process.stdout.write(`${N} sockets connected and joined in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  // The probe runs across PASSES whole intervals, once the connecting is over.
  const loadBefore = loadavg();
  const rtts: number[] = [];
  const from = passes.length;
  const until = performance.now() + PASSES * RECHECK_MS;
  while (performance.now() < until) {
    rtts.push(await probe(url, agent));
    await new Promise((resolve) => setTimeout(resolve, PROBE_MS));
  }
  const loadAfter = loadavg();
  rtts.sort((a, b) => a - b);
  const q = (p: number) => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]!.toFixed(1);
  const seen = passes.slice(from);
  process.stdout.write(
    `healthz probe over ${PASSES} intervals of ${RECHECK_MS} ms: ${rtts.length} answers, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, ` +
      `max ${rtts[rtts.length - 1]!.toFixed(1)} ms\n`,
  );
  if (seen.length === 0) process.stdout.write('no pass line in the node log (a node without it: the probe is the figure)\n');
  for (const p of seen) {
    process.stdout.write(
      `pass over ${p.sockets} sockets: ${p.passMs} ms, CPU ${p.passCpuMs} ms, costliest slice ${p.longestSliceCpuMs} ms CPU\n`,
    );
  }
  process.stdout.write(
    `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} -> ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
} finally {
  agent.destroy();
  for (const s of open) s.disconnect();
  await node.stop();
  bench.remove();
}
