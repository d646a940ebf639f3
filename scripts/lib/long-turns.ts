import type { GcSecond } from './gc-timeline.js';

export interface LongTurnRow {
  /** The run second the gap ended in (from `start`, Unix ms). */
  second: number;
  endUs: number;
  ms: number;
  /** The collections that started inside the gap. */
  gcs: { kind: string; ms: number }[];
}

/**
 * The gaps of `minMs` or more that a node's gc-timeline lines hold, in order, each with the
 * collections that started during it. A line's `t` is its second's start, Unix ms; a gap's run
 * second is that of its line, counted from `start` as the --gc table counts them.
 */
export function longTurnRows(seconds: readonly GcSecond[], minMs: number, start: number): LongTurnRow[] {
  const gcs = seconds.flatMap((s) => s.longGcs ?? []);
  return seconds.flatMap((s) =>
    (s.longTurns ?? [])
      .filter((g) => g.ms >= minMs)
      .map((g) => ({
        second: Math.floor((s.t + 500 - start) / 1_000),
        endUs: g.endUs,
        ms: g.ms,
        gcs: gcs.filter((c) => c.startUs >= g.endUs - g.ms * 1000 && c.startUs < g.endUs).map(({ kind, ms }) => ({ kind, ms })),
      })),
  );
}
