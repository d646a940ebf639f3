import type { Request } from 'express';
import { SOURCE_LANGUAGE, type Language } from '../shared/i18n/languages.js';
import { translator, type CatalogOf } from '../shared/i18n/messages.js';
import { negotiableAccept } from './negotiation-headers.js';
import { escapeHtml, linkItems, PAGE_NAMES, pageShell } from './page-shell.js';

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
  ...PAGE_NAMES.en,
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
  ...PAGE_NAMES.fr,
};

const CATALOGS: Record<Language, CatalogOf<typeof en>> = { en, fr };

/** The catalogs, for the test that no English is left on a French page. */
export const errorPageWords = CATALOGS;

const PAGES = [
  ['', 'home'],
  ['student.html', 'student'],
  ['teacher.html', 'teacher'],
  ['classroom.html', 'classroom'],
  ['admin.html', 'admin'],
  ['reports.html', 'reports'],
] as const;

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
  const links = PAGES.map(([page, key]) => [`${basePath}/${page}`, s.t(key)] as const);
  const main = `    <h1>${escapeHtml(heading)}</h1>
    <p>${escapeHtml(text)}</p>
    <p class="muted">${escapeHtml(s.t('status', { status: String(status) }))}</p>
    <h2>${escapeHtml(s.t('pages'))}</h2>
    <ul class="page-links">
${linkItems(links)}
    </ul>`;
  return pageShell({ language, title: s.t('title', { heading }), assets: `${basePath}/`, main });
}
