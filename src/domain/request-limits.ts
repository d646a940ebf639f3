import type { RequestLimits } from '../config.js';
import type { RateLimiter, RateLimiterOptions } from './rate-limiter.js';

/**
 * The request-rate classes of the transports. Each socket command and HTTP route names one
 * (docs/limits.md lists them all); check-ins, logins and face uploads keep their own limiters.
 */
export const REQUEST_LIMIT_CLASSES = [
  'socketConnect',
  'socketConnectUser',
  'socket',
  'socketHeavy',
  'http',
  'httpHeavy',
  'httpPublic',
  'httpStatic',
] as const;
export type RequestLimitClass = (typeof REQUEST_LIMIT_CLASSES)[number];

export type RequestLimiters = Record<RequestLimitClass, RateLimiter>;

/** Builds one limiter from its settings: in memory for one node, in Redis for several. */
export type RateLimiterFactory = (opts: RateLimiterOptions) => RateLimiter;

/** The settings of every class, written once for both backends. Windows are one minute. */
export function requestLimitSettings(limits: RequestLimits): Record<RequestLimitClass, RateLimiterOptions> {
  const perMinute = (points: number, keyPrefix: string): RateLimiterOptions => ({ points, windowS: 60, keyPrefix });
  return {
    socketConnect: perMinute(limits.socketConnectPerMinute, 'socket-connect'),
    socketConnectUser: perMinute(limits.socketConnectUserPerMinute, 'socket-connect-user'),
    socket: perMinute(limits.socketPerMinute, 'socket'),
    socketHeavy: perMinute(limits.socketHeavyPerMinute, 'socket-heavy'),
    http: perMinute(limits.httpPerMinute, 'http'),
    httpHeavy: perMinute(limits.httpHeavyPerMinute, 'http-heavy'),
    httpPublic: perMinute(limits.httpPublicPerMinute, 'http-public'),
    httpStatic: perMinute(limits.httpStaticPerMinute, 'http-static'),
  };
}

export function createRequestLimiters(limits: RequestLimits, factory: RateLimiterFactory): RequestLimiters {
  const settings = requestLimitSettings(limits);
  return Object.fromEntries(REQUEST_LIMIT_CLASSES.map((c) => [c, factory(settings[c])])) as RequestLimiters;
}
