/**
 * What the signed-in pages say alike (the login form, statuses, reasons, charts, excuses): their
 * catalog, added to the shared one when such a page loads, so the set-password page, which
 * needs only the shared one, does not carry it.
 */
import type { ParamArgs } from '../../shared/i18n/messages.js';
import { isReasonCode } from '../../shared/reasons.js';
import type { pageEn } from '../locales/en.js';
import { pagesEn } from '../locales/pages-en.js';
import { addCatalog } from './i18n.js';

type Words = typeof pageEn & typeof pagesEn;

const say = addCatalog('pages', pagesEn) as (key: string, params?: Record<string, string | number>) => string;

/** The message of `key` in the page's language, from the shared catalog or this one. */
export function t<K extends keyof Words & string>(key: K, ...args: ParamArgs<Words[K]>): string {
  return say(key, args[0] as Record<string, string | number> | undefined);
}

/** A reason code as a sentence; unknown codes are shown as they are. */
export function reasonText(code: string | null): string {
  if (!code) return '';
  return isReasonCode(code) ? t(`reason.${code}`) : code;
}
