import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { readdirSync, readFileSync } from 'node:fs';
import { percentile } from './loadtest-cluster.js';

/** What happened in one second of the check-in phase (second 0 starts with the first submission). */
interface Second {
  offered: number;
  sent: number;
  acked: number;
  errors: Map<string, number>;
  ack: number[];
  roster: number[];
}

/** One reading of a node, about once a second. */
export interface NodeSample {
  t: number;
  /** Share of one core used since the previous reading, in percent (200 = two cores busy). */
  cpuPct: number | null;
  rssMB: number | null;
  /**
   * Event-loop delay since the previous scrape of the node's /metrics (prom-client resets it at
   * each scrape); null when no scrape of this second was answered (a saturated node can take
   * seconds to answer, so a scrape may cover several seconds and the seconds after it none).
   */
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /**
   * The load generator only: its own longest collection pause since the previous reading, and
   * that of its mark-compacts (0: none), so that a second its lag spoils can be told to be its
   * collector's (it keeps every check-in's times, and its old space grows through a run).
   */
  gcMaxMs?: number;
  markCompactMaxMs?: number;
}

export interface Quantiles {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export function quantiles(values: number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => (sorted.length === 0 ? null : round(percentile(sorted, p)));
  return {
    n: sorted.length,
    p50: q(50),
    p95: q(95),
    p99: q(99),
    max: sorted.length === 0 ? null : round(sorted.at(-1)!),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Per-second counters and latencies of one run, filled as the run goes. */
export class Timeline {
  private readonly seconds: Second[] = [];
  readonly nodes = new Map<string, NodeSample[]>();
  readonly generator: NodeSample[] = [];

  /** When second 0 begins: set when the check-in phase starts. */
  constructor(public start: number) {}

  private at(time: number): Second {
    const i = Math.max(0, Math.floor((time - this.start) / 1_000));
    while (this.seconds.length <= i)
      this.seconds.push({
        offered: 0,
        sent: 0,
        acked: 0,
        errors: new Map(),
        ack: [],
        roster: [],
      });
    return this.seconds[i]!;
  }

  /** Submissions due by the schedule at `time` (open loop), or sent (closed loop). */
  offered(time: number, n = 1): void {
    this.at(time).offered += n;
  }
  sent(time: number): void {
    this.at(time).sent += 1;
  }
  /** An answer at `time`, its latency counted in the second it arrived (null: counted by `latency`). */
  answered(time: number, latencyMs: number | null, errorCode: string | null): void {
    const s = this.at(time);
    if (latencyMs !== null) s.ack.push(latencyMs);
    if (errorCode === null) s.acked += 1;
    else s.errors.set(errorCode, (s.errors.get(errorCode) ?? 0) + 1);
  }
  /** One acknowledgement's latency, when a submission has several (BUSY retries). */
  latency(time: number, latencyMs: number): void {
    this.at(time).ack.push(latencyMs);
  }
  /** A roster change seen by every screen of its room at `time`. */
  roster(time: number, latencyMs: number): void {
    this.at(time).roster.push(latencyMs);
  }
  node(name: string, sample: NodeSample): void {
    const list = this.nodes.get(name) ?? [];
    list.push(sample);
    this.nodes.set(name, list);
  }

  perSecond(): PerSecond[] {
    return this.seconds.map((s, t) => ({
      t,
      offered: s.offered,
      sent: s.sent,
      acked: s.acked,
      errors: Object.fromEntries(s.errors),
      ack: quantiles(s.ack),
      roster: quantiles(s.roster),
    }));
  }
}

export interface PerSecond {
  t: number;
  offered: number;
  sent: number;
  acked: number;
  errors: Record<string, number>;
  ack: Quantiles;
  roster: Quantiles;
}

/** CPU seconds (user + system) of a process from /proc; null where there is no /proc. */
export function cpuSecondsOf(pid: number, thread: 'process' | 'main' = 'process'): number | null {
  try {
    // The main thread's task id is the process id; /proc/PID/stat sums every thread (the
    // event loop, V8's helpers, libuv's pool, worker threads).
    const file = thread === 'main' ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    // Not Linux, or the process is gone: the sample says null.
    return null;
  }
}

/** What the threads Node leaves unnamed are, once the main thread is told apart. */
export const UNNAMED_THREADS = 'helpers';

/**
 * The CPU seconds of a process's threads by name: `main` (the event loop), each named thread by
 * its kernel name (the record writer and the WAL checkpointer name themselves:
 * src/observability/thread-name.ts), and the threads Node leaves named `node` summed as
 * `helpers` (V8's platform workers: garbage collection and compilation; libuv's pool; tsx's
 * loader in development). Threads that ended before a read are not in it. Empty without /proc.
 */
export function cpuByThreadName(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    // Not Linux, or the process is gone: no breakdown.
    return byName;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      // comm is in parentheses and may hold spaces; the fields after it are numbers.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const name = Number(task) === pid ? 'main' : comm === 'node' ? UNNAMED_THREADS : comm;
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // A thread that ended between the listing and the read: it has no figure.
    }
  }
  return byName;
}

/** CPU seconds by thread name between two cpuByThreadName reads (a thread born between counts from 0). */
export function threadDelta(before: Map<string, number> | null, after: Map<string, number> | null): Record<string, number> | null {
  if (!before || !after || after.size === 0) return null;
  const delta: Record<string, number> = {};
  for (const [name, seconds] of after) delta[name] = seconds - (before.get(name) ?? 0);
  return delta;
}

/** Reads `nodejs_eventloop_lag_{p99,max}_seconds` out of a Prometheus text page. */
export function parseLag(metrics: string): {
  p99Ms: number | null;
  maxMs: number | null;
} {
  const read = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(metrics);
    return m ? round(Number(m[1]) * 1_000) : null;
  };
  return {
    p99Ms: read('nodejs_eventloop_lag_p99_seconds'),
    maxMs: read('nodejs_eventloop_lag_max_seconds'),
  };
}

