import type { TokenSigner } from './accounts/access-tokens.js';
import type { PasswordHasher } from './accounts/passwords.js';
import type { Logger } from '../logger.js';
import type { Store } from './ports/store.js';
import type { EventPublisher } from './events.js';
import { AccountService } from './accounts/account-service.js';
import { AuthService } from './accounts/auth-service.js';
import type { MailQueue } from './accounts/mail-queue.js';
import { DeviceTokens } from './accounts/device-tokens.js';
import { LoginThrottle } from './accounts/login-throttle.js';
import type { DomainDeps } from './deps.js';
import { JobRunner, timerSleep, type Sleep } from './jobs/job-runner.js';
import type { CheckinTrace } from './checkins/checkin-trace.js';
import type { FaceEngine, FaceDecisionSettings } from './face/face-engine.js';
import { FaceEnrolmentService } from './face/enrolment-service.js';
import type { SelfEnrolmentMode } from '../face/face-config.js';
import { CheckinService } from './checkins/checkin-service.js';
import { ClassPhotoService } from './face/class-photo-service.js';
import { CloseScheduler } from './sessions/close-scheduler.js';
import { SessionCloser } from './sessions/session-closer.js';
import { SessionLifecycle } from './sessions/session-lifecycle.js';
import { SessionOpener } from './sessions/session-opener.js';
import { SessionService } from './sessions/session-service.js';
import type { Limiters } from './limiters.js';
import { OneRosterAttendanceExport } from './oneroster/attendance-export.js';
import { OneRosterImport } from './oneroster/oneroster-import.js';
import { OrganisationService } from './organisations/organisation-service.js';
import { PrivacyService } from './privacy/privacy-service.js';
import { ReportService } from './reports/report-service.js';
import { AttendanceQueries } from './sessions/attendance-queries.js';
import { SubjectService } from './subjects/subject-service.js';
import { TeacherHandover } from './subjects/teacher-handover.js';
import { SubjectArchive } from './subjects/subject-archive.js';
import { SubjectRollover } from './subjects/subject-rollover.js';
import { LeavingTeacherSessions } from './subjects/leaving-teacher.js';
import { UnstaffedSessions } from './subjects/unstaffed-sessions.js';
import { UnstaffedNotice } from './notifications/unstaffed-notice.js';
import { BulkDeactivation } from './users/bulk-deactivation.js';
import { FirstTeacherChange } from './timetable/first-teacher.js';
import { TimetableService } from './timetable/timetable-service.js';
import { AlertService } from './alerts/alert-service.js';
import { EmailNotifications } from './notifications/email-notifications.js';
import { AccountLinkMail } from './accounts/account-link-mail.js';
import { OutboxDispatcher, type OutboxHoldEvent, type OutboxSettings } from './notifications/outbox-dispatcher.js';
import { UnsubscribeTokens } from './notifications/unsubscribe-tokens.js';
import { CsvUserImport } from './users/csv-import.js';
import { CsvSubjectImport } from './subjects/subject-import.js';
import { CsvMeetingImport } from './timetable/meeting-import.js';
import { UserService } from './users/user-service.js';
import { AbsenceCategoryService } from './excuses/absence-categories.js';
import { ExcuseService } from './excuses/excuse-service.js';
import { GuardianService } from './guardians/guardian-service.js';
import { WebhookService } from './webhooks/webhook-service.js';

