/**
 * What every page does the same way: the login form, the signed-in bar with log out, and the
 * connection indicator. Markup ids are shared by the three HTML files.
 */
import { apiJson, loadAuth, logout, type StoredAuth } from './auth.js';
import { loginPatiently } from './login-retry.js';
import { byId, errorText, show, useTimeZone } from './dom.js';
import type { ConnectionState } from './socket.js';
import type { Role } from '../../shared/events.js';
import { isLanguage, LANGUAGE_NAMES, LANGUAGES, type Language } from '../../shared/i18n/languages.js';
import { pageLanguage, rememberLanguage, useLanguage } from './i18n.js';
import { t } from './pages-text.js';
import { takeLoginEmail } from './login-email.js';

/** Shows the connection state in #connection (a status region, announced politely). */
export function showConnection(state: ConnectionState): void {
  const el = byId('connection');
  el.textContent = t(`connection.${state}`);
  el.dataset['state'] = state;
  // The state owns the text from now on: a language switch writes it again (below), not the markup's key.
  delete el.dataset['i18n'];
}

/**
 * Resolves with the stored login when it has one of `roles`; otherwise shows #login and
 * resolves once the user logs in with such a role. By default it resolves once the
 * organisation's time zone is known; with `onTimeZone` it resolves at once and calls it when
 * the zone is in use (a page that must not wait a round trip re-renders its times then).
 * With `localised` the page also switches to the user's language (theirs, else the
 * organisation's) before `onTimeZone` runs.
 */
export function requireLogin(roles: Role[], opts: { onTimeZone?: () => void; localised?: boolean } = {}): Promise<StoredAuth> {
  const section = byId('login');
  const form = byId<HTMLFormElement>('login-form');
  const error = byId('login-error');
  const app = byId('app');
  const finish = (auth: StoredAuth, resolve: (a: StoredAuth) => void) => {
    if (auth.user.mustChangePassword) {
      // Nothing else answers until then; the page comes back here once it is done.
      location.assign(`reset.html#change=1&back=${encodeURIComponent(location.pathname + location.search)}`);
      return;
    }
    show(section, false);
    show(app, true);
    byId('user-name').textContent = auth.user.name;
    // Times show in the organisation's zone; until it answers (or if it cannot), the device's.
    // It never rejects: a failure is logged inside and the device's zone stays.
    const { onTimeZone } = opts;
    const settings = loadOrganisationSettings(opts.localised === true);
    if (onTimeZone) {
      resolve(auth);
      void settings.finally(onTimeZone);
    } else void settings.finally(() => resolve(auth));
  };
  return new Promise((resolve) => {
    // Taken out of the address even when a login is stored: the address bar keeps no one's email.
    const email = takeLoginEmail();
    const stored = loadAuth();
    if (stored && roles.includes(stored.user.role)) {
      finish(stored, resolve);
      return;
    }
    show(app, false);
    show(section, true);
    offerForgotPassword(form);
    if (email !== null) byId<HTMLInputElement>('login-email').value = email;
    byId<HTMLInputElement>(email === null ? 'login-email' : 'login-password').focus();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const button = form.querySelector('button');
      if (button) button.disabled = true;
      error.textContent = '';
      const onWait = (ms: number) => {
        error.textContent = t('login.busy', { seconds: Math.ceil(ms / 1000) });
      };
      loginPatiently(
        String(data.get('email') ?? ''),
        String(data.get('password') ?? ''),
        String(data.get('organisation') ?? '') || undefined,
        onWait,
      )
        .then((auth) => {
          error.textContent = '';
          if (!roles.includes(auth.user.role)) {
            void logout();
            throw new Error(t('login.wrongRole', { roles: roles.join(' / ') }));
          }
          finish(auth, resolve);
        })
        .catch((err: unknown) => {
          error.textContent = errorText(err);
          byId<HTMLInputElement>('login-password').focus();
        })
        .finally(() => {
          if (button) button.disabled = false;
        });
    });
  });
}

