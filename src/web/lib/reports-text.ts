/** The reports page's words: its own catalog, added to the shared one and the staff one when the page loads. */
import { reportsEn } from '../locales/reports-en.js';
import { addCatalog } from './i18n.js';

/** The reports page's message of `key` in the page's language. */
export const rt = addCatalog('reports', reportsEn);

type ActionOf<K> = K extends `reports.action.${infer A}` ? A : never;

/** Whether `action` is an audit action the reports page words (others are shown as they are). */
export const isWordedAction = (action: string): action is ActionOf<keyof typeof reportsEn> =>
  Object.hasOwn(reportsEn, `reports.action.${action}`);