/** The domain services the transports call. Later layers add theirs here. */
export interface Services {
  auth: AuthService;
  accounts: AccountService;
  users: UserService;
  userImport: CsvUserImport;
  subjects: SubjectService;
  subjectImport: CsvSubjectImport;
  /** A teacher's subjects handed to a colleague and back. */
  handover: TeacherHandover;
  /** The upcoming sessions whose teacher can no longer run them, for the admins to give or cancel. */
  unstaffed: UnstaffedSessions;
  /** Last year's subjects archived, and back. */
  subjectArchive: SubjectArchive;
  /** Next year's subjects made from last year's (README, Admin console). */
  subjectRollover: SubjectRollover;
  /** Leavers deactivated at once. */
  deactivation: BulkDeactivation;
  faces: FaceEnrolmentService;
  organisations: OrganisationService;
  privacy: PrivacyService;
  absenceCategories: AbsenceCategoryService;
  excuses: ExcuseService;
  guardians: GuardianService;
  webhooks: WebhookService;
  oneRosterImport: OneRosterImport;
  oneRosterExport: OneRosterAttendanceExport;
}

/** The live-session domain: sessions, check-ins, class photos, closing and the close scheduler. */
export interface LiveAttendance {
  sessions: SessionService;
  checkins: CheckinService;
  classPhoto: ClassPhotoService;
  closer: SessionCloser;
  lifecycle: SessionLifecycle;
  scheduler: CloseScheduler;
}

/** Everything the transports call: the services, the live-session domain, its queries and reports. */
export interface Domain extends Services {
  attendance: LiveAttendance;
  /** This node's background work (selfie verification); the application drains it on close. */
  jobs: JobRunner;
  queries: AttendanceQueries;
  reports: ReportService;
  /** Terms, holidays, weekly meetings and the sessions made from them (docs/timetable.md). */
  timetable: TimetableService;
  /** Weekly meetings from one CSV file, each added as a single add is. */
  meetingImport: CsvMeetingImport;
  /** Alert rules, their crossings and the in-app notifications (docs/notifications.md). */
  alerts: AlertService;
  /** Notification emails (alerts, digests) and their per-category preferences. */
  emails: EmailNotifications;
  /** Sends the stored notification emails with retries; the application starts and stops it. */
  outbox: OutboxDispatcher;
}

/** The settings the domain reads, mapped from Config by the composition root (`domainSettings`). */
export interface DomainSettings {
  /** This node's identity in scheduler leases. */
  nodeId: string;
  /** The JWT secret or private key: every node signs and accepts device tokens with it. */
  deviceTokenKey: string;
  refreshTtlS: number;
  accounts: { publicUrl: () => string; inviteTtlMs: number; resetTtlMs: number };
  face: FaceDecisionSettings & {
    keepPhotos: boolean;
    selfEnrolment: SelfEnrolmentMode;
    consentRequired: boolean;
    minFacePx: number;
    maxFaces: number;
  };
  checkin: {
    codePeriodS: number;
    locationMaxAgeS: number;
    batch: { windowMs: number; max: number; pipeline: number; resumePerTurn: number };
  };
  defaultTimezone: string;
  reopenWindowMs: number;
  schedulerIntervalMs: number;
  /** A teacher's close answers by then with the session still closing, and finishes in the background. */
  closeAnswerWaitMs?: number;
  /** CLOSE_MAX_MS: the longest a close runs before it fails CLOSE_TIMED_OUT (10 minutes unless set). */
  closeMaxMs?: number;
  /** The stored outbox of notification emails (MAIL_OUTBOX_*, MAIL_RETRY_BASE_MS, MAIL_MAX_ATTEMPTS). */
  mailOutbox: OutboxSettings;
}

