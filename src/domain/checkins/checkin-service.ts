import { AppError } from '../../shared/app-error.js';
import type { Actor } from '../actor.js';
import type { DomainDeps } from '../deps.js';
import { evaluateTime } from '../checks/time-window.js';
import { assertEnrolled, loadSession, loadSessionForStaff } from '../sessions/access.js';
import { effectiveStatus, toCheckinView, toRosterEntry } from '../sessions/views.js';
import { recomputeDailySummary } from '../summaries/summary-service.js';
import { evaluateCheckin } from './evaluate.js';
import { needsLocation } from '../../shared/policy-presets.js';
import { publishRecordChange, recordWithoutCheckin, updateRecord, writeRecord } from './record-change.js';
import { CheckinBatcher, DEFAULT_CHECKIN_BATCH } from './checkin-batch.js';
import { CheckinReads } from './checkin-reads.js';
import { verifySelfie } from './selfie-verifier.js';
import { abandonLostVerifications } from './abandoned-verifications.js';
import { proxySignals, type PeerLookup } from '../checks/proxy-signals.js';
import { hasFaceConsent } from '../privacy/consent.js';
import { storedLocation } from '../privacy/retention.js';
import type { BaseOutcome } from '../face/selfie-decision.js';
import type { ReasonCode } from '../../shared/reasons.js';
import type { ChallengeView, CheckinView, RosterEntry } from '../../shared/events.js';
import { issueChallenge, readChallenge } from '../face/liveness-challenge.js';
import { LIVENESS_CAPTURE_MS, LIVENESS_MAX_FRAMES, LIVENESS_MIN_FRAMES, LIVENESS_PROMPTS } from '../../shared/liveness.js';
import type { LivenessJob } from './selfie-verifier.js';
import { absenceCategoriesOf, type OrganisationSettings } from '../ports/organisations.js';
import type { AttendanceRecord, CheckinLocation, NewRecord, RecordPatch, RecordWrite, VerificationResult } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { User } from '../ports/users.js';
import type { AuditAction } from '../../shared/audit.js';
import type { MarkStatus } from '../../shared/events.js';
import { issue } from '../../shared/validation-issues.js';

export interface SubmitInput {
  sessionId: string;
  /** Required when the policy has a geofence (LOCATION_REQUIRED naming the field otherwise). */
  location: CheckinLocation | null;
  code?: string | undefined;
  /** The classroom QR link's signed join token (stands for the code; docs/protocol.md). */
  joinToken?: string | undefined;
  /** Encoded JPEG/PNG/WebP selfie; required when the policy asks for one. */
  selfie?: Uint8Array | undefined;
  /** The liveness challenge's token and frames, when the policy asks for liveness. */
  liveness?: { token: string; frames: Uint8Array[] } | undefined;
  /** Client address as the transport resolved it (trusted proxies honoured). */
  ip: string | null;
  /** The id the student page keeps in its storage, and the socket's user agent: shared-device flag. */
  deviceId?: string | null | undefined;
  userAgent?: string | null | undefined;
}

export interface DecideInput {
  sessionId: string;
  studentId: string;
  decision: 'accept' | 'reject';
  note?: string | undefined;
  expectedVersion?: number | undefined;
  ip: string | null;
}

export interface MarkInput {
  sessionId: string;
  studentId: string;
  status: MarkStatus;
  note?: string | undefined;
  reason?: string | undefined;
  /** An absence category code of the organisation, for an excused record only. */
  absenceCategory?: string | undefined;
  expectedVersion?: number | undefined;
  ip: string | null;
}

/** The flags of both lists, each once, in order of first appearance (as a Set of both would give, without its garbage). */
function unionOf(a: readonly ReasonCode[], b: readonly ReasonCode[]): ReasonCode[] {
  const out: ReasonCode[] = [];
  for (const f of a) if (!out.includes(f)) out.push(f);
  for (const f of b) if (!out.includes(f)) out.push(f);
  return out;
}

const queued = (): VerificationResult => ({ state: 'queued', band: null, distance: null, flags: [], reason: null, completedAt: null });

/**
 * Student check-ins and teacher decisions. Every write is stored before it is acknowledged;
 * one record per (session, student) is guaranteed by the store's unique key, and updates are
 * optimistic on the record version so concurrent decisions cannot overwrite each other.
 */
export class CheckinService {
  private readonly batcher: CheckinBatcher;
  private readonly reads: CheckinReads;
  /**
   * Submissions started and not yet answered, so shutdown can wait for their answers: a count
   * and the waiters of drain(), not a set of promises with two closures per check-in.
   */
  private inFlight = 0;
  private readonly settled: (() => void)[] = [];

