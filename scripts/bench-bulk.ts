/**
 * Bulk benchmark (not a test): what closing a large class and inviting a whole school cost, in
 * store calls (load-independent: each is a round trip, or a few, on MongoDB) and in time. Per
 * run, seeds one organisation with N students enrolled in one subject, opens a session and
 * closes it with nobody checked in (N absents), --closes times, then invites the N students in one request.
 * Then a OneRoster users.csv of --import-users rows (1000) naming accounts that exist unlinked:
 * the import links them by email (`link`), and the same bundle again changes nothing (`reimport`).
 * Then a bundle of --import-users new students in 20 classes, each enrolled in one: the import
 * creates the accounts, classes, links and enrolments (`create`), and again changes nothing (`recreate`).
 * Prints the calls per close, per invitation batch and per import, by repository method, the wall
 * time and this process's CPU (on MongoDB most of the work is the server's: compare the calls).
 *
 *   node --import tsx scripts/bench-bulk.ts [--store sqlite|mongo] [--students 300]  [--runs 3] [--closes 3] [--import-users 1000]
 *     [--server-pid PID] [--pending] [--ms-by-method]
 *
 * --pending: every student has a pending check-in when the session closes, so the close settles
 * N records (updates) instead of writing N absents (inserts).
 *
 * --ms-by-method: also the wall time spent inside each repository method (summed; the calls of
 * one import run one after another, so they add up to most of its wall time).
 *
 * --server-pid: the database server's process (a FerretDB on this machine); its CPU time per
 * close and invitation is printed too (Linux, from /proc), which the machine's load does not
 * inflate as it does the wall time.
 * sqlite: a new file store (the record writer thread as deployed). mongo: MONGODB_URI (a
 * FerretDB or MongoDB server; a database of its own is made and dropped).
 */
import { loadavg, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { domainSettings, limitSettings } from '../src/app.js';
import { BcryptPasswordHasher } from '../src/adapters/bcrypt-password-hasher.js';
import { JwtTokenSigner } from '../src/adapters/jwt-token-signer.js';
import { memoryLimiterBackend } from '../src/adapters/memory-rate-limiter.js';
import { loadConfig } from '../src/config.js';
import { MailQueue } from '../src/domain/accounts/mail-queue.js';
import { createLimiters } from '../src/domain/limiters.js';
import { createDomain } from '../src/domain/services.js';
import { createLogger } from '../src/logger.js';
import { seedClass } from './lib/bench-node.js';
import { openBenchStore, processCpuMs } from './lib/bench-store.js';
import { countStoreCalls, type CountedStore } from './lib/store-calls.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    students: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    closes: { type: 'string', default: '3' },
    'import-users': { type: 'string', default: '1000' },
    'server-pid': { type: 'string' },
    pending: { type: 'boolean', default: false },
    'ms-by-method': { type: 'boolean', default: false },
  },
});
const IMPORT_USERS = Number(args['import-users']);
const STUDENTS = Number(args.students);
const RUNS = Number(args.runs);
/** Sessions closed one after another per run: the first pays for cold code and statements. */
const CLOSES = Number(args.closes);

interface Measure {
  calls: number;
  byMethod: Record<string, number>;
  /** Wall time inside each repository method, summed, ms. */
  msByMethod: Record<string, number>;
  wallMs: number;
  cpuMs: number;
  serverCpuMs: number | null;
}

const serverCpuMs = () => processCpuMs(args['server-pid']);

async function measure(counted: CountedStore, work: () => Promise<unknown>): Promise<Measure> {
  counted.reset();
  const cpu0 = process.cpuUsage();
  const server0 = serverCpuMs();
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const server1 = serverCpuMs();
  return {
    calls: counted.total(),
    byMethod: Object.fromEntries(counted.counts),
    msByMethod: Object.fromEntries([...counted.wallMs].sort((a, b) => b[1] - a[1]).map(([k, ms]) => [k, Math.round(ms)])),
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1_000,
    serverCpuMs: server0 === null || server1 === null ? null : server1 - server0,
  };
}

/** A users.csv naming `n` students by sourcedId, email and number (the columns the import reads, and identifier). */
function usersCsv(n: number, prefix = 'u', mail = 'imp'): string {
  const rows = Array.from(
    { length: n },
    (_, i) => `${prefix}-${i},true,student,${mail}${i},Given${i},Family${i},${mail.toUpperCase()}${i},${mail}${i}@bench.test`,
  );
  return `sourcedId,enabledUser,role,username,givenName,familyName,identifier,email\n${rows.join('\n')}\n`;
}

/** `n` new students (sourcedIds n-*) in 20 classes, each enrolled in one. */
function newSchoolBundle(n: number): Record<string, string> {
  const classes = Array.from({ length: 20 }, (_, k) => `cls-${k},Class ${k},NEW${k},`);
  const enrollments = Array.from({ length: n }, (_, i) => `e-${i},cls-${i % 20},n-${i},student`);
  return {
    users: usersCsv(n, 'n', 'new'),
    classes: `sourcedId,title,classCode,termSourcedIds\n${classes.join('\n')}\n`,
    enrollments: `sourcedId,classSourcedId,userSourcedId,role\n${enrollments.join('\n')}\n`,
  };
}

