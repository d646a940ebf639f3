/**
 * The stage table of `scripts/loadtest.ts --stages DIR`: where an acknowledged check-in's time
 * went, from the moment the open loop's schedule offered it to the moment the load generator read
 * its acknowledgement. The node's side comes from CHECKIN_STAGES_FILE
 * (src/observability/checkin-stages.ts), the generator's from its own clock; both are absolute
 * milliseconds on one machine.
 */
import { readFileSync } from 'node:fs';
import type { CheckinStagesDump } from '../../src/observability/checkin-stages.js';

/** The generator's times of one check-in (absolute ms): when the schedule offered it, sent, answered. */
export interface GeneratorTimes {
  offered: number;
  sent: number;
  acked: number | null;
  /** When the last screen of the room showed the change (null: not seen). */
  screen: number | null;
}

export interface StageRow {
  stage: string;
  what: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

type Point =
  | 'offered'
  | 'sent'
  | 'received'
  | 'handler'
  | 'read'
  | 'queued'
  | 'cut'
  | 'posted'
  | 'wIn'
  | 'wDone'
  | 'stored'
  | 'resolved'
  | 'answered'
  | 'acked'
  | 'rostered'
  | 'rosterSent'
  | 'screen';

const STAGES: readonly { from: Point; to: Point; what: string }[] = [
  { from: 'offered', to: 'sent', what: "generator: the schedule's slip (the sending loop: a sender thread with --senders)" },
  { from: 'sent', to: 'received', what: 'wire in: socket, engine.io/socket.io parsing, the node loop' },
  { from: 'received', to: 'handler', what: 'validation, rate budget, acting user' },
  { from: 'handler', to: 'read', what: "the turn's reads" },
  { from: 'read', to: 'queued', what: 'evaluation' },
  { from: 'queued', to: 'cut', what: 'waiting for the batch to be cut (window, previous batch)' },
  { from: 'cut', to: 'posted', what: 'peer reads and the writes built (main thread)' },
  { from: 'posted', to: 'wIn', what: 'to the writer thread (postMessage, thread scheduling)' },
  { from: 'wIn', to: 'wDone', what: 'the SQLite transaction and commit' },
  { from: 'wDone', to: 'stored', what: 'back to the main thread (postMessage, the node loop)' },
  { from: 'stored', to: 'resolved', what: "the batch's promises resumed" },
  { from: 'resolved', to: 'answered', what: 'publish (roster, decision push), the view' },
  { from: 'answered', to: 'acked', what: 'wire out: the ack written, read by the generator' },
  { from: 'sent', to: 'acked', what: 'total, as the loadtest reports it' },
  { from: 'stored', to: 'rostered', what: 'roster: the stored change to the roster batches' },
  { from: 'rostered', to: 'rosterSent', what: "roster: held in the session's batch (ROSTER_BATCH_MS)" },
  { from: 'rosterSent', to: 'screen', what: 'roster: wire out to the last screen of the room' },
  { from: 'stored', to: 'screen', what: 'roster: acceptance (the batch stored) to the last screen' },
  { from: 'handler', to: 'rosterSent', what: 'roster: the check-in handled to its message sent (the commit and the window)' },
  { from: 'sent', to: 'screen', what: 'roster total, as the loadtest reports it (submit to every screen)' },
  { from: 'offered', to: 'acked', what: 'total from the schedule (slip included)' },
];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Joins the generator's times with the nodes' files; check-ins missing a point leave that stage's count. */
export function stageTable(generator: ReadonlyMap<string, GeneratorTimes>, nodeFiles: readonly string[]): StageRow[] {
  const points = new Map<string, Partial<Record<Point, number>>>();
  for (const [key, g] of generator) {
    points.set(key, {
      offered: g.offered,
      sent: g.sent,
      ...(g.acked === null ? {} : { acked: g.acked }),
      ...(g.screen === null ? {} : { screen: g.screen }),
    });
  }
  for (const file of nodeFiles) {
    const dump = JSON.parse(readFileSync(file, 'utf8')) as CheckinStagesDump;
    for (const [key, item] of Object.entries(dump.items)) {
      const p = points.get(key);
      if (!p) continue;
      dump.stages.forEach((stage, i) => {
        const t = item.t[i];
        if (t !== null && t !== undefined) p[stage] = t;
      });
      const batch = item.batch === null ? null : dump.batches[item.batch];
      if (batch) {
        p.cut = batch.cut;
        p.posted = batch.posted;
        p.stored = batch.stored;
        if (batch.writer) {
          p.wIn = batch.writer.received;
          p.wDone = batch.writer.committed;
        }
      }
    }
  }
  return STAGES.map(({ from, to, what }) => {
    const d: number[] = [];
    for (const p of points.values()) {
      const a = p[from];
      const b = p[to];
      if (a !== undefined && b !== undefined) d.push(b - a);
    }
    d.sort((x, y) => x - y);
    const mean = d.reduce((s, x) => s + x, 0) / Math.max(1, d.length);
    return {
      stage: `${from} → ${to}`,
      what,
      count: d.length,
      p50: percentile(d, 50),
      p90: percentile(d, 90),
      p99: percentile(d, 99),
      max: d.at(-1) ?? Number.NaN,
      mean,
    };
  });
}

/** The table as Markdown, milliseconds with one decimal. */
export function stageTableText(rows: readonly StageRow[], batches: { count: number; meanSize: number } | null): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const lines = [
    '| stage | what | n | p50 ms | p90 ms | p99 ms | max ms | mean ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows)
    lines.push(`| ${r.stage} | ${r.what} | ${r.count} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${f(r.max)} | ${f(r.mean)} |`);
  if (batches) lines.push('', `${batches.count} batches, ${batches.meanSize.toFixed(1)} check-ins each on average`);
  return lines.join('\n');
}

/** How many batches the nodes' files hold and their mean size. */
export function batchSizes(nodeFiles: readonly string[]): { count: number; meanSize: number } {
  let count = 0;
  let items = 0;
  for (const file of nodeFiles) {
    const dump = JSON.parse(readFileSync(file, 'utf8')) as CheckinStagesDump;
    count += dump.batches.length;
    for (const b of dump.batches) items += b.size;
  }
  return { count, meanSize: items / Math.max(1, count) };
}
