import type { AuditEntry } from '../ports/audit.js';
import type { Page } from '../ports/common.js';
import type { Excuse } from '../ports/excuses.js';
import type { GuardianContact } from '../ports/guardians.js';
import type { Notification, NotificationPreferences } from '../ports/notifications.js';
import type { Consent, ErasureCounts } from '../ports/privacy.js';
import type { AttendanceRecord, VerificationResult } from '../ports/records.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { requireRole, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { issue } from '../../shared/validation-issues.js';
import { audit } from '../audit-log.js';
import type { EventPublisher } from '../events.js';
import { toPublicUser, type PublicUser } from '../users/public-user.js';
import { newTombstoneId, personOf, scrubValue } from './erasure-rules.js';
import { alertsReadableAbout } from '../alerts/readable-alerts.js';

export interface PrivacyDeps {
  store: Store;
  events: EventPublisher;
  clock: () => Date;
}

export interface ConsentInput {
  textVersion: string;
  givenBy: 'student' | 'guardian';
  guardianName?: string | null | undefined;
}

export interface WithdrawResult {
  withdrawn: number;
  /** Whether a face reference (or a pending proposal) was deleted with it. */
  faceDeleted: boolean;
}

/** Everything held about one person (subject access), never passwords, token hashes or embeddings. */
export interface PersonExport {
  exportedAt: Date;
  organisation: { id: string; name: string };
  profile: PublicUser;
  subjects: { id: string; code: string; name: string; relation: 'enrolled' | 'teaches' }[];
  records: AttendanceRecord[];
  consents: Consent[];
  face: {
    enrolled: boolean;
    modelId: string | null;
    modelVersion: string | null;
    photoCount: number;
    photosKept: boolean;
    updatedAt: Date | null;
    proposal: { proposedBy: string; createdAt: Date; photoCount: number } | null;
  };
  logins: { startedAt: Date; lastUsedAt: Date; userAgent: string | null; ip: string | null; expiresAt: Date }[];
  audit: AuditEntry[];
  /** Their excuses with the document's name, type and size, never its bytes. */
  excuses: Omit<Excuse, 'orgId'>[];
  guardians: GuardianContact[];
  /** Notifications addressed to them. */
  notifications: Omit<Notification, 'orgId' | 'userId'>[];
  /** Null when never set (English, every category). */
  emailPreferences: Pick<NotificationPreferences, 'language' | 'unsubscribed' | 'updatedAt'> | null;
}

export interface ErasureResult {
  /** The random id that replaces the person in the records kept for statistics. */
  tombstoneId: string;
  counts: ErasureCounts;
}

const PAGE = 500;

/**
 * Consent to face verification, subject access and erasure (docs/privacy.md).
 *
 * A student records their own consent; an admin records a guardian's (by name). Withdrawal,
 * by the student or an admin, deletes the face reference and any pending proposal at once.
 * Export and erasure are for admins; an erasure names its reason and leaves an audit
 * tombstone with the admin as actor.
 */
export class PrivacyService {
  constructor(private readonly deps: PrivacyDeps) {}

  async listConsents(actor: Actor, userId: string): Promise<Consent[]> {
    const student = await this.student(actor, userId);
    return this.deps.store.consents.listForUser(actor.orgId, student.id);
  }

  async recordConsent(actor: Actor, userId: string, input: ConsentInput): Promise<Consent> {
    const student = await this.student(actor, userId);
    const guardianName = input.guardianName?.trim() || null;
    if (actor.role === 'student' && input.givenBy !== 'student') {
      throw new AppError('FORBIDDEN', "A guardian's consent is recorded by an admin.");
    }
    if (actor.role === 'admin' && input.givenBy !== 'guardian') {
      throw new AppError('FORBIDDEN', "Students record their own consent; an admin records a guardian's.");
    }
    checkGuardianName(input.givenBy, guardianName);
    const now = this.deps.clock();
    const consent = await this.deps.store.consents.create({
      orgId: actor.orgId,
      userId: student.id,
      purpose: 'face',
      textVersion: input.textVersion,
      givenBy: input.givenBy,
      guardianName,
      recordedBy: actor.id,
      givenAt: now,
    });
    await audit(this.deps.store, actor, now, {
      entityType: 'user',
      entityId: student.id,
      action: 'consent.record',
      from: null,
      to: { purpose: consent.purpose, textVersion: consent.textVersion, givenBy: consent.givenBy, guardianName },
    });
    return consent;
  }