  constructor(private readonly deps: DomainDeps) {
    this.reads = new CheckinReads(deps.store);
    this.batcher = new CheckinBatcher(
      deps.store,
      deps.logger,
      deps.settings.checkinBatch ?? DEFAULT_CHECKIN_BATCH,
      () => deps.now().getTime(),
      deps.checkinTrace ?? null,
    );
  }

  /**
   * Shutdown, before the store closes: check-ins waiting for their group commit are written
   * now, and every submission in flight (including those that reach the batch meanwhile) has
   * settled, stored or with its error, when this resolves.
   */
  async drain(): Promise<void> {
    await this.batcher.drain();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.settled.push(resolve));
  }

  /**
   * A random liveness challenge for the student's check-in, as a signed token (no state kept):
   * asked for just before the selfie, performed in front of the camera, sent with checkin:submit.
   */
  async challenge(actor: Actor, sessionId: string): Promise<ChallengeView> {
    const { store, now } = this.deps;
    const { session, subject } = await loadSession(store, actor, sessionId);
    await assertEnrolled(store, actor, subject);
    const at = now();
    this.assertAcceptingCheckins(session, at);
    if (!session.policy.liveness) throw new AppError('LIVENESS_NOT_REQUIRED');
    const issued = issueChallenge(session.codeSecret, session.id, actor.id, at);
    return {
      challenge: issued.challenge,
      prompt: LIVENESS_PROMPTS[issued.challenge],
      token: issued.token,
      expiresAt: issued.expiresAt.toISOString(),
      minFrames: LIVENESS_MIN_FRAMES,
      maxFrames: LIVENESS_MAX_FRAMES,
      captureMs: LIVENESS_CAPTURE_MS,
    };
  }

  /**
   * Retry rule: a rejected check-in may be submitted again until `policy.maxAttempts`
   * attempts are used (default 2: one retry); every other outcome is final for the student,
   * and submitting again returns it unchanged (idempotent, no second record).
   */
  submit(actor: Actor, input: SubmitInput): Promise<CheckinView> {
    // Counted down by submitNow's `finally`, not by a `then` on its promise: that was a promise
    // and a reaction more per check-in.
    this.inFlight += 1;
    return this.submitNow(actor, input);
  }

  private async submitNow(actor: Actor, input: SubmitInput): Promise<CheckinView> {
    try {
      const { store, now, checkinTrace: trace } = this.deps;
      trace?.mark(input.sessionId, actor.id, 'handler');
      const { session, subject, enrolled, existing, student } = await this.reads.read(actor.orgId, input.sessionId, actor.id);
      trace?.mark(input.sessionId, actor.id, 'read');
      // The order of loadSession and assertEnrolled: a teacher hears FORBIDDEN, not NOT_ENROLLED.
      if (actor.role !== 'student') throw new AppError('FORBIDDEN', 'Only students check in.');
      if (!enrolled) throw new AppError('NOT_ENROLLED');
      const at = now();
      // Once closing starts nothing is submitted, not even again (docs/protocol.md §5.7): the
      // student reads their final record with session:join.
      this.assertNotEnded(session, at);
      const canRetry = existing?.status === 'rejected' && existing.attempts < session.policy.maxAttempts;
      // A final answer stays the answer while the session is open: resubmitting is idempotent.
      if (existing && !canRetry) return toCheckinView(existing, session.policy.maxAttempts);
      this.assertAcceptingCheckins(session, at);
      if (needsLocation(session.policy) && !input.location) {
        throw new AppError('LOCATION_REQUIRED', undefined, { field: 'location' });
      }

      // The submission is the evidence (its location, code, join token and address): not copied.
      const checked = evaluateCheckin(session, subject, input, at, this.deps.settings.locationMaxAgeS);
      // Selfie: the other checks first (a failure rejects without face work), then the selfie is
      // queued and the answer given at once; the verdict is pushed when the worker is done.
      let selfie:
        { kind: 'no-consent' } | { kind: 'missing' } | { kind: 'verify'; image: Uint8Array; liveness: LivenessJob | null } | null = null;
      if (session.policy.selfie && checked.status !== 'rejected') {
        if (this.deps.faceConsentRequired && !(await hasFaceConsent(store, actor.orgId, actor.id))) {
          // Without consent the selfie is not used (not even analysed): the teacher decides.
          selfie = { kind: 'no-consent' };
        } else if (!input.selfie || input.selfie.byteLength === 0) {
          selfie = { kind: 'missing' };
        } else {
          const face = this.deps.face;
          if (!face) throw new AppError('UNAVAILABLE', 'Selfie verification is not available on this server.');
          const fs = face.status();
          if (fs.queueSize >= fs.maxQueue) throw new AppError('BUSY', undefined, { retryAfterMs: fs.retryAfterMs });
          selfie = { kind: 'verify', image: input.selfie, liveness: this.livenessJob(session, actor, input, at) };
        }
      }
      // What the proxy signals compare: this check-in's, and what later ones compare with it.
      const mark = {
        studentId: actor.id,
        deviceId: input.deviceId ?? null,
        ip: input.ip,
        userAgent: input.userAgent ?? null,
        location: input.location,
      };
      type SelfieJob = { base: BaseOutcome; selfie: Uint8Array; liveness: LivenessJob | null };
      let selfieJob: SelfieJob | null = null;

      // Written by the group commit, which also gives the session's other records for the proxy
      // signals: an index of them kept across batches, not queries per check-in. Each object is
      // built once with its final shape (no spread copies: this runs for every check-in).
      const write = (peers: PeerLookup, org: OrganisationSettings | null): RecordWrite => {
        // Proxy signals add flags for the teacher; they never change the outcome by themselves.
        const signals = proxySignals(mark, peers, existing);
        let status = checked.status;
        let reason: ReasonCode | null = checked.reason;
        let flags = signals.length === 0 ? checked.flags : unionOf(checked.flags, signals);
        // The one signal an organisation may turn into a refusal (its settings' sharedDevice rule).
        if (status !== 'rejected' && signals.includes('SHARED_DEVICE') && (org?.sharedDevice ?? 'flag') === 'refuse') {
          status = 'rejected';
          reason = 'SHARED_DEVICE';
        }
        if (selfie && status !== 'rejected') {
          if (selfie.kind === 'no-consent') {
            status = 'pending';
            reason = 'FACE_NO_CONSENT';
            flags = [...flags, 'FACE_NO_CONSENT'];
          } else if (selfie.kind === 'missing') {
            status = 'rejected';
            reason = 'SELFIE_REQUIRED';
            flags = [...flags, 'SELFIE_REQUIRED'];
          } else {
            selfieJob = { base: { status, reason, flags }, selfie: selfie.image, liveness: selfie.liveness };
            status = 'pending';
            reason = 'SELFIE_PENDING';
          }
        }
        const decidedAt = status !== 'pending' ? at : null;
        // In the organisation's `never` location mode the fix is used for the checks, then dropped.
        const location = storedLocation(org, input.location);
        const verification = selfieJob ? queued() : null;
        const auditEntry = {
          actorId: actor.id,
          action: existing ? ('checkin.retry' as const) : ('checkin.submit' as const),
          reason,
          ip: input.ip,
        };
        // What an attempt writes, the first or a retry alike, spelled out in each literal: object
        // spread (`{ ...attempt, ...device }`) went through V8's generic copy and was most of this
        // closure's time, 3 to 4 µs per check-in (docs/multi-node.md "Load", round 20).
        if (existing) {
          const patch: RecordPatch = {
            status,
            reason,
            flags,
            distanceM: checked.distanceM,
            location,
            ip: input.ip,
            submittedAt: at,
            decidedAt,
            decidedBy: null,
            verification,
            attempts: existing.attempts + 1,
          };
          // Absent, not null: a retry without them keeps what the first attempt stored.
          if (input.deviceId) patch.deviceId = input.deviceId;
          if (input.userAgent) patch.userAgent = input.userAgent;
          return { kind: 'update', orgId: actor.orgId, id: existing.id, expectedVersion: existing.version, patch, audit: auditEntry };
        }
        const record: NewRecord = {
          status,
          reason,
          flags,
          distanceM: checked.distanceM,
          location,
          ip: input.ip,
          submittedAt: at,
          decidedAt,
          decidedBy: null,
          verification,
          sessionId: session.id,
          subjectId: session.subjectId,
          studentId: actor.id,
          attempts: 1,
          note: null,
        };
        if (input.deviceId) record.deviceId = input.deviceId;
        if (input.userAgent) record.userAgent = input.userAgent;
        return { kind: 'insert', orgId: actor.orgId, input: record, audit: auditEntry };
      };
      trace?.mark(session.id, actor.id, 'queued');
      const result = await this.batcher.submit({ orgId: actor.orgId, sessionId: session.id, mark, write });
      trace?.mark(session.id, actor.id, 'resolved');
      if ('error' in result) throw result.error;
      if (!result.written) {
        // Lost a race with another submission (a second tab, maybe in the same batch) or with
        // closing, or a teacher changed the record meanwhile: theirs stands.
        if (!result.record) throw new AppError('RECORD_CHANGED');
        return toCheckinView(result.record, session.policy.maxAttempts);
      }
      const after = result.record;
      const view = publishRecordChange(this.deps, session, student, after);
      const job = selfieJob as SelfieJob | null;
      if (job && this.deps.face) {
        // Not awaited: the acknowledgement must not wait for the worker; shutdown drains it.
        const face = this.deps.face;
        this.deps.jobs.run('selfie-verification', () =>
          verifySelfie(this.deps, face, session, student, after, job.base, job.selfie, job.liveness),
        );
      }
      return view;
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.settled.splice(0)) resolve();
    }
  }

  /**
   * Gives up the selfie verifications lost with their node (abandoned-verifications.ts); one
   * node at a time runs it (the application's ScheduledJob). Answers how many.
   */
  abandonLostVerifications(now: Date, taskTimeoutMs: number): Promise<number> {
    return abandonLostVerifications(this.deps, now, taskTimeoutMs);
  }

  /** A teacher accepts or rejects a check-in of a session that is still open. */
  async decide(actor: Actor, input: DecideInput): Promise<RosterEntry> {
    const { store, now } = this.deps;
    const { session } = await loadSessionForStaff(store, actor, input.sessionId);
    const status = effectiveStatus(session, now());
    if (status === 'cancelled') throw new AppError('SESSION_CANCELLED');
    if (status === 'closed' || status === 'closing')
      throw new AppError('SESSION_CLOSED', 'The session is closed; use a correction (checkin:mark with a reason).');
    const record = await store.records.getForStudent(actor.orgId, session.id, input.studentId);
    if (!record) throw new AppError('RECORD_NOT_FOUND', 'The student has not checked in; mark them by hand instead.');
    if (input.expectedVersion !== undefined && input.expectedVersion !== record.version) throw new AppError('RECORD_CHANGED');

    const at = now();
    const patch: RecordPatch =
      input.decision === 'accept'
        ? {
            status: record.submittedAt && evaluateTime(session, record.submittedAt) === 'late' ? 'late' : 'present',
            reason: 'ACCEPTED_BY_TEACHER',
          }
        : { status: 'rejected', reason: 'REJECTED_BY_TEACHER', attempts: Math.max(record.attempts, session.policy.maxAttempts) };
    return this.apply(
      actor,
      session,
      record,
      { ...patch, decidedAt: at, decidedBy: actor.id, note: input.note ?? record.note },
      {
        action: `checkin.${input.decision}`,
        reason: input.note ?? null,
        ip: input.ip,
      },
    );
  }

  /**
   * A teacher marks a student by hand while the session is open, or corrects a record after
   * closing (a reason is then required and the daily summary follows).
   */
  async mark(actor: Actor, input: MarkInput): Promise<RosterEntry> {
    const { store, now } = this.deps;
    const { session } = await loadSessionForStaff(store, actor, input.sessionId);
    if (!(await store.subjects.isEnrolled(actor.orgId, session.subjectId, input.studentId))) {
      const existing = await store.records.getForStudent(actor.orgId, session.id, input.studentId);
      if (!existing) throw new AppError('NOT_ENROLLED');
    }
    const status = effectiveStatus(session, now());
    if (status === 'cancelled') throw new AppError('SESSION_CANCELLED');
    const correcting = status === 'closed' || status === 'closing';
    if (correcting && !input.reason) {
      const message = 'A correction after closing needs a reason.';
      throw new AppError('VALIDATION_FAILED', message, { issues: [issue('reason', message, 'required')] });
    }
    if (status === 'closing') throw new AppError('RECORD_CHANGED', 'The session is closing; retry in a moment.');
    await this.assertAbsenceCategory(actor, input);

    const at = now();
    const reasonCode = correcting ? 'CORRECTED_BY_TEACHER' : 'MARKED_BY_TEACHER';
    const fields = {
      status: input.status,
      reason: reasonCode,
      decidedAt: at,
      decidedBy: actor.id,
      ...(correcting ? { correctionReason: input.reason ?? null } : {}),
      // Only an excused record has a category: marked anything else, an approved excuse's code
      // went on standing beside "present" in the exports. Excused again without one keeps it.
      ...(input.status !== 'excused' ? { absenceCategory: null } : {}),
      ...(input.absenceCategory !== undefined ? { absenceCategory: input.absenceCategory } : {}),
    } satisfies RecordPatch;
    const audit = {
      action: correcting ? ('record.correct' as const) : ('record.mark' as const),
      reason: input.reason ?? input.note ?? null,
      ip: input.ip,
    };

    const record = await store.records.getForStudent(actor.orgId, session.id, input.studentId);
    let entry: RosterEntry;
    if (!record) {
      const inserted = await writeRecord(this.deps, {
        kind: 'insert',
        orgId: actor.orgId,
        input: recordWithoutCheckin(session, input.studentId, { ...fields, note: input.note ?? null }),
        audit: { actorId: actor.id, ...audit },
      });
      if (inserted.written) {
        const student = await this.student(actor.orgId, input.studentId);
        publishRecordChange(this.deps, session, student, inserted.record);
        entry = toRosterEntry(student, inserted.record);
      } else if (inserted.record) {
        entry = await this.apply(
          actor,
          session,
          inserted.record,
          { ...fields, note: input.note ?? inserted.record.note },
          audit,
          input.expectedVersion,
        );
      } else {
        // Erased since the enrolment was read: not on the roster any more.
        throw new AppError('NOT_ENROLLED');
      }
    } else {
      entry = await this.apply(actor, session, record, { ...fields, note: input.note ?? record.note }, audit, input.expectedVersion);
    }
    if (correcting) await recomputeDailySummary(store, actor.orgId, session.subjectId, session.day);
    return entry;
  }

  /** A category is given only with status excused, and is one of the organisation's. */
  private async assertAbsenceCategory(actor: Actor, input: MarkInput): Promise<void> {
    if (input.absenceCategory === undefined) return;
    if (input.status !== 'excused') {
      const message = 'Only an excused record has an absence category.';
      throw new AppError('VALIDATION_FAILED', message, { issues: [issue('absenceCategory', message, 'notOneOf', { values: 'excused' })] });
    }
    const org = await this.deps.store.organisations.get(actor.orgId);
    if (!org || !absenceCategoriesOf(org.settings).some((c) => c.code === input.absenceCategory)) {
      throw new AppError('ABSENCE_CATEGORY_UNKNOWN');
    }
  }

  private async apply(
    actor: Actor,
    session: AttendanceSession,
    record: AttendanceRecord,
    patch: RecordPatch,
    audit: { action: AuditAction; reason: string | null; ip: string | null },
    expectedVersion?: number,
  ): Promise<RosterEntry> {
    if (expectedVersion !== undefined && expectedVersion !== record.version) throw new AppError('RECORD_CHANGED');
    const updated = await updateRecord(this.deps, record, patch, { actorId: actor.id, ...audit });
    if (!updated.written) throw new AppError('RECORD_CHANGED');
    const student = await this.student(actor.orgId, record.studentId);
    publishRecordChange(this.deps, session, student, updated.record);
    return toRosterEntry(student, updated.record);
  }

  /**
   * The liveness step of a selfie about to be verified: null when the policy has none; a coded
   * error, before anything is stored, when the challenge is missing, forged, of another
   * check-in or expired (the page asks for a new one; no attempt is used).
   */
  private livenessJob(session: AttendanceSession, actor: Actor, input: SubmitInput, at: Date): LivenessJob | null {
    if (!session.policy.liveness) return null;
    if (!input.liveness) throw new AppError('LIVENESS_REQUIRED', undefined, { field: 'liveness' });
    const challenge = readChallenge(session.codeSecret, session.id, actor.id, input.liveness.token, at);
    if (!challenge) throw new AppError('LIVENESS_CHALLENGE_INVALID', undefined, { field: 'liveness.token' });
    return { challenge, frames: input.liveness.frames };
  }

  private assertNotEnded(session: AttendanceSession, at: Date): void {
    const status = effectiveStatus(session, at);
    if (status === 'cancelled') throw new AppError('SESSION_CANCELLED');
    if (status === 'closing' || status === 'closed') throw new AppError('SESSION_CLOSED');
  }

  private assertAcceptingCheckins(session: AttendanceSession, at: Date): void {
    this.assertNotEnded(session, at);
    const status = effectiveStatus(session, at);
    if (status === 'scheduled') throw new AppError('SESSION_NOT_OPEN');
    const time = evaluateTime(session, at);
    if (time === 'early') throw new AppError('SESSION_NOT_OPEN');
    if (time === 'closed') throw new AppError('OUTSIDE_WINDOW');
  }

  private async student(orgId: string, id: string): Promise<Pick<User, 'id' | 'name' | 'studentNumber'>> {
    const user = await this.deps.store.users.get(orgId, id);
    // A deleted account still has records; show its id rather than failing the write.
    return user ?? { id, name: id, studentNumber: null };
  }
}
