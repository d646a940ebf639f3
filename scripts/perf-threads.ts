/**
 * Where a process's CPU went, thread by thread, from a Linux `perf record -g` file (e.g.
 * `BENCH_PERF=FILE scripts/bench-checkins.ts --node-flags=--perf-basic-prof`): each thread's
 * share of the samples, split by what the sampled stack was doing, as a Markdown table. V8's
 * `--cpu-prof` sees only each isolate's JavaScript, and on a busy machine its times include
 * the moments the thread waited for a core; perf samples the CPU time of every thread (the
 * garbage collector's and compilers' helpers, the WAL checkpointer) and the native frames.
 *
 *   node --import tsx scripts/perf-threads.ts FILE [--threads 10] [--per N]
 *
 * A sample's kind is that of the frame nearest to the leaf that names one, not looking past the
 * first JavaScript frame (below it, everything is called by JavaScript): `sqlite` (better-sqlite3's
 * SQLite), `gc`, `compile` (V8's compilers), `serialize` (postMessage's structured clone),
 * `json`, `socket write`, `socket read`, `epoll`, `wait` (futex, scheduler), then `js` for a
 * JavaScript or builtin leaf, `kernel` and `native` for the rest. With `--per N`, milliseconds
 * per unit of work (perf's sample period is in nanoseconds of CPU clock).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '10' },
    per: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || positionals.length !== 1) {
  process.stdout.write('usage: perf-threads.ts FILE [--threads 10] [--per N]\n');
  process.exit(values.help ? 0 : 1);
}
const per = values.per === undefined ? null : Number(values.per);

const KINDS: [string, RegExp][] = [
  [
    'gc',
    /Scaveng|MarkCompact|ConcurrentMark|Heap::|GCTracer|Sweeper|MinorMark|IncrementalMarking|MemoryAllocator|Evacuat|MarkingVisitor|MarkingBarrier/,
  ],
  ['compile', /compiler::|Maglev|Compiler::|BaselineBatch|Parser::|OptimizedCompilationJob/],
  ['serialize', /ValueSerializer|ValueDeserializer|MessagePort|SharedValueConveyor/],
  ['json', /JsonStringifier|JsonParser/],
  ['socket write', /Writev|DoTryWrite|uv__write|uv_try_write|tcp_sendmsg|sock_write_iter/],
  ['socket read', /uv__read|tcp_recvmsg|sock_read_iter|OnUvRead/],
  ['epoll', /epoll/],
  ['wait', /futex|schedule|finish_task_switch/],
];
/** A JavaScript frame: nothing below it is this sample's own kind. */
const JS_FRAME = /^JS:|InterpreterEntryTrampoline|JSEntry|BaselineOutOfLine/;

interface Frame {
  sym: string;
  dso: string;
}

function kindOf(frames: Frame[]): string {
  for (const f of frames) {
    if (JS_FRAME.test(f.sym)) break;
    if (f.dso.includes('better_sqlite3')) return 'sqlite';
    for (const [kind, re] of KINDS) if (re.test(f.sym)) return kind;
  }
  const leaf = frames[0];
  if (!leaf) return 'native';
  if (leaf.dso.includes('JIT') || leaf.sym.startsWith('JS:') || leaf.sym.startsWith('Builtins_')) return 'js';
  return leaf.dso.includes('kernel') ? 'kernel' : 'native';
}

const script = spawnSync('perf', ['script', '-i', positionals[0]!, '-F', 'tid,period,ip,sym,dso'], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
});
if (script.status !== 0) {
  process.stderr.write(script.stderr);
  process.exit(1);
}

/** Per thread: nanoseconds by kind. */
const threads = new Map<number, Map<string, number>>();
let tid = 0;
let period = 0;
let frames: Frame[] = [];
const flush = () => {
  if (period === 0) return;
  const byKind = threads.get(tid) ?? new Map<string, number>();
  const kind = kindOf(frames);
  byKind.set(kind, (byKind.get(kind) ?? 0) + period);
  threads.set(tid, byKind);
  period = 0;
  frames = [];
};
for (const line of script.stdout.split('\n')) {
  if (line.trim() === '') {
    flush();
  } else if (!line.startsWith('\t')) {
    // A sample's first line: thread and period; its frames follow, each indented by a tab.
    const [t, p] = line.trim().split(/\s+/);
    tid = Number(t);
    period = Number(p);
  } else {
    const m = /^\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$/.exec(line);
    if (m) frames.push({ sym: m[1]!, dso: m[2]! });
  }
}
flush();

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const all = [...threads.values()].reduce((a, m) => a + sum(m), 0);
const kinds = ['js', 'sqlite', 'gc', 'compile', 'serialize', 'json', 'socket write', 'socket read', 'epoll', 'wait', 'kernel', 'native'];
const cell = (ns: number) => (per === null ? `${((100 * ns) / all).toFixed(1)} %` : `${(ns / 1e6 / per).toFixed(4)}`);
const rows = [...threads].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, Number(values.threads));
process.stdout.write(
  [
    `${(all / 1e9).toFixed(2)} s of CPU sampled; ${per === null ? 'shares of it' : `ms per unit of ${per}`}`,
    '',
    `| thread | all | ${kinds.join(' | ')} |`,
    `| --- | ${kinds.map(() => '---:').join(' | ')} | ---: |`,
    ...rows.map(([t, m]) => `| ${t} | ${cell(sum(m))} | ${kinds.map((k) => cell(m.get(k) ?? 0)).join(' | ')} |`),
    '',
  ].join('\n'),
);
