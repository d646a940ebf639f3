import { totalFromPage } from '../../domain/paging.js';
import type { Page, PageQuery } from '../../domain/ports/common.js';

/**
 * A page of a listing and its total: the page is read first, and the count is sent only when the
 * page cannot tell the total (totalFromPage), so a page shorter than its limit, as most of a
 * reconnect's resync reads are, costs one query. A full page costs a second round trip: neither
 * `$facet` nor `$setWindowFields`, which would give both in one, runs on FerretDB 1.24, and
 * counting alongside every read would put the count back on every short page.
 */
export async function pagedList<D, T>(
  read: () => Promise<D[]>,
  count: () => Promise<number>,
  page: PageQuery,
  map: (doc: D) => T,
): Promise<Page<T>> {
  const docs = await read();
  const total = totalFromPage(docs.length, page) ?? (await count());
  return { items: docs.map(map), total };
}
