import { percentile } from './loadtest-cluster.js';
import { selfieReport, type SelfieRunInfo } from './loadtest-selfies.js';

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
  rss: { name: string; idle: number; loaded: number; connections: number }[];
  /** Present with --selfies: the nodes then run face workers, whose models are in their RSS. */
  selfies?: SelfieRunInfo;
}

const ms = (n: number) => (Number.isNaN(n) ? 'n/a' : `${n.toFixed(1)} ms`);
const mb = (n: number) => (Number.isNaN(n) ? 'n/a' : `${(n / 1024 / 1024).toFixed(1)} MB`);
const kb = (n: number) => (Number.isNaN(n) ? 'n/a' : `${(n / 1024).toFixed(1)} KB`);

/** The text block of one run. */
export function report(r: RunResult, opts: { rooms: number; students: number; screens: number; rate: number }): string {
  const lines = [
    `== ${r.label}: ${r.nodes} node(s), ${opts.rooms} rooms x ${opts.students} students + ${opts.screens} screens/room`,
    `connected sockets   ${r.connected}/${r.sockets} (connect errors ${r.connectErrors})`,
    `check-ins           ${r.checkins} submitted, ${r.acked} acked in ${r.elapsedS.toFixed(1)} s = ${(r.acked / r.elapsedS).toFixed(0)} check-ins/s` +
      (opts.rate > 0 ? ` (offered ${opts.rate}/s)` : ''),
    `ack latency         p50 ${ms(percentile(r.ack, 50))}, p95 ${ms(percentile(r.ack, 95))}, p99 ${ms(percentile(r.ack, 99))}`,
    `roster propagation  p50 ${ms(percentile(r.propagation, 50))}, p99 ${ms(percentile(r.propagation, 99))} (submit -> every screen; ${r.propagation.length} complete, ${r.propagationMissing} incomplete)`,
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
