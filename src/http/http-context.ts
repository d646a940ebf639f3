import type { TokenSigner } from '../domain/accounts/access-tokens.js';
import type { Config } from '../config.js';
import type { RequestLimiters } from '../domain/request-limits.js';
import type { Domain } from '../domain/services.js';
import type { TrustProxy } from '../adapters/trust-proxy.js';
import type { Store } from '../domain/ports/store.js';
import type { Logger } from '../logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { ReadinessReport } from '../shared/readiness.js';
import type { RouteRegistry } from './define-route.js';

/** What every route group receives; apart from http-app.ts so the groups do not import it. */
export interface HttpContext {
  config: Config;
  logger: Logger;
  store: Store;
  /** The domain (createDomain): services, live attendance, its queries and reports. */
  services: Domain;
  tokenService: TokenSigner;
  readiness: () => Promise<ReadinessReport>;
  /** Request rates of routes, the API document and the pages (docs/limits.md). */
  requestLimiters: RequestLimiters;
  /** TRUST_PROXY compiled once; the socket handshake reads client addresses with the same function. */
  trustProxy: TrustProxy;
  /** Request timing, and /metrics when METRICS_TOKEN is set. */
  metrics?: AppMetrics;
  /** Folder of the built browser pages; defaults to dist/public when built, null serves none. */
  publicDir?: string | null;
}

/** Registers one group of /api/v1 routes. */
export type RouteGroup = (routes: RouteRegistry, ctx: HttpContext) => void;
