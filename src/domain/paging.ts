import type { Page, PageQuery } from './ports/common.js';

/**
 * Every item of a paged store listing, read page by page: for lists the domain needs whole (the
 * subjects whose sessions an admin sees), where one large page would cap a big organisation.
 */
export async function readAllPages<T>(fetch: (limit: number, offset: number) => Promise<Page<T>>, pageSize = 500): Promise<T[]> {
  const items: T[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await fetch(pageSize, offset);
    items.push(...page.items);
    if (page.items.length < pageSize || offset + pageSize >= page.total) return items;
  }
}

/**
 * The total of a listing that one of its pages already tells, so the store need not count: a
 * page shorter than its limit is the last one, and the total is its offset plus its items. An
 * empty page past the first tells nothing (the offset may lie beyond the end). Null: count. A
 * student's subjects fit one page, and a reconnect storm's resync read them with a COUNT each.
 */
export function totalFromPage(items: number, q: PageQuery): number | null {
  return items < q.limit && (items > 0 || q.offset === 0) ? q.offset + items : null;
}
