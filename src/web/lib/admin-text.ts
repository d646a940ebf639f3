/**
 * The admin console's words: its own catalog, added beside the shared and staff ones when the
 * console loads (the staff catalog words the error codes the shared one does not).
 */
import { adminEn } from '../locales/admin-en.js';
import { addCatalog } from './i18n.js';
import './staff-text.js';

/** The console's message of `key` in the page's language. */
export const at = addCatalog('admin', adminEn);