/** A "Forgot your password?" link under the login form, once. */
function offerForgotPassword(form: HTMLFormElement): void {
  if (document.getElementById('forgot-link')) return;
  const p = document.createElement('p');
  const a = document.createElement('a');
  a.id = 'forgot-link';
  a.href = 'reset.html';
  a.textContent = t('login.forgot');
  p.append(a);
  form.after(p);
}

interface OrganisationAnswer {
  timezone: string;
  settings: { language?: Language };
}

interface Preferences {
  language: Language | null;
  unsubscribed: string[];
}

/** What the language menu needs once signed in: this page's organisation, as last read. */
let organisation: OrganisationAnswer | null = null;

/**
 * The organisation's time zone, and for a localised page the user's language: their own
 * preference, else the organisation's default (docs/languages.md). Both asked at once.
 */
async function loadOrganisationSettings(localised: boolean): Promise<void> {
  const [org, prefs] = await Promise.all([
    apiJson<OrganisationAnswer>('api/v1/organisation').catch((err: unknown) => {
      console.warn('organisation time zone unavailable; showing device time', err);
      return null;
    }),
    localised
      ? apiJson<Preferences>('api/v1/me/notification-preferences').catch((err: unknown) => {
          console.warn('language preference unavailable; the organisation decides', err);
          return null;
        })
      : null,
  ]);
  if (org) useTimeZone(org.timezone);
  if (!localised || !org) return;
  organisation = org;
  await switchLanguage(prefs?.language ?? null);
  fillLanguageMenu(prefs?.language ?? null);
}

/** The page in the user's `own` language, else the organisation's; the choice kept for the next visit. */
async function switchLanguage(own: Language | null): Promise<void> {
  const chosen = own ?? organisation?.settings.language;
  const language: Language = isLanguage(chosen) ? chosen : 'en';
  rememberLanguage(language);
  if (language === pageLanguage()) return;
  await useLanguage(language, organisation?.timezone);
  const state = document.getElementById('connection')?.dataset['state'];
  if (state) showConnection(state as ConnectionState);
}

/** #language, when the page has one: "same as the school" or a shipped language, each named in itself. */
function fillLanguageMenu(own: Language | null): void {
  const menu = document.getElementById('language');
  if (!(menu instanceof HTMLSelectElement)) return;
  menu.replaceChildren(
    new Option(t('language.school'), '', false, own === null),
    ...LANGUAGES.map((l) => Object.assign(new Option(LANGUAGE_NAMES[l], l, false, own === l), { lang: l })),
  );
  menu.disabled = false;
}

/**
 * The user's own language from #language: stored as their preference (emails follow it too),
 * then the page switches and `rerender` writes again what the page wrote itself.
 */
export function bindLanguageMenu(rerender: () => void): void {
  const menu = byId<HTMLSelectElement>('language');
  menu.addEventListener('change', () => {
    const own = isLanguage(menu.value) ? menu.value : null;
    menu.disabled = true;
    apiJson<Preferences>('api/v1/me/notification-preferences')
      .then((prefs) =>
        apiJson<Preferences>('api/v1/me/notification-preferences', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ language: own, unsubscribed: prefs.unsubscribed }),
        }),
      )
      .then(async (saved) => {
        await switchLanguage(saved.language);
        fillLanguageMenu(saved.language);
        rerender();
      })
      .catch((err: unknown) => {
        menu.disabled = false;
        console.warn('language not saved', err);
      });
  });
}

/** Wires #logout: forget the login, end it on the server, and reload to the login form. */
export function bindLogout(): void {
  byId('logout').addEventListener('click', () => {
    // Nothing of this user stays on screen while the server is told (a shared computer).
    show(byId('app'), false);
    rememberLanguage(null);
    void logout().then(() => location.reload());
  });
}
