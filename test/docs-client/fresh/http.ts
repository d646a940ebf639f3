// fetch with the conventions of docs/protocol.md §1: JSON bodies, `Authorization: Bearer`, errors
// as `{ error: { code, message, details? } }` with the status of §13.

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export class Http {
  token: string | null = null;
  constructor(readonly baseUrl: string) {}

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    init: { contentType?: string; raw?: string } = {},
  ): Promise<HttpAnswer<T>> {
    const headers: Record<string, string> = {};
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    let payload: string | null = null;
    if (init.raw !== undefined) {
      payload = init.raw;
      headers['content-type'] = init.contentType ?? 'text/plain';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(new URL(`/api/v1${path}`, this.baseUrl), { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers, text };
  }

  /** The call, which must answer `status`; else an error naming the answer. */
  async expect<T = unknown>(
    status: number,
    method: string,
    path: string,
    body?: unknown,
    init?: { contentType?: string; raw?: string },
  ): Promise<T> {
    const res = await this.call<T>(method, path, body, init);
    if (res.status !== status) {
      throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${res.text.slice(0, 500)}`);
    }
    return res.body;
  }
}

export interface LoginAnswer {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  user: { id: string; orgId: string; email: string; role: string; mustChangePassword: boolean };
  deviceToken: string;
}

/** POST /api/v1/auth/login (protocol.md §1); the Http keeps the access token. */
export async function login(http: Http, email: string, password: string, organisation?: string): Promise<LoginAnswer> {
  const body: Record<string, string> = { email, password };
  if (organisation !== undefined) body.organisation = organisation;
  const answer = await http.expect<LoginAnswer>(200, 'POST', '/auth/login', body);
  http.token = answer.accessToken;
  return answer;
}
