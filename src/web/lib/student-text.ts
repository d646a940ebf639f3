/**
 * The student page's own catalog, added to the shared one when the page loads: the set-password
 * page, which shares the rest, does not carry these words.
 */
import { studentEn } from '../locales/student-en.js';
import { addCatalog } from './i18n.js';

/** The student page's message of `key` in the page's language. */
export const pt = addCatalog('student', studentEn);
