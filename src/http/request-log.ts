import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '../logger.js';

/** Client-chosen request ids are echoed only when they look like ids, never as arbitrary text. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SAFE_HEADERS = ['user-agent', 'content-type', 'content-length', 'x-request-id'] as const;
const QUIET_PATHS = new Set(['/healthz', '/readyz']);
/** Query parameters that carry a credential (an unsubscribe link's token, say): logged as [redacted]. */
const SECRET_PARAMS = /^(token|access_token|refresh_token|code|secret|key|password)$/i;

/** The URL as logged: path and query, with the values of credential parameters replaced. */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let redacted = false;
  for (const name of new Set(params.keys())) {
    if (!SECRET_PARAMS.test(name)) continue;
    params.set(name, '[redacted]');
    redacted = true;
  }
  return redacted ? `${url.slice(0, q)}?${params.toString()}` : url;
}

export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Request logging with a request id (accepted from X-Request-Id or generated, and echoed
 * back). Logs only a few safe headers: never Authorization, cookies, bodies, or credentials
 * carried in the query string.
 */
export function requestLogger(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdFor(req);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? '') },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    serializers: {
      req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown>; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: loggedUrl(req.url),
        remoteAddress: req.remoteAddress,
        headers: Object.fromEntries(SAFE_HEADERS.filter((h) => req.headers[h] !== undefined).map((h) => [h, req.headers[h]])),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
