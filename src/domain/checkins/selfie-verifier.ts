import type { AnalyseResult } from '../face/face-types.js';
import { evaluateLiveness, type LivenessVerdict } from '../face/liveness.js';
import type { LivenessChallenge } from '../../shared/liveness.js';
import { DEFAULT_CONFIDENT_DISTANCE, DEFAULT_UNCERTAIN_DISTANCE, type OtherFace } from '../face/matching.js';
import type { AttendanceRecord, RecordPatch } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { User } from '../ports/users.js';
import type { DomainDeps } from '../deps.js';
import { retryWhileBusy, type BusyRetryOptions } from '../face/busy-retry.js';
import type { FaceDecisionSettings, FaceEngine } from '../face/face-engine.js';
import { decideSelfie, failedVerification, noConsentDecision, type BaseOutcome, type SelfieDecision } from '../face/selfie-decision.js';
import { hasFaceConsent } from '../privacy/consent.js';
import { publishRecordChange, updateRecord } from './record-change.js';

/**
 * Antispoof and liveness are weak signals (a printed photo scored 0.66 'real' against a 0.64
 * median for genuine photos), so only clearly low scores raise a review flag.
 */
export const DEFAULT_FACE_SETTINGS: FaceDecisionSettings = {
  confident: DEFAULT_CONFIDENT_DISTANCE,
  uncertain: DEFAULT_UNCERTAIN_DISTANCE,
  minReal: 0.3,
  minLive: 0.3,
};

/** A concurrent write (a teacher decision) can bump the version; re-read this many times. */
const MAX_UPDATE_TRIES = 3;

/**
 * The check-in is acknowledged before its selfie reaches the pool, so a burst can find the
 * queue full after the submit-time check passed. The selfie was accepted: wait for room as the
 * pool suggests instead of leaving the record to the teacher, up to this long in all.
 */
const BUSY_RETRY_BUDGET_MS = 60_000;
const BUSY_RETRY_MIN_MS = 100;
const BUSY_RETRY_MAX_MS = 5_000;

/**
 * The longest a running node keeps a selfie verification in flight: the selfie's analysis and
 * then the liveness frames', each waiting for room up to the busy budget and then for one task
 * deadline (FACE_TASK_TIMEOUT_MS, which counts the pool's queue too), plus a minute for the
 * store's reads and write. A verification still queued after that was lost with its node.
 */
export function verificationLimitMs(taskTimeoutMs: number): number {
  return 2 * (BUSY_RETRY_BUDGET_MS + taskTimeoutMs) + 60_000;
}

type Student = Pick<User, 'id' | 'name' | 'studentNumber'>;

/** The liveness step of a check-in: the challenge its token named and the frames sent. */
export interface LivenessJob {
  challenge: LivenessChallenge;
  frames: Uint8Array[];
}

/**
 * Runs after the pending record is stored and acknowledged: analyses the selfie, matches it
 * against the claimed student and the subject's other faces, and stores the outcome with its
 * audit entry (writeRecord), then tells the student and the roster. Never throws; failures (a worker crash,
 * a deadline, models that did not load) are logged and leave the record pending with reason
 * FACE_CHECK_FAILED and verification 'failed' for the teacher.
 */
export async function verifySelfie(
  deps: DomainDeps,
  engine: FaceEngine,
  session: AttendanceSession,
  student: Student,
  record: AttendanceRecord,
  base: BaseOutcome,
  selfie: Uint8Array,
  liveness: LivenessJob | null = null,
): Promise<void> {
  const settings = deps.faceSettings ?? DEFAULT_FACE_SETTINGS;
  // Consent is checked again here: it may have been withdrawn since the submission.
  let decision: SelfieDecision | null = await withoutConsent(deps, record, base);
  if (!decision) {
    try {
      const analysis = await analyseWhenRoom(deps, engine, selfie);
      let claimed: number[][] = [];
      let claimedOutdated = false;
      let others: OtherFace[] = [];
      let live: LivenessVerdict | null = null;
      if (analysis.ok) {
        ({ claimed, others, claimedOutdated } = await facesToCompare(deps, session, record, analysis.modelId));
        if (liveness) live = await checkLiveness(deps, engine, liveness, Array.from(analysis.faces[0]!.embedding), settings);
      }
      if (live && !live.passed) {
        deps.logger.info(
          { sessionId: session.id, recordId: record.id, challenge: liveness!.challenge, failure: live.failure, motion: live.motion },
          'liveness challenge failed',
        );
      }
      decision = decideSelfie(base, analysis, claimed, others, settings, deps.now(), live, claimedOutdated);
    } catch (err) {
      deps.logger.error({ err, sessionId: session.id, recordId: record.id }, 'selfie verification failed; left to the teacher');
    }
  }
  const patch: RecordPatch = decision
    ? {
        status: decision.status,
        reason: decision.reason,
        flags: decision.flags,
        verification: decision.verification,
        decidedAt: decision.status === 'pending' ? null : deps.now(),
      }
    : failedCheck(record, deps.now());
  try {
    await applyOnce(deps, session, student, record, patch);
  } catch (err) {
    deps.logger.error({ err, sessionId: session.id, recordId: record.id }, 'storing the selfie verification failed');
  }
}

/**
 * Gives up a verification that will not come (its node died with the selfie in memory): the
 * record stays `pending` for the teacher with FACE_CHECK_FAILED, pushed to the student and the
 * roster. True when stored; false when the record was decided or verified meanwhile. Throws
 * what the store throws.
 */
export function abandonVerification(
  deps: DomainDeps,
  session: AttendanceSession,
  student: Student,
  record: AttendanceRecord,
): Promise<boolean> {
  return applyOnce(deps, session, student, record, failedCheck(record, deps.now()));
}

