import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FaceConfigError, loadFaceConfig, type FaceConfig } from './face/face-config.js';
import { certificateWarnings, resolveTls, type TlsConfig } from './tls/tls-config.js';
import { compileTrustProxy } from './adapters/trust-proxy.js';
import { bool, int, problemLine, shownValue } from './env-values.js';

/**
 * Every option, read from the environment and validated at start. Defaults are documented in
 * README.md ("Configuration"); keep the two in step.
 */

/** Also in the start's message for an entry express refuses. */
const TRUST_PROXY_ALLOWED =
  '`false`, `true`, a hop count, or a comma list of addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`';

const TIMEZONE_ALLOWED = 'an IANA time zone name, e.g. `Europe/Paris`';

/** `false`, `true`, a hop count, or a comma-separated list of trusted proxy addresses/CIDRs. */
const trustProxy = z
  .string()
  .transform((v): boolean | number | string[] => {
    const t = v.trim();
    if (t === '' || t === 'false') return false;
    if (t === 'true') return true;
    if (/^\d+$/.test(t)) return Number(t);
    return t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  })
  .meta({ allowed: TRUST_PROXY_ALLOWED });

/** `address` or `Name <address>`. */
const MAIL_FROM_PATTERN = /^(?:[^<>]*<\s*[^\s<>@]+@[^\s<>@]+\s*>|[^\s<>@]+@[^\s<>@]+)$/;

