import { pino } from 'pino';
import { EventBus, type DomainEvent } from '../../src/domain/events.js';
import { createLiveAttendance, type LiveAttendance } from '../../src/domain/live-attendance.js';
import type { DomainDeps } from '../../src/domain/deps.js';
import type { Actor } from '../../src/domain/actor.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { loadFaceConfig } from '../../src/face/face-config.js';
import { JobRunner } from '../../src/domain/jobs/job-runner.js';

/** A clock tests move by hand. */
export class TestClock {
  constructor(private t: number) {}
  now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
  set(at: Date): void {
    this.t = at.getTime();
  }
}

export const CLASSROOM = { lat: 48.8584, lon: 2.2945, radiusM: 60 };

export interface LiveFixture {
  store: Store;
  clock: TestClock;
  events: DomainEvent[];
  live: LiveAttendance;
  deps: DomainDeps;
  org: Organisation;
  teacher: User;
  otherTeacher: User;
  admin: User;
  students: User[];
  outsider: User;
  subject: Subject;
  actor(user: User): Actor;
  close(): Promise<void>;
}

/** One organisation with a subject, its teacher, enrolled students, and the live domain over an in-memory store. */
export async function createLiveFixture(opts: { students?: number; capabilities?: DomainDeps['capabilities'] } = {}): Promise<LiveFixture> {
  const clock = new TestClock(Date.parse('2026-03-02T09:00:00.000Z'));
  const store = await createSqliteStore({ path: ':memory:', now: clock.now });
  const org = await store.organisations.create({ name: 'Test School', slug: 'test', timezone: 'Europe/Paris' });
  const user = (email: string, name: string, role: User['role'], studentNumber: string | null = null) =>
    store.users.create(org.id, { email, name, role, studentNumber, passwordHash: null, active: true });
  const teacher = await user('teacher@test', 'Teacher One', 'teacher');
  const otherTeacher = await user('other@test', 'Teacher Two', 'teacher');
  const admin = await user('admin@test', 'Admin', 'admin');
  const students: User[] = [];
  for (let i = 1; i <= (opts.students ?? 6); i += 1) {
    students.push(await user(`s${i}@test`, `Student ${String(i).padStart(2, '0')}`, 'student', `S${i}`));
  }
  const outsider = await user('outsider@test', 'Not Enrolled', 'student', 'S999');
  const subject = await store.subjects.create(org.id, {
    code: 'PHY1',
    name: 'Physics',
    teacherIds: [teacher.id],
    location: CLASSROOM,
    allowedIpRanges: ['10.0.0.0/8', '2001:db8::/32'],
  });
  await store.subjects.enrol(
    org.id,
    subject.id,
    students.map((s) => s.id),
  );
  const events: DomainEvent[] = [];
  const bus = new EventBus((err) => {
    throw err;
  });
  bus.subscribe((e) => events.push(e));
  const logger = pino({ level: 'silent' });
  const deps: DomainDeps = {
    store,
    events: bus,
    logger,
    now: clock.now,
    // Background retries move the test clock instead of waiting on the real one.
    jobs: new JobRunner(logger, async (ms) => {
      clock.advance(ms);
    }),
    capabilities: opts.capabilities ?? { selfie: false },
    settings: { codePeriodS: 15, locationMaxAgeS: 120, defaultTimezone: 'UTC' },
  };
  const face = loadFaceConfig({});
  const live = createLiveAttendance(
    deps,
    { owner: 'test-node', intervalMs: 50 },
    { minFacePx: face.gates.minFacePx, maxFaces: face.maxFaces },
  );
  return {
    store,
    clock,
    events,
    live,
    deps,
    org,
    teacher,
    otherTeacher,
    admin,
    students,
    outsider,
    subject,
    actor: (u) => ({ id: u.id, orgId: u.orgId, role: u.role }),
    close: async () => {
      await live.scheduler.stop();
      await deps.jobs.drain(10_000);
      await store.close();
    },
  };
}

/** A point `metres` north of the classroom centre. */
export function northOf(metres: number): { lat: number; lon: number } {
  return { lat: CLASSROOM.lat + metres / 111_195, lon: CLASSROOM.lon };
}
