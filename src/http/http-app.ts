import express, { type Express } from 'express';
import { createAuthenticate } from './authenticate.js';
import { RouteRegistry, perAddress, rateLimit, uploadGate } from './define-route.js';
import type { HttpContext, RouteGroup } from './http-context.js';
import { docsRouter } from './docs.js';
import { bearsMetricsToken, metricsEndpoint, requestTimer } from './metrics.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { hsts } from './hsts.js';
import { buildOpenApiDocument } from './openapi.js';
import { requestLogger } from './request-log.js';
import { defaultPublicDir, staticPages } from './static-pages.js';
import { accountRoutes } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
import { faceRoutes } from './routes/faces.js';
import { privacyRoutes } from './routes/privacy.js';
import { organisationRoutes } from './routes/organisation.js';
import { subjectRoutes } from './routes/subjects.js';
import { studentSubjectRoutes } from './routes/student-subjects.js';
import { teacherHandoverRoutes } from './routes/teacher-handover.js';
import { unstaffedSessionRoutes } from './routes/unstaffed-sessions.js';
import { userRoutes } from './routes/users.js';
import { attendanceRoutes } from './routes/attendance.js';
import { classPhotoRoutes } from './routes/class-photo.js';
import { reportRoutes } from './routes/reports.js';
import { excuseRoutes } from './routes/excuses.js';
import { guardianRoutes } from './routes/guardians.js';
import { timetableRoutes } from './routes/timetable.js';
import { webhookRoutes } from './routes/webhooks.js';
import { alertRoutes } from './routes/alerts.js';
import { oneRosterRoutes } from './routes/oneroster.js';

export const API_BASE = '/api/v1';
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  authRoutes,
  accountRoutes,
  organisationRoutes,
  userRoutes,
  faceRoutes,
  privacyRoutes,
  subjectRoutes,
  studentSubjectRoutes,
  teacherHandoverRoutes,
  unstaffedSessionRoutes,
  attendanceRoutes,
  classPhotoRoutes,
  reportRoutes,
  excuseRoutes,
  guardianRoutes,
  timetableRoutes,
  webhookRoutes,
  alertRoutes,
  oneRosterRoutes,
];

/** The express application: health probes, the versioned API, its OpenAPI document and docs page. */
export function createHttpApp(ctx: HttpContext): Express {
  const { config } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.trustProxy);
  app.use(requestLogger(ctx.logger));
  if (ctx.metrics) app.use(requestTimer(ctx.metrics));
  if (config.tls && !config.tls.selfSigned) app.use(hsts());
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });

  // Before the rate limits and the pages: Prometheus scrapes it every few seconds, with its own token.
  if (ctx.metrics && config.metrics.token) app.get('/metrics', metricsEndpoint(ctx.metrics, config.metrics.token));

  // Probes are never limited: an orchestrator must always get an answer, and both are cheap.
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // Public, so it names what fails and not why: the why (server paths) goes to the log, and to the
  // operator who shows the metrics token (or asks the metrics port).
  const metricsToken = config.metrics.token;
  app.get('/readyz', async (req, res) => {
    const report = await ctx.readiness();
    const operator = metricsToken !== null && bearsMetricsToken(req, metricsToken);
    res.status(report.ok ? 200 : 503).json(operator ? report.operator : report.checks);
  });

  // Answers hold personal data (rosters, records, the audit trail, exports): a browser's disk
  // cache would keep them on a school's shared computer past the user's logout. Routes that send
  // files set their own (`private, no-store`).
  app.use(API_BASE, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const router = express.Router();
  const registry = new RouteRegistry(router, API_BASE, {
    authenticate: createAuthenticate({ tokens: ctx.tokenService, store: ctx.store }),
    uploads: uploadGate(config.uploadsMaxConcurrent, config.uploadsMaxPerUser),
    // Each route reads its own body, once the request may run (define-route.ts).
    bodyLimitBytes: config.bodyLimitBytes,
    limiters: ctx.requestLimiters,
  });
  for (const group of ROUTE_GROUPS) group(registry, ctx);
  registry.refuseOtherMethods();
  app.use(API_BASE, router);

  const openApi = buildOpenApiDocument(
    registry.routes,
    {
      title: 'Classroom attendance API',
      version: '1',
      description: 'Errors are `{ "error": { "code", "message", "details"? } }` with codes from one shared table.',
    },
    config.basePath,
  );
  const publicLimit = rateLimit(ctx.requestLimiters.httpPublic, perAddress);
  app.get('/api/openapi.json', publicLimit, (_req, res) => {
    res.json(openApi);
  });
  app.use('/api/docs', publicLimit, docsRouter(config.basePath));

  // Whatever no route above answered: the pages, their assets, and unknown paths (404).
  app.use(rateLimit(ctx.requestLimiters.httpStatic, perAddress));
  const pagesDir = ctx.publicDir === undefined ? defaultPublicDir() : ctx.publicDir;
  if (pagesDir) app.use(staticPages(pagesDir));

  app.use(notFoundHandler);
  app.use(errorHandler(config.basePath));
  return app;
}
