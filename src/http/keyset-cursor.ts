import { z } from 'zod';
import { issueRule } from '../shared/validation-issues.js';

/** Where a list ordered newest first stopped: its last item's time, then id. */
export interface Keyset {
  createdAt: Date;
  id: string;
}

/** Opaque to clients (base64url of "milliseconds.id"): they send back what `nextCursor` gave. */
export const encodeCursor = (k: Keyset): string => Buffer.from(`${k.createdAt.getTime()}.${k.id}`, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): Keyset | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const dot = text.indexOf('.');
  const ms = Number(text.slice(0, dot));
  const id = text.slice(dot + 1);
  if (dot < 1 || !/^\d+$/.test(text.slice(0, dot)) || !Number.isSafeInteger(ms) || id.length === 0) return null;
  const createdAt = new Date(ms);
  // A safe integer past year 275760 is no time: a crafted cursor, not one this list answered.
  if (Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id };
}

/** The `cursor` of a keyset-paged list: a `nextCursor` this list answered, decoded. */
export const CursorQuery = z
  .string()
  .min(1)
  .max(300)
  .refine((c) => decodeCursor(c) !== null, issueRule('invalid', 'Expected a nextCursor this list answered.'))
  .transform((c) => decodeCursor(c)!)
  .describe("The previous page's `nextCursor`: the page after it (absent: the first page)");

/** `nextCursor` of a keyset-paged list. */
export const NextCursor = z
  .string()
  .nullable()
  .describe('Send as `cursor` for the next page; null on the last page. Opaque: its form may change.');
