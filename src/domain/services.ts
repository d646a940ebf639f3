import { PasswordHasher } from '../auth/passwords.js';
import type { TokenService } from '../auth/tokens.js';
import type { Config } from '../config.js';
import type { Store } from './store-ports.js';
import type { EventPublisher } from './events.js';
import { AccountService } from './accounts/account-service.js';
import { AuthService } from './accounts/auth-service.js';
import type { MailQueue } from './accounts/mail-queue.js';
import { DeviceTokens } from './accounts/device-tokens.js';
import { LoginThrottle, type LoginLimiters } from './accounts/login-throttle.js';
import type { FaceEngine } from './face/face-engine.js';
import { FaceEnrolmentService } from './face/enrolment-service.js';
import type { RateLimiter } from './rate-limiter.js';
import { OrganisationService } from './organisations/organisation-service.js';
import { PrivacyService } from './privacy/privacy-service.js';
import { SubjectService } from './subjects/subject-service.js';
import { CsvUserImport } from './users/csv-import.js';
import { UserService } from './users/user-service.js';
import { WebhookService } from './webhooks/webhook-service.js';

/** The domain services the transports call. Later layers add theirs here. */
export interface Services {
  auth: AuthService;
  accounts: AccountService;
  users: UserService;
  userImport: CsvUserImport;
  subjects: SubjectService;
  faces: FaceEnrolmentService;
  organisations: OrganisationService;
  privacy: PrivacyService;
  webhooks: WebhookService;
}

export interface ServiceDeps {
  config: Config;
  store: Store;
  tokens: TokenService;
  clock: () => Date;
  /** Where services announce changes the transports push to clients. */
  events: EventPublisher;
  /** In memory for one node, in Redis for several (built outside the domain, in app.ts). */
  loginLimiters: LoginLimiters;
  /** Face analysis for enrolment; absent means enrolment answers UNAVAILABLE. */
  face?: FaceEngine;
  /** Face uploads per user (enrolment and class photos share it). */
  faceUploadLimiter?: RateLimiter;
  /** Outgoing email (invitations, resets). */
  mail: MailQueue;
  /** Reset emails per email address. */
  resetLimiter: RateLimiter;
}

export function createServices(deps: ServiceDeps): Services {
  const { config, store, clock } = deps;
  const passwords = new PasswordHasher(config.bcryptCost);
  const loginThrottle = new LoginThrottle(deps.loginLimiters);
  // Every node has the JWT signing material, so every node accepts every device token.
  const signing = config.jwt.secret ?? config.jwt.privateKey;
  if (!signing) throw new Error('device tokens need the JWT secret or private key');
  const deviceTokens = new DeviceTokens(signing, clock);
  return {
    auth: new AuthService({
      store,
      passwords,
      tokens: deps.tokens,
      loginThrottle,
      deviceTokens,
      refreshTtlS: config.jwt.refreshTtlS,
      clock,
      events: deps.events,
    }),
    accounts: new AccountService({
      store,
      passwords,
      mail: deps.mail,
      clock,
      events: deps.events,
      publicUrl: config.accounts.publicUrl,
      inviteTtlMs: config.accounts.inviteTtlS * 1000,
      resetTtlMs: config.accounts.resetTtlS * 1000,
      resetLimiter: deps.resetLimiter,
    }),
    users: new UserService({ store, passwords, clock, events: deps.events }),
    userImport: new CsvUserImport({ store, passwords, clock }),
    subjects: new SubjectService({ store, clock, events: deps.events }),
    organisations: new OrganisationService({ store, clock }),
    faces: new FaceEnrolmentService({
      store,
      engine: deps.face,
      keepPhotos: config.face.keepPhotos,
      selfEnrolment: config.face.selfEnrolment,
      consentRequired: config.face.consentRequired,
      events: deps.events,
      thresholds: config.face.thresholds,
      ...(deps.faceUploadLimiter ? { limiter: deps.faceUploadLimiter } : {}),
      clock,
    }),
    privacy: new PrivacyService({ store, events: deps.events, clock }),
    webhooks: new WebhookService({ store, clock }),
  };
}
