import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { JwtTokenSigner } from './adapters/jwt-token-signer.js';
import { BcryptWorkerHasher } from './adapters/bcrypt-worker-hasher.js';
import type { TokenSigner } from './domain/accounts/access-tokens.js';
import type { PasswordHasher } from './domain/accounts/passwords.js';
import type { Config } from './config.js';
import { createDomain, type Domain, type DomainSettings, type LiveAttendance, type Services } from './domain/services.js';
import { createHttpApp } from './http/http-app.js';
import { createReadiness, passwordsCheck, storeCheck } from './http/readiness.js';
import type { Logger } from './logger.js';
import type { Store } from './domain/ports/store.js';
import { EventBus } from './domain/events.js';
import { createLimiters, type LimitSettings } from './domain/limiters.js';
import { memoryLimiterBackend } from './adapters/memory-rate-limiter.js';
import type { ClusterDeps } from './cluster/cluster-deps.js';
import { compileTrustProxy } from './adapters/trust-proxy.js';
import type { FaceEngine } from './domain/face/face-engine.js';
import { faceReadinessCheck } from './adapters/face-pool-engine.js';
import { attachRealtime, type Realtime } from './realtime/socket-server.js';
import type { HoldTimers } from './realtime/admission.js';
import { createMailer } from './adapters/mail/create-mailer.js';
import { metricsServer } from './http/metrics.js';
import {
  createMetrics,
  observeDomainEvents,
  observeFace,
  observePasswords,
  observeRedis,
  observeSockets,
  observeStore,
  observeWalCheckpointer,
  observeRecordWriter,
  type AppMetrics,
  commandAnswers,
  outboxHoldMetrics,
} from './observability/metrics.js';
import { MailQueue } from './domain/accounts/mail-queue.js';
import type { Mailer } from './domain/accounts/mailer.js';
import { purgeTokens, TOKEN_PURGE_JOB } from './domain/accounts/token-purge.js';
import { ScheduledJob } from './domain/jobs/scheduled-job.js';
import { ABANDONED_VERIFICATIONS_INTERVAL_MS, ABANDONED_VERIFICATIONS_JOB } from './domain/checkins/abandoned-verifications.js';
import type { JobRunner } from './domain/jobs/job-runner.js';
import { applyRetention, RETENTION_JOB } from './domain/privacy/retention.js';
import { TIMETABLE_JOB } from './domain/timetable/timetable-job.js';
import { Periodic } from './domain/jobs/periodic.js';
import { WebhookDispatcher } from './domain/webhooks/webhook-dispatcher.js';
import { WebhookProducer } from './domain/webhooks/webhook-producer.js';
import type { WebhookSender } from './domain/webhooks/webhook-ports.js';
import { HttpWebhookSender } from './adapters/http-webhook-sender.js';
import { DIGEST_JOB, sendDigests } from './domain/notifications/daily-digest.js';
import type { OutboxDispatcher } from './domain/notifications/outbox-dispatcher.js';
import { walCheckpointerOf } from './store/sqlite/wal-checkpointer.js';
import { recordWriterOf } from './store/sqlite/record-writer.js';
import { CheckinStages } from './observability/checkin-stages.js';

export interface ApplicationDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** The domain's clock; build the store on the same one (its `now` option) so every write agrees. */
  clock?: () => Date;
  /**
   * Several nodes (createClusterDeps): the Redis socket adapter and its link, limiters counted in
   * Redis, the Redis readiness check and status metric. Absent: one node, everything in memory.
   * The caller quits it after close().
   */
  cluster?: ClusterDeps;
  /** Face verification; without it selfie policies are refused. The caller starts and closes it. */
  face?: FaceEngine;
  /**
   * Password hashing; defaults to bcrypt at BCRYPT_COST on BCRYPT_THREADS worker threads. index.ts
   * passes the one it seeded the demo with. Closed with the application.
   */
  passwords?: PasswordHasher;
  /** Outgoing email; defaults to SMTP_URL, or the outbox folder without it. Closed with the application. */
  mailer?: Mailer;
  /** Outbound webhook requests; defaults to the HTTP sender with config.webhooks' guard and timeout. */
  webhookSender?: WebhookSender;
  /** [0, 1) for the jitter of webhook retries; Math.random by default. */
  random?: () => number;
  /** The timers of the socket admission's hold bound (SOCKET_ADMISSION_HOLD_MS); real ones by default. Tests fire them. */
  admissionTimers?: HoldTimers;
}

