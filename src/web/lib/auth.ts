/**
 * Login, token storage and refresh for the browser pages. Tokens live in localStorage so the
 * classroom screen opened from the teacher console shares the teacher's login.
 */
import type { ErrorBody } from '../../shared/errors.js';
import type { Role } from '../../shared/events.js';

const STORAGE_KEY = 'attendance.auth';
/**
 * Refresh this long before the access token expires, so a request never carries a dying one; a
 * third of a shorter token's life (ACCESS_TOKEN_TTL_S under 3 min), or every request would refresh.
 */
const REFRESH_MARGIN_MS = 60_000;

export interface StoredAuth {
  accessToken: string;
  accessTokenExpiresAt: string;
  /** How long the access token had to live when it arrived (this browser's clock). */
  accessTokenLifetimeMs?: number;
  refreshToken: string;
  /** `mustChangePassword`: an admin asked for a new password; only /me/password answers until then. */
  user: { id: string; name: string; email: string; role: Role; mustChangePassword?: boolean };
}

/** An API error with its shared code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
  get code(): string {
    return this.body.code;
  }
}

export function loadAuth(): StoredAuth | null {
  const raw = localStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as StoredAuth;
    return typeof parsed.accessToken === 'string' && typeof parsed.refreshToken === 'string' ? parsed : null;
  } catch {
    // A corrupt entry is as good as none: the user logs in again.
    localStorage.removeItem(STORAGE_KEY);
    return null;
  }
}

function saveAuth(auth: StoredAuth | null): void {
  if (auth) localStorage.setItem(STORAGE_KEY, JSON.stringify(auth));
  else localStorage.removeItem(STORAGE_KEY);
}

async function readError(res: Response): Promise<ApiError> {
  let body: ErrorBody = { code: 'INTERNAL', message: `The server answered ${res.status}.` };
  try {
    const parsed = (await res.json()) as { error?: ErrorBody };
    if (parsed.error) body = parsed.error;
  } catch {
    // Not JSON (a proxy error page): keep the generic body.
  }
  return new ApiError(res.status, body);
}

function toStored(body: StoredAuth): StoredAuth {
  const { accessToken, accessTokenExpiresAt, refreshToken, user } = body;
  return {
    accessToken,
    accessTokenExpiresAt,
    accessTokenLifetimeMs: Date.parse(accessTokenExpiresAt) - Date.now(),
    refreshToken,
    user: { id: user.id, name: user.name, email: user.email, role: user.role, mustChangePassword: user.mustChangePassword === true },
  };
}

const DEVICE_KEY = 'attendance.devices';
/** Device tokens kept for this many accounts (a shared classroom computer), the newest first. */
const DEVICE_TOKENS_KEPT = 10;

/**
 * A device token and the account it was answered for: a token belongs to one account, and one
 * email may hold accounts in several organisations, so the key is the email with the
 * organisation typed at login ('' when none was). `organisation` null: an entry stored before,
 * keyed by the email alone, read once more and then replaced.
 */
interface DeviceEntry {
  email: string;
  organisation: string | null;
  token: string;
}

function deviceEntry(e: unknown): DeviceEntry | null {
  if (!Array.isArray(e) || !e.every((part) => typeof part === 'string')) return null;
  const parts = e as string[];
  if (parts.length === 2) return { email: parts[0]!, organisation: null, token: parts[1]! };
  if (parts.length === 3) return { email: parts[0]!, organisation: parts[1]!, token: parts[2]! };
  return null;
}

/**
 * The device tokens of the accounts that logged in on this browser. They outlive logout on
 * purpose: a login from a known device is not locked out when someone else spends the
 * account's failed-login budget.
 */
function loadDeviceTokens(): DeviceEntry[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(DEVICE_KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? parsed.map(deviceEntry).filter((e): e is DeviceEntry => e !== null) : [];
  } catch {
    // A corrupt entry is as good as none: the next login stores a fresh token.
    localStorage.removeItem(DEVICE_KEY);
    return [];
  }
}

/** The token of this account, else the email's entry from before organisations keyed them. */
function deviceTokenFor(email: string, organisation: string): string | undefined {
  const entries = loadDeviceTokens();
  return (
    entries.find((e) => e.email === email && e.organisation === organisation)?.token ??
    entries.find((e) => e.email === email && e.organisation === null)?.token
  );
}

