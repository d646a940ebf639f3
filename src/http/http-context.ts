import type { TokenService } from '../auth/tokens.js';
import type { Config } from '../config.js';
import type { RequestLimiters } from '../domain/request-limits.js';
import type { Services } from '../domain/services.js';
import type { Store } from '../domain/store-ports.js';
import type { Logger } from '../logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { ReadinessReport } from '../shared/readiness.js';
import type { RouteRegistry } from './define-route.js';

/** What every route group receives; apart from http-app.ts so the groups do not import it. */
export interface HttpContext {
  config: Config;
  logger: Logger;
  store: Store;
  services: Services;
  tokenService: TokenService;
  readiness: () => Promise<ReadinessReport>;
  /** Request rates of routes, the API document and the pages (docs/limits.md). */
  requestLimiters: RequestLimiters;
  /** Route groups added by later layers (e.g. sessions); installed after the built-in ones. */
  routeGroups?: RouteGroup[];
  /** Request timing, and /metrics when METRICS_TOKEN is set. */
  metrics?: AppMetrics;
  /** Folder of the built browser pages; defaults to dist/public when built, null serves none. */
  publicDir?: string | null;
}

/** Registers one group of /api/v1 routes. */
export type RouteGroup = (routes: RouteRegistry, ctx: HttpContext) => void;
