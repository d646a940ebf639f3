/**
 * The record writer's transactions as its thread lived them (`scripts/loadtest.ts --stages`,
 * docs/multi-node.md "Load"): of each transaction's wall time, how much was on a core, how much
 * runnable but waiting for one (the run queue), and the rest (blocked: I/O, a lock), beside its
 * batch size, the WAL frames it wrote and whether a checkpoint pass ran at the same time. The
 * slowest 1 % against the rest says what a p99 commit waits on. Every transaction's figures also
 * go to a CSV file beside the table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CheckinStagesDump, WriterTimes } from '../../src/observability/checkin-stages.js';
import type { CheckpointPassTimes } from '../../src/store/sqlite/wal-checkpointer.js';

/** One transaction's figures (ms, frames, check-ins); `overlap` 1 when a checkpoint pass ran during it. */
export interface TransactionFigures {
  wall: number;
  cpu: number | null;
  runQueue: number | null;
  blocked: number | null;
  slices: number | null;
  size: number | null;
  frames: number | null;
  walFrames: number | null;
  overlap: number;
}

const ROWS: readonly { key: keyof TransactionFigures; what: string }[] = [
  { key: 'wall', what: 'wall ms (message read to commit)' },
  { key: 'cpu', what: 'on a core ms' },
  { key: 'runQueue', what: 'runnable, waiting for a core ms' },
  { key: 'blocked', what: 'neither: blocked (I/O, lock) ms' },
  { key: 'slices', what: 'times given a core' },
  { key: 'size', what: 'batch size (writes)' },
  { key: 'frames', what: 'WAL frames written' },
  { key: 'walFrames', what: 'WAL frames after the commit' },
  { key: 'overlap', what: 'a checkpoint pass overlapped (share)' },
];

/** Each transaction's figures, its checkpoint overlap found among `passes` (any intersection). */
export function transactionFigures(writer: readonly WriterTimes[], passes: readonly CheckpointPassTimes[]): TransactionFigures[] {
  const sorted = [...passes].sort((a, b) => a.start - b.start);
  return writer.map((w) => {
    const wall = w.committed - w.received;
    const sched = w.thread?.sched ?? null;
    const cpu = sched ? sched.runNs / 1e6 : null;
    const runQueue = sched ? sched.waitNs / 1e6 : null;
    return {
      wall,
      cpu,
      runQueue,
      blocked: cpu !== null && runQueue !== null ? Math.max(0, wall - cpu - runQueue) : null,
      slices: sched ? sched.slices : null,
      size: w.size ?? null,
      frames: w.thread ? w.thread.frames : null,
      walFrames: w.thread ? w.thread.walFrames : null,
      overlap: overlaps(sorted, w.received, w.committed) ? 1 : 0,
    };
  });
}

function overlaps(sortedPasses: readonly CheckpointPassTimes[], from: number, to: number): boolean {
  // Passes last a few ms at most and come every 100 ms: a linear scan from the first that may
  // reach `from` is short; a binary search finds it.
  let lo = 0;
  let hi = sortedPasses.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sortedPasses[mid]!.start < from - 1_000) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < sortedPasses.length && sortedPasses[i]!.start <= to; i += 1) {
    if (sortedPasses[i]!.end >= from) return true;
  }
  return false;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/**
 * The table as Markdown: each figure's p50/p90/p99/max over all transactions, then its mean over
 * the slowest 1 % by wall time and over the rest. Null when no file holds writer transactions.
 */