export interface Application {
  /** HTTPS when config.tls is set, plain HTTP otherwise. */
  httpServer: http.Server | https.Server;
  /** The domain (createDomain); `services` and `attendance` are parts of it. */
  domain: Domain;
  services: Services;
  tokenService: TokenSigner;
  attendance: LiveAttendance;
  realtime: Realtime;
  metrics: AppMetrics;
  /** Deletes expired refresh tokens and spent set-password links, on one node per interval. */
  tokenPurge: ScheduledJob;
  /** This node's background work (selfie verification); close() waits for it, bounded. */
  jobs: JobRunner;
  /** Applies the organisations' retention settings to check-in details, on one node per interval. */
  retention: ScheduledJob;
  /** Creates the timetable's sessions ahead of time, on one node per interval. */
  timetableJob: ScheduledJob;
  /** Sends queued webhook deliveries; runs every WEBHOOK_POLL_MS once listening (tests may tick it). */
  webhooks: WebhookDispatcher;
  /** Queues deliveries of domain events; `drain()` resolves when those already published are queued. */
  webhookEvents: WebhookProducer;
  /** Sends the stored notification emails (alerts, digests), with retries. */
  outbox: OutboxDispatcher;
  /** Queues each teacher's daily digest email, once a day from DIGEST_HOUR, across nodes. */
  digest: ScheduledJob;
  /** Gives up the selfie verifications lost with their node (a kill mid-selfie), on one node per minute. */
  abandonedVerifications: ScheduledJob;
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

/** The limiter budgets, from config; memory and Redis build them from this one table. */
export function limitSettings(config: Config): LimitSettings {
  return {
    checkinPerMinute: config.checkin.ratePerMinute,
    faceUploadsPerHour: config.faceUploadsPerHour,
    resetEmailsPerHour: config.accounts.resetEmailsPerHour,
    mailPerMinute: config.mail.maxPerMinute,
    resetRequestsPerAddressPerHour: config.accounts.resetRequestsPerAddressPerHour,
    login: config.login,
    requests: config.limits,
  };
}

/**
 * What the domain reads of the configuration. `publicUrl` gives the address email links start
 * with: PUBLIC_URL, or by default this node's own once it listens (see createApplication).
 */
export function domainSettings(config: Config, publicUrl: () => string = () => config.accounts.publicUrl): DomainSettings {
  // Every node has the JWT signing material, so every node accepts every device token.
  const deviceTokenKey = config.jwt.secret ?? config.jwt.privateKey;
  if (!deviceTokenKey) throw new Error('device tokens need the JWT secret or private key');
  return {
    nodeId: config.nodeId,
    deviceTokenKey,
    refreshTtlS: config.jwt.refreshTtlS,
    accounts: {
      publicUrl,
      inviteTtlMs: config.accounts.inviteTtlS * 1000,
      resetTtlMs: config.accounts.resetTtlS * 1000,
    },
    face: {
      ...config.face.thresholds,
      minReal: config.face.minReal,
      minLive: config.face.minLive,
      keepPhotos: config.face.keepPhotos,
      selfEnrolment: config.face.selfEnrolment,
      consentRequired: config.face.consentRequired,
      minFacePx: config.face.gates.minFacePx,
      maxFaces: config.face.maxFaces,
    },
    checkin: { codePeriodS: config.checkin.codePeriodS, locationMaxAgeS: config.checkin.locationMaxAgeS, batch: config.checkin.batch },
    defaultTimezone: config.defaultTimezone,
    reopenWindowMs: config.sessionReopenWindowMs,
    schedulerIntervalMs: config.schedulerIntervalMs,
    closeAnswerWaitMs: config.closeAnswerWaitMs,
    closeMaxMs: config.closeMaxMs,
    mailOutbox: config.mail.outbox,
  };
}

/** Builds the services and transports from injected dependencies; index.ts wires the real ones. */
export function createApplication(deps: ApplicationDeps): Application {
  const { config, logger } = deps;
  const metrics = createMetrics();
  const store = observeStore(deps.store, metrics);
  const checkpointer = walCheckpointerOf(deps.store);
  if (checkpointer) observeWalCheckpointer(metrics, checkpointer);
  const recordWriter = recordWriterOf(deps.store);
  if (recordWriter) observeRecordWriter(metrics, recordWriter);
  // A measuring tool (docs/multi-node.md "Load"): each check-in's stage times, written at close.
  const checkinStages = config.checkinStagesFile === null ? null : new CheckinStages(config.checkinStagesFile);
  if (checkinStages && recordWriter) recordWriter.on('committed', (times) => checkinStages.writerBatch(times));
  if (checkinStages && checkpointer) checkpointer.on('pass', (times) => checkinStages.checkpointPass(times));
  const face = deps.face ? observeFace(deps.face, metrics) : undefined;
  const clock = deps.clock ?? (() => new Date());
  const tokenService = new JwtTokenSigner(config.jwt, clock);
  const passwords = observePasswords(deps.passwords ?? new BcryptWorkerHasher({ ...config.bcrypt, logger }), metrics);
  const mailer = deps.mailer ?? createMailer(config.mail, logger);
  const mail = new MailQueue(mailer, { max: config.mail.queueMax, concurrency: MAIL_CONCURRENCY }, (err, message) => {
    logger.error({ err, to: message.to, subject: message.subject }, 'email could not be sent');
  });
  const bus = new EventBus((err, event) => logger.error({ err, event: event.type }, 'domain event listener failed'));
  observeDomainEvents(bus, metrics);
  const cluster = deps.cluster;
  // A node whose clock is the odd one out leaves scheduled work to the others (docs/deploy.md).
  const clockTrusted = cluster ? () => !cluster.clock().skewed : null;
  const trust = clockTrusted ? { clockTrusted } : {};
  const limiters = createLimiters(limitSettings(config), cluster?.limiters ?? memoryLimiterBackend);
  /** This node's address once it listens, for email links when PUBLIC_URL is unset. */
  let listeningUrl: string | null = null;
  const domain = createDomain({
    store,
    logger,
    clock,
    events: bus,
    tokens: tokenService,
    passwords,
    mail,
    ...(face ? { face } : {}),
    limiters,
    settings: domainSettings(config, () => listeningUrl ?? config.accounts.publicUrl),
    onSchedulerTick: () => metrics.schedulerTicks.inc(),
    onOutboxHold: outboxHoldMetrics(metrics),
    ...(checkinStages ? { checkinTrace: checkinStages } : {}),
    ...(clockTrusted ? { clockTrusted } : {}),
  });
  const { attendance, jobs } = domain;
  const checks = [
    storeCheck(store, recordWriter),
    ...(cluster?.readinessChecks ?? []),
    ...(face ? [faceReadinessCheck(face)] : []),
    ...(passwords.status ? [passwordsCheck(passwords.status)] : []),
  ];
  const readiness = createReadiness(checks, {
    failing: (name, err) =>
      logger.warn({ check: name, reason: err instanceof Error ? err.message : String(err) }, 'not ready: a readiness check fails'),
    recovered: (name) => logger.info({ check: name }, 'readiness check passes again'),
  });
  // One compiled TRUST_PROXY rule for express's req.ip and the socket handshakes.
  const trustProxy = compileTrustProxy(config.trustProxy);

  const { outbox, emails } = domain;
  const digest = new ScheduledJob(
    store,
    logger,
    clock,
    { name: DIGEST_JOB, owner: config.nodeId, intervalMs: DIGEST_CHECK_MS, ...trust },
    async (now) => {
      const sent = await sendDigests({ store, emails, owner: config.nodeId, hour: config.mail.digestHour }, now);
      if (sent > 0) logger.info({ sent }, 'daily digests queued');
    },
  );
  const detachAlerts = domain.alerts.attach(bus);
  const tokenPurge = new ScheduledJob(
    store,
    logger,
    clock,
    { name: TOKEN_PURGE_JOB, owner: config.nodeId, intervalMs: config.tokenPurgeIntervalMs, ...trust },
    async (now) => {
      const purged = await purgeTokens(store, now);
      logger.info(purged, 'expired tokens purged');
    },
  );
  const retention = new ScheduledJob(
    store,
    logger,
    clock,
    { name: RETENTION_JOB, owner: config.nodeId, intervalMs: config.retentionIntervalMs, ...trust },
    async (now) => {
      const applied = await applyRetention(store, now);
      logger.info(applied, 'retention applied');
    },
  );
  const timetableJob = new ScheduledJob(
    store,
    logger,
    clock,
    { name: TIMETABLE_JOB, owner: config.nodeId, intervalMs: config.timetable.intervalMs, ...trust },
    async (now) => {
      const counts = await domain.timetable.createUpcoming(now, config.timetable.horizonDays);
      logger.info(counts, 'timetable sessions created');
    },
  );

  const abandonedVerifications = new ScheduledJob(
    store,
    logger,
    clock,
    { name: ABANDONED_VERIFICATIONS_JOB, owner: config.nodeId, intervalMs: ABANDONED_VERIFICATIONS_INTERVAL_MS, ...trust },
    async (now) => {
      const abandoned = await attendance.checkins.abandonLostVerifications(now, config.face.taskTimeoutMs);
      if (abandoned > 0) logger.info({ abandoned }, 'selfie verifications lost with their node given up');
    },
  );

  const webhookProducer = new WebhookProducer({
    store,
    now: clock,
    onError: (err, hook) => logger.error({ err, event: hook.type, org: hook.orgId }, 'webhook deliveries could not be queued'),
  });
  bus.subscribe((event) => webhookProducer.handle(event));
  const webhooks = new WebhookDispatcher(
    {
      store,
      sender:
        deps.webhookSender ??
        new HttpWebhookSender({ timeoutMs: config.webhooks.timeoutMs, allowPrivate: config.webhooks.allowPrivate, logger }),
      now: clock,
      logger,
      ...(deps.random ? { random: deps.random } : {}),
      ...trust,
    },
    // The lease outlasts an attempt's timeout, so no other node retries one still in flight.
    { owner: config.nodeId, leaseMs: config.webhooks.timeoutMs * 3 },
  );
  const webhookPasses = new Periodic(
    config.webhooks.pollMs,
    () => webhooks.tick().then(() => undefined),
    (err) => logger.error({ err }, 'webhook dispatch pass failed; will retry'),
  );

  const app = createHttpApp({
    config,
    logger,
    store,
    services: domain,
    tokenService,
    readiness,
    requestLimiters: limiters.requests,
    trustProxy,
    metrics,
  });
  const httpServer = config.tls ? https.createServer({ cert: config.tls.cert, key: config.tls.key }, app) : http.createServer(app);
  const countAnswer = commandAnswers(metrics);
  const realtime = attachRealtime({
    httpServer,
    store,
    tokens: tokenService,
    bus,
    sessions: attendance.sessions,
    closer: attendance.closer,
    lifecycle: attendance.lifecycle,
    checkins: attendance.checkins,
    submitLimiter: limiters.submit,
    requestLimiters: limiters.requests,
    maxInFlight: config.limits.socketMaxInFlight,
    admission: config.limits.socketAdmission,
    onAdmissionRefused: (reason) => metrics.socketAdmissionRefusals.labels({ reason }).inc(),
    ...(deps.admissionTimers ? { admissionTimers: deps.admissionTimers } : {}),
    accessTokenTtlS: config.jwt.accessTtlS,
    rosterBatchMs: config.rosterBatchMs,
    socketRecheckMs: config.socketRecheckMs,
    connectionCloseGraceMs: config.connectionCloseGraceMs,
    logger,
    now: clock,
    maxHttpBufferSize: config.socketMaxBufferBytes,
    maxQueuedBytes: config.socketMaxQueuedBytes,
    onQueueOverflow: () => metrics.socketQueueOverflowCloses.inc(),
    maxSocketsPerUser: config.socketMaxPerUser,
    onSocketsPerUserRefused: () => metrics.socketUserLimitRefusals.inc(),
    trustProxy,
    corsOrigins: config.corsOrigins,
    ...(cluster ? { adapter: cluster.socketAdapter, fanoutLink: cluster.fanoutLink } : {}),
    onCommandAnswer: (event, ack) => countAnswer(event, ack.ok ? 'ok' : ack.error.code),
    ...(checkinStages ? { checkinTrace: checkinStages } : {}),
  });
  observeSockets(metrics, () => realtime.io.engine.clientsCount);
  if (cluster) observeRedis(metrics, () => cluster.status());
  const metricsListener = config.metrics.port === null ? null : metricsServer(metrics, readiness, logger);

  let closing: Promise<void> | null = null;

  return {
    httpServer,
    domain,
    services: domain,
    tokenService,
    attendance,
    realtime,
    metrics,
    tokenPurge,
    jobs,
    retention,
    timetableJob,
    webhooks,
    webhookEvents: webhookProducer,
    outbox,
    digest,
    abandonedVerifications,
    async listen() {
      if (metricsListener) await listenOn(metricsListener, config.metrics.port!, config.metrics.host);
      const address = await listenOn(httpServer, config.port, config.host);
      // Without PUBLIC_URL, links name the port actually bound: with PORT=0 the configured one is 0.
      if (!config.accounts.publicUrlGiven) listeningUrl = `${config.tls ? 'https' : 'http'}://localhost:${address.port}`;
      attendance.scheduler.start();
      tokenPurge.start();
      retention.start();
      timetableJob.start();
      webhookPasses.start();
      outbox.start();
      digest.start();
      abandonedVerifications.start();
      return address;
    },
    close() {
      closing ??= (async () => {
        // Order: no new scheduled work, live sockets told to go (clients reconnect to another
        // node), HTTP drained, the face workers, then the store.
        await attendance.scheduler.stop();
        await tokenPurge.stop();
        await retention.stop();
        await timetableJob.stop();
        await webhookPasses.stop();
        await digest.stop();
        await abandonedVerifications.stop();
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
        // After the HTTP drain: no login or password change is waiting for a bcrypt thread.
        await passwords.close?.();
        // Queued invitations and resets are handed to SMTP (or the outbox) before the mailer closes.
        await mail.drain();
        await mailer.close();
        // Deliveries of the last events are queued in the store; another node (or this one restarted) sends them.
        await webhookProducer.drain();
        await store.close();
        checkinStages?.write();
      })();
      return closing;
    },
  };
}
