// An admin's or a student's HTTP session over ../http-client.ts: the access token kept after
// login (protocol.md §1) and the `/api/v1` base path.
import { HttpClient, type HttpAnswer, type Tokens } from '../http-client.js';

export class Http {
  token: string | null = null;
  private readonly client: HttpClient;
  constructor(readonly baseUrl: string) {
    this.client = new HttpClient(baseUrl);
  }

  call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    init: { contentType?: string; raw?: string } = {},
  ): Promise<HttpAnswer<T>> {
    return this.client.request<T>(method, `/api/v1${path}`, {
      ...(this.token === null ? {} : { token: this.token }),
      ...(init.raw === undefined
        ? body === undefined
          ? {}
          : { json: body }
        : { raw: init.raw, contentType: init.contentType ?? 'text/plain' }),
    });
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

/** POST /api/v1/auth/login; the Http keeps the access token. */
export async function login(http: Http, email: string, password: string, organisation?: string): Promise<Tokens> {
  const answer = await new HttpClient(http.baseUrl).login(email, password, organisation);
  http.token = answer.accessToken;
  return answer;
}
