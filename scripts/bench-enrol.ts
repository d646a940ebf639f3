/**
 * Enrolment benchmark (not a test): what a class-by-class import's enrolments cost the store, as
 * an import writes them (subjects.enrolMany for all its classes; --per-class: subjects.enrol once
 * per class, as imports did before). Seeds one organisation with --students
 * students and --classes subjects, then enrols every student in every class, --runs times on a
 * new organisation each. Prints, per run, the commands sent by collection (counted on the wire,
 * load-independent), the wall time and the database server's CPU time (--server-pid, Linux).
 *
 *   MONGODB_URI=mongodb://127.0.0.1:PORT node --import tsx scripts/bench-enrol.ts [--students 300] [--classes 10] [--runs 2]
 *     [--server-pid PID] [--per-class]
 *
 * --store sqlite runs the same calls on a new file store (wall time only).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { openBenchStore, processCpuMs } from './lib/bench-store.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'mongo' },
    students: { type: 'string', default: '300' },
    classes: { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    'server-pid': { type: 'string' },
    'per-class': { type: 'boolean', default: false },
  },
});
const STUDENTS = Number(args.students);
const CLASSES = Number(args.classes);

const bench = await openBenchStore(args.store, 'bench_enrol', {
  serverSelectionTimeoutMs: 10_000,
  socketTimeoutMs: 600_000,
  params: { monitorCommands: 'true' },
});
const { store } = bench;
const commands = new Map<string, number>();
// The store's connection is the newest of mongoose's: every command it sends, by name and collection.
const conn = args.store === 'mongo' ? mongoose.connections.at(-1) : undefined;
conn?.getClient().on('commandStarted', (e) => {
  const c = e.command as Record<string, unknown>;
  // A getMore names its cursor; its collection is a field of its own.
  const key = `${e.commandName} ${String(e.commandName === 'getMore' ? c['collection'] : c[e.commandName])}`;
  commands.set(key, (commands.get(key) ?? 0) + 1);
});

try {
  for (let run = 1; run <= Number(args.runs); run += 1) {
    const org = await store.organisations.create({ name: `Bench ${run}`, slug: `bench-enrol-${run}`, timezone: 'UTC' });
    const students = await store.users.createMany(
      org.id,
      Array.from({ length: STUDENTS }, (_, i) => ({
        email: `s${i}.${run}@bench`,
        name: `Student ${i}`,
        role: 'student' as const,
        studentNumber: `N${run}-${i}`,
        passwordHash: null,
        active: true,
      })),
    );
    const subjects = [];
    for (let c = 0; c < CLASSES; c += 1) {
      subjects.push(
        await store.subjects.create(org.id, { code: `C${c}`, name: `Class ${c}`, teacherIds: [], location: null, allowedIpRanges: [] }),
      );
    }
    const ids = students.map((s) => s.id);
    commands.clear();
    const server0 = processCpuMs(args['server-pid']);
    const t0 = performance.now();
    let added = 0;
    if (args['per-class']) {
      for (const subject of subjects) added += (await store.subjects.enrol(org.id, subject.id, ids)).added;
    } else {
      const outcomes = await store.subjects.enrolMany(org.id, new Map(subjects.map((subject) => [subject.id, ids])));
      for (const o of outcomes.values()) added += o.added;
    }
    const wallMs = performance.now() - t0;
    const server1 = processCpuMs(args['server-pid']);
    const byCommand = [...commands].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`);
    console.log(
      `run ${run}: ${added} enrolments (${STUDENTS} x ${CLASSES}) in ${Math.round(wallMs)} ms` +
        (server0 !== null && server1 !== null ? `, server CPU ${server1 - server0} ms` : '') +
        `, load ${loadavg()[0]!.toFixed(1)}`,
    );
    if (byCommand.length > 0) console.log(`  commands: ${byCommand.join(', ')}`);
  }
} finally {
  await bench.cleanup();
}
