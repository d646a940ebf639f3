import type { Request } from 'express';
import { matchLanguage, SOURCE_LANGUAGE, textDirection, type Language } from '../shared/i18n/languages.js';
import type { CatalogOf } from '../shared/i18n/messages.js';
import { acceptedLanguages } from './negotiation-headers.js';

// What the pages the server writes itself (the home page in another language, the error pages,
// the unsubscribe pages) share with each other and with the built pages: one head, one
// stylesheet, the same names for the site's pages, the language the browser prefers.

/** Text put in a page, escaped. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The language of a page answering `req`: the browser's (Accept-Language) when a catalog serves it, else English. */
export function pageLanguageOf(req: Request): Language {
  return matchLanguage(acceptedLanguages(req.get('accept-language'))) ?? SOURCE_LANGUAGE;
}

/** The names of the site's pages, as the pages that link to them word them; English is the source. */
const en = {
  student: 'Student check-in',
  teacher: 'Teacher console',
  classroom: 'Classroom screen',
  admin: 'Admin console',
  reports: 'Attendance reports',
} as const;

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: CatalogOf<typeof en> = {
  student: 'Pointage des élèves',
  teacher: 'Console enseignant',
  classroom: 'Écran de la salle',
  admin: 'Console d’administration',
  reports: 'Rapports de présence',
};

export const PAGE_NAMES = { en, fr } as const satisfies Record<Language, CatalogOf<typeof en>>;

/** A page's `<li>` links, each `[href, text]`, both escaped here. */
export function linkItems(links: readonly (readonly [string, string])[]): string {
  return links.map(([href, text]) => `      <li><a href="${escapeHtml(href)}">${escapeHtml(text)}</a></li>`).join('\n');
}

export interface PageShell {
  language: Language;
  title: string;
  /**
   * What the site's files' addresses start with: '' where the page's place makes relative links
   * work, else config.basePath and a slash (a page that may answer any depth of path).
   */
  assets: string;
  /** Kept out of search engines (a page whose address carries a token). */
  noindex?: boolean;
  /** Links the web app manifest, as the built pages do. */
  manifest?: boolean;
  /** The inside of `<main>`, HTML, each line indented as the page is. */
  main: string;
}

/** A whole page: no script, the site's stylesheet and icon, in the page's language and its direction. */
export function pageShell(page: PageShell): string {
  const a = escapeHtml(page.assets);
  return `<!doctype html>
<html lang="${page.language}" dir="${textDirection(page.language)}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
${page.noindex ? '  <meta name="robots" content="noindex">\n' : ''}  <title>${escapeHtml(page.title)}</title>
  <link rel="icon" href="${a}favicon.svg" type="image/svg+xml">
${page.manifest ? `  <link rel="manifest" href="${a}manifest.webmanifest?lang=${page.language}">\n` : ''}  <link rel="stylesheet" href="${a}styles.css">
</head>
<body>
  <main class="narrow">
${page.main}
  </main>
</body>
</html>
`;
}