/** Every variable with its default; exported so a test keeps README's table in step. */
export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(0, 65_535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default('./data'),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TLS_SELF_SIGNED: bool.default(false),

  STORE: z.enum(['sqlite', 'mongo']).optional(),
  SQLITE_PATH: z.string().optional(),
  SQLITE_CHECKPOINT_WORKER: bool.default(true),
  SQLITE_WRITER_WORKER: bool.default(true),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .meta({ allowed: 'a `mongodb://` or `mongodb+srv://` URI' })
    .optional(),
  MONGODB_POOL_SIZE: int(1, 500).default(20),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: int(100, 120_000).default(10_000),
  MONGODB_SOCKET_TIMEOUT_MS: int(1_000, 600_000).default(45_000),

  REDIS_URL: z.string().optional(),
  REDIS_ADAPTER: z.enum(['sharded', 'classic']).default('sharded'),
  RATE_LIMIT_LOCAL_SHARE: z.coerce.number().min(0).max(0.5).default(0.1),
  REDIS_COMMAND_TIMEOUT_MS: int(100, 30_000).default(1_000),
  NODE_ID: z.string().min(1).max(100).optional(),

  JWT_ALGORITHM: z.enum(['HS256', 'RS256']).default('HS256'),
  JWT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters; make one with: openssl rand -base64 48')
    .meta({ allowed: 'at least 32 characters (make one with `openssl rand -base64 48`)' })
    .optional(),
  JWT_PRIVATE_KEY_FILE: z.string().optional(),
  JWT_PUBLIC_KEY_FILE: z.string().optional(),
  JWT_ISSUER: z.string().default('classroom-attendance'),
  ACCESS_TOKEN_TTL_S: int(30, 86_400).default(900),
  REFRESH_TOKEN_TTL_S: int(300, 365 * 86_400).default(30 * 86_400),
  BCRYPT_COST: int(4, 15).default(12),
  // Unset: from the machine's cores when the config is loaded (defaultBcryptThreads).
  BCRYPT_THREADS: int(1, 64).optional(),
  BCRYPT_MAX_QUEUE: int(0, 100_000).default(100),

  BODY_LIMIT_BYTES: int(1_024, 50 * 1024 * 1024).default(1024 * 1024),
  SOCKET_MAX_BUFFER_BYTES: int(1_024, 50 * 1024 * 1024).default(1024 * 1024),
  SOCKET_MAX_QUEUED_BYTES: int(0, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  SOCKET_MAX_PER_USER: int(0, 100_000).default(50),
  TRUST_PROXY: trustProxy.default(false),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must have at least 16 characters').optional(),
  METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  CORS_ORIGINS: z.string().default(''),

  SEED_DEMO: bool.optional(),
  // Checked in resolveParts, against the time zones this Node.js knows.
  DEFAULT_TIMEZONE: z.string().meta({ allowed: TIMEZONE_ALLOWED }).default('UTC'),

  CODE_PERIOD_S: int(5, 600).default(15),
  LOCATION_MAX_AGE_S: int(5, 3_600).default(120),
  CHECKIN_RATE_PER_MINUTE: int(1, 600).default(10),
  CHECKIN_BATCH_WINDOW_MS: int(0, 100).default(0),
  CHECKIN_BATCH_MAX: int(1, 5_000).default(200),
  CHECKIN_BATCH_PIPELINE: int(1, 8).default(1),
  CHECKIN_RESUME_PER_TURN: int(0, 5_000).default(0),
  LOGIN_ACCOUNT_FREE_FAILURES: int(1, 10_000).default(20),
  LOGIN_ADDRESS_ACCOUNT_FREE_FAILURES: int(1, 10_000).default(10),
  LOGIN_BACKOFF_BASE_MS: int(100, 3_600_000).default(1_000),
  LOGIN_BACKOFF_MAX_MS: int(1_000, 24 * 3_600_000).default(15 * 60_000),
  LOGIN_ADDRESS_PER_MINUTE: int(1, 100_000).default(300),
  FACE_UPLOADS_PER_HOUR: int(1, 100_000).default(30),
  UPLOADS_MAX_CONCURRENT: int(1, 1_000).default(4),
  UPLOADS_MAX_PER_USER: int(1, 1_000).default(1),
  SOCKET_MAX_IN_FLIGHT: int(1, 1_000).default(8),
  SOCKET_CONNECT_RATE_PER_MINUTE: int(1, 1_000_000).default(3_000),
  SOCKET_CONNECT_USER_RATE_PER_MINUTE: int(1, 1_000_000).default(60),
  SOCKET_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  SOCKET_HEAVY_RATE_PER_MINUTE: int(1, 1_000_000).default(60),
  SOCKET_ADMISSION_MAX_HANDSHAKES: int(0, 100_000).default(500),
  // Unset: four fifths of SOCKET_ADMISSION_MAX_HANDSHAKES (rounded down, at least 1 when that is on).
  SOCKET_ADMISSION_MAX_HANDSHAKES_PER_ADDRESS: int(0, 100_000).optional(),
  SOCKET_ADMISSION_MAX_LAG_MS: int(0, 60_000).default(0),
  SOCKET_ADMISSION_HOLD_MS: int(100, 60_000).default(5_000),
  HTTP_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  HTTP_HEAVY_RATE_PER_MINUTE: int(1, 1_000_000).default(30),
  HTTP_PUBLIC_RATE_PER_MINUTE: int(1, 1_000_000).default(1_200),
  HTTP_STATIC_RATE_PER_MINUTE: int(1, 1_000_000).default(6_000),
  SCHEDULER_INTERVAL_MS: int(100, 60_000).default(1_000),
  CLOSE_ANSWER_WAIT_MS: int(0, 60_000).default(3_000),
  CLOSE_MAX_MS: int(1_000, 86_400_000).default(600_000),
  ROSTER_BATCH_MS: int(0, 1_000).default(40),
  CHECKIN_STAGES_FILE: z.string().min(1).optional(),
  SOCKET_RECHECK_MS: int(0, 3_600_000).default(15_000),
  // At most 30 s: the WebSocket library's and engine.io's own waits, which the grace cuts short.
  CONNECTION_CLOSE_GRACE_MS: int(100, 30_000).default(2_000),
  TOKEN_PURGE_INTERVAL_MS: int(60_000, 7 * 86_400_000).default(3_600_000),
  RETENTION_INTERVAL_MS: int(60_000, 7 * 86_400_000).default(86_400_000),
  TIMETABLE_INTERVAL_MS: int(60_000, 86_400_000).default(900_000),
  TIMETABLE_HORIZON_DAYS: int(1, 62).default(7),
  SESSION_REOPEN_WINDOW_MS: int(0, 7 * 86_400_000).default(3_600_000),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  WEBHOOK_TIMEOUT_MS: int(1_000, 60_000).default(10_000),
  WEBHOOK_POLL_MS: int(50, 60_000).default(1_000),
  FACE_ENABLED: bool.default(true),
  FACE_MIN_REAL: z.coerce.number().min(0).max(1).default(0.3),
  FACE_MIN_LIVE: z.coerce.number().min(0).max(1).default(0.3),

  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be the whole address users open, with https:// (e.g. https://attendance.school.example)' })
    .meta({ allowed: 'an `https://` (or `http://`) address, with at most a plain path' })
    .optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'SMTP_URL must start with smtp:// or smtps://')
    // A password with / # ? or @ made a URL nothing reads as meant: mail went nowhere, and the start's check threw.
    .refine(
      (v) => URL.canParse(v),
      'is not a URL: percent-encode / # ? @ : and % in the user name and password (/ as %2F, # as %23, @ as %40)',
    )
    .meta({ allowed: 'an `smtp://` or `smtps://` URL, `/ # ? @ : %` in its user name and password percent-encoded' })
    .optional(),
  // Checked here: a server refuses a sender without an address at MAIL FROM, so every email would fail.
  MAIL_FROM: z
    .string()
    .max(320)
    .regex(MAIL_FROM_PATTERN, 'must be an address, or a name and an address: Example School <attendance@school.example>')
    .meta({ allowed: 'an address, or a name and an address (`Example School <attendance@school.example>`), at most 320 characters' })
    .optional(),
  MAIL_QUEUE_MAX: int(1, 1_000_000).default(5_000),
  MAIL_MAX_PER_MINUTE: int(0, 100_000).default(0),
  MAIL_OUTBOX_POLL_MS: int(100, 3_600_000).default(30_000),
  MAIL_RETRY_BASE_MS: int(10, 86_400_000).default(60_000),
  MAIL_MAX_ATTEMPTS: int(1, 50).default(6),
  MAIL_OUTBOX_MAX: int(1, 1_000_000).default(10_000),
  DIGEST_HOUR: int(0, 23).default(7),
  INVITE_TTL_S: int(300, 90 * 86_400).default(7 * 86_400),
  RESET_TTL_S: int(60, 7 * 86_400).default(3_600),
  RESET_EMAILS_PER_HOUR: int(1, 1_000).default(3),
  RESET_REQUESTS_PER_ADDRESS_PER_HOUR: int(1, 100_000).default(30),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  dataDir: string;
  /** The node serves HTTPS itself with this certificate; null serves plain HTTP (behind a TLS proxy). */
  tls: TlsConfig | null;
  store:
    | {
        kind: 'sqlite';
        path: string;
        /** WAL checkpoints on a worker thread (default true) instead of inside the committing transaction. */
        checkpointWorker?: boolean;
        /** SQLITE_WRITER_WORKER: the group commit's record writes on a worker thread (file stores). */
        writerWorker?: boolean;
        /** The worker threads time their transactions and checkpoints: on with CHECKIN_STAGES_FILE. */
        threadTimes?: boolean;
      }
    | { kind: 'mongo'; uri: string; poolSize: number; serverSelectionTimeoutMs: number; socketTimeoutMs: number };
  redisUrl: string | null;
  /**
   * The path PUBLIC_URL publishes the service under ('' at the root, else '/attendance': no
   * trailing slash), for a reverse proxy that strips it. Pages the server writes (errors, the
   * unsubscribe link's, the API docs) and the OpenAPI document's server start with it.
   */
  basePath: string;
  /** Socket.IO Redis adapter: sharded pub/sub with a channel per room, or one pattern for all. */
  redisAdapter: 'sharded' | 'classic';
  /** Share of each rate limit's budget a node admits per key and window without asking Redis (docs/multi-node.md). */
  rateLimitLocalShare: number;
  /** How long a rate-limit or registry command waits for a hung Redis before it fails (docs/multi-node.md). */
  redisCommandTimeoutMs: number;
  nodeId: string;
  jwt: {
    algorithm: 'HS256' | 'RS256';
    /** HS256 secret; null with RS256. */
    secret: string | null;
    privateKey: string | null;
    publicKey: string | null;
    issuer: string;
    accessTtlS: number;
    refreshTtlS: number;
  };
  bcrypt: {
    cost: number;
    /** Worker threads that hash and check passwords (the event loop never does it). */
    threads: number;
    /** Password checks waiting for a bcrypt thread; a login beyond them is answered BUSY with Retry-After. */
    maxQueue: number;
  };
  bodyLimitBytes: number;
  socketMaxBufferBytes: number;
  /** Most bytes one connection may have waiting to be written before it is closed (0: no bound). */
  socketMaxQueuedBytes: number;
  /** Most sockets of one user on one node at once (0: no bound). */
  socketMaxPerUser: number;
  trustProxy: boolean | number | string[];
  corsOrigins: string[];
  /** Prometheus metrics: /metrics on the main port for a bearer of `token`, and/or a port of its own. */
  metrics: { token: string | null; port: number | null; host: string };
  seedDemo: boolean;
  defaultTimezone: string;
  checkin: {
    codePeriodS: number;
    locationMaxAgeS: number;
    ratePerMinute: number;
    /** Group commit: how long an accepted check-in waits for others, and the most in one write. */
    batch: { windowMs: number; max: number; pipeline: number; resumePerTurn: number };
  };
  login: LoginLimits;
  /** Face enrolment and class-photo uploads per user per hour. */
  faceUploadsPerHour: number;
  /** Multipart uploads read at once on one node (each holds its files in memory). */
  uploadsMaxConcurrent: number;
  /** Of those, the most one user may have (a client sending its bodies slowly holds its slots). */
  uploadsMaxPerUser: number;
  /** Request rates of every socket command and HTTP route (docs/limits.md). */
  limits: RequestLimits;
  schedulerIntervalMs: number;
  /** How long a teacher's close waits for its writes before answering with the session still closing. */
  closeAnswerWaitMs: number;
  /** The longest a close may run before it gives the session up (its lease released for the next close). */
  closeMaxMs: number;
  /** Roster changes of a session are sent to its screens at most this often (0: each at once). */
  rosterBatchMs: number;
  /** CHECKIN_STAGES_FILE: where the node writes each check-in's stage times at exit (a measuring tool); null: none kept. */
  checkinStagesFile: string | null;
  /** Every connected socket's login, account and role are re-checked this often, idle ones too (0: only at its commands). */
  socketRecheckMs: number;
  /** At shutdown, how long the node's connections are given to close in order before they are cut. */
  connectionCloseGraceMs: number;
  /** How often one node of the deployment deletes expired refresh tokens and spent set-password links. */
  tokenPurgeIntervalMs: number;
  /** How often one node of the deployment applies the organisations' retention settings. */
  retentionIntervalMs: number;
  /** How often one node creates the timetable's sessions, and how many days ahead. */
  timetable: { intervalMs: number; horizonDays: number };
  /** How long after closing staff may reopen a session (0: never). */
  sessionReopenWindowMs: number;
  /** Outbound webhooks (docs/webhooks.md). */
  webhooks: {
    /** Let deliveries reach private, loopback and link-local addresses (tests, development). */
    allowPrivate: boolean;
    timeoutMs: number;
    /** How often each node looks for due deliveries. */
    pollMs: number;
  };
  /** Face verification (FACE_* options, see src/face/face-config.ts); `enabled` starts the worker pool. */
  face: FaceConfig & { enabled: boolean; minReal: number; minLive: number };
  accounts: AccountSettings;
  mail: MailSettings;
}

