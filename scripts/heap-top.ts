/**
 * Prints the heaviest allocation sites of a V8 sampling heap profile (.heapprofile, from
 * `BENCH_HEAP_PROF=DIR scripts/bench-checkins.ts`) as Markdown tables: by the allocating frame
 * itself, and by the nearest frame of this project's src/ on the stack (the code that asked for
 * the allocation, through whatever library did it). With `--per N`, bytes per unit of work
 * (e.g. per check-in).
 *
 *   node --import tsx scripts/heap-top.ts FILE.heapprofile [--top 15] [--per N]
 *
 * Frames are merged by function and file (and line outside .ts files: under tsx the lines of .ts
 * files are those of the transpiled code).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface HeapNode {
  callFrame: CallFrame;
  id: number;
  children: HeapNode[];
}
interface HeapProfile {
  head: HeapNode;
  samples: { size: number; nodeId: number }[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '15' },
    per: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
const top = Number(values.top);
const per = values.per === undefined ? null : Number(values.per);
if (values.help || positionals.length !== 1 || !(top >= 1) || (per !== null && !(per > 0))) {
  process.stdout.write('usage: heap-top.ts FILE.heapprofile [--top N] [--per UNITS]\n');
  process.exit(values.help ? 0 : 1);
}
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as HeapProfile;

const cwd = `file://${process.cwd()}/`;
const nameOf = (f: CallFrame): string => {
  const file = f.url.startsWith(cwd) ? f.url.slice(cwd.length) : f.url.replace(/^.*node_modules\//, '') || '(native)';
  const where = file.endsWith('.ts') ? file : `${file}:${f.lineNumber + 1}`;
  return `\`${f.functionName || '(anonymous)'}\` ${where}`;
};
const isOwn = (f: CallFrame) => f.url.startsWith(`${cwd}src/`);

const selfOf = new Map<number, string>();
const ownOf = new Map<number, string>();
const walk = (node: HeapNode, own: string | null) => {
  const here = isOwn(node.callFrame) ? nameOf(node.callFrame) : own;
  selfOf.set(node.id, nameOf(node.callFrame));
  ownOf.set(node.id, here ?? '(no src/ frame)');
  for (const c of node.children) walk(c, here);
};
walk(profile.head, null);

const total = profile.samples.reduce((s, x) => s + x.size, 0);
const table = (title: string, by: Map<number, string>) => {
  const sums = new Map<string, number>();
  for (const s of profile.samples) {
    const k = by.get(s.nodeId) ?? '?';
    sums.set(k, (sums.get(k) ?? 0) + s.size);
  }
  const rows = [...sums].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [
    `| # | ${title} | sampled KB | share |${per ? ' bytes per unit |' : ''}`,
    `| --- | --- | ---: | ---: |${per ? ' ---: |' : ''}`,
  ];
  rows.forEach(([k, v], i) =>
    lines.push(
      `| ${i + 1} | ${k} | ${(v / 1024).toFixed(0)} | ${((100 * v) / total).toFixed(1)} % |${per ? ` ${(v / per).toFixed(0)} |` : ''}`,
    ),
  );
  return lines.join('\n');
};
process.stdout.write(
  `${positionals[0]}: ${(total / 1024 / 1024).toFixed(1)} MB sampled${per ? `, ${(total / per).toFixed(0)} bytes per unit` : ''}\n\n`,
);
process.stdout.write(`${table('allocating frame', selfOf)}\n\n${table('nearest src/ frame', ownOf)}\n`);