export function writerThreadTableText(figures: readonly TransactionFigures[], passes: readonly CheckpointPassTimes[]): string | null {
  if (figures.length === 0) return null;
  const byWall = [...figures].sort((a, b) => a.wall - b.wall);
  const cut = Math.min(byWall.length - 1, Math.floor(0.99 * byWall.length));
  const slowest = byWall.slice(cut);
  const rest = byWall.slice(0, cut);
  const f = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2)) : '-');
  const lines = [
    `| ${figures.length} transactions | p50 | p90 | p99 | max | mean | mean, slowest 1 % (${slowest.length}) | mean, the rest |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { key, what } of ROWS) {
    const of = (xs: readonly TransactionFigures[]) => xs.map((x) => x[key]).filter((v): v is number => v !== null);
    const all = of(figures).sort((a, b) => a - b);
    if (all.length === 0) continue;
    const cells = [
      percentile(all, 50),
      percentile(all, 90),
      percentile(all, 99),
      all.at(-1)!,
      mean(all),
      mean(of(slowest)),
      mean(of(rest)),
    ];
    lines.push(`| ${what} | ${cells.map(f).join(' | ')} |`);
  }
  if (passes.length > 0) {
    const walls = passes.map((p) => p.end - p.start).sort((a, b) => a - b);
    const cpus = passes.flatMap((p) => (p.sched ? [p.sched.runNs / 1e6] : [])).sort((a, b) => a - b);
    const waits = passes.flatMap((p) => (p.sched ? [p.sched.waitNs / 1e6] : [])).sort((a, b) => a - b);
    const frames = passes.map((p) => p.checkpointed).sort((a, b) => a - b);
    const restarts = passes.filter((p) => /RESTART|TRUNCATE/.test(p.modes)).length;
    // A PASSIVE with the record writer held between batches (writer-gate.ts), from round 27.
    const held = passes.filter((p) => /HELD/.test(p.modes)).length;
    const startedOver = passes.some((p) => p.startedOver !== undefined)
      ? `; the WAL started over by a commit ${passes.reduce((n, p) => n + (p.startedOver ?? 0), 0)} times`
      : '';
    lines.push(
      '',
      `${passes.length} checkpoint passes that checkpointed (${restarts} with a RESTART or TRUNCATE${held > 0 ? `, ${held} with the writer held` : ''}${startedOver}): ` +
        `wall p50 ${f(percentile(walls, 50))} / p99 ${f(percentile(walls, 99))} / max ${f(walls.at(-1)!)} ms, ` +
        `on a core p50 ${f(percentile(cpus, 50))} / p99 ${f(percentile(cpus, 99))} ms, ` +
        `run queue p99 ${f(percentile(waits, 99))} ms, frames copied p50 ${f(percentile(frames, 50))} / p99 ${f(percentile(frames, 99))}`,
    );
  }
  const startOvers = startOverLine(figures);
  if (startOvers !== null) lines.push('', startOvers);
  return lines.join('\n');
}

/**
 * The commits that started the WAL over (their WAL frames after the commit are their own), beside
 * a checkpoint pass or not, against the others: their blocked time (round 29, docs/multi-node.md:
 * a start-over beside a pass waited for the held PASSIVE). Null without the WAL's frames.
 */
export function startOverLine(figures: readonly TransactionFigures[]): string | null {
  const kinds = { beside: [] as number[], alone: [] as number[], others: [] as number[] };
  for (const t of figures) {
    if (t.frames === null || t.walFrames === null || t.blocked === null) continue;
    const kind = t.frames !== t.walFrames ? 'others' : t.overlap > 0 ? 'beside' : 'alone';
    kinds[kind].push(t.blocked);
  }
  if (kinds.beside.length + kinds.alone.length + kinds.others.length === 0) return null;
  const part = (xs: number[], what: string) => {
    xs.sort((a, b) => a - b);
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
    return `${what} ${xs.length}, blocked p50 ${f(percentile(xs, 50))} / p90 ${f(percentile(xs, 90))} ms (sum ${xs.reduce((s, x) => s + x, 0).toFixed(0)})`;
  };
  return `start-overs ${part(kinds.beside, 'beside a pass')}; ${part(kinds.alone, 'without')}; ${part(kinds.others, 'other commits')}`;
}

const CSV_COLUMNS: readonly (keyof TransactionFigures)[] = [
  'wall',
  'cpu',
  'runQueue',
  'blocked',
  'slices',
  'size',
  'frames',
  'walFrames',
  'overlap',
];

/** One line per transaction (`node,received,` then the figures; empty cells where absent), for a spreadsheet. */
export function transactionsCsv(
  nodes: readonly { node: string; writer: readonly WriterTimes[]; figures: readonly TransactionFigures[] }[],
): string {
  const lines = [['node', 'received', ...CSV_COLUMNS].join(',')];
  for (const { node, writer, figures } of nodes) {
    figures.forEach((f, i) => {
      const cells = CSV_COLUMNS.map((k) => (f[k] === null ? '' : String(Math.round(f[k] * 1000) / 1000)));
      lines.push([node, writer[i]!.received.toFixed(3), ...cells].join(','));
    });
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The nodes' CHECKIN_STAGES_FILE dumps as one table (each node's transactions against its own
 * checkpoint passes); null when none holds writer transactions (an older file, a MongoDB node).
 */
export function writerThreadTable(nodeFiles: readonly string[]): { text: string; csv: string } | null {
  const figures: TransactionFigures[] = [];
  const passes: CheckpointPassTimes[] = [];
  const nodes: Parameters<typeof transactionsCsv>[0][number][] = [];
  for (const file of nodeFiles) {
    const dump = JSON.parse(readFileSync(file, 'utf8')) as CheckinStagesDump;
    const writer = dump.writer ?? [];
    const own = transactionFigures(writer, dump.checkpoints ?? []);
    nodes.push({ node: path.basename(file, '.json'), writer, figures: own });
    figures.push(...own);
    passes.push(...(dump.checkpoints ?? []));
  }
  const text = writerThreadTableText(figures, passes);
  return text === null ? null : { text, csv: transactionsCsv(nodes) };
}
