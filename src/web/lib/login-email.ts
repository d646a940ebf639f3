/**
 * The email a login form comes filled with, passed in the address fragment (`#email=…`) by the
 * set-password page once an invitation's or reset's password is set: a student on a phone goes
 * straight to their password. The fragment, never the query, so that no server or proxy logs it.
 */

const KEY = 'email';

/** `page` (an absolute address) with the email for its login form in its fragment. */
export function withLoginEmail(page: string, email: string): string {
  const url = new URL(page);
  url.hash = new URLSearchParams({ [KEY]: email }).toString();
  return url.href;
}

/**
 * The email the address brings for the login form, taken out of the address bar (a shared screen
 * keeps no one's address), or null. The fragment of a page that uses its own (the admin
 * console's section) is left alone.
 */
export function takeLoginEmail(): string | null {
  const params = new URLSearchParams(location.hash.slice(1));
  const email = params.get(KEY)?.trim() ?? '';
  if (!email.includes('@') || [...params.keys()].some((k) => k !== KEY)) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return email;
}
