/**
 * What the check-in write benchmarks (scripts/bench-record-writer.ts, bench-wal-checkpoint.ts)
 * write into: one organisation, one subject with a geofence, open sessions and students.
 */
import type { Store } from '../../src/domain/ports/store.js';

export interface CheckinSeed {
  orgId: string;
  subjectId: string;
  /** The open sessions' ids. */
  sessions: string[];
  /** The students' ids, in creation order. */
  students: string[];
}

/** Users are created this many to a call: one statement's worth, not one of the whole run. */
const USERS_A_CALL = 5_000;

/**
 * `sessions` open sessions of one subject (geofence and rotating code, no selfie) and `students`
 * students: a check-in a student of its own, as the group commit checks that the student exists.
 */
export async function seedCheckinSessions(store: Store, counts: { sessions: number; students: number }): Promise<CheckinSeed> {
  const org = await store.organisations.create({ name: 'Bench', slug: 'bench', timezone: 'Europe/Berlin' });
  const subject = await store.subjects.create(org.id, {
    code: 'B1',
    name: 'Bench',
    teacherIds: [],
    location: { lat: 52.52, lon: 13.405, radiusM: 75 },
    allowedIpRanges: [],
  });
  const startsAt = new Date();
  const sessions: string[] = [];
  for (let i = 0; i < counts.sessions; i += 1) {
    const s = await store.sessions.create(org.id, {
      subjectId: subject.id,
      teacherId: 't1',
      status: 'open',
      policy: { geofence: true, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 3 },
      startsAt,
      lateAfter: new Date(startsAt.getTime() + 600_000),
      closesAt: new Date(startsAt.getTime() + 3_600_000),
      codeSecret: `secret-${i}`,
      day: startsAt.toISOString().slice(0, 10),
    });
    sessions.push(s.id);
  }
  const students: string[] = [];
  for (let from = 0; from < counts.students; from += USERS_A_CALL) {
    const users = await store.users.createMany(
      org.id,
      Array.from({ length: Math.min(USERS_A_CALL, counts.students - from) }, (_, i) => ({
        name: `Student ${from + i}`,
        email: `s${from + i}@bench.test`,
        role: 'student' as const,
        studentNumber: `S${from + i}`,
        passwordHash: null,
        active: true,
      })),
    );
    students.push(...users.map((u) => u.id));
  }
  return { orgId: org.id, subjectId: subject.id, sessions, students };
}