  /** Withdraws the face consent and deletes the reference faces (idempotent). */
  async withdrawConsent(actor: Actor, userId: string): Promise<WithdrawResult> {
    const student = await this.student(actor, userId);
    const { store } = this.deps;
    const now = this.deps.clock();
    const withdrawn = await store.consents.withdraw(actor.orgId, student.id, 'face', actor.id, now);
    const faceDeleted = await store.faces.delete(actor.orgId, student.id);
    const proposalDeleted = (await store.faceProposals.take(actor.orgId, student.id)) !== null;
    if (withdrawn > 0 || faceDeleted || proposalDeleted) {
      await audit(store, actor, now, {
        entityType: 'user',
        entityId: student.id,
        action: 'consent.withdraw',
        from: null,
        to: { purpose: 'face', withdrawn, faceDeleted, proposalDeleted },
      });
    }
    if (faceDeleted) {
      this.deps.events.publish({
        type: 'face.changed',
        orgId: actor.orgId,
        view: { userId: student.id, change: 'removed', byRole: actor.role, at: now.toISOString() },
      });
    }
    return { withdrawn, faceDeleted: faceDeleted || proposalDeleted };
  }

  async exportPerson(actor: Actor, userId: string): Promise<PersonExport> {
    requireRole(actor, 'admin');
    const { store } = this.deps;
    const user = await this.user(actor, userId);
    const [org, enrolled, taught, consents, face, proposal, logins, entries] = await Promise.all([
      store.organisations.get(actor.orgId),
      store.subjects.list(actor.orgId, { studentId: user.id, limit: 10_000, offset: 0 }),
      store.subjects.list(actor.orgId, { teacherId: user.id, limit: 10_000, offset: 0 }),
      store.consents.listForUser(actor.orgId, user.id),
      store.faces.get(actor.orgId, user.id),
      store.faceProposals.get(actor.orgId, user.id),
      store.refreshTokens.listActiveLogins(actor.orgId, user.id, this.deps.clock()),
      store.privacy.auditAbout(personOf(user)),
    ]);
    const records = await all((q) => store.records.listByStudent(actor.orgId, user.id, q));
    const excuses = await all((q) => store.excuses.list(actor.orgId, { studentId: user.id, ...q }));
    // As the person reads them (GET /me/notifications): a former teacher's alerts about classmates stay out.
    const about = alertsReadableAbout(user);
    const notifications = await all((q) =>
      store.notifications.list(actor.orgId, user.id, { ...q, ...(about ? { aboutStudentId: about } : {}) }),
    );
    const [guardians, preferences] = await Promise.all([
      store.guardians.get(actor.orgId, user.id),
      store.notificationPreferences.get(actor.orgId, user.id),
    ]);
    return {
      exportedAt: this.deps.clock(),
      organisation: { id: actor.orgId, name: org?.name ?? '' },
      profile: toPublicUser(user),
      subjects: [
        ...enrolled.items.map((s) => ({ id: s.id, code: s.code, name: s.name, relation: 'enrolled' as const })),
        ...taught.items.map((s) => ({ id: s.id, code: s.code, name: s.name, relation: 'teaches' as const })),
      ],
      // The selfie's embedding (probe) is biometric and server-side only: never exported.
      records: records.map((r) => ({ ...r, verification: r.verification && withoutProbe(r.verification) })),
      consents,
      face: {
        enrolled: face !== null,
        modelId: face?.modelId ?? null,
        modelVersion: face?.modelVersion ?? null,
        photoCount: face?.embeddings.length ?? 0,
        photosKept: (face?.photos?.length ?? 0) > 0,
        updatedAt: face?.updatedAt ?? null,
        proposal: proposal && { proposedBy: proposal.proposedBy, createdAt: proposal.createdAt, photoCount: proposal.photos.length },
      },
      logins: logins.map((l) => ({
        startedAt: l.startedAt,
        lastUsedAt: l.lastUsedAt,
        userAgent: l.userAgent,
        ip: l.ip,
        expiresAt: l.expiresAt,
      })),
      audit: entries,
      excuses: excuses.map(({ orgId: _orgId, ...e }) => e),
      guardians,
      notifications: notifications.map(({ orgId: _orgId, userId: _userId, ...n }) => n),
      emailPreferences: preferences && {
        language: preferences.language,
        unsubscribed: preferences.unsubscribed,
        updatedAt: preferences.updatedAt,
      },
    };
  }

