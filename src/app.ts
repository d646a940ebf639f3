import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { TokenService } from './auth/tokens.js';
import type { Config } from './config.js';
import { createServices, type Services } from './domain/services.js';
import { createHttpApp } from './http/http-app.js';
import { createReadiness, storeCheck } from './http/readiness.js';
import type { Logger } from './logger.js';
import type { Store } from './domain/store-ports.js';
import { EventBus } from './domain/events.js';
import { createLiveAttendance, type LiveAttendance } from './domain/live-attendance.js';
import type { RateLimiter } from './domain/rate-limiter.js';
import { createRequestLimiters, type RateLimiterFactory } from './domain/request-limits.js';
import { createLoginLimiters, type LoginLimiters } from './domain/accounts/login-throttle.js';
import { MemoryRateLimiter, memoryLoginLimiterFactories, memoryRateLimiter } from './adapters/flexible-rate-limiter.js';
import { AttendanceQueries } from './domain/sessions/attendance-queries.js';
import type { DomainDeps } from './domain/deps.js';
import type { FaceEngine } from './domain/face/face-engine.js';
import { faceReadinessCheck } from './adapters/face-pool-engine.js';
import { attendanceRoutes } from './http/routes/attendance.js';
import { reportRoutes } from './http/routes/reports.js';
import { ReportService } from './domain/reports/report-service.js';
import { classPhotoRoutes } from './http/routes/class-photo.js';
import type { ReadinessCheck } from './shared/readiness.js';
import { attachRealtime, type Realtime } from './realtime/socket-server.js';
import type { FanoutLink } from './shared/fanout-link.js';
import type { ServerOptions } from 'socket.io';
import { createMailer } from './adapters/mail/create-mailer.js';
import { metricsServer } from './http/metrics.js';
import {
  createMetrics,
  observeDomainEvents,
  observeFace,
  observeRedis,
  observeSockets,
  observeStore,
  type AppMetrics,
} from './observability/metrics.js';
import { MailQueue } from './domain/accounts/mail-queue.js';
import type { Mailer } from './domain/accounts/mailer.js';
import { purgeTokens, TOKEN_PURGE_JOB } from './domain/accounts/token-purge.js';
import { ScheduledJob } from './domain/jobs/scheduled-job.js';
import { JobRunner } from './domain/jobs/job-runner.js';
import { AlertService } from './domain/alerts/alert-service.js';
import { alertRoutes } from './http/routes/alerts.js';
import { OutboxDispatcher } from './domain/notifications/outbox-dispatcher.js';
import { EmailNotifications } from './domain/notifications/email-notifications.js';
import { UnsubscribeTokens } from './domain/notifications/unsubscribe-tokens.js';
import { DIGEST_JOB, sendDigests } from './domain/notifications/daily-digest.js';

export interface ApplicationDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** The domain's clock; build the store on the same one (its `now` option) so every write agrees. */
  clock?: () => Date;
  /** The socket adapter's link to the other nodes (several nodes); screens resync when it comes back. */
  fanoutLink?: FanoutLink;
  /** Check-in submissions per student; defaults to an in-process limiter. */
  submitLimiter?: RateLimiter;
  /** Login throttling counters (per address, account, device); defaults to in-process ones. */
  loginLimiters?: LoginLimiters;
  /** Face enrolment and class-photo uploads per user; defaults to an in-process limiter. */
  faceUploadLimiter?: RateLimiter;
  /** Builds the request-rate limiters of sockets and routes; defaults to in-process ones. */
  rateLimiterFactory?: RateLimiterFactory;
  /** Socket.IO adapter, e.g. Redis when several nodes serve one deployment. */
  socketAdapter?: ServerOptions['adapter'];
  /** More readiness checks (Redis). */
  readinessChecks?: ReadinessCheck[];
  /** Face verification; without it selfie policies are refused. The caller starts and closes it. */
  face?: FaceEngine;
  /** Outgoing email; defaults to SMTP_URL, or the outbox folder without it. Closed with the application. */
  mailer?: Mailer;
  /** Reset emails per email address; defaults to an in-process limiter. */
  resetLimiter?: RateLimiter;
  /** State of this node's Redis clients by role (several nodes), exported as a metric. */
  redisStatus?: () => Record<string, boolean>;
}

