import type { Page } from './ports/common.js';

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
