/** The teacher console's words: its own catalog, added beside the shared and staff ones when the console loads. */
import { teacherEn } from '../locales/teacher-en.js';
import { addCatalog } from './i18n.js';
import './staff-text.js';

/** The console's message of `key` in the page's language. */
export const tt = addCatalog('teacher', teacherEn);