  /** Hard-deletes the person's personal data; their records stay, anonymised, for statistics. */
  async erasePerson(actor: Actor, userId: string, reason: string): Promise<ErasureResult> {
    requireRole(actor, 'admin');
    if (actor.id === userId) throw new AppError('FORBIDDEN', 'Another admin must erase your account.');
    const { store } = this.deps;
    const user = await this.user(actor, userId);
    const now = this.deps.clock();
    const tombstoneId = newTombstoneId();
    const counts = await store.privacy.erase(personOf(user), tombstoneId);
    // The tombstone names who erased and why, never whom: the reason, written after the scrub of
    // the trail, is scrubbed by its rule (an admin asked "why?" often names the person).
    await store.audit.append({
      orgId: actor.orgId,
      entityType: 'user',
      entityId: tombstoneId,
      sessionId: null,
      actorId: actor.id,
      action: 'user.erase',
      from: null,
      to: { counts },
      reason: scrubValue(reason, personOf(user), tombstoneId) as string,
      ip: actor.ip ?? null,
      at: now,
    });
    // Their tokens are gone with the user; their open sockets are cut as for a deactivation.
    this.deps.events.publish({ type: 'user.access-changed', orgId: actor.orgId, userId: user.id, code: 'ACCOUNT_DISABLED' });
    return { tombstoneId, counts };
  }

  // Who may see or change a student's consent: the student themself and admins.
  private async student(actor: Actor, userId: string): Promise<User> {
    if (actor.role === 'student' && actor.id !== userId) throw new AppError('FORBIDDEN');
    if (actor.role === 'teacher') throw new AppError('FORBIDDEN', 'Consent is recorded by the student or by an admin.');
    const user = await this.deps.store.users.get(actor.orgId, userId);
    if (!user || user.role !== 'student') throw new AppError('NOT_FOUND', 'No such student.');
    return user;
  }

  private async user(actor: Actor, userId: string): Promise<User> {
    const user = await this.deps.store.users.get(actor.orgId, userId);
    if (!user) throw new AppError('NOT_FOUND', 'No such user.');
    return user;
  }
}

/** Every item of a paged listing. */
async function all<T>(list: (q: { limit: number; offset: number }) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await list({ limit: PAGE, offset });
    items.push(...page.items);
    if (page.items.length < PAGE) return items;
  }
}

function withoutProbe({ probe: _probe, ...rest }: VerificationResult): VerificationResult {
  return rest;
}

/** A guardian's consent names the guardian; a student's own names nobody. */
export function checkGuardianName(givenBy: string, guardianName: string | null): void {
  const guardian = givenBy === 'guardian';
  if (guardian === (guardianName !== null)) return;
  const message = "guardianName is required for a guardian's consent, and only then.";
  throw new AppError('VALIDATION_FAILED', message, { issues: [issue('guardianName', message, guardian ? 'required' : 'notApplicable')] });
}
