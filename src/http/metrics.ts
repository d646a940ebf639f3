import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { ReadinessReport } from '../shared/readiness.js';

/**
 * Times every request under the route it matched as declared (`/api/v1/users/:id`), so label
 * values stay a small fixed set; requests that matched no route count as `unmatched`.
 */
export function requestTimer(metrics: AppMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/**
 * GET /metrics on the service's own port, for a bearer of METRICS_TOKEN only: the figures tell
 * an outsider how busy the school is, and scraping costs work.
 */
export function metricsEndpoint(metrics: AppMetrics, token: string): RequestHandler {
  return async (req: Request, res: Response) => {
    if (!bearsMetricsToken(req, token)) {
      res
        .status(401)
        .setHeader('WWW-Authenticate', 'Bearer')
        .json({ error: { code: 'UNAUTHENTICATED', message: 'A metrics token is required.' } });
      return;
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/** Whether the request carries `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time). */
export function bearsMetricsToken(req: Pick<Request, 'headers'>, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(req.headers.authorization ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A listener for a port kept off the public network, without a token: /metrics, and /readyz with
 * the operator's detail (why a check fails, server paths included).
 */
export function metricsServer(metrics: AppMetrics, readiness: () => Promise<ReadinessReport>, logger: Logger): http.Server {
  return http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/readyz') {
      void readiness().then(
        (report) => res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report.operator)),
        (err: unknown) => {
          logger.error({ err }, 'readiness report failed');
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500).end();
      },
    );
  });
}
