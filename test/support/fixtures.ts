import bcrypt from 'bcryptjs';
import type { Role } from '../../src/domain/ports/common.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { AttendanceSession } from '../../src/domain/ports/sessions.js';
import type { SessionState } from '../../src/shared/events.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';

const hashes = new Map<string, Promise<string>>();

/** bcrypt (cost 4) of a password, computed once per test process. */
export function testHash(password: string): Promise<string> {
  let h = hashes.get(password);
  if (!h) {
    h = bcrypt.hash(password, 4);
    hashes.set(password, h);
  }
  return h;
}

export const PASSWORD = 'correct-horse-battery';

let counter = 0;
/** A fresh unique suffix for emails, codes and slugs. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

export function createOrg(store: Store, slug = unique('org')): Promise<Organisation> {
  return store.organisations.create({ name: `Org ${slug}`, slug, timezone: 'UTC' });
}

export async function createUser(
  store: Store,
  orgId: string,
  role: Role,
  opts: { email?: string; password?: string | null; active?: boolean } = {},
): Promise<User> {
  const password = opts.password === undefined ? PASSWORD : opts.password;
  return store.users.create(orgId, {
    name: `${role} ${counter}`,
    email: opts.email ?? `${unique(role)}@example.test`,
    role,
    studentNumber: role === 'student' ? unique('S') : null,
    passwordHash: password === null ? null : await testHash(password),
    active: opts.active ?? true,
  });
}

export function createSubject(store: Store, orgId: string, teacherIds: string[], studentIds: string[] = []): Promise<Subject> {
  return store.subjects
    .create(orgId, { code: unique('SUB'), name: 'Fixture subject', teacherIds, location: null, allowedIpRanges: [] })
    .then(async (s) => {
      if (studentIds.length > 0) await store.subjects.enrol(orgId, s.id, studentIds);
      return s;
    });
}

/**
 * A session of the subject written straight to the store, checked by rotating code only: from
 * `startsAt` (now unless given), late after 10 minutes, closing after an hour, its day the UTC
 * day it starts; open unless `status` says otherwise.
 */
export function createCodeSession(
  store: Store,
  orgId: string,
  subjectId: string,
  teacherId: string,
  opts: { startsAt?: Date; status?: SessionState } = {},
): Promise<AttendanceSession> {
  const startsAt = opts.startsAt ?? new Date();
  return store.sessions.create(orgId, {
    subjectId,
    teacherId,
    status: opts.status ?? 'open',
    policy: { geofence: false, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 2 },
    startsAt,
    lateAfter: new Date(startsAt.getTime() + 600_000),
    closesAt: new Date(startsAt.getTime() + 3_600_000),
    codeSecret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
    day: startsAt.toISOString().slice(0, 10),
  });
}

/** A class: an organisation with a teacher and `students` students enrolled in one subject. */
export interface TestClass {
  org: Organisation;
  teacher: User;
  students: User[];
  subject: Subject;
}

/** Creates a class in a new organisation; the subject (`code`, `name`) is held at `location` (null: anywhere). */
export async function createClass(
  store: Store,
  students: number,
  opts: { code?: string; name?: string; location?: Subject['location'] } = {},
): Promise<TestClass> {
  const org = await createOrg(store);
  const teacher = await createUser(store, org.id, 'teacher');
  const enrolled: User[] = [];
  for (let i = 0; i < students; i += 1) enrolled.push(await createUser(store, org.id, 'student'));
  const subject = await store.subjects.create(org.id, {
    code: opts.code ?? unique('SUB'),
    name: opts.name ?? 'Fixture class',
    teacherIds: [teacher.id],
    location: opts.location ?? null,
    allowedIpRanges: [],
  });
  await store.subjects.enrol(
    org.id,
    subject.id,
    enrolled.map((u) => u.id),
  );
  return { org, teacher, students: enrolled, subject };
}

/** One of each role: an organisation with an admin, a teacher and a student enrolled in the teacher's subject. */
export interface TestSchool {
  org: Organisation;
  admin: User;
  teacher: User;
  student: User;
  subject: Subject;
}

export async function createSchool(store: Store): Promise<TestSchool> {
  const org = await createOrg(store);
  const admin = await createUser(store, org.id, 'admin');
  const teacher = await createUser(store, org.id, 'teacher');
  const student = await createUser(store, org.id, 'student');
  const subject = await createSubject(store, org.id, [teacher.id], [student.id]);
  return { org, admin, teacher, student, subject };
}