export interface CreateDomainDeps {
  store: Store;
  logger: Logger;
  clock: () => Date;
  /** Where services announce changes the transports push to clients. */
  events: EventPublisher;
  /** Access tokens (JWT) and password hashes (bcrypt), implemented in src/adapters. */
  tokens: TokenSigner;
  passwords: PasswordHasher;
  /** Outgoing email: the outbox hands every email to it (notifications, invitations, resets). */
  mail: MailQueue;
  /** Face analysis; absent means enrolment answers UNAVAILABLE and selfie policies are refused. */
  face?: FaceEngine;
  /** The node's limiters (memory or Redis); the domain counts logins, resets and face uploads. */
  limiters: Pick<Limiters, 'login' | 'reset' | 'resetRequest' | 'faceUpload' | 'mailSend'>;
  settings: DomainSettings;
  /** Called after every close-scheduler pass (metrics). */
  onSchedulerTick?: () => void;
  /** Told of the outbox held back while the shared send count (Redis) is out of reach (metrics). */
  onOutboxHold?: (event: OutboxHoldEvent) => void;
  /** Stage times of each check-in (CHECKIN_STAGES_FILE); absent: none kept. */
  checkinTrace?: CheckinTrace;
  /** False while this node's clock disagrees with its peers': the close scheduler skips its passes. */
  clockTrusted?: () => boolean;
  /** How background jobs wait before a retry; the real timer by default (tests move their clock instead). */
  sleep?: Sleep;
  /** The timer behind CLOSE_MAX_MS (`AbortSignal.timeout` by default; tests expire it themselves). */
  closeDeadline?: (ms: number) => AbortSignal;
}

/**
 * The organisation and account services alone, as createDomain builds them: what the admin CLI's
 * organisation and admin commands need, without the live attendance, jobs and outbox around them.
 */
export function createAccountServices(
  deps: Pick<CreateDomainDeps, 'store' | 'clock' | 'events' | 'passwords'>,
  leavingTeacher?: LeavingTeacherSessions,
): Pick<Services, 'organisations' | 'users'> {
  const { store, clock, events, passwords } = deps;
  return {
    organisations: new OrganisationService({ store, clock }),
    users: new UserService({ store, passwords, clock, events, ...(leavingTeacher ? { leavingTeacher } : {}) }),
  };
}

