import type { Logger } from '../logger.js';
import type { Store } from './ports/store.js';
import type { EventPublisher } from './events.js';
import type { FaceDecisionSettings, FaceEngine } from './face/face-engine.js';
import type { Capabilities } from './sessions/policy.js';
import type { JobRunner } from './jobs/job-runner.js';
import type { RateLimiter } from './rate-limiter.js';
import type { CheckinTrace } from './checkins/checkin-trace.js';

/** What the live-attendance services need; createDomain builds it, unit tests of one service build their own. */
export interface DomainDeps {
  store: Store;
  events: EventPublisher;
  logger: Logger;
  now: () => Date;
  /** Background work (selfie verification): tracked, drained on shutdown, waiting on the domain's timer. */
  jobs: JobRunner;
  capabilities: Capabilities;
  /** Face verification; absent means selfie policies are refused. */
  face?: FaceEngine;
  /** Face uploads (class photos) per user; absent means unlimited (tests). */
  faceUploadLimiter?: RateLimiter;
  /**
   * A selfie of a student without a standing face consent is never analysed: the check-in goes
   * to the teacher as FACE_NO_CONSENT (FACE_CONSENT_REQUIRED). Absent means not required (tests).
   */
  faceConsentRequired?: boolean;
  /** Bands and review thresholds; defaults from src/face/face-config.ts when absent. */
  faceSettings?: FaceDecisionSettings;
  /** Stage times of each check-in (CHECKIN_STAGES_FILE, a measuring tool); absent: none kept. */
  checkinTrace?: CheckinTrace;
  settings: {
    codePeriodS: number;
    locationMaxAgeS: number;
    defaultTimezone: string;
    /** How long after closing a session may be reopened; DEFAULT_REOPEN_WINDOW_MS when absent. */
    reopenWindowMs?: number;
    /** Group commit of check-ins; DEFAULT_CHECKIN_BATCH when absent. */
    checkinBatch?: { windowMs: number; max: number; pipeline?: number; resumePerTurn?: number };
  };
}