/** Invitations and password resets (README "Inviting users"). */
export interface AccountSettings {
  /** The school's address of this service, without a trailing slash; links in emails start with it. */
  publicUrl: string;
  /** False when PUBLIC_URL is unset: links then use the port this node listens on (PORT=0 included). */
  publicUrlGiven: boolean;
  inviteTtlS: number;
  resetTtlS: number;
  /** Reset emails per email address per hour; more requests get the same answer and no email. */
  resetEmailsPerHour: number;
  /** Forgot-password requests per client address (an IPv6 one by its /64) per hour; beyond, RATE_LIMITED. */
  resetRequestsPerAddressPerHour: number;
}

export interface MailSettings {
  /** Null: messages are written to `outboxDir` as .eml files (and logged), never dropped. */
  smtpUrl: string | null;
  from: string;
  outboxDir: string;
  /** Messages waiting to be sent on one node; beyond, bulk invitations answer BUSY. */
  queueMax: number;
  /**
   * Messages all nodes together hand the relay in any 60 seconds (0: no bound): relays such as
   * Office 365's or Google Workspace's refuse a sender past their per-minute limit.
   */
  maxPerMinute: number;
  /** The stored outbox of notification emails (docs/notifications.md). */
  outbox: { pollMs: number; retryBaseMs: number; maxAttempts: number; maxWaiting: number };
  /** Local hour (organisation time zone) from which each teacher's daily digest goes out. */
  digestHour: number;
}