export interface Application {
  /** HTTPS when config.tls is set, plain HTTP otherwise. */
  httpServer: http.Server | https.Server;
  services: Services;
  tokenService: TokenService;
  attendance: LiveAttendance;
  realtime: Realtime;
  metrics: AppMetrics;
  /** Deletes expired refresh tokens and spent set-password links, on one node per interval. */
  tokenPurge: ScheduledJob;
  /** This node's background work (selfie verification); close() waits for it, bounded. */
  jobs: JobRunner;
  /** Sends the stored notification emails (alerts, digests), with retries. */
  outbox: OutboxDispatcher;
  /** Queues each teacher's daily digest email, once a day from DIGEST_HOUR, across nodes. */
  digest: ScheduledJob;
  /** Listens on config.host:config.port (port 0 picks a free one). */
  listen(): Promise<AddressInfo>;
  /** Stops the scheduler and sockets, lets in-flight requests and background jobs finish (bounded), then closes the store. */
  close(): Promise<void>;
}

/** Messages handed to the mailer at once (SMTP connections per node). */
const MAIL_CONCURRENCY = 2;

/** How often the digest job looks for teachers whose local digest hour has come (each gets one a day). */
const DIGEST_CHECK_MS = 10 * 60_000;

/** In-flight requests get this long to finish on close before their sockets are cut. */
const DRAIN_TIMEOUT_MS = 10_000;

/** Background jobs in flight get this long on close (a selfie may be waiting for room in the pool). */
const JOBS_DRAIN_TIMEOUT_MS = 15_000;

