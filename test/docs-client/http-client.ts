// The HTTP side of a client written from docs/protocol.md §1 and the OpenAPI document alone:
// JSON bodies, `Authorization: Bearer`, errors as `{ error: { code, message, details? } }`.

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  /** The parsed JSON body, the text of a CSV or page, or null for an empty body. */
  body: T;
  text: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface Tokens {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  user: UserView;
  deviceToken?: string;
}

/** `user` of protocol.md §1. */
export interface UserView {
  id: string;
  orgId: string;
  email: string;
  name: string;
  role: 'admin' | 'teacher' | 'student';
  studentNumber: string | null;
  active: boolean;
  hasPassword: boolean;
  mustChangePassword: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface RequestOptions {
  token?: string;
  /** A JSON body (serialised here), or a raw string sent with `contentType`. */
  json?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** One service address (a node, or the balancer in front of them). */
export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpAnswer<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.raw !== undefined) {
      headers['content-type'] = opts.contentType ?? 'text/plain';
      body = opts.raw;
    }
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const parsed: unknown = text.length > 0 && type.includes('json') ? JSON.parse(text) : text.length > 0 ? text : null;
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = unknown>(path: string, token?: string): Promise<HttpAnswer<T>> {
    return this.request<T>('GET', path, token ? { token } : {});
  }

  post<T = unknown>(path: string, json: unknown, token?: string): Promise<HttpAnswer<T>> {
    return this.request<T>('POST', path, token ? { token, json } : { json });
  }

  /** `POST /api/v1/auth/login` (protocol.md §1). */
  async login(email: string, password: string, organisation?: string): Promise<Tokens> {
    const res = await this.post<Tokens>('/api/v1/auth/login', { email, password, ...(organisation ? { organisation } : {}) });
    if (res.status !== 200) throw new Error(`login of ${email} answered ${res.status} ${res.text}`);
    return res.body;
  }
}

/** The `[status, code]` of an answer, for assertions on refusals. */
export function refusalOf(res: HttpAnswer): [number, string | null] {
  const body = res.body as Partial<ErrorBody> | null;
  return [res.status, body && typeof body === 'object' && body.error ? body.error.code : null];
}

/** The `details` of an error answer. */
export function detailsOf(res: HttpAnswer): Record<string, unknown> {
  return (res.body as ErrorBody).error.details ?? {};
}
