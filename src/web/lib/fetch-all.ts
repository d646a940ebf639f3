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

/**
 * Every subject the caller sees, archived ones too, by code: reports, the audit trail and exports
 * of last year's subjects stay within reach once the lists of subjects in use leave them out.
 */
export async function fetchEverySubject<T extends { code: string }>(): Promise<T[]> {
  const [inUse, archived] = await Promise.all([fetchAll<T>('api/v1/subjects'), fetchAll<T>('api/v1/subjects?archived=true')]);
  return [...inUse, ...archived].sort((a, b) => a.code.localeCompare(b.code));
}
