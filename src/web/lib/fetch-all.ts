import { apiJson } from './auth.js';

/**
 * Every item of a paginated list, a page of 200 (the API's largest) at a time: a select of
 * subjects filled from one page stopped at 200, and a school with 350 could not pick the rest.
 */
export async function fetchAll<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  for (;;) {
    const page = await apiJson<{ items: T[]; total: number }>(`${path}${sep}limit=200&offset=${items.length}`);
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total) return items;
  }
}
