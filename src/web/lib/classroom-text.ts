/** The classroom screen's words: its own catalog, added beside the shared and staff ones when the screen loads. */
import { classroomEn } from '../locales/classroom-en.js';
import { addCatalog } from './i18n.js';
import './staff-text.js';

/** The screen's message of `key` in the page's language. */
export const ct = addCatalog('classroom', classroomEn);
