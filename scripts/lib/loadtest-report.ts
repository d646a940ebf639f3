import { percentile } from './loadtest-cluster.js';
import type { RosterMessageRate } from './loadtest-roster.js';
import { selfieReport, type SelfieRunInfo } from './loadtest-selfies.js';
import type { Quantiles } from './loadtest-timeline.js';

/** What one load run measured. */
export interface RunResult {
  label: string;
  nodes: number;
  sockets: number;
  connected: number;
  connectErrors: number;
  checkins: number;
  acked: number;
  errors: Map<string, number>;
  elapsedS: number;
  ack: number[];
  propagation: number[];
  propagationMissing: number;
  /** Acknowledgement -> last screen of the room (see scripts/lib/loadtest-roster.ts). */
  rosterFromAck: Quantiles;
  rosterMessageRate: RosterMessageRate;
  rss: { name: string; idle: number; loaded: number; connections: number }[];
  /**
   * CPU seconds each node's process (every thread) used from the first check-in offered to the
   * last answered; null where it cannot be read (not Linux, --urls).
   */
  /** Per node: CPU seconds over the check-ins, and by thread name (cpuByThreadName) where /proc tells. */
  cpu: { name: string; seconds: number | null; threads?: Record<string, number> | null }[];
  /** Present with --selfies: the nodes then run face workers, whose models are in their RSS. */
  selfies?: SelfieRunInfo;
}

const ms = (n: number) => (Number.isNaN(n) ? 'n/a' : `${n.toFixed(1)} ms`);
const msq = (n: number | null) => (n === null ? 'n/a' : `${n.toFixed(1)} ms`);
const mb = (n: number) => (Number.isNaN(n) ? 'n/a' : `${(n / 1024 / 1024).toFixed(1)} MB`);
const kb = (n: number) => (Number.isNaN(n) ? 'n/a' : `${(n / 1024).toFixed(1)} KB`);

/**
 * The nodes' CPU over the check-ins: per acknowledged check-in it is the work a build does, which
 * compares two builds on a shared machine where rates and latencies follow the share of the cores
 * each run got (the share is printed beside it).
 */
function cpuLines(r: RunResult): string[] {
  const known = r.cpu.filter((n): n is { name: string; seconds: number } => n.seconds !== null);
  if (known.length === 0 || r.elapsedS <= 0) return [];
  const total = known.reduce((sum, n) => sum + n.seconds, 0);
  const shares = known.map((n) => `${n.name} ${((n.seconds / r.elapsedS) * 100).toFixed(0)} %`).join(', ');
  const perCheckin = r.acked > 0 ? `${((total * 1000) / r.acked).toFixed(3)} ms` : 'n/a';
  const all = known.length === r.cpu.length ? '' : ` (${known.length} of ${r.cpu.length} nodes read)`;
  return [`node cpu            ${perCheckin} per acknowledged check-in, all nodes${all}; share of a core: ${shares}`, ...threadLines(r)];
}

/**
 * Each node's CPU by thread, per acknowledged check-in of the whole run (on several nodes each
 * node's figure is over all check-ins, like the `node cpu` line): which thread a build's work
 * per check-in moved to or from.
 */
function threadLines(r: RunResult): string[] {
  if (r.acked === 0) return [];
  return r.cpu.flatMap((n) => {
    if (!n.threads) return [];
    const parts = Object.entries(n.threads)
      .filter(([, s]) => s > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `${name} ${((s * 1000) / r.acked).toFixed(3)}`);
    return [`node threads        ${n.name}: ${parts.join(', ')} ms per acknowledged check-in`];
  });
}

/** The text block of one run. */
export function report(r: RunResult, opts: { rooms: number; students: number; screens: number; rate: number }): string {
  const lines = [
    `== ${r.label}: ${r.nodes} node(s), ${opts.rooms} rooms x ${opts.students} students + ${opts.screens} screens/room`,
    `connected sockets   ${r.connected}/${r.sockets} (connect errors ${r.connectErrors})`,
    `check-ins           ${r.checkins} submitted, ${r.acked} acked in ${r.elapsedS.toFixed(1)} s = ${(r.acked / r.elapsedS).toFixed(0)} check-ins/s` +
      (opts.rate > 0 ? ` (offered ${opts.rate}/s)` : ''),
    `ack latency         p50 ${ms(percentile(r.ack, 50))}, p95 ${ms(percentile(r.ack, 95))}, p99 ${ms(percentile(r.ack, 99))}`,
    `roster from submit  p50 ${ms(percentile(r.propagation, 50))}, p95 ${ms(percentile(r.propagation, 95))}, p99 ${ms(percentile(r.propagation, 99))} (submit -> every screen; ${r.propagation.length} complete, ${r.propagationMissing} incomplete)`,
    `roster from ack     p50 ${msq(r.rosterFromAck.p50)}, p95 ${msq(r.rosterFromAck.p95)}, p99 ${msq(r.rosterFromAck.p99)} (acknowledged, so stored -> every screen; ${r.rosterFromAck.n} paired)`,
    `roster messages     ${r.rosterMessageRate.meanPerActiveSecond ?? 'n/a'} per screen per active second, at most ${r.rosterMessageRate.maxPerSecond} in one second (${r.rosterMessageRate.screens} screens)`,
    ...cpuLines(r),
    `errors              ${r.errors.size === 0 ? 'none' : [...r.errors].map(([c, n]) => `${c} ${n}`).join(', ')}`,
  ];
  if (r.selfies) {
    lines.push(...selfieReport(r.selfies));
    lines.push(
      `rss                 includes ${r.selfies.faceWorkersPerNode} face worker(s)/node with their models: per-connection figures are not comparable to a run without --selfies`,
    );
  }
  for (const n of r.rss) {
    const perConn = (n.loaded - n.idle) / Math.max(1, n.connections);
    lines.push(
      `rss ${n.name.padEnd(15)} idle ${mb(n.idle)}, loaded ${mb(n.loaded)} with ${n.connections} sockets: ${kb(perConn)}/connection above idle, ${kb(n.loaded / Math.max(1, n.connections))}/connection overall`,
    );
  }
  return lines.join('\n');
}
