import type { PasswordHasher } from './accounts/passwords.js';
import { StoreConflictError } from './ports/common.js';
import { type Store } from './ports/store.js';
import { type NewUser } from './ports/users.js';
import { seedHistory } from './seed-history.js';

/** Passwords of the demo accounts (documented in README.md). */
export const DEMO_PASSWORDS = {
  admin: 'admin-demo-pass',
  teacher: 'teacher-demo-pass',
  student: 'student-demo-pass',
} as const;

/** A demo account of each role, as the first start's log names them to sign in with. */
export const DEMO_EMAILS = { admin: 'admin@demo.school', teacher: 'ada@demo.school', student: 'student01@demo.school' } as const;

export const DEMO_ORG_SLUG = 'demo';
export const DEMO_STUDENT_COUNT = 30;

export interface SeedOptions {
  /** The application's hasher; tests pass a cheap one (test/support/passwords.ts). */
  passwords: PasswordHasher;
  timezone?: string;
  /**
   * Also write a term of past sessions (seed-history.ts) and a second subject, CS102, so the
   * reports have something to show. The real first start (src/index.ts) turns it on; tests that
   * count the demo's records leave it off.
   */
  history?: boolean;
  /** The history ends the day before this; defaults to the current time. */
  now?: Date;
}

/**
 * Creates the demo organisation (an admin, two teachers, CS101 with 30 enrolled students;
 * with `history`, also CS102 and a term of past sessions)
 * when the store has no organisation at all; otherwise does nothing. Returns whether it seeded.
 */
export async function seedDemo(store: Store, opts: SeedOptions): Promise<{ created: boolean }> {
  if ((await store.organisations.count()) > 0) return { created: false };
  let org;
  try {
    org = await store.organisations.create({ name: 'Demo School', slug: DEMO_ORG_SLUG, timezone: opts.timezone ?? 'UTC' });
  } catch (err) {
    // Another node seeded at the same moment.
    if (err instanceof StoreConflictError) return { created: false };
    throw err;
  }

  // Password hashing is deliberately slow: one hash per distinct password, shared by its accounts.
  const { passwords } = opts;
  const [adminHash, teacherHash, studentHash] = await Promise.all([
    passwords.hash(DEMO_PASSWORDS.admin),
    passwords.hash(DEMO_PASSWORDS.teacher),
    passwords.hash(DEMO_PASSWORDS.student),
  ]);
  const staff: NewUser[] = [
    { name: 'Demo Admin', email: DEMO_EMAILS.admin, role: 'admin', studentNumber: null, passwordHash: adminHash, active: true },
    { name: 'Ada Lovelace', email: DEMO_EMAILS.teacher, role: 'teacher', studentNumber: null, passwordHash: teacherHash, active: true },
    { name: 'Alan Turing', email: 'alan@demo.school', role: 'teacher', studentNumber: null, passwordHash: teacherHash, active: true },
  ];
  const students: NewUser[] = Array.from({ length: DEMO_STUDENT_COUNT }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return {
      name: `Student ${n}`,
      email: `student${n}@demo.school`,
      role: 'student',
      studentNumber: `S${String(i + 1).padStart(4, '0')}`,
      passwordHash: studentHash,
      active: true,
    };
  });
  const created = await store.users.createMany(org.id, [...staff, ...students]);
  const ada = created.find((u) => u.email === 'ada@demo.school');
  if (!ada) throw new Error('seed: teacher Ada was not created');

  const subject = await store.subjects.create(org.id, {
    code: 'CS101',
    name: 'Introduction to Computer Science',
    teacherIds: [ada.id],
    location: { lat: 51.5246, lon: -0.134, radiusM: 100 },
    allowedIpRanges: [],
  });
  await store.subjects.enrol(
    org.id,
    subject.id,
    created.filter((u) => u.role === 'student').map((u) => u.id),
  );
  if (opts.history) {
    const alan = created.find((u) => u.email === 'alan@demo.school');
    if (!alan) throw new Error('seed: teacher Alan was not created');
    const enrolled = created.filter((u) => u.role === 'student');
    const cs102 = await store.subjects.create(org.id, {
      code: 'CS102',
      name: 'Data Structures',
      teacherIds: [alan.id],
      location: { lat: 51.5246, lon: -0.134, radiusM: 100 },
      allowedIpRanges: [],
    });
    await store.subjects.enrol(
      org.id,
      cs102.id,
      enrolled.map((u) => u.id),
    );
    await seedHistory(
      store,
      org,
      enrolled,
      [
        { subject, weekdays: [1, 3, 5], drift: () => 1 },
        // The class that slips: full attendance at the start of term, about a third less by the end.
        { subject: cs102, weekdays: [2, 4], drift: (week, weeks) => 1 - (0.35 * week) / (weeks - 1) },
      ],
      opts.now ?? new Date(),
    );
  }
  return { created: true };
}
