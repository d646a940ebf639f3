import type { Request, Response } from 'express';
import type { UnsubscribeLinkView } from '../domain/notifications/email-notifications.js';
import { EMAIL_LANGUAGES, type EmailCategory, type EmailLanguage } from '../shared/alerts.js';
import type { ErrorBody } from '../shared/errors.js';
import { escapeHtml } from './error-page.js';
import { PAGE_CSP } from './static-pages.js';

interface PageStrings {
  title: string;
  category: Record<EmailCategory, string>;
  confirm(category: string): string;
  confirmHint: string;
  unsubscribe: string;
  done(category: string): string;
  undoHint: string;
  resubscribe: string;
  resubscribed(category: string): string;
  invalidTitle: string;
  invalid: string;
  failed(status: number): string;
}

/** The pages of an email's unsubscribe link, in the languages of the emails (email-templates.ts). */
const STRINGS: Record<EmailLanguage, PageStrings> = {
  en: {
    title: 'Email preferences',
    category: { alert: 'attendance alert emails', digest: 'the daily attendance digest' },
    confirm: (c) => `Stop receiving ${c}?`,
    confirmHint: 'Nothing changes until you press the button.',
    unsubscribe: 'Unsubscribe',
    done: (c) => `You will no longer receive ${c}.`,
    undoHint: 'Unsubscribed by mistake?',
    resubscribe: 'Subscribe again',
    resubscribed: (c) => `You will receive ${c} again.`,
    invalidTitle: 'This link is not valid',
    invalid:
      'This unsubscribe link is not valid (it was altered, or the school no longer lists this address). Change your email preferences in the app, or ask the school if you have no account.',
    failed: (status) => `This request could not be answered (error ${status}). Try again in a moment.`,
  },
  fr: {
    title: 'Préférences d’e-mail',
    category: { alert: 'les e-mails d’alerte d’assiduité', digest: 'le récapitulatif d’assiduité quotidien' },
    confirm: (c) => `Ne plus recevoir ${c} ?`,
    confirmHint: 'Rien ne change tant que vous n’appuyez pas sur le bouton.',
    unsubscribe: 'Se désabonner',
    done: (c) => `Vous ne recevrez plus ${c}.`,
    undoHint: 'Désabonné·e par erreur ?',
    resubscribe: 'Se réabonner',
    resubscribed: (c) => `Vous recevrez de nouveau ${c}.`,
    invalidTitle: 'Ce lien n’est pas valide',
    invalid:
      'Ce lien de désabonnement n’est pas valide (il a été modifié, ou l’établissement n’a plus cette adresse). Modifiez vos préférences d’e-mail dans l’application, ou demandez à l’établissement si vous n’avez pas de compte.',
    failed: (status) => `Cette demande n’a pas pu aboutir (erreur ${status}). Réessayez dans un instant.`,
  },
};

/** Which page of the link: before the change (GET), after unsubscribing, after subscribing again. */
export type UnsubscribeStep = 'confirm' | 'unsubscribed' | 'resubscribed';

/**
 * The page: no script (the site's CSP), one form whose action is relative to the link, so it
 * posts back to the same token whatever prefix PUBLIC_URL has. The form carries no CSRF token on
 * purpose: the signed token in the URL is the only credential, no cookie or session is involved,
 * so a forged cross-site POST can do nothing a holder of the link could not.
 */
export function unsubscribePage(step: UnsubscribeStep, view: UnsubscribeLinkView, token: string, basePath: string): string {
  const s = STRINGS[view.language];
  const category = s.category[view.category];
  const q = `?token=${encodeURIComponent(token)}`;
  const unsubscribeForm = `<form method="post" action="unsubscribe${escapeHtml(q)}">
      <input type="hidden" name="List-Unsubscribe" value="One-Click">
      <button type="submit" class="primary">${escapeHtml(s.unsubscribe)}</button>
    </form>`;
  const resubscribeForm = `<form method="post" action="resubscribe${escapeHtml(q)}">
      <button type="submit">${escapeHtml(s.resubscribe)}</button>
    </form>`;
  // The page follows the stored state: a link opened again after unsubscribing offers the way back.
  const body =
    view.subscribed && step !== 'resubscribed'
      ? `<p>${escapeHtml(s.confirm(category))}</p>
    <p class="muted">${escapeHtml(s.confirmHint)}</p>
    ${unsubscribeForm}`
      : view.subscribed
        ? `<p>${escapeHtml(s.resubscribed(category))}</p>
    ${unsubscribeForm}`
        : `<p>${escapeHtml(s.done(category))}</p>
    <p class="muted">${escapeHtml(s.undoHint)}</p>
    ${resubscribeForm}`;
  return document(view.language, s.title, body, basePath);
}

/** An error of the link as a page, in the browser's language among the emails' (the token may not say). */
export function unsubscribeErrorPage(status: number, error: ErrorBody, req: Request, basePath: string): string {
  const lang = (req.acceptsLanguages(...EMAIL_LANGUAGES) || 'en') as EmailLanguage;
  const s = STRINGS[lang];
  const invalid = error.code === 'UNSUBSCRIBE_LINK_INVALID' || error.code === 'VALIDATION_FAILED';
  return document(lang, s.invalidTitle, `<p>${escapeHtml(invalid ? s.invalid : s.failed(status))}</p>`, basePath);
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
function document(lang: EmailLanguage, title: string, body: string, basePath: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${escapeHtml(title)}</title>
  <link rel="icon" href="${escapeHtml(basePath)}/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="${escapeHtml(basePath)}/styles.css">
</head>
<body>
  <main class="narrow">
    <h1>${escapeHtml(title)}</h1>
    ${body}
  </main>
</body>
</html>
`;
}
