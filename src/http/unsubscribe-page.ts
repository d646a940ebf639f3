import type { Request, Response } from 'express';
import type { UnsubscribeLinkView } from '../domain/notifications/email-notifications.js';
import type { Language } from '../shared/i18n/languages.js';
import { translator, type CatalogOf, type Translator } from '../shared/i18n/messages.js';
import type { ErrorBody } from '../shared/errors.js';
import { escapeHtml, pageLanguageOf, pageShell } from './page-shell.js';
import { PAGE_CSP } from './static-pages.js';

/** The words of the unsubscribe pages; English is the source, every shipped language typed against it. */
const en = {
  title: 'Email preferences',
  'category.alert': 'attendance alert emails',
  'category.digest': 'the daily attendance digest',
  confirm: 'Stop receiving {category}?',
  confirmHint: 'Nothing changes until you press the button.',
  unsubscribe: 'Unsubscribe',
  done: 'You will no longer receive {category}.',
  undoHint: 'Unsubscribed by mistake?',
  resubscribe: 'Subscribe again',
  resubscribed: 'You will receive {category} again.',
  invalidTitle: 'This link is not valid',
  invalid:
    'This unsubscribe link is not valid (it was altered, or the school no longer lists this address). Change your email preferences in the app, or ask the school if you have no account.',
  failed: 'This request could not be answered (error {status}). Try again in a moment.',
} as const;

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: CatalogOf<typeof en> = {
  title: 'Préférences d’e-mail',
  'category.alert': 'les e-mails d’alerte d’assiduité',
  'category.digest': 'le récapitulatif d’assiduité quotidien',
  confirm: 'Ne plus recevoir {category} ?',
  confirmHint: 'Rien ne change tant que vous n’appuyez pas sur le bouton.',
  unsubscribe: 'Se désabonner',
  done: 'Vous ne recevrez plus {category}.',
  undoHint: 'Désabonné·e par erreur ?',
  resubscribe: 'Se réabonner',
  resubscribed: 'Vous recevrez de nouveau {category}.',
  invalidTitle: 'Ce lien n’est pas valide',
  invalid:
    'Ce lien de désabonnement n’est pas valide (il a été modifié, ou l’établissement n’a plus cette adresse). Modifiez vos préférences d’e-mail dans l’application, ou demandez à l’établissement si vous n’avez pas de compte.',
  failed: 'Cette demande n’a pas pu aboutir (erreur {status}). Réessayez dans un instant.',
};

const CATALOGS: Record<Language, CatalogOf<typeof en>> = { en, fr };

/** The catalogs, for the test that no English is left on a French page. */
export const unsubscribePageWords = CATALOGS;
const words = (language: Language): Translator<typeof en> => translator(language, CATALOGS[language]);

/** Which page of the link: before the change (GET), after unsubscribing, after subscribing again. */
export type UnsubscribeStep = 'confirm' | 'unsubscribed' | 'resubscribed';

/**
 * The page: no script (the site's CSP), one form whose action is relative to the link, so it
 * posts back to the same token whatever prefix PUBLIC_URL has. The form carries no CSRF token on
 * purpose: the signed token in the URL is the only credential, no cookie or session is involved,
 * so a forged cross-site POST can do nothing a holder of the link could not.
 */
export function unsubscribePage(step: UnsubscribeStep, view: UnsubscribeLinkView, token: string, basePath: string): string {
  const s = words(view.language);
  const category = s.t(`category.${view.category}`);
  const q = `?token=${encodeURIComponent(token)}`;
  const unsubscribeForm = `<form method="post" action="unsubscribe${escapeHtml(q)}">
      <input type="hidden" name="List-Unsubscribe" value="One-Click">
      <button type="submit" class="primary">${escapeHtml(s.t('unsubscribe'))}</button>
    </form>`;
  const resubscribeForm = `<form method="post" action="resubscribe${escapeHtml(q)}">
      <button type="submit">${escapeHtml(s.t('resubscribe'))}</button>
    </form>`;
  // The page follows the stored state: a link opened again after unsubscribing offers the way back.
  const body =
    view.subscribed && step !== 'resubscribed'
      ? `<p>${escapeHtml(s.t('confirm', { category }))}</p>
    <p class="muted">${escapeHtml(s.t('confirmHint'))}</p>
    ${unsubscribeForm}`
      : view.subscribed
        ? `<p>${escapeHtml(s.t('resubscribed', { category }))}</p>
    ${unsubscribeForm}`
        : `<p>${escapeHtml(s.t('done', { category }))}</p>
    <p class="muted">${escapeHtml(s.t('undoHint'))}</p>
    ${resubscribeForm}`;
  return document(view.language, s.t('title'), body, basePath);
}

/**
 * An error of the link as a page, in the browser's language among the emails' (the token may not
 * say), with the headers of the link's other pages: a link refused for a moment (RATE_LIMITED
 * from a school's shared address, UNAVAILABLE) still holds a working token in its URL.
 */
export function unsubscribeErrorPage(status: number, error: ErrorBody, req: Request, basePath: string, res: Response): string {
  unsubscribePageHeaders(res);
  const lang = pageLanguageOf(req);
  const s = words(lang);
  const invalid = error.code === 'UNSUBSCRIBE_LINK_INVALID' || error.code === 'VALIDATION_FAILED';
  return document(lang, s.t('invalidTitle'), `<p>${escapeHtml(invalid ? s.t('invalid') : s.t('failed', { status }))}</p>`, basePath);
}

/**
 * Headers of every such page: the site's CSP; never cached (it shows the current state); no
 * Referer, so the token in this URL does not travel to the stylesheet's request either.
 */
export function unsubscribePageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/** `basePath` (config.basePath): the stylesheet is the site's, wherever a proxy publishes it. */
function document(language: Language, title: string, body: string, basePath: string): string {
  const main = `    <h1>${escapeHtml(title)}</h1>
    ${body}`;
  return pageShell({ language, title, assets: `${basePath}/`, noindex: true, main });
}