async function run(): Promise<{
  closes: Measure[];
  invite: Measure;
  link: Measure;
  reimport: Measure;
  create: Measure;
  recreate: Measure;
}> {
  const opened = await openBenchStore(args.store, 'bench-bulk', { serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 120_000 });
  const counted = countStoreCalls(opened.store);
  const store = counted.store;
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SEED_DEMO: 'false', DATA_DIR: tmpdir() });
  const logger = createLogger('silent');
  const mailer = { send: async () => undefined, close: async () => undefined };
  // Not started: the outbox sends nothing, so the calls counted are the invitation's own.
  const domain = createDomain({
    store,
    logger,
    clock: () => new Date(),
    events: { publish: () => undefined },
    tokens: new JwtTokenSigner(config.jwt, () => new Date()),
    passwords: new BcryptPasswordHasher(4),
    mail: new MailQueue(mailer, { max: 100, concurrency: 1 }, () => undefined),
    limiters: createLimiters(limitSettings(config), memoryLimiterBackend),
    settings: domainSettings(config),
  });
  try {
    const { org, teacher, students, subject } = await seedClass(store, STUDENTS);
    const admin = await store.users.create(org.id, {
      email: 'admin@bench',
      name: 'Admin',
      role: 'admin',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    const closes: Measure[] = [];
    for (let k = 0; k < CLOSES; k++) {
      const session = await domain.attendance.sessions.open({ id: teacher.id, orgId: org.id, role: 'teacher' }, { subjectId: subject.id });
      for (const s of args.pending ? students : []) {
        await store.records.insertIfAbsent(org.id, {
          sessionId: session.id,
          subjectId: subject.id,
          studentId: s.id,
          status: 'pending',
          reason: 'GEOFENCE_OUTSIDE',
          flags: [],
          distanceM: 120,
          location: null,
          ip: null,
          attempts: 1,
          submittedAt: new Date(),
          decidedAt: null,
          decidedBy: null,
          note: null,
          verification: null,
        });
      }
      closes.push(await measure(counted, () => domain.attendance.closer.close(org.id, session.id, teacher.id)));
    }
    const invite = await measure(counted, () =>
      domain.accounts.inviteMany(
        { id: admin.id, orgId: org.id, role: 'admin' },
        students.map((s) => s.id),
      ),
    );
    await store.users.createMany(
      org.id,
      Array.from({ length: IMPORT_USERS }, (_, i) => ({
        email: `imp${i}@bench.test`,
        name: `Given${i} Family${i}`,
        role: 'student' as const,
        studentNumber: `IMP${i}`,
        passwordHash: null,
        active: true,
      })),
    );
    const bundle = { users: usersCsv(IMPORT_USERS) };
    const adminActor = { id: admin.id, orgId: org.id, role: 'admin' as const, ip: null };
    const link = await measure(counted, () => domain.oneRosterImport.run(adminActor, bundle, { dryRun: false }));
    const reimport = await measure(counted, () => domain.oneRosterImport.run(adminActor, bundle, { dryRun: false }));
    const school = newSchoolBundle(IMPORT_USERS);
    const create = await measure(counted, () => domain.oneRosterImport.run(adminActor, school, { dryRun: false }));
    const recreate = await measure(counted, () => domain.oneRosterImport.run(adminActor, school, { dryRun: false }));
    return { closes, invite, link, reimport, create, recreate };
  } finally {
    await domain.attendance.scheduler.stop();
    await domain.jobs.drain(10_000);
    await opened.cleanup();
  }
}

const line = (name: string, m: Measure) =>
  `${name.padEnd(8)} calls ${String(m.calls).padStart(5)}  wall ${m.wallMs.toFixed(0).padStart(6)} ms  cpu ${m.cpuMs.toFixed(0).padStart(5)} ms` +
  (m.serverCpuMs === null ? '' : `  server cpu ${m.serverCpuMs.toFixed(0).padStart(6)} ms`) +
  `  ${JSON.stringify(m.byMethod)}` +
  (args['ms-by-method'] ? `\n${' '.repeat(9)}ms by method ${JSON.stringify(m.msByMethod)}` : '');

console.log(`store ${args.store}, ${STUDENTS} students, ${RUNS} runs, load ${loadavg()[0]!.toFixed(1)}`);
for (let r = 0; r < RUNS; r++) {
  const { closes, invite, link, reimport, create, recreate } = await run();
  console.log(`run ${r + 1}`);
  for (const [k, close] of closes.entries()) console.log(line(`close${k + 1}`, close));
  console.log(line('invite', invite));
  console.log(line('link', link));
  console.log(line('reimport', reimport));
  console.log(line('create', create));
  console.log(line('recreate', recreate));
}
