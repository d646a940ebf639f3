import type { Request } from 'express';

/**
 * Longest Accept or Accept-Language an error page reads. Browsers send a few dozen characters
 * (a hundred or two with many languages set); the server takes headers up to Node's 16 KB, and
 * parsing a 16 KB one whole cost about 3 ms each, on every error page an anonymous client asks
 * for, a rate limit's refusals included.
 */
export const NEGOTIATION_HEADER_MAX_CHARS = 1_024;

/**
 * The tags of an Accept-Language header, most wanted first (by `q`, then as listed), without
 * those refused (`q=0`). A header past the bound is read only in its entries that end within it.
 */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  const cut = header.length > NEGOTIATION_HEADER_MAX_CHARS;
  const read = cut ? header.slice(0, header.lastIndexOf(',', NEGOTIATION_HEADER_MAX_CHARS) + 1) : header;
  const tags: { tag: string; q: number; order: number }[] = [];
  for (const [order, entry] of read.split(',').entries()) {
    const [tag = '', ...params] = entry.split(';').map((s) => s.trim());
    if (!/^[A-Za-z0-9*]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$/.test(tag)) continue;
    const qParam = params.find((p) => /^q\s*=/i.test(p));
    const q = qParam === undefined ? 1 : Number(qParam.slice(qParam.indexOf('=') + 1).trim());
    if (Number.isFinite(q) && q > 0 && q <= 1) tags.push({ tag, q, order });
  }
  return tags.sort((a, b) => b.q - a.q || a.order - b.order).map((t) => t.tag);
}

/** Whether the request's Accept header is short enough to negotiate on (a longer one is answered as a program's). */
export function negotiableAccept(req: Request): boolean {
  return (req.get('accept')?.length ?? 0) <= NEGOTIATION_HEADER_MAX_CHARS;
}
