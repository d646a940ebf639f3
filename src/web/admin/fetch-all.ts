import { apiJson } from '../lib/auth.js';
import type { Page } from './types.js';

/** Every item of a paginated list, a page of 200 at a time. */
export async function fetchAll<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  for (;;) {
    const page = await apiJson<Page<T>>(`${path}${sep}limit=200&offset=${items.length}`);
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total) return items;
  }
}

/** JSON request options. */
export function jsonBody(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
