import { expect } from 'chai';
import { StoreConflictError, type VerificationPolicy } from '../../src/domain/ports/common.js';
import { type Organisation } from '../../src/domain/ports/organisations.js';
import { type NewRecord } from '../../src/domain/ports/records.js';
import { type NewSession } from '../../src/domain/ports/sessions.js';
import { type Store } from '../../src/domain/ports/store.js';
import { type NewSubject } from '../../src/domain/ports/subjects.js';
import { type NewUser } from '../../src/domain/ports/users.js';

// Small factories for the store contract suite. Each call yields distinct unique keys.

let seq = 0;
const next = (): number => ++seq;

export async function makeOrg(store: Store, slug = `org-${next()}`): Promise<Organisation> {
  return store.organisations.create({ name: `Org ${slug}`, slug, timezone: 'Europe/Berlin' });
}

export function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const n = next();
  return {
    email: `user${n}@example.test`,
    name: `User ${n}`,
    role: 'student',
    studentNumber: `S${String(n).padStart(5, '0')}`,
    passwordHash: null,
    active: true,
    ...overrides,
  };
}

export function newSubject(overrides: Partial<NewSubject> = {}): NewSubject {
  const n = next();
  return {
    code: `SUB${n}`,
    name: `Subject ${n}`,
    teacherIds: [],
    location: { lat: 52.52, lon: 13.405, radiusM: 75 },
    allowedIpRanges: ['10.0.0.0/8', '2001:db8::/32'],
    ...overrides,
  };
}

export const POLICY: VerificationPolicy = {
  geofence: true,
  network: false,
  rotatingCode: true,
  selfie: false,
  codePeriodS: 15,
  maxAttempts: 3,
};

/** A session of `subjectId` starting at `startsAt` (default: an hour ago) and lasting an hour. */
export function newSession(subjectId: string, teacherId: string, overrides: Partial<NewSession> = {}): NewSession {
  const startsAt = overrides.startsAt ?? new Date(Date.UTC(2025, 2, 10, 8, 0, 0, 123));
  return {
    subjectId,
    teacherId,
    status: 'open',
    policy: { ...POLICY },
    startsAt,
    lateAfter: new Date(startsAt.getTime() + 10 * 60_000),
    closesAt: new Date(startsAt.getTime() + 60 * 60_000),
    codeSecret: `secret-${next()}`,
    day: startsAt.toISOString().slice(0, 10),
    ...overrides,
  };
}

export function newRecord(sessionId: string, subjectId: string, studentId: string, overrides: Partial<NewRecord> = {}): NewRecord {
  return {
    sessionId,
    subjectId,
    studentId,
    status: 'pending',
    reason: null,
    flags: [],
    distanceM: null,
    location: null,
    ip: null,
    attempts: 0,
    submittedAt: null,
    decidedAt: null,
    decidedBy: null,
    note: null,
    verification: null,
    ...overrides,
  };
}

/** Awaits a rejection and returns its reason (fails the test if the promise resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  expect.fail('expected the promise to reject');
}

export async function expectConflict(p: Promise<unknown>, key: string): Promise<void> {
  const err = await rejection(p);
  expect(err).to.be.instanceOf(StoreConflictError);
  expect((err as StoreConflictError).key).to.equal(key);
}

export const page = (limit = 100, offset = 0) => ({ limit, offset });

/** `count` active students of the organisation, their ids in order: enrol enrols only these. */
export async function studentIds(store: Store, orgId: string, count: number): Promise<string[]> {
  return (
    await store.users.createMany(
      orgId,
      Array.from({ length: count }, () => newUser()),
    )
  ).map((u) => u.id);
}
