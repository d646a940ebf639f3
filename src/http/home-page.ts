import type { Language } from '../shared/i18n/languages.js';
import { translator, type CatalogOf } from '../shared/i18n/messages.js';
import { escapeHtml, linkItems, PAGE_NAMES, pageShell } from './page-shell.js';

/**
 * The home page's words. The built `index.html` is the English one; a browser preferring
 * another shipped language gets this page in it (the error pages' "Home" link leads here).
 */
const en = {
  title: 'Classroom attendance',
  ...PAGE_NAMES.en,
  reset: 'Forgot your password?',
} as const;

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: CatalogOf<typeof en> = {
  title: 'Présence en classe',
  ...PAGE_NAMES.fr,
  reset: 'Mot de passe oublié ?',
};

const CATALOGS: Record<Language, CatalogOf<typeof en>> = { en, fr };

/** The catalogs, for the test that no English is left on a French page. */
export const homePageWords = CATALOGS;

const LINKS = [
  ['student.html', 'student'],
  ['teacher.html', 'teacher'],
  ['classroom.html', 'classroom'],
  ['admin.html', 'admin'],
  ['reports.html', 'reports'],
  ['reset.html', 'reset'],
] as const;

/** The home page in `language`, as `src/web/public/index.html` is in English (links relative, so any prefix works). */
export function homePage(language: Language): string {
  const s = translator<typeof en>(language, CATALOGS[language]);
  const title = s.t('title');
  const main = `    <h1>${escapeHtml(title)}</h1>
    <ul class="page-links">
${linkItems(LINKS.map(([href, key]) => [href, s.t(key)]))}
    </ul>`;
  return pageShell({ language, title, assets: '', manifest: true, main });
}
