/**
 * What every page does the same way: the login form, the signed-in bar with log out, and the
 * connection indicator. Markup ids are shared by the three HTML files.
 */
import { apiJson, loadAuth, login, logout, type StoredAuth } from './auth.js';
import { byId, errorText, show, useTimeZone } from './dom.js';
import type { ConnectionState } from './socket.js';
import type { Role } from '../../shared/events.js';

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  online: 'Live',
  offline: 'Connection lost, reconnecting…',
  'logged-out': 'Logged out',
};

/** Shows the connection state in #connection (a status region, announced politely). */
export function showConnection(state: ConnectionState): void {
  const el = byId('connection');
  el.textContent = CONNECTION_TEXT[state];
  el.dataset['state'] = state;
}

/**
 * Resolves with the stored login when it has one of `roles`; otherwise shows #login and
 * resolves once the user logs in with such a role. By default it resolves once the
 * organisation's time zone is known; with `onTimeZone` it resolves at once and calls it when
 * the zone is in use (a page that must not wait a round trip re-renders its times then).
 */
export function requireLogin(roles: Role[], opts: { onTimeZone?: () => void } = {}): Promise<StoredAuth> {
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
    if (onTimeZone) {
      resolve(auth);
      void loadOrganisationTimeZone().finally(onTimeZone);
    } else void loadOrganisationTimeZone().finally(() => resolve(auth));
  };
  return new Promise((resolve) => {
    const stored = loadAuth();
    if (stored && roles.includes(stored.user.role)) {
      finish(stored, resolve);
      return;
    }
    show(app, false);
    show(section, true);
    offerForgotPassword(form);
    byId<HTMLInputElement>('login-email').focus();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const button = form.querySelector('button');
      if (button) button.disabled = true;
      error.textContent = '';
      login(String(data.get('email') ?? ''), String(data.get('password') ?? ''), String(data.get('organisation') ?? '') || undefined)
        .then((auth) => {
          if (!roles.includes(auth.user.role)) {
            logout();
            throw new Error(`This page is for ${roles.join(' or ')} accounts.`);
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
  a.textContent = 'Forgot your password?';
  p.append(a);
  form.after(p);
}

async function loadOrganisationTimeZone(): Promise<void> {
  try {
    const org = await apiJson<{ timezone: string }>('api/v1/organisation');
    useTimeZone(org.timezone);
  } catch (err) {
    console.warn('organisation time zone unavailable; showing device time', err);
  }
}

/** Wires #logout: forget the login and reload to the login form. */
export function bindLogout(): void {
  byId('logout').addEventListener('click', () => {
    logout();
    location.reload();
  });
}