/** The one composition root of the domain: the application, scripts and tests build it here. */
export function createDomain(deps: CreateDomainDeps): Domain {
  const { store, clock, events, settings, face, passwords } = deps;
  const jobs = new JobRunner(deps.logger, deps.sleep ?? timerSleep);
  const live: DomainDeps = {
    store,
    events,
    logger: deps.logger,
    now: clock,
    jobs,
    capabilities: { selfie: face !== undefined, liveness: face?.analyseFrames !== undefined },
    faceUploadLimiter: deps.limiters.faceUpload,
    faceConsentRequired: settings.face.consentRequired,
    ...(deps.checkinTrace ? { checkinTrace: deps.checkinTrace } : {}),
    ...(face
      ? {
          face,
          faceSettings: {
            confident: settings.face.confident,
            uncertain: settings.face.uncertain,
            minReal: settings.face.minReal,
            minLive: settings.face.minLive,
          },
        }
      : {}),
    settings: {
      codePeriodS: settings.checkin.codePeriodS,
      locationMaxAgeS: settings.checkin.locationMaxAgeS,
      defaultTimezone: settings.defaultTimezone,
      reopenWindowMs: settings.reopenWindowMs,
      checkinBatch: settings.checkin.batch,
    },
  };
  const closer = new SessionCloser(live, {
    owner: settings.nodeId,
    ...(settings.closeAnswerWaitMs === undefined ? {} : { answerWithinMs: settings.closeAnswerWaitMs }),
    ...(settings.closeMaxMs === undefined ? {} : { maxMs: settings.closeMaxMs }),
    ...(deps.closeDeadline ? { deadline: deps.closeDeadline } : {}),
  });
  const scheduling = {
    owner: settings.nodeId,
    intervalMs: settings.schedulerIntervalMs,
    ...(deps.onSchedulerTick ? { onTick: deps.onSchedulerTick } : {}),
    ...(deps.clockTrusted ? { clockTrusted: deps.clockTrusted } : {}),
  };
  const attendance: LiveAttendance = {
    sessions: new SessionService(live),
    checkins: new CheckinService(live),
    classPhoto: new ClassPhotoService(live, { minFacePx: settings.face.minFacePx, maxFaces: settings.face.maxFaces }),
    closer,
    lifecycle: new SessionLifecycle(live),
    scheduler: new CloseScheduler(store, closer, deps.logger, clock, scheduling, new SessionOpener(live)),
  };
  const links = new AccountLinkMail({
    store,
    publicUrl: settings.accounts.publicUrl,
    inviteTtlMs: settings.accounts.inviteTtlMs,
    resetTtlMs: settings.accounts.resetTtlMs,
  });
  const outbox = new OutboxDispatcher(
    store,
    deps.mail,
    deps.logger,
    clock,
    settings.nodeId,
    settings.mailOutbox,
    (mail, now) => links.render(mail, now),
    deps.limiters.mailSend,
    deps.onOutboxHold,
  );
  const emails = new EmailNotifications({
    store,
    outbox,
    tokens: new UnsubscribeTokens(settings.deviceTokenKey),
    publicUrl: settings.accounts.publicUrl,
    now: clock,
  });
  const leavingTeacher = new LeavingTeacherSessions(
    live,
    attendance.lifecycle,
    new UnstaffedNotice({
      store,
      emails,
      publicUrl: settings.accounts.publicUrl,
      defaultTimezone: settings.defaultTimezone,
      now: clock,
      logger: deps.logger,
    }),
  );
  const { users, organisations } = createAccountServices(deps, leavingTeacher);
  const subjects = new SubjectService({
    store,
    clock,
    events,
    reopenWindowMs: settings.reopenWindowMs,
    firstTeacher: new FirstTeacherChange(live, attendance.lifecycle),
    leavingTeacher,
  });
  const timetable = new TimetableService(live, attendance.sessions, attendance.lifecycle);
  return {
    jobs,
    outbox,
    emails,
    alerts: new AlertService({ store, events, now: clock, jobs, email: emails }),
    auth: new AuthService({
      store,
      passwords,
      tokens: deps.tokens,
      loginThrottle: new LoginThrottle(deps.limiters.login),
      deviceTokens: new DeviceTokens(settings.deviceTokenKey, clock),
      refreshTtlS: settings.refreshTtlS,
      clock,
      events,
    }),
    accounts: new AccountService({
      store,
      passwords,
      outbox,
      links,
      clock,
      events,
      resetLimiter: deps.limiters.reset,
      resetRequestLimiter: deps.limiters.resetRequest,
      jobs,
    }),
    users,
    userImport: new CsvUserImport({ store, passwords, clock }),
    subjects,
    subjectImport: new CsvSubjectImport({ store, subjects }),
    handover: new TeacherHandover({ store, clock, subjects }),
    unstaffed: new UnstaffedSessions(live, attendance.lifecycle),
    subjectArchive: new SubjectArchive({ store, clock }),
    subjectRollover: new SubjectRollover({ store, clock, subjects, timetable }),
    deactivation: new BulkDeactivation({ store, clock, events, subjects, leavingTeacher }),
    oneRosterImport: new OneRosterImport({ store, users, subjects, clock }),
    oneRosterExport: new OneRosterAttendanceExport({ store, defaultTimezone: settings.defaultTimezone }),
    organisations,
    faces: new FaceEnrolmentService({
      store,
      engine: face,
      keepPhotos: settings.face.keepPhotos,
      selfEnrolment: settings.face.selfEnrolment,
      consentRequired: settings.face.consentRequired,
      events,
      thresholds: { confident: settings.face.confident, uncertain: settings.face.uncertain },
      limiter: deps.limiters.faceUpload,
      clock,
    }),
    privacy: new PrivacyService({ store, events, clock }),
    absenceCategories: new AbsenceCategoryService({ store, clock }),
    excuses: new ExcuseService(live),
    guardians: new GuardianService({ store, clock }),
    attendance,
    queries: new AttendanceQueries(live),
    reports: new ReportService({ store, now: clock, defaultTimezone: settings.defaultTimezone }),
    timetable,
    meetingImport: new CsvMeetingImport({ store, timetable }),
    webhooks: new WebhookService({ store, clock }),
  };
}
