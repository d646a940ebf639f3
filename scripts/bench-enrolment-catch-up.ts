/**
 * Enrolment catch-up benchmark (not a test): what a node's catch-up after a Redis outage reads
 * (src/realtime/enrolment-catch-up.ts): the enrolments of its connected students, as
 * SessionService.enrolmentsOf reads them (ENROLMENT_READ_CHUNK students a query), through the
 * store: `--students` students (2,000 by default) of one organisation, each enrolled in
 * `--per-student` of 40 subjects.
 *
 *   node --import tsx scripts/bench-enrolment-catch-up.ts [--store sqlite|mongo] [--students 2000] [--per-student 6] [--calls 20] [--runs 2]
 *
 * sqlite: a new file store. mongo: MONGODB_URI (a FerretDB or MongoDB server; a database of its
 * own is made and dropped).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { ENROLMENT_READ_CHUNK } from '../src/domain/sessions/session-service.js';
import { openBenchStore } from './lib/bench-store.js';
import { microsPerCall } from './lib/per-call.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    students: { type: 'string', default: '2000' },
    'per-student': { type: 'string', default: '6' },
    calls: { type: 'string', default: '20' },
    runs: { type: 'string', default: '2' },
  },
});
const STUDENTS = Number(args.students);
const PER_STUDENT = Number(args['per-student']);
const SUBJECTS = 40;

async function main(): Promise<void> {
  const opened = await openBenchStore(String(args.store), 'bench-catch-up', { serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 120_000 });
  try {
    const s = opened.store;
    const org = await s.organisations.create({ name: 'Bench', slug: `bench-${randomBytes(3).toString('hex')}`, timezone: 'UTC' });
    const students = Array.from({ length: STUDENTS }, (_, i) => `student-${i}`);
    for (let k = 0; k < SUBJECTS; k += 1) {
      const subject = await s.subjects.create(org.id, {
        code: `B${k}`,
        name: `Bench ${k}`,
        teacherIds: [],
        location: null,
        allowedIpRanges: [],
      });
      // Student i is in subjects i, i+1, ... i+PER_STUDENT-1 (mod SUBJECTS).
      const enrolled = students.filter((_, i) => (k - (i % SUBJECTS) + SUBJECTS) % SUBJECTS < PER_STUDENT);
      await s.subjects.enrol(org.id, subject.id, enrolled);
    }
    let rows = 0;
    const catchUpReads = async () => {
      rows = 0;
      for (let i = 0; i < students.length; i += ENROLMENT_READ_CHUNK) {
        rows += (await s.subjects.enrolmentsOf(org.id, students.slice(i, i + ENROLMENT_READ_CHUNK))).length;
      }
    };
    for (let run = 1; run <= Number(args.runs); run += 1) {
      const us = await microsPerCall(Number(args.calls), catchUpReads);
      console.log(
        JSON.stringify({
          store: String(args.store),
          run,
          students: STUDENTS,
          queries: Math.ceil(STUDENTS / ENROLMENT_READ_CHUNK),
          enrolments: rows,
          'catch-up reads ms': (us / 1_000).toFixed(1),
          load: loadavg()
            .map((l) => l.toFixed(1))
            .join(' '),
        }),
      );
    }
  } finally {
    await opened.cleanup();
  }
}

await main();
