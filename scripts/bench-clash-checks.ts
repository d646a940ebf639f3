/**
 * Clash-check benchmark (not a test): what the one-class-at-a-time checks cost when a teacher's
 * or a subject's open and scheduled sessions are many. Each run is on a new SQLite file, in this
 * process, with the domain and store of --root (default this repository), so that two trees are
 * compared by running it with each in turn, alternated (docs/multi-node.md, "Load").
 *
 *   timetable  a teacher with --subjects classes of --per-week meetings a week: one timetable run
 *              over --horizon-days creates them all (one teacher check and one subject check per
 *              session created), then --opens hand openings' checks over that year of sessions.
 *   parallel   --rooms teachers each open --sessions sessions of their subject at once, confirmed
 *              parallel (the loadtest's set-up): one teacher check per opening.
 *
 *   node --import tsx scripts/bench-clash-checks.ts [--scenario timetable|parallel] [--root DIR]
 *        [--subjects 5] [--per-week 4] [--horizon-days 365] [--opens 200] [--rooms 20] [--sessions 200]
 *
 * Prints one JSON line: the phase's wall and CPU milliseconds (the process's user + system; the
 * store's writer thread included), the sessions created, and the one-minute load beside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Actor } from '../src/domain/actor.js';
import type { DomainDeps } from '../src/domain/deps.js';
import type { Store } from '../src/domain/ports/store.js';
import { repoRoot } from './lib/repo-root.js';
import type * as SqliteStoreModule from '../src/store/sqlite/sqlite-store.js';
import type * as EventsModule from '../src/domain/events.js';
import type * as JobRunnerModule from '../src/domain/jobs/job-runner.js';
import type * as SessionServiceModule from '../src/domain/sessions/session-service.js';
import type * as SessionLifecycleModule from '../src/domain/sessions/session-lifecycle.js';
import type * as TimetableServiceModule from '../src/domain/timetable/timetable-service.js';
import type * as TimetableJobModule from '../src/domain/timetable/timetable-job.js';
import type * as ClashesModule from '../src/domain/sessions/clashes.js';

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'timetable' },
    root: { type: 'string' },
    subjects: { type: 'string', default: '5' },
    'per-week': { type: 'string', default: '4' },
    'horizon-days': { type: 'string', default: '365' },
    opens: { type: 'string', default: '200' },
    rooms: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '200' },
  },
});
const root = args.root ? path.resolve(args.root) : repoRoot(import.meta.url);
const load = <T>(file: string): Promise<T> => import(pathToFileURL(path.join(root, file)).href) as Promise<T>;

const [
  { createSqliteStore },
  { EventBus },
  { JobRunner },
  { SessionService },
  { SessionLifecycle },
  { TimetableService },
  timetableJob,
  clashes,
] = await Promise.all([
  load<typeof SqliteStoreModule>('src/store/sqlite/sqlite-store.ts'),
  load<typeof EventsModule>('src/domain/events.ts'),
  load<typeof JobRunnerModule>('src/domain/jobs/job-runner.ts'),
  load<typeof SessionServiceModule>('src/domain/sessions/session-service.ts'),
  load<typeof SessionLifecycleModule>('src/domain/sessions/session-lifecycle.ts'),
  load<typeof TimetableServiceModule>('src/domain/timetable/timetable-service.ts'),
  load<typeof TimetableJobModule>('src/domain/timetable/timetable-job.ts'),
  load<typeof ClashesModule>('src/domain/sessions/clashes.ts'),
]);

// Tuesday 1 September 2026, 06:00 UTC: before the day's first class.
const NOW = new Date('2026-09-01T06:00:00.000Z');
const NO_CHECKS = { geofence: false, rotatingCode: false, network: false, selfie: false };

const dir = mkdtempSync(path.join(tmpdir(), 'bench-clash-'));
const store: Store = await createSqliteStore({ path: path.join(dir, 'bench.db') });
const silent = pino({ level: 'silent' });
const deps: DomainDeps = {
  store,
  events: new EventBus((err) => {
    throw err;
  }),
  logger: silent,
  now: () => NOW,
  jobs: new JobRunner(silent),
  capabilities: { selfie: false },
  settings: { codePeriodS: 15, locationMaxAgeS: 120, defaultTimezone: 'UTC' },
};
const sessions = new SessionService(deps);
const timetable = new TimetableService(deps, sessions, new SessionLifecycle(deps));
const org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'UTC' });
const admin: Actor = { id: 'admin', orgId: org.id, role: 'admin' };

async function teacher(n: number) {
  const u = await store.users.create(org.id, {
    email: `t${n}@bench.test`,
    name: `Teacher ${n}`,
    role: 'teacher',
    studentNumber: null,
    passwordHash: null,
    active: true,
  });
  return { actor: { id: u.id, orgId: org.id, role: 'teacher' } as Actor, id: u.id };
}

function subject(teacherId: string, n: number) {
  return store.subjects.create(org.id, {
    code: `S${n}`,
    name: `Subject ${n}`,
    teacherIds: [teacherId],
    location: null,
    allowedIpRanges: [],
  });
}

/** Wall and CPU of `phase`. */
async function timed<T>(phase: () => Promise<T>): Promise<{ wallMs: number; cpuMs: number; result: T }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await phase();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: +wallMs.toFixed(1), cpuMs: +((cpu.user + cpu.system) / 1000).toFixed(1), result };
}