export interface RequestLimits {
  /** Commands one socket may have unanswered at once; more are answered RATE_LIMITED at once. */
  socketMaxInFlight: number;
  /** Socket handshakes without a valid access token, per client IP. */
  socketConnectPerMinute: number;
  /** Socket handshakes with a valid access token, per login (user and sid). */
  socketConnectUserPerMinute: number;
  /** Light socket commands per user. */
  socketPerMinute: number;
  /** Heavy socket commands (whole rosters, session lists, open/close) per user. */
  socketHeavyPerMinute: number;
  /**
   * Past either bound a node refuses new Socket.IO handshakes BUSY before they cost anything
   * (SOCKET_ADMISSION_*): handshakes in flight, those of one client address, and how late its
   * event loop is (ms). 0: that bound off. A handshake counts at most `holdMs` from its admission.
   */
  socketAdmission: { maxHandshakes: number; maxHandshakesPerAddress: number; maxLagMs: number; holdMs: number };
  /** Authenticated HTTP requests per user. */
  httpPerMinute: number;
  /** Heavy HTTP routes (exports, imports, uploads, summaries) per user. */
  httpHeavyPerMinute: number;
  /** Unauthenticated API requests (login, refresh, logout, the API document) per client IP. */
  httpPublicPerMinute: number;
  /** Browser pages and their assets per client IP. */
  httpStaticPerMinute: number;
}

