import { textDirection, type Language } from '../shared/i18n/languages.js';
import { translator, type CatalogOf } from '../shared/i18n/messages.js';
import { escapeHtml } from './error-page.js';

/**
 * The home page's words. The built `index.html` is the English one; a browser preferring
 * another shipped language gets this page in it (the error pages' "Home" link leads here).
 */
const en = {
  title: 'Classroom attendance',
  student: 'Student check-in',
  teacher: 'Teacher console',
  classroom: 'Classroom screen',
  admin: 'Admin console',
  reports: 'Attendance reports',
  reset: 'Forgot your password?',
} as const;

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: CatalogOf<typeof en> = {
  title: 'Présence en classe',
  student: 'Pointage des élèves',
  teacher: 'Console enseignant',
  classroom: 'Écran de la salle',
  admin: 'Console d’administration',
  reports: 'Rapports de présence',
  reset: 'Mot de passe oublié ?',
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
  const links = LINKS.map(([href, key]) => `      <li><a href="${href}">${escapeHtml(s.t(key))}</a></li>`).join('\n');
  return `<!doctype html>
<html lang="${language}" dir="${textDirection(language)}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(s.t('title'))}</title>
  <link rel="icon" href="favicon.svg" type="image/svg+xml">
  <link rel="manifest" href="manifest.webmanifest">
  <link rel="stylesheet" href="styles.css">
</head>
<body>
  <main class="narrow">
    <h1>${escapeHtml(s.t('title'))}</h1>
    <ul class="page-links">
${links}
    </ul>
  </main>
</body>
</html>
`;
}