const report: Record<string, unknown> = { scenario: args.scenario, root };
if (args.scenario === 'timetable') {
  const t = await teacher(0);
  const subjects = await Promise.all(Array.from({ length: Number(args.subjects) }, (_, i) => subject(t.id, i)));
  const term = await timetable.createTerm(admin, { name: 'Year', startDay: '2026-08-31', endDay: '2027-08-31' });
  // Subject i at hour 8 + i on each of its weekdays: the teacher is never double-booked.
  for (const [i, s] of subjects.entries()) {
    for (let w = 0; w < Number(args['per-week']); w++) {
      const hour = String(8 + i).padStart(2, '0');
      await timetable.createMeeting(t.actor, s.id, {
        termId: term.id,
        weekday: 1 + ((w + i) % 5),
        startTime: `${hour}:00`,
        endTime: `${hour}:50`,
        preset: 'manual',
      });
    }
  }
  const run = await timed(() => timetableJob.createTimetableSessions(deps, sessions, NOW, Number(args['horizon-days'])));
  report['run'] = { wallMs: run.wallMs, cpuMs: run.cpuMs, ...run.result };
  // The checks an opening by hand makes (the teacher's and the subject's) with the year scheduled.
  const opens = Number(args.opens);
  const checks = await timed(async () => {
    for (let k = 0; k < opens; k++) {
      const window = { startsAt: new Date(NOW.getTime() + k * 60_000), closesAt: new Date(NOW.getTime() + 3_600_000 + k * 60_000) };
      await clashes.teacherClashes(store, org.id, t.id, subjects[0]!.id, window);
      await clashes.subjectClashes(store, org.id, subjects[0]!.id, window);
    }
  });
  report['handOpenChecks'] = { opens, wallMs: checks.wallMs, cpuMs: checks.cpuMs, perOpenMs: +(checks.wallMs / opens).toFixed(3) };
} else if (args.scenario === 'parallel') {
  const rooms = await Promise.all(
    Array.from({ length: Number(args.rooms) }, async (_, r) => {
      const t = await teacher(r);
      return { teacher: t, subject: await subject(t.id, r) };
    }),
  );
  const perRoom = Number(args.sessions);
  // Each room's openings one after the other, the rooms at once, as the loadtest's set-up.
  const opened = await timed(() =>
    Promise.all(
      rooms.map(async (room) => {
        for (let k = 0; k < perRoom; k++) {
          await sessions.open(room.teacher.actor, { subjectId: room.subject.id, policy: NO_CHECKS, parallel: true });
        }
      }),
    ),
  );
  report['opened'] = { sessions: rooms.length * perRoom, wallMs: opened.wallMs, cpuMs: opened.cpuMs };
} else {
  throw new Error(`--scenario: timetable or parallel, not ${args.scenario}`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
report['load1'] = +loadavg()[0]!.toFixed(2);
console.log(JSON.stringify(report));