function saveDeviceToken(email: string, organisation: string, token: string): void {
  const rest = loadDeviceTokens().filter((e) => e.email !== email || (e.organisation !== organisation && e.organisation !== null));
  const entries = [{ email, organisation, token }, ...rest].slice(0, DEVICE_TOKENS_KEPT);
  localStorage.setItem(
    DEVICE_KEY,
    JSON.stringify(entries.map((e) => (e.organisation === null ? [e.email, e.token] : [e.email, e.organisation, e.token]))),
  );
}

export async function login(email: string, password: string, organisation?: string): Promise<StoredAuth> {
  const key = email.trim().toLowerCase();
  const org = organisation?.trim().toLowerCase() ?? '';
  const deviceToken = deviceTokenFor(key, org);
  const res = await fetch('api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, ...(organisation ? { organisation } : {}), ...(deviceToken ? { deviceToken } : {}) }),
  });
  if (!res.ok) throw await readError(res);
  const body = (await res.json()) as StoredAuth & { deviceToken?: string };
  if (body.deviceToken) saveDeviceToken(key, org, body.deviceToken);
  const auth = toStored(body);
  saveAuth(auth);
  return auth;
}

/** Forgets this browser's login without telling the server: the server already ended it. */
export function forgetLogin(): void {
  saveAuth(null);
}

/** Changes the caller's password; the server keeps this login and ends the others. */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  const res = await apiFetch('api/v1/me/password', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ currentPassword, newPassword }),
  });
  if (!res.ok) throw await readError(res);
  const auth = loadAuth();
  if (auth) saveAuth({ ...auth, user: { ...auth.user, mustChangePassword: false } });
}

/** How long logging out waits for the server before the page moves on (the request itself goes on). */
const LOGOUT_WAIT_MS = 3_000;

/**
 * Forgets the login in this browser at once and ends it on the server. A page reloads right
 * after, which cancelled the request before a slow phone had sent it: the login then lived on on
 * the server (its refresh token still good for weeks). So the request outlives the page
 * (`keepalive`), and the promise lets the page wait for the answer, at most LOGOUT_WAIT_MS.
 */
export function logout(): Promise<void> {
  const auth = loadAuth();
  saveAuth(null);
  if (!auth) return Promise.resolve();
  const told = fetch('api/v1/auth/logout', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: auth.refreshToken }),
    keepalive: true,
  }).then(
    () => undefined,
    (err: unknown) => console.warn('logout not confirmed by the server', err),
  );
  return Promise.race([told, new Promise<void>((resolve) => setTimeout(resolve, LOGOUT_WAIT_MS))]);
}

async function refreshNow(seen: StoredAuth): Promise<StoredAuth | null> {
  // Another tab (the classroom screen beside the console) may have rotated the pair already;
  // presenting the old refresh token again would revoke the whole login.
  const current = loadAuth();
  if (!current) return null;
  if (current.refreshToken !== seen.refreshToken) return current;
  const res = await fetch('api/v1/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: current.refreshToken }),
  });
  if (res.status === 401 || res.status === 403) {
    saveAuth(null);
    return null;
  }
  if (!res.ok) throw await readError(res);
  const next = toStored((await res.json()) as StoredAuth);
  saveAuth(next);
  return next;
}

/** Rotates the token pair once across every tab of this origin. Null means: log in again. */
export async function refresh(seen: StoredAuth): Promise<StoredAuth | null> {
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request('attendance-auth-refresh', () => refreshNow(seen));
  }
  return refreshNow(seen);
}

/** A usable access token, refreshed when it is about to expire; null when logged out. */
export async function freshToken(): Promise<string | null> {
  const auth = loadAuth();
  if (!auth) return null;
  const margin = Math.min(REFRESH_MARGIN_MS, (auth.accessTokenLifetimeMs ?? Infinity) / 3);
  if (Date.parse(auth.accessTokenExpiresAt) - Date.now() > margin) return auth.accessToken;
  return (await refresh(auth))?.accessToken ?? null;
}

/** fetch with the bearer token; one refresh and retry on an expired token. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const send = (token: string) =>
    fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
  const token = await freshToken();
  if (!token) throw new ApiError(401, { code: 'UNAUTHENTICATED', message: 'Please log in.' });
  let res = await send(token);
  if (res.status === 401) {
    const auth = loadAuth();
    const renewed = auth ? await refresh(auth) : null;
    if (!renewed) throw new ApiError(401, { code: 'UNAUTHENTICATED', message: 'Please log in again.' });
    res = await send(renewed.accessToken);
  }
  if (!res.ok) throw await readError(res);
  return res;
}

export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await apiFetch(path, init)).json()) as T;
}