/** Login throttling (README "Rules worth knowing"). */
export interface LoginLimits {
  /** Failed logins in a row per account, from any address, before back-off. */
  accountFreeFailures: number;
  /** The same per client address and account together, and per known device. */
  addressAccountFreeFailures: number;
  /** The first back-off pause; each further failure doubles it up to backoffMaxMs. */
  backoffBaseMs: number;
  /** Longest back-off pause. */
  backoffMaxMs: number;
  /** Failed or unfinished logins per client address per minute. */
  addressPerMinute: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type ParsedEnv = z.infer<typeof EnvSchema>;

/** The sender without MAIL_FROM: fine for the outbox folder and development, refused for SMTP in production. */
const DEFAULT_MAIL_FROM = 'Classroom attendance <no-reply@localhost>';

/**
 * The checks across variables (production requirements, TLS, keys, face options) over values
 * that parsed. `dry` reports without side effects: no development secret or certificate is
 * written.
 */
function resolveParts(e: ParsedEnv, env: NodeJS.ProcessEnv, dry: boolean) {
  const problems: string[] = [];
  const production = e.NODE_ENV === 'production';
  const dataDir = path.resolve(e.DATA_DIR);

  const storeKind = e.STORE ?? (e.MONGODB_URI ? 'mongo' : 'sqlite');
  let store: Config['store'];
  if (storeKind === 'mongo') {
    if (!e.MONGODB_URI) problems.push('STORE=mongo requires MONGODB_URI');
    store = {
      kind: 'mongo',
      uri: e.MONGODB_URI ?? '',
      poolSize: e.MONGODB_POOL_SIZE,
      serverSelectionTimeoutMs: e.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
      socketTimeoutMs: e.MONGODB_SOCKET_TIMEOUT_MS,
    };
  } else {
    if (production && !e.SQLITE_PATH) {
      problems.push('production requires an explicit store location: set SQLITE_PATH or MONGODB_URI');
    }
    store = {
      kind: 'sqlite',
      path: path.resolve(e.SQLITE_PATH ?? path.join(dataDir, 'attendance.db')),
      checkpointWorker: e.SQLITE_CHECKPOINT_WORKER,
      writerWorker: e.SQLITE_WRITER_WORKER,
      ...(e.CHECKIN_STAGES_FILE ? { threadTimes: true } : {}),
    };
  }

  let secret: string | null = null;
  let privateKey: string | null = null;
  let publicKey: string | null = null;
  if (e.JWT_ALGORITHM === 'RS256') {
    if (!e.JWT_PRIVATE_KEY_FILE || !e.JWT_PUBLIC_KEY_FILE) {
      problems.push('JWT_ALGORITHM=RS256 requires JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE');
    } else {
      privateKey = readKeyFile(e.JWT_PRIVATE_KEY_FILE, problems);
      publicKey = readKeyFile(e.JWT_PUBLIC_KEY_FILE, problems);
    }
  } else if (e.JWT_SECRET) {
    secret = e.JWT_SECRET;
  } else if (production) {
    problems.push('production requires JWT_SECRET (at least 32 characters) or RS256 key files');
  } else if (!dry) {
    secret = developmentSecret(dataDir, e.NODE_ENV === 'test');
  }

  const tls = resolveTls(
    // A dry pass checks but generates no development certificate.
    { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE, selfSigned: e.TLS_SELF_SIGNED && (!dry || production), env: e.NODE_ENV, dataDir },
    problems,
  );

  if (production && !e.PUBLIC_URL) {
    // Its default names localhost: every invitation and reset link would lead nowhere.
    problems.push(
      'production requires PUBLIC_URL, the address users open (e.g. https://attendance.school.example): invitation and password links start with it',
    );
  }

  if (production && e.SMTP_URL && !e.MAIL_FROM) {
    // Mail servers refuse or file as spam a sender at localhost, and no one can answer it.
    problems.push(
      `production with SMTP_URL requires MAIL_FROM, the sender of its emails (e.g. "Example School <attendance@school.example>"): the default, ${DEFAULT_MAIL_FROM}, is an address at localhost`,
    );
  }

  const basePath = e.PUBLIC_URL ? publicPath(e.PUBLIC_URL, problems) : '';

  if (Array.isArray(e.TRUST_PROXY)) {
    // Checked here, with express's own rules, so a typo is one line of the start's list, not a stack trace later.
    try {
      compileTrustProxy(e.TRUST_PROXY);
    } catch (err) {
      problems.push(
        `${shownValue('TRUST_PROXY', env['TRUST_PROXY'])}: ${err instanceof Error ? err.message : String(err)}; allowed: ${TRUST_PROXY_ALLOWED.replace(/`/g, '')}`,
      );
    }
  }

  if (!isValidTimeZone(e.DEFAULT_TIMEZONE)) {
    problems.push(
      `${shownValue('DEFAULT_TIMEZONE', e.DEFAULT_TIMEZONE)}: unknown time zone; allowed: ${TIMEZONE_ALLOWED.replace(/`/g, '')}`,
    );
  }

  let faceConfig: FaceConfig | null = null;
  try {
    faceConfig = loadFaceConfig(env);
  } catch (err) {
    if (!(err instanceof FaceConfigError)) throw err;
    problems.push(...err.problems);
  }

  return { problems, production, dataDir, store, secret, privateKey, publicKey, tls, faceConfig, basePath };
}

/**
 * Every problem of a configuration some of whose values did not parse: theirs, and those the
 * checks across variables find in the others (run dry, as if the bad ones were unset), so one
 * start lists them all. A check naming a variable already reported is left out.
 */
function allProblems(raw: Record<string, string>, env: NodeJS.ProcessEnv, issues: readonly z.core.$ZodIssue[]): string[] {
  const own = issues.map((i) => problemLine(i, raw, EnvSchema.shape));
  const bad = new Set(issues.map((i) => String(i.path[0] ?? '')));
  const rest = EnvSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k))));
  if (!rest.success) return own;
  const unset = new Set([...bad].filter(Boolean));
  const more = resolveParts(rest.data, Object.fromEntries(Object.entries(env).filter(([k]) => !unset.has(k))), true).problems;
  return [...own, ...more.filter((p) => ![...unset].some((k) => p.includes(k)))];
}

