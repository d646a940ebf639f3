import { domainSettings, limitSettings } from '../../src/app.js';
import { JwtTokenSigner } from '../../src/adapters/jwt-token-signer.js';
import { memoryLimiterBackend } from '../../src/adapters/memory-rate-limiter.js';
import { EventBus, type DomainEvent } from '../../src/domain/events.js';
import type { Actor } from '../../src/domain/actor.js';
import type { FaceDecisionSettings, FaceEngine } from '../../src/domain/face/face-engine.js';
import type { JobRunner } from '../../src/domain/jobs/job-runner.js';
import { createLimiters } from '../../src/domain/limiters.js';
import { createDomain, type Domain, type LiveAttendance } from '../../src/domain/services.js';
import { createLogger } from '../../src/logger.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { NO_ORGANISATION_SETTINGS, type Organisation, type OrganisationSettings } from '../../src/domain/ports/organisations.js';
import type { NewRecord } from '../../src/domain/ports/records.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { testConfig } from './http.js';
import { recordingQueue } from './mail.js';
import { cheapPasswordHasher } from './passwords.js';

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

/** What a domain of the fixture may differ in: its node, its face engine and face settings, its class-photo limits. */
export interface DomainOptions {
  /** This node's name in scheduler leases; 'test-node' by default. */
  nodeId?: string;
  /** Face analysis; none by default (selfie policies refused). */
  face?: FaceEngine;
  faceSettings?: FaceDecisionSettings;
  /** FACE_CONSENT_REQUIRED; off by default. */
  faceConsentRequired?: boolean;
  classPhoto?: { minFacePx: number; maxFaces: number };
  /** CLOSE_MAX_MS; the default (10 minutes) otherwise. */
  closeMaxMs?: number;
  /** CLOSE_ANSWER_WAIT_MS; the default (3 s) otherwise. */
  closeAnswerWaitMs?: number;
  /** The timer behind CLOSE_MAX_MS; a real one otherwise (test/support/held-deadlines.ts holds it). */
  closeDeadline?: (ms: number) => AbortSignal;
}

export interface LiveFixture {
  store: Store;
  clock: TestClock;
  /** Every domain event published, in order. */
  events: DomainEvent[];
  bus: EventBus;
  /** The fixture's domain, built by createDomain as the application builds it. */
  domain: Domain;
  live: LiveAttendance;
  /** The domain's background work; it waits by moving the test clock. */
  jobs: JobRunner;
  org: Organisation;
  teacher: User;
  otherTeacher: User;
  admin: User;
  students: User[];
  outsider: User;
  subject: Subject;
  actor(user: User): Actor;
  /** Another domain over the same store, clock and events (a second node, another face engine); closed with the fixture. */
  build(options: DomainOptions): Domain;
  close(): Promise<void>;
}

/**
 * One organisation with a subject, its teacher, enrolled students, and the domain over an
 * in-memory store, built through createDomain with the test configuration.
 */
export async function createLiveFixture(
  opts: {
    students?: number;
    /** Another store than the embedded one in memory (a test MongoDB database); the fixture closes it. */
    openStore?: (now: () => Date) => Promise<Store>;
  } & DomainOptions = {},
): Promise<LiveFixture> {
  const clock = new TestClock(Date.parse('2026-03-02T09:00:00.000Z'));
  const store = opts.openStore ? await opts.openStore(clock.now) : await createSqliteStore({ path: ':memory:', now: clock.now });
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

  const config = testConfig();
  const logger = createLogger('silent');
  const built: Domain[] = [];
  const build = (options: DomainOptions): Domain => {
    const base = domainSettings(config);
    const domain = createDomain({
      store,
      logger,
      clock: clock.now,
      events: bus,
      tokens: new JwtTokenSigner(config.jwt, clock.now),
      passwords: cheapPasswordHasher(),
      mail: recordingQueue().queue,
      ...(options.face ? { face: options.face } : {}),
      limiters: createLimiters(limitSettings(config), memoryLimiterBackend),
      settings: {
        ...base,
        nodeId: options.nodeId ?? 'test-node',
        schedulerIntervalMs: 50,
        ...(options.closeMaxMs === undefined ? {} : { closeMaxMs: options.closeMaxMs }),
        ...(options.closeAnswerWaitMs === undefined ? {} : { closeAnswerWaitMs: options.closeAnswerWaitMs }),
        defaultTimezone: 'UTC',
        checkin: { ...base.checkin, codePeriodS: 15, locationMaxAgeS: 120 },
        face: {
          ...base.face,
          ...options.faceSettings,
          ...options.classPhoto,
          consentRequired: options.faceConsentRequired ?? false,
        },
      },
      // Background retries move the test clock instead of waiting on the real one.
      sleep: async (ms) => {
        clock.advance(ms);
      },
      ...(options.closeDeadline ? { closeDeadline: options.closeDeadline } : {}),
    });
    built.push(domain);
    return domain;
  };
  const domain = build(opts);
  return {
    store,
    clock,
    events,
    bus,
    domain,
    live: domain.attendance,
    jobs: domain.jobs,
    org,
    teacher,
    otherTeacher,
    admin,
    students,
    outsider,
    subject,
    actor: (u) => ({ id: u.id, orgId: u.orgId, role: u.role }),
    build,
    close: async () => {
      for (const d of built) {
        await d.attendance.scheduler.stop();
        await d.jobs.drain(10_000);
      }
      await store.close();
    },
  };
}

/** A pending check-in of the student in the session, as a geofence doubt leaves one (records.insertIfAbsent's input). */
export function pendingCheckin(
  f: Pick<LiveFixture, 'clock'>,
  session: { id: string; subjectId: string },
  studentId: string,
  fields: Partial<NewRecord> = {},
): NewRecord {
  return {
    sessionId: session.id,
    subjectId: session.subjectId,
    studentId,
    status: 'pending',
    reason: 'GEOFENCE_IMPRECISE',
    flags: [],
    distanceM: 40,
    location: null,
    ip: null,
    attempts: 1,
    submittedAt: f.clock.now(),
    decidedAt: null,
    decidedBy: null,
    note: null,
    verification: null,
    ...fields,
  };
}

/** Sets the settings of the fixture's organisation: those given, every other one unset (NO_ORGANISATION_SETTINGS). */
export async function setOrganisationSettings(
  f: Pick<LiveFixture, 'store' | 'org'>,
  settings: Partial<OrganisationSettings>,
): Promise<void> {
  await f.store.organisations.update(f.org.id, { settings: { ...NO_ORGANISATION_SETTINGS, ...settings } });
}

/** A point `metres` north of the classroom centre. */
export function northOf(metres: number): { lat: number; lon: number } {
  return { lat: CLASSROOM.lat + metres / 111_195, lon: CLASSROOM.lon };
}

/** Makes subjects of the fixture's organisation taught by `teachers`, without a room, each coded `prefix` and a new number unless given a code. */
export function subjectMaker(fixture: () => LiveFixture, prefix: string): (teachers: readonly User[], code?: string) => Promise<Subject> {
  let made = 0;
  return (teachers, code = `${prefix}${(made += 1)}`) => {
    const f = fixture();
    return f.store.subjects.create(f.org.id, {
      code,
      name: code,
      teacherIds: teachers.map((t) => t.id),
      location: null,
      allowedIpRanges: [],
    });
  };
}