export interface SampledNode {
  name: string;
  url: string;
  pid: number | null;
  rss(): number;
}

/**
 * Reads every node once a second: CPU and RSS from /proc when the node is a process of ours,
 * event-loop lag from its /metrics when a token is known; and the load generator's own lag,
 * since a saturated generator understates the service.
 */
export function sampleNodes(timeline: Timeline, nodes: SampledNode[], metricsToken: string | null): () => void {
  const lastCpu = new Map<string, { at: number; cpu: number }>();
  const scraping = new Set<string>();
  const ownLag = monitorEventLoopDelay({ resolution: 10 });
  ownLag.enable();
  let ownGc = { maxMs: 0, markCompactMaxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      ownGc.maxMs = Math.max(ownGc.maxMs, entry.duration);
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
        ownGc.markCompactMaxMs = Math.max(ownGc.markCompactMaxMs, entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let ownCpu = { at: performance.now(), usage: process.cpuUsage() };
  const tick = () => {
    const now = performance.now();
    const t = round((now - timeline.start) / 1_000);
    for (const n of nodes) {
      let cpuPct: number | null = null;
      const cpu = n.pid === null ? null : cpuSecondsOf(n.pid);
      const prev = lastCpu.get(n.name);
      if (cpu !== null) {
        if (prev) cpuPct = round(((cpu - prev.cpu) / ((now - prev.at) / 1_000)) * 100);
        lastCpu.set(n.name, { at: now, cpu });
      }
      const rss = n.rss();
      const sample: NodeSample = {
        t,
        cpuPct,
        rssMB: Number.isNaN(rss) ? null : round(rss / 1024 / 1024),
        lagP99Ms: null,
        lagMaxMs: null,
      };
      timeline.node(n.name, sample);
      // One scrape per node at a time, its answer written into the sample of the second it was asked in.
      if (metricsToken && !scraping.has(n.name)) {
        scraping.add(n.name);
        fetch(`${n.url}/metrics`, {
          headers: { authorization: `Bearer ${metricsToken}` },
          signal: AbortSignal.timeout(30_000),
        })
          .then(async (res) => {
            if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
            const lag = parseLag(await res.text());
            sample.lagP99Ms = lag.p99Ms;
            sample.lagMaxMs = lag.maxMs;
          })
          .catch((err: unknown) => process.stderr.write(`metrics of ${n.name}: ${err instanceof Error ? err.message : String(err)}\n`))
          .finally(() => scraping.delete(n.name));
      }
    }
    const usage = process.cpuUsage();
    const cpuPct = round(((usage.user + usage.system - ownCpu.usage.user - ownCpu.usage.system) / 1_000 / (now - ownCpu.at)) * 100);
    ownCpu = { at: now, usage };
    timeline.generator.push({
      t,
      cpuPct,
      rssMB: round(process.memoryUsage.rss() / 1024 / 1024),
      lagP99Ms: round(ownLag.percentile(99) / 1e6),
      lagMaxMs: round(ownLag.max / 1e6),
      gcMaxMs: round(ownGc.maxMs),
      markCompactMaxMs: round(ownGc.markCompactMaxMs),
    });
    ownLag.reset();
    ownGc = { maxMs: 0, markCompactMaxMs: 0 };
  };
  const timer = setInterval(tick, 1_000);
  return () => {
    clearInterval(timer);
    ownLag.disable();
    gcObserver.disconnect();
  };
}