/**
 * Reads and validates the configuration. In development a JWT secret is generated once and
 * kept under DATA_DIR; in production every secret and the store location must be explicit.
 */
/**
 * Four fifths of the bound: one address still cannot keep every other one out, and the pupils of
 * a school behind one address reconnecting at once are nearly as fast as with no such bound (half
 * of it slowed a storm of 2,000 phones from one address by about a third: docs/limits.md).
 */
const defaultPerAddress = (maxHandshakes: number): number => (maxHandshakes === 0 ? 0 : Math.max(1, Math.floor((maxHandshakes * 4) / 5)));

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = stripEmpty(env);
  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(allProblems(raw, env, parsed.error.issues));
  const e = parsed.data;
  // Checked dry first: a start refused for any reason (a bad FACE_* value too) has written no
  // development secret or certificate.
  const checked = resolveParts(e, env, true);
  if (checked.problems.length > 0 || !checked.faceConfig) throw new ConfigError(checked.problems);
  const { problems, production, dataDir, store, secret, privateKey, publicKey, tls, faceConfig, basePath } = resolveParts(e, env, false);
  if (problems.length > 0 || !faceConfig) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    dataDir,
    tls,
    store,
    redisUrl: e.REDIS_URL ?? null,
    redisAdapter: e.REDIS_ADAPTER,
    rateLimitLocalShare: e.RATE_LIMIT_LOCAL_SHARE,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    nodeId: e.NODE_ID ?? `node-${randomBytes(4).toString('hex')}`,
    jwt: {
      algorithm: e.JWT_ALGORITHM,
      secret,
      privateKey,
      publicKey,
      issuer: e.JWT_ISSUER,
      accessTtlS: e.ACCESS_TOKEN_TTL_S,
      refreshTtlS: e.REFRESH_TOKEN_TTL_S,
    },
    bcrypt: { cost: e.BCRYPT_COST, threads: e.BCRYPT_THREADS ?? defaultBcryptThreads(), maxQueue: e.BCRYPT_MAX_QUEUE },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    socketMaxBufferBytes: e.SOCKET_MAX_BUFFER_BYTES,
    socketMaxQueuedBytes: e.SOCKET_MAX_QUEUED_BYTES,
    socketMaxPerUser: e.SOCKET_MAX_PER_USER,
    trustProxy: e.TRUST_PROXY,
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    metrics: { token: e.METRICS_TOKEN ?? null, port: e.METRICS_PORT ?? null, host: e.METRICS_HOST },
    seedDemo: e.SEED_DEMO ?? !production,
    defaultTimezone: e.DEFAULT_TIMEZONE,
    checkin: {
      codePeriodS: e.CODE_PERIOD_S,
      locationMaxAgeS: e.LOCATION_MAX_AGE_S,
      ratePerMinute: e.CHECKIN_RATE_PER_MINUTE,
      batch: {
        windowMs: e.CHECKIN_BATCH_WINDOW_MS,
        max: e.CHECKIN_BATCH_MAX,
        pipeline: e.CHECKIN_BATCH_PIPELINE,
        resumePerTurn: e.CHECKIN_RESUME_PER_TURN,
      },
    },
    login: {
      accountFreeFailures: e.LOGIN_ACCOUNT_FREE_FAILURES,
      addressAccountFreeFailures: e.LOGIN_ADDRESS_ACCOUNT_FREE_FAILURES,
      backoffBaseMs: e.LOGIN_BACKOFF_BASE_MS,
      backoffMaxMs: e.LOGIN_BACKOFF_MAX_MS,
      addressPerMinute: e.LOGIN_ADDRESS_PER_MINUTE,
    },
    faceUploadsPerHour: e.FACE_UPLOADS_PER_HOUR,
    uploadsMaxConcurrent: e.UPLOADS_MAX_CONCURRENT,
    uploadsMaxPerUser: e.UPLOADS_MAX_PER_USER,
    limits: {
      socketMaxInFlight: e.SOCKET_MAX_IN_FLIGHT,
      socketConnectPerMinute: e.SOCKET_CONNECT_RATE_PER_MINUTE,
      socketConnectUserPerMinute: e.SOCKET_CONNECT_USER_RATE_PER_MINUTE,
      socketPerMinute: e.SOCKET_RATE_PER_MINUTE,
      socketHeavyPerMinute: e.SOCKET_HEAVY_RATE_PER_MINUTE,
      socketAdmission: {
        maxHandshakes: e.SOCKET_ADMISSION_MAX_HANDSHAKES,
        maxHandshakesPerAddress: e.SOCKET_ADMISSION_MAX_HANDSHAKES_PER_ADDRESS ?? defaultPerAddress(e.SOCKET_ADMISSION_MAX_HANDSHAKES),
        maxLagMs: e.SOCKET_ADMISSION_MAX_LAG_MS,
        holdMs: e.SOCKET_ADMISSION_HOLD_MS,
      },
      httpPerMinute: e.HTTP_RATE_PER_MINUTE,
      httpHeavyPerMinute: e.HTTP_HEAVY_RATE_PER_MINUTE,
      httpPublicPerMinute: e.HTTP_PUBLIC_RATE_PER_MINUTE,
      httpStaticPerMinute: e.HTTP_STATIC_RATE_PER_MINUTE,
    },
    schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS,
    closeAnswerWaitMs: e.CLOSE_ANSWER_WAIT_MS,
    closeMaxMs: e.CLOSE_MAX_MS,
    rosterBatchMs: e.ROSTER_BATCH_MS,
    checkinStagesFile: e.CHECKIN_STAGES_FILE ?? null,
    socketRecheckMs: e.SOCKET_RECHECK_MS,
    connectionCloseGraceMs: e.CONNECTION_CLOSE_GRACE_MS,
    tokenPurgeIntervalMs: e.TOKEN_PURGE_INTERVAL_MS,
    retentionIntervalMs: e.RETENTION_INTERVAL_MS,
    timetable: { intervalMs: e.TIMETABLE_INTERVAL_MS, horizonDays: e.TIMETABLE_HORIZON_DAYS },
    sessionReopenWindowMs: e.SESSION_REOPEN_WINDOW_MS,
    webhooks: { allowPrivate: e.WEBHOOK_ALLOW_PRIVATE, timeoutMs: e.WEBHOOK_TIMEOUT_MS, pollMs: e.WEBHOOK_POLL_MS },
    face: { ...faceConfig, enabled: e.FACE_ENABLED, minReal: e.FACE_MIN_REAL, minLive: e.FACE_MIN_LIVE },
    basePath,
    accounts: {
      // Unset: this node's own address; the port is settled once listening (PORT=0 picks one).
      publicUrl: (e.PUBLIC_URL ?? `${tls ? 'https' : 'http'}://localhost:${e.PORT}`).replace(/\/+$/, ''),
      publicUrlGiven: e.PUBLIC_URL !== undefined,
      inviteTtlS: e.INVITE_TTL_S,
      resetTtlS: e.RESET_TTL_S,
      resetEmailsPerHour: e.RESET_EMAILS_PER_HOUR,
      resetRequestsPerAddressPerHour: e.RESET_REQUESTS_PER_ADDRESS_PER_HOUR,
    },
    mail: {
      smtpUrl: e.SMTP_URL ?? null,
      from: e.MAIL_FROM ?? DEFAULT_MAIL_FROM,
      outboxDir: path.join(dataDir, 'outbox'),
      queueMax: e.MAIL_QUEUE_MAX,
      maxPerMinute: e.MAIL_MAX_PER_MINUTE,
      outbox: {
        pollMs: e.MAIL_OUTBOX_POLL_MS,
        retryBaseMs: e.MAIL_RETRY_BASE_MS,
        maxAttempts: e.MAIL_MAX_ATTEMPTS,
        maxWaiting: e.MAIL_OUTBOX_MAX,
      },
      digestHour: e.DIGEST_HOUR,
    },
  };
}

