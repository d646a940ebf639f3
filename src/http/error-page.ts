import type { Request } from 'express';
import { matchLanguage, SOURCE_LANGUAGE, textDirection, type Language } from '../shared/i18n/languages.js';
import { translator, type CatalogOf } from '../shared/i18n/messages.js';
import { acceptedLanguages, negotiableAccept } from './negotiation-headers.js';

/** Prefixes whose clients are programs: they always get the JSON error body. */
const API_PREFIXES = ['/api', '/healthz', '/readyz', '/metrics', '/socket.io'];

/**
 * A browser asking for a page (GET/HEAD, HTML accepted, not an API path) gets a page in words;
 * everything else keeps the coded JSON error.
 */
export function wantsHtmlPage(req: Request): boolean {
  return negotiatesPage(req) && acceptsHtml(req);
}

/** Whether an error answering `req` may be a page: then its body follows Accept and Accept-Language. */
export function negotiatesPage(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  return !API_PREFIXES.some((p) => req.path === p || req.path.startsWith(`${p}/`));
}

export function acceptsHtml(req: Request): boolean {
  // Checked first: express parses the whole header.
  if (!negotiableAccept(req)) return false;
  return req.accepts(['json', 'html']) === 'html' && Boolean(req.get('accept')?.includes('text/html'));
}

/** Text put in a page, escaped. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The error page's words; English is the source, every shipped language typed against it. */
const en = {
  'notFound.heading': 'Page not found',
  'notFound.text': 'There is no page at this address. It may have moved, or the link may be mistyped.',
  'failed.heading': 'Something went wrong',
  'failed.text': 'The server could not answer this request. Try again in a moment.',
  'refused.heading': 'This request could not be answered',
  'refused.text': 'The server refused this request.',
  title: '{heading} · Classroom attendance',
  status: 'Error {status}.',
  pages: 'Pages',
  home: 'Home',
  student: 'Student check-in',
  teacher: 'Teacher console',
  classroom: 'Classroom screen',
  admin: 'Admin console',
  reports: 'Attendance reports',
} as const;

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: CatalogOf<typeof en> = {
  'notFound.heading': 'Page introuvable',
  'notFound.text': 'Il n’y a pas de page à cette adresse. Elle a peut-être changé, ou le lien est mal saisi.',
  'failed.heading': 'Une erreur est survenue',
  'failed.text': 'Le serveur n’a pas pu répondre à cette demande. Réessayez dans un instant.',
  'refused.heading': 'Cette demande n’a pas pu aboutir',
  'refused.text': 'Le serveur a refusé cette demande.',
  title: '{heading} · Présence en classe',
  status: 'Erreur {status}.',
  pages: 'Pages',
  home: 'Accueil',
  student: 'Pointage des élèves',
  teacher: 'Console enseignant',
  classroom: 'Écran de la salle',
  admin: 'Console d’administration',
  reports: 'Rapports de présence',
};

const CATALOGS: Record<Language, CatalogOf<typeof en>> = { en, fr };

/** The catalogs, for the test that no English is left on a French page. */
export const errorPageWords = CATALOGS;

/** The language of a page answering `req`: the browser's (Accept-Language) when a catalog serves it, else English. */
export function pageLanguageOf(req: Request): Language {
  return matchLanguage(acceptedLanguages(req.get('accept-language'))) ?? SOURCE_LANGUAGE;
}

/**
 * The page itself: no script, the site's stylesheet, links to every page, in `language`. A
 * refusal's own message (`message`, English as the server words it) is shown in English only.
 * It may answer any depth of path, so its links start with `basePath` (config.basePath) rather
 * than being relative.
 */
export function errorPage(status: number, message: string, basePath: string, language: Language = SOURCE_LANGUAGE): string {
  const s = translator<typeof en>(language, CATALOGS[language]);
  const kind = status === 404 ? 'notFound' : status >= 500 ? 'failed' : 'refused';
  const heading = s.t(`${kind}.heading`);
  const text = kind === 'refused' && language === SOURCE_LANGUAGE ? message : s.t(`${kind}.text`);
  const b = escapeHtml(basePath);
  const link = (page: string, key: 'home' | 'student' | 'teacher' | 'classroom' | 'admin' | 'reports') =>
    `<li><a href="${b}/${page}">${escapeHtml(s.t(key))}</a></li>`;
  return `<!doctype html>
<html lang="${language}" dir="${textDirection(language)}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(s.t('title', { heading }))}</title>
  <link rel="icon" href="${b}/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="${b}/styles.css">
</head>
<body>
  <main class="narrow">
    <h1>${escapeHtml(heading)}</h1>
    <p>${escapeHtml(text)}</p>
    <p class="muted">${escapeHtml(s.t('status', { status: String(status) }))}</p>
    <h2>${escapeHtml(s.t('pages'))}</h2>
    <ul class="page-links">
      ${link('', 'home')}
      ${link('student.html', 'student')}
      ${link('teacher.html', 'teacher')}
      ${link('classroom.html', 'classroom')}
      ${link('admin.html', 'admin')}
      ${link('reports.html', 'reports')}
    </ul>
  </main>
</body>
</html>
`;
}
