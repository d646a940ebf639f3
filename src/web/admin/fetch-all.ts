export { fetchAll, fetchEverySubject } from '../lib/fetch-all.js';

/** JSON request options. */
export function jsonBody(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
