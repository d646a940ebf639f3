/**
 * The page of set-password links (invitations and resets). The token arrives in the URL
 * fragment, which browsers never send to a server, so no access log or proxy ever sees it;
 * the page removes it from the address bar at once and posts it to /auth/reset-password.
 * Without a token the page offers forgot-password.
 */
import { ApiError, changePassword, loadAuth } from './lib/auth.js';
import { byId, errorText, show } from './lib/dom.js';
import { initialLanguage, localise, t, useLanguage } from './lib/i18n.js';
import { isLanguage } from '../shared/i18n/languages.js';
import { withLoginEmail } from './lib/login-email.js';
import type { ErrorBody } from '../shared/errors.js';

const API = 'api/v1/';

interface ErrorAnswer {
  error?: { code?: string; message?: string };
}

async function post(path: string, body: unknown): Promise<{ status: number; body: ErrorAnswer }> {
  const res = await fetch(API + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: ErrorAnswer;
  try {
    parsed = text ? (JSON.parse(text) as ErrorAnswer) : {};
  } catch {
    parsed = { error: { message: t('reset.unexpected') } };
  }
  return { status: res.status, body: parsed };
}

/** A refusal in the page's language (a coded error's sentence, bad fields as `form` names them), else `fallback`. */
function refusalText(status: number, body: ErrorAnswer, form: HTMLElement, fallback: string): string {
  const error = body.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') return error?.message ?? fallback;
  return errorText(new ApiError(status, error as ErrorBody), form);
}

/** `back` resolved against this page, or null when missing or of another site. */
function pageOfThisSite(back: string | null): string | null {
  if (back === null || !URL.canParse(back, document.baseURI)) return null;
  const url = new URL(back, document.baseURI);
  return url.origin === location.origin ? url.href : null;
}

interface Fragment {
  token: string | null;
  invite: boolean;
  change: boolean;
  back: string | null;
  lang: string | null;
  email: string | null;
}

function readFragment(): Fragment {
  const params = new URLSearchParams(location.hash.slice(1));
  // Relative to this page (a page name from an email, or the path a page sent us from), so it
  // stays under the prefix the service is published at. Only this site: the fragment must not
  // send anyone elsewhere.
  const back = pageOfThisSite(params.get('back'));
  return {
    token: params.get('token'),
    invite: params.get('invite') === '1',
    change: params.get('change') === '1',
    back,
    lang: params.get('lang'),
    email: params.get('email'),
  };
}

function start(): void {
  const { token, invite, change, back, lang, email } = readFragment();
  // The emailed link names the language the email was written in; else the browser's.
  const language = isLanguage(lang) ? lang : initialLanguage();
  if (language !== 'en') void useLanguage(language);
  // Out of the address bar and history: a shared screen or a later visitor cannot reuse it.
  if (location.hash) history.replaceState(null, '', location.pathname);
  if (invite) byId('title').dataset['i18n'] = 'reset.welcome';
  // The emailed link names the page of the user's role; older links name none (the student page).
  if (back !== null) byId<HTMLAnchorElement>('done-login').href = back;
  // The emailed link names whose password this is: the password manager saves the new one with
  // it, and the login page is filled with it (lib/login-email.ts).
  if (email !== null) {
    byId<HTMLInputElement>('set-username').value = email;
    byId<HTMLAnchorElement>('done-login').href = withLoginEmail(byId<HTMLAnchorElement>('done-login').href, email);
  }
  // An admin asked this logged-in user for a new password before anything else.
  const changing = change && token === null && loadAuth() !== null;
  if (changing) byId('title').dataset['i18n'] = 'reset.headingChange';
  localise(document);
  show(byId('change-section'), changing);
  show(byId('set-section'), token !== null);
  show(byId('forgot-section'), token === null && !changing);

  byId<HTMLFormElement>('change-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const error = byId('change-error');
    const next = byId<HTMLInputElement>('change-new').value;
    if (next !== byId<HTMLInputElement>('change-repeat').value) {
      error.textContent = t('reset.differ');
      return;
    }
    error.textContent = '';
    changePassword(byId<HTMLInputElement>('change-current').value, next).then(
      () => location.assign(back ?? './'),
      (err: unknown) => {
        error.textContent = errorText(err, byId('change-form'));
      },
    );
  });

  byId<HTMLFormElement>('set-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const error = byId('set-error');
    const password = byId<HTMLInputElement>('new-password').value;
    if (password !== byId<HTMLInputElement>('repeat-password').value) {
      error.textContent = t('reset.differ');
      return;
    }
    error.textContent = '';
    void post('auth/reset-password', { token, password }).then(({ status, body }) => {
      if (status === 204) {
        show(byId('set-section'), false);
        show(byId('done-section'), true);
        return;
      }
      error.textContent = refusalText(status, body, byId('set-form'), t('reset.notSet'));
      if (body.error?.code === 'LINK_INVALID') show(byId('forgot-section'), true);
    });
  });

  byId<HTMLFormElement>('forgot-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const email = byId<HTMLInputElement>('forgot-email').value.trim();
    const organisation = byId<HTMLInputElement>('forgot-organisation').value.trim();
    const status = byId('forgot-status');
    if (!email) {
      status.textContent = t('reset.enterEmail');
      return;
    }
    void post('auth/forgot-password', organisation ? { email, organisation } : { email }).then(({ status: code, body }) => {
      status.textContent = code === 202 ? t('reset.sent') : refusalText(code, body, byId('forgot-form'), t('reset.failed'));
    });
  });
}

start();
