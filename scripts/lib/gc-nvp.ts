/**
 * The check-in phase of a load test's output run with `--node-flags=--trace-gc-nvp`, summed:
 * see scripts/gc-nvp.ts, which prints it.
 */
interface Collection {
  t: number;
  pause: number;
  kind: string;
  allocated: number;
  promoted: number;
  survived: number;
}

export interface NvpSummary {
  seconds: number;
  acked: number | null;
  scavenges: number;
  scavengePauseMs: number;
  scavengeMaxMs: number;
  markCompacts: number;
  markCompactPauseMs: number;
  allocated: number;
  promoted: number;
  survived: number;
}

const LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: pause=([\d.]+) .*?\bgc=(\w+) /;
const field = (line: string, name: string): number => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);

/** The summary of one log's check-in phase; null when it holds no collection of the node's main thread there. */
export function summariseNvp(text: string): NvpSummary | null {
  let inPhase = false;
  let acked: number | null = null;
  const byIsolate = new Map<string, Collection[]>();
  // A terminal's progress lines end in \r, not \n.
  for (const line of text.split(/[\r\n]+/)) {
    if (/^\[cluster\] \d+s submitted/.test(line)) inPhase = true;
    if (line.startsWith('== cluster:')) inPhase = false;
    const done = /check-ins\s+\d+ submitted, (\d+) acked in/.exec(line);
    if (done) acked = Number(done[1]);
    const m = LINE.exec(line);
    if (!m || !inPhase) continue;
    let list = byIsolate.get(m[1]!);
    if (!list) byIsolate.set(m[1]!, (list = []));
    list.push({
      t: Number(m[2]),
      pause: Number(m[3]),
      kind: m[4]!,
      allocated: field(line, 'allocated'),
      promoted: field(line, 'promoted'),
      survived: field(line, 'new_space_survived'),
    });
  }
  // The node's main thread is the isolate that allocates most under load. Not the one that
  // collects most: a worker thread's (the record writer's) young generation is V8's default, a
  // quarter of the main thread's 64 MB, and below ~2,000 check-ins/s it scavenges more often.
  // A worker's lines may also print first, at its start.
  const sum = (xs: readonly Collection[], f: (c: Collection) => number) => xs.reduce((s, c) => s + f(c), 0);
  let rows: Collection[] = [];
  let most = -1;
  for (const list of byIsolate.values()) {
    const allocated = sum(list, (c) => c.allocated);
    if (allocated > most) [rows, most] = [list, allocated];
  }
  if (rows.length === 0) return null;
  const scavenges = rows.filter((r) => r.kind === 's');
  const others = rows.filter((r) => r.kind !== 's');
  return {
    seconds: (rows[rows.length - 1]!.t - rows[0]!.t) / 1000,
    acked,
    scavenges: scavenges.length,
    scavengePauseMs: sum(scavenges, (c) => c.pause),
    scavengeMaxMs: Math.max(0, ...scavenges.map((c) => c.pause)),
    markCompacts: others.length,
    markCompactPauseMs: sum(others, (c) => c.pause),
    allocated: sum(scavenges, (c) => c.allocated),
    promoted: sum(scavenges, (c) => c.promoted),
    survived: sum(scavenges, (c) => c.survived),
  };
}