/**
 * What a start should say about a configuration that runs but will not serve a school well; one
 * line each, logged as warnings.
 */
export function startWarnings(config: Config, now = new Date()): string[] {
  const warnings: string[] = [];
  if (config.tls) warnings.push(...certificateWarnings(config.tls, config.accounts.publicUrlGiven ? config.accounts.publicUrl : null, now));
  if (config.env === 'production' && config.accounts.publicUrl.startsWith('http:')) {
    warnings.push(
      `PUBLIC_URL ${config.accounts.publicUrl} is plain http: phones share their location and camera only with https pages, ` +
        'so invitation links lead to pages that cannot check in. Publish the service over https:// (docs/deploy.md)',
    );
  }
  return warnings;
}

/** A path segment a proxy can publish the service under: no encoding, no dot segments. */
const PATH_SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;

/**
 * The path of PUBLIC_URL without its trailing slash ('' at the root). The pages' addresses are
 * relative to it, so it must be a plain path: no query, fragment, credentials, encoded or dot
 * segments, which a proxy and the browser could read differently.
 */
function publicPath(publicUrl: string, problems: string[]): string {
  const url = new URL(publicUrl);
  const segments = url.pathname.split('/').filter(Boolean);
  const bad =
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== '' ||
    /\/\/|%/.test(url.pathname) ||
    !segments.every((s) => PATH_SEGMENT.test(s));
  if (bad) {
    problems.push(
      `PUBLIC_URL: ${publicUrl} must be an address with at most a plain path (e.g. https://www.school.example/attendance): no query, fragment, user, encoded or dot segments`,
    );
    return '';
  }
  return segments.map((s) => `/${s}`).join('');
}

/** Empty variables count as unset, so `FOO=` in a .env file does not override a default. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

function readKeyFile(file: string, problems: string[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return null;
  }
}

/**
 * Development convenience: one random secret per data directory, so tokens survive restarts.
 * Tests get a fresh in-memory secret and touch no files.
 */
function developmentSecret(dataDir: string, ephemeral: boolean): string {
  if (ephemeral) return randomBytes(32).toString('base64url');
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/**
 * One less than the cores (at least one, at most four): the event loop keeps a core for the
 * check-ins while a class logs in.
 */
function defaultBcryptThreads(): number {
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