/**
 * Said in the reason and kept as a flag: "being verified" would otherwise stay on the student's
 * page and the roster for a check that will never come.
 */
function failedCheck(record: AttendanceRecord, at: Date): RecordPatch {
  return {
    reason: 'FACE_CHECK_FAILED',
    flags: [...record.flags.filter((f) => f !== 'FACE_CHECK_FAILED'), 'FACE_CHECK_FAILED'],
    verification: failedVerification(at),
  };
}

/** The no-consent decision when consent is required and missing (or cannot be read), else null. */
async function withoutConsent(deps: DomainDeps, record: AttendanceRecord, base: BaseOutcome): Promise<SelfieDecision | null> {
  if (!deps.faceConsentRequired) return null;
  try {
    if (await hasFaceConsent(deps.store, record.orgId, record.studentId)) return null;
  } catch (err) {
    deps.logger.error({ err, recordId: record.id }, 'reading the face consent failed; the selfie is not used');
  }
  return noConsentDecision(base, deps.now());
}

/** How a verification's task waits for room on the pool: the selfie's analysis and the frames' alike. */
function whenRoom(deps: DomainDeps): BusyRetryOptions {
  return {
    budgetMs: BUSY_RETRY_BUDGET_MS,
    defaultWaitMs: BUSY_RETRY_MIN_MS,
    minWaitMs: BUSY_RETRY_MIN_MS,
    maxWaitMs: BUSY_RETRY_MAX_MS,
    jitter: true,
    // Only a full queue is worth waiting for; a timed-out task already had its chance.
    retryIf: (err) => err.details?.['cause'] === 'queue_full',
    // The domain's clock and timer: tests move them, and shutdown drains the job.
    now: () => deps.now().getTime(),
    wait: (ms) => deps.jobs.sleep(ms),
  };
}

async function analyseWhenRoom(deps: DomainDeps, engine: FaceEngine, selfie: Uint8Array): Promise<AnalyseResult> {
  // A copy each time: the pool hands the bytes over to its worker, leaving this view empty.
  return retryWhileBusy(() => engine.analyse(selfie.slice(), 'selfie'), whenRoom(deps));
}

/**
 * Measures the frames on the pool and judges them against the selfie's face. The frames are
 * not kept: the pool takes them and this job ends with the verdict.
 */
async function checkLiveness(
  deps: DomainDeps,
  engine: FaceEngine,
  job: LivenessJob,
  selfie: number[],
  settings: FaceDecisionSettings,
): Promise<LivenessVerdict> {
  const measure = engine.analyseFrames;
  // Sessions ask for liveness only where the engine measures frames; one opened before a
  // configuration change cannot be checked, and the teacher reviews it.
  if (!measure) return { passed: false, failure: 'unavailable', motion: 0, maxDistance: null };
  const frames = job.frames;
  const measured = await retryWhileBusy(
    () =>
      measure.call(
        engine,
        frames.map((f) => f.slice()),
      ),
    whenRoom(deps),
  );
  return evaluateLiveness(job.challenge, measured.frames, selfie, settings);
}

async function facesToCompare(
  deps: DomainDeps,
  session: AttendanceSession,
  record: AttendanceRecord,
  modelId: string,
): Promise<{ claimed: number[][]; others: OtherFace[]; claimedOutdated: boolean }> {
  const { store } = deps;
  const enrolledIds = await store.subjects.listEnrolled(record.orgId, session.subjectId);
  const enrolments = await store.faces.getMany(record.orgId, [...new Set([...enrolledIds, record.studentId])]);
  // Embeddings of another model are not comparable: such an enrolment counts as none, and the
  // claimed student's is reported for re-enrolment rather than read as a mismatch.
  const usable = enrolments.filter((e) => e.modelId === modelId);
  const claimedOutdated = enrolments.some((e) => e.userId === record.studentId && e.modelId !== modelId);
  const claimed = usable.find((e) => e.userId === record.studentId)?.embeddings ?? [];
  const others: OtherFace[] = usable
    .filter((e) => e.userId !== record.studentId)
    .map((e) => ({ studentId: e.userId, embeddings: e.embeddings, source: 'enrolled' }));
  const sessionRecords = await store.records.listBySession(record.orgId, session.id);
  for (const r of sessionRecords) {
    const probe = r.verification?.probe;
    if (r.studentId === record.studentId || !probe || r.status === 'rejected') continue;
    others.push({ studentId: r.studentId, embeddings: [probe], source: 'session' });
  }
  return { claimed, others, claimedOutdated };
}

/** Optimistic update; gives up (logged) if a teacher decided meanwhile. True when stored. */
async function applyOnce(
  deps: DomainDeps,
  session: AttendanceSession,
  student: Student,
  record: AttendanceRecord,
  patch: RecordPatch,
): Promise<boolean> {
  let current: AttendanceRecord | null = record;
  for (let i = 0; i < MAX_UPDATE_TRIES && current; i++) {
    if (current.verification?.state !== 'queued' || current.status !== 'pending') {
      deps.logger.info({ recordId: record.id }, 'selfie verification superseded by another decision');
      return false;
    }
    const updated = await updateRecord(deps, current, patch, {
      actorId: null,
      action: 'checkin.verify',
      reason: patch.reason !== undefined ? patch.reason : current.reason,
      ip: null,
    });
    if (updated.written) {
      publishRecordChange(deps, session, student, updated.record);
      return true;
    }
    current = updated.record;
  }
  deps.logger.warn({ recordId: record.id }, 'selfie verification not stored: the record kept changing');
  return false;
}
