import { readFileSync } from 'node:fs';
import type { GcSecond } from './gc-timeline.js';
import type { NodeSample, PerSecond } from './loadtest-timeline.js';

/** The lines a node's gc-timeline preload wrote; none when it wrote nothing (a node that failed early). */
export function readGcTimeline(file: string): GcSecond[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GcSecond);
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(Math.round(v * 10) / 10));

/**
 * One Markdown row per second of the check-in phase: the run's acknowledgement and roster p99
 * beside the node's collections that second (count / pause total / longest pause, in ms) and its
 * heap at the end of it, and its turns of 30 ms or more (scripts/long-turns.ts names their frames);
 * and the load generator's own longest event-loop delay and collection pauses that second (a
 * spike of the generator's is not the node's). `wallStart` is second 0's start in Unix ms; a node's second goes to the
 * run second its middle falls in (the one it overlaps most), so each row shows what the node did
 * during that run second, give or take the half second by which the two clocks' seconds differ.
 */
export function gcTimelineTable(
  perSecond: readonly PerSecond[],
  gc: readonly GcSecond[],
  wallStart: number,
  generator: readonly NodeSample[] = [],
): string {
  // A generator sample taken at t s covers the second before it.
  const generatorAt = new Map(generator.map((g) => [Math.round(g.t) - 1, g]));
  const own = (s: number) => {
    const g = generatorAt.get(s);
    return g ? `${fmt(g.lagMaxMs)} / ${fmt(g.gcMaxMs)} / ${fmt(g.markCompactMaxMs)}` : '–';
  };
  const bySecond = new Map<number, GcSecond>();
  for (const g of gc) {
    const s = Math.floor((g.t + 500 - wallStart) / 1_000);
    if (s >= 0) bySecond.set(s, g);
  }
  const kind = (g: GcSecond | undefined, k: string) => {
    const v = g?.gc[k];
    return v ? `${v.n} / ${fmt(v.ms)} / ${fmt(v.maxMs)}` : '0';
  };
  // Lines written before the long-turn timer existed have no longTurns: unknown, not none.
  const turns = (g: GcSecond | undefined) => {
    if (!g?.longTurns) return '–';
    const long = g.longTurns.filter((x) => x.ms >= 30);
    return long.length === 0 ? '0' : `${long.length} / ${fmt(Math.max(...long.map((x) => x.ms)))}`;
  };
  const rows = [
    '| s | acked | ack p99 ms | roster p99 ms | scavenges n / ms / max | mark-compact n / ms / max | incremental marking n / ms | heap used MB | old space MB | turns >= 30 ms n / max | generator lag max / gc max / mark-compact max ms |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const totals = new Map<string, { n: number; ms: number; maxMs: number }>();
  for (const p of perSecond) {
    const g = bySecond.get(p.t);
    for (const [k, v] of Object.entries(g?.gc ?? {})) {
      const t = totals.get(k) ?? { n: 0, ms: 0, maxMs: 0 };
      totals.set(k, { n: t.n + v.n, ms: t.ms + v.ms, maxMs: Math.max(t.maxMs, v.maxMs) });
    }
    const inc = g?.gc['incremental'];
    rows.push(
      `| ${p.t} | ${p.acked} | ${fmt(p.ack.p99)} | ${fmt(p.roster.p99)} | ${kind(g, 'scavenge')} | ${kind(g, 'markCompact')} | ${inc ? `${inc.n} / ${fmt(inc.ms)}` : '0'} | ${fmt(g?.heapUsedMB)} | ${fmt(g?.oldSpaceMB)} | ${turns(g)} | ${own(p.t)} |`,
    );
  }
  const total = (k: string) => {
    const v = totals.get(k);
    return v ? `${v.n} / ${fmt(v.ms)} / ${fmt(v.maxMs)}` : '0';
  };
  rows.push(`| all | | | | ${total('scavenge')} | ${total('markCompact')} | ${total('incremental')} | | | | |`);
  return rows.join('\n');
}