function listenOn(server: http.Server | https.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Builds the services and transports from injected dependencies; index.ts wires the real ones. */
export function createApplication(deps: ApplicationDeps): Application {
  const { config, logger } = deps;
  const metrics = createMetrics();
  const store = observeStore(deps.store, metrics);
  const face = deps.face ? observeFace(deps.face, metrics) : undefined;
  const clock = deps.clock ?? (() => new Date());
  const tokenService = new TokenService(config.jwt, clock);
  const faceUploadLimiter =
    deps.faceUploadLimiter ??
    new MemoryRateLimiter({ points: config.faceUploadsPerHour, windowS: 60 * 60, keyPrefix: 'face-upload' });
  const mailer = deps.mailer ?? createMailer(config.mail, logger);
  const mail = new MailQueue(mailer, { max: config.mail.queueMax, concurrency: MAIL_CONCURRENCY }, (err, message) => {
    logger.error({ err, to: message.to, subject: message.subject }, 'email could not be sent');
  });
  const bus = new EventBus((err, event) => logger.error({ err, event: event.type }, 'domain event listener failed'));
  observeDomainEvents(bus, metrics);
  const services = createServices({
    config,
    store,
    tokens: tokenService,
    clock,
    events: bus,
    loginLimiters: deps.loginLimiters ?? createLoginLimiters(config.login, memoryLoginLimiterFactories),
    ...(face ? { face } : {}),
    faceUploadLimiter,
    mail,
    resetLimiter:
      deps.resetLimiter ??
      new MemoryRateLimiter({ points: config.accounts.resetEmailsPerHour, windowS: 60 * 60, keyPrefix: 'reset-mail' }),
  });
  const checks = [storeCheck(store), ...(deps.readinessChecks ?? []), ...(face ? [faceReadinessCheck(face)] : [])];
  const readiness = createReadiness(checks, (name, err) => {
    logger.warn({ check: name, err }, 'readiness check failed');
  });

  const jobs = new JobRunner(logger);
  const domainDeps: DomainDeps = {
    store,
    events: bus,
    logger,
    now: clock,
    jobs,
    capabilities: { selfie: face !== undefined },
    faceUploadLimiter,
    faceConsentRequired: config.face.consentRequired,
    ...(face
      ? {
          face,
          faceSettings: { ...config.face.thresholds, minReal: config.face.minReal, minLive: config.face.minLive },
        }
      : {}),
    settings: {
      codePeriodS: config.checkin.codePeriodS,
      locationMaxAgeS: config.checkin.locationMaxAgeS,
      defaultTimezone: config.defaultTimezone,
      reopenWindowMs: config.sessionReopenWindowMs,
    },
  };
  const attendance = createLiveAttendance(
    domainDeps,
    { owner: config.nodeId, intervalMs: config.schedulerIntervalMs, onTick: () => metrics.schedulerTicks.inc() },
    { minFacePx: config.face.gates.minFacePx, maxFaces: config.face.maxFaces },
  );
  const queries = new AttendanceQueries(domainDeps);
  const outbox = new OutboxDispatcher(store, mail, logger, clock, config.nodeId, config.mail.outbox);
  const emails = new EmailNotifications({
    store,
    outbox,
    // createServices refused to start without either.
    tokens: new UnsubscribeTokens((config.jwt.secret ?? config.jwt.privateKey)!),
    publicUrl: config.accounts.publicUrl,
  });
  const alerts = new AlertService({ store, events: bus, now: clock, jobs, email: emails });
  const digest = new ScheduledJob(
    store,
    logger,
    clock,
    { name: DIGEST_JOB, owner: config.nodeId, intervalMs: DIGEST_CHECK_MS },
    async (now) => {
      const sent = await sendDigests({ store, emails, owner: config.nodeId, hour: config.mail.digestHour }, now);
      if (sent > 0) logger.info({ sent }, 'daily digests queued');
    },
  );
  const detachAlerts = alerts.attach(bus);
  const tokenPurge = new ScheduledJob(
    store,
    logger,
    clock,
    { name: TOKEN_PURGE_JOB, owner: config.nodeId, intervalMs: config.tokenPurgeIntervalMs },
    async (now) => {
      const purged = await purgeTokens(store, now);
      logger.info(purged, 'expired tokens purged');
    },
  );

  const requestLimiters = createRequestLimiters(config.limits, deps.rateLimiterFactory ?? memoryRateLimiter);

  const app = createHttpApp({
    config,
    logger,
    store,
    services,
    tokenService,
    readiness,
    requestLimiters,
    metrics,
    routeGroups: [
      attendanceRoutes(queries),
      classPhotoRoutes(attendance.classPhoto),
      reportRoutes(new ReportService({ store, now: clock, defaultTimezone: config.defaultTimezone })),
      alertRoutes(alerts, emails),
    ],
  });
  const httpServer = config.tls ? https.createServer({ cert: config.tls.cert, key: config.tls.key }, app) : http.createServer(app);
  const realtime = attachRealtime({
    httpServer,
    store,
    tokens: tokenService,
    bus,
    sessions: attendance.sessions,
    closer: attendance.closer,
    lifecycle: attendance.lifecycle,
    checkins: attendance.checkins,
    submitLimiter:
      deps.submitLimiter ??
      new MemoryRateLimiter({ points: config.checkin.ratePerMinute, windowS: 60, keyPrefix: 'checkin' }),
    requestLimiters,
    maxInFlight: config.limits.socketMaxInFlight,
    logger,
    now: clock,
    maxHttpBufferSize: config.socketMaxBufferBytes,
    trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins,
    ...(deps.socketAdapter ? { adapter: deps.socketAdapter } : {}),
    ...(deps.fanoutLink ? { fanoutLink: deps.fanoutLink } : {}),
    onCommandAnswer: (event, ack) => metrics.socketCommands.inc({ event, outcome: ack.ok ? 'ok' : ack.error.code }),
  });
  observeSockets(metrics, () => realtime.io.engine.clientsCount);
  if (deps.redisStatus) observeRedis(metrics, deps.redisStatus);
  const metricsListener = config.metrics.port === null ? null : metricsServer(metrics, logger);

  let closing: Promise<void> | null = null;

  return {
    httpServer,
    services,
    tokenService,
    attendance,
    realtime,
    metrics,
    tokenPurge,
    jobs,
    outbox,
    digest,
    async listen() {
      if (metricsListener) await listenOn(metricsListener, config.metrics.port!, config.metrics.host);
      const address = await listenOn(httpServer, config.port, config.host);
      attendance.scheduler.start();
      tokenPurge.start();
      outbox.start();
      digest.start();
      return address;
    },
    close() {
      closing ??= (async () => {
        // Order: no new scheduled work, live sockets told to go (clients reconnect to another
        // node), HTTP drained, the face workers, then the store.
        await attendance.scheduler.stop();
        await tokenPurge.stop();
        await digest.stop();
        await realtime.close();
        if (httpServer.listening) {
          const stopped = new Promise<void>((resolve, reject) => {
            httpServer.close((err) => (err ? reject(err) : resolve()));
          });
          // Idle keep-alive sockets would hold close() open; busy ones get a bounded drain.
          httpServer.closeIdleConnections();
          const cut = setTimeout(() => httpServer.closeAllConnections(), DRAIN_TIMEOUT_MS);
          cut.unref();
          try {
            await stopped;
          } finally {
            clearTimeout(cut);
          }
        }
        if (metricsListener?.listening) await new Promise<void>((resolve) => metricsListener.close(() => resolve()));
        // No check-in arrives any more: verifications in flight finish while the pool and the
        // store are still there. One cut off by the bound stays pending for the teacher.
        await jobs.drain(JOBS_DRAIN_TIMEOUT_MS);
        detachAlerts();
        // Emails already handed to the queue go out and their outcome is stored; the rest stay queued in the store.
        await outbox.stop();
        await face?.close?.();
        // Queued invitations and resets are handed to SMTP (or the outbox) before the mailer closes.
        await mail.drain();
        await mailer.close();
        await store.close();
      })();
      return closing;
    },
  };
}
