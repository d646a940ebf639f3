import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApplication, type Application } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { FaceEngine } from '../../src/domain/face/face-engine.js';
import { createLogger } from '../../src/logger.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { HoldTimers } from '../../src/realtime/admission.js';

/** Environment of every test application: fast bcrypt, silent logs, no demo seed, port 0. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'silent',
  BCRYPT_COST: '4',
  SEED_DEMO: 'false',
  // Emails without SMTP_URL land in DATA_DIR/outbox: never in the checkout.
  DATA_DIR: path.join(tmpdir(), 'attendance-test-data'),
  // The suites written before consents enrol faces without recording one; test/integration/
  // privacy.test.ts turns it back on.
  FACE_CONSENT_REQUIRED: 'false',
};

export function testConfig(env: Record<string, string> = {}): Config {
  return { ...loadConfig({ ...TEST_ENV, ...env }), store: { kind: 'sqlite', path: ':memory:' } };
}

/**
 * A JSON answer as tests read it: field by field, with chai checking the shape at run time.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a typed body per call would restate every response schema in the tests
export type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding), with `contentType`. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestServer {
  baseUrl: string;
  app: Application;
  store: Store;
  config: Config;
  request<T = Json>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  /** Logs in through the API; fails the test unless it answers 200. */
  login(email: string, password: string, organisation?: string): Promise<{ accessToken: string; refreshToken: string; user: Json }>;
  cleanup(): Promise<void>;
}

/**
 * Starts the whole application on port 0 over an in-memory SQLite store, or over the store
 * `openStore` opens (e.g. MongoDB: test/support/ferretdb.ts).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: {
    wrapStore?: (store: Store) => Store;
    face?: FaceEngine;
    clock?: () => Date;
    openStore?: () => Promise<Store>;
    admissionTimers?: HoldTimers;
  } = {},
): Promise<TestServer> {
  const config = testConfig(env);
  const inner = opts.openStore
    ? await opts.openStore()
    : await createSqliteStore({ path: ':memory:', ...(opts.clock ? { now: opts.clock } : {}) });
  const store = opts.wrapStore ? opts.wrapStore(inner) : inner;
  const app = createApplication({
    config,
    store,
    logger: createLogger('silent'),
    ...(opts.face ? { face: opts.face } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.admissionTimers ? { admissionTimers: opts.admissionTimers } : {}),
  });
  const address = await app.listen().catch(async (err: unknown) => {
    // A port named in `env` (METRICS_PORT, PORT) may have been taken: close what was opened so
    // the caller can try another (scripts/lib/ports.ts).
    await app.close();
    throw err;
  });
  const baseUrl = `http://127.0.0.1:${address.port}`;

  const request = async <T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] = opts.contentType ?? 'application/json';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(baseUrl + path, { method, headers, body: body ?? null });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('application/json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  };

  return {
    baseUrl,
    app,
    store,
    config,
    request,
    async login(email, password, organisation) {
      const res = await request('POST', '/api/v1/auth/login', { body: { email, password, ...(organisation ? { organisation } : {}) } });
      if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as { accessToken: string; refreshToken: string; user: Json };
    },
    cleanup: () => app.close(),
  };
}

/** A refusal as a test asserts it: the HTTP status with the error code of the body (null if it has none). */
export function refusal(res: { status: number; body: Json }): [number, string | null] {
  const code: unknown = res.body?.error?.code;
  return [res.status, typeof code === 'string' ? code : null];
}
