import type { LoginLimits, RequestLimits } from '../config.js';
import { createLoginLimiters, type LoginLimiterFactories, type LoginLimiters } from './accounts/login-throttle.js';
import type { RateLimiter, RateLimiterOptions } from './rate-limiter.js';
import { mailRateLimit } from './notifications/mail-rate.js';
import { createRequestLimiters, type RequestLimiters } from './request-limits.js';

/** Builds limiters of each kind: in memory for one node (src/adapters), in Redis (src/cluster) for several. */
export type LimiterBackend = LoginLimiterFactories;

/** The budgets every limiter is built from (config: CHECKIN_RATE_PER_MINUTE, LOGIN_*, ...). */
export interface LimitSettings {
  checkinPerMinute: number;
  faceUploadsPerHour: number;
  resetEmailsPerHour: number;
  /** Emails every node together hands the mail relay per minute (MAIL_MAX_PER_MINUTE; 0: no bound). */
  mailPerMinute: number;
  resetRequestsPerAddressPerHour: number;
  login: LoginLimits;
  requests: RequestLimits;
}

/** Every limiter of a node, from one backend. */
export interface Limiters {
  /** Check-in submissions per student. */
  submit: RateLimiter;
  /** Face enrolment and class-photo uploads per user (both share it). */
  faceUpload: RateLimiter;
  /** Reset emails per email address. */
  reset: RateLimiter;
  /** Emails handed to the mail relay, across nodes; null when MAIL_MAX_PER_MINUTE is 0. */
  mailSend: RateLimiter | null;
  /** Forgot-password requests per client address, whatever their email. */
  resetRequest: RateLimiter;
  login: LoginLimiters;
  /** Request-rate classes of the transports (docs/limits.md). */
  requests: RequestLimiters;
}

/** The settings of the limiters outside the login and request tables, written once for both backends. */
export function limiterSettings(s: LimitSettings): Record<'submit' | 'faceUpload' | 'reset' | 'resetRequest', RateLimiterOptions> {
  return {
    submit: { points: s.checkinPerMinute, windowS: 60, keyPrefix: 'checkin' },
    faceUpload: { points: s.faceUploadsPerHour, windowS: 60 * 60, keyPrefix: 'face-upload' },
    // Mail sent to someone else's address on request: a flood across nodes must not get more.
    reset: { points: s.resetEmailsPerHour, windowS: 60 * 60, keyPrefix: 'reset-mail', exact: true },
    // One address asking for many others' resets (3 each) would still send thousands an hour.
    resetRequest: { points: s.resetRequestsPerAddressPerHour, windowS: 60 * 60, keyPrefix: 'reset-ask', exact: true },
  };
}

export function createLimiters(s: LimitSettings, backend: LimiterBackend): Limiters {
  const table = limiterSettings(s);
  const mail = mailRateLimit(s.mailPerMinute);
  return {
    mailSend: mail ? backend.rate(mail) : null,
    submit: backend.rate(table.submit),
    faceUpload: backend.rate(table.faceUpload),
    reset: backend.rate(table.reset),
    resetRequest: backend.rate(table.resetRequest),
    login: createLoginLimiters(s.login, backend),
    requests: createRequestLimiters(s.requests, backend.rate),
  };
}
