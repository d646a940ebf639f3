/** Small DOM helpers shared by the pages (no framework, no innerHTML with data). */
import { errorMessage, pageLanguage, t } from './i18n.js';
import { issuesOf, issuesText } from './issue-text.js';
import { FORMAT_LOCALE, type Language } from '../../shared/i18n/languages.js';

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Creates an element; attributes set with setAttribute (false/null omitted), text as text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** The element with this id; throws when the page markup lacks it (a build mistake). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** Puts a message into an aria-live region; repeated text is re-announced. */
export function announce(region: HTMLElement, text: string): void {
  region.textContent = '';
  // A separate task so screen readers notice the change even for identical text.
  setTimeout(() => {
    region.textContent = text;
  }, 30);
}

/** mm:ss (or h:mm:ss) until `iso`, never negative. */
export function timeLeft(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

let zone: string | undefined;
/** Formats of the page's language, remade when the language or the zone changes. */
let formats: {
  language: Language;
  zone: string | undefined;
  clock: Intl.DateTimeFormat;
  stamp: Intl.DateTimeFormat;
  exact: Intl.DateTimeFormat;
} | null = null;

/** Times on this page read in the organisation's time zone (GET /organisation), not the device's. */
export function useTimeZone(timeZone: string): void {
  zone = timeZone;
}

// The page's language decides the hour cycle (24-hour in French and British English), not the browser's habit.
function pageFormats(): { clock: Intl.DateTimeFormat; stamp: Intl.DateTimeFormat; exact: Intl.DateTimeFormat } {
  const language = pageLanguage();
  if (formats?.language !== language || formats.zone !== zone) {
    const locale = FORMAT_LOCALE[language];
    formats = {
      language,
      zone,
      clock: new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone: zone }),
      stamp: new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: zone }),
      exact: new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium', timeZone: zone }),
    };
  }
  return formats;
}

/** A time of day as the page's language writes it, in the organisation's zone. */
export function clockTime(iso: string | null): string {
  return iso ? pageFormats().clock.format(new Date(iso)) : '';
}

/** Day and time, for what may lie days back (delivery logs, consents, the audit trail), as the page's language writes them. */
export function dateTime(iso: string | null): string {
  return iso ? pageFormats().stamp.format(new Date(iso)) : '';
}

/** Day and time to the second (a record's history, where changes come seconds apart), as `dateTime`. */
export function exactDateTime(iso: string | null): string {
  return iso ? pageFormats().exact.format(new Date(iso)) : '';
}

/** The value of a query-string parameter of the current page. */
export function queryParam(name: string): string | null {
  return new URLSearchParams(location.search).get(name);
}

/** Saves `blob` as a file named `name` through a temporary link. */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: some browsers read the URL only after the click has returned.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A readable message for any error a command or request raised; a refused form's bad fields
 * are named as `form` labels them (src/web/lib/issue-text.ts).
 */
export function errorText(err: unknown, form?: ParentNode | null): string {
  const issues = issuesOf(err);
  // In English the server's own message stays, unless it is only the generic "The request is invalid."
  if (issues && (pageLanguage() !== 'en' || (err as Error).message === t('error.VALIDATION_FAILED'))) return issuesText(issues, form);
  // The server words its errors in English: in another language, a coded error the catalog knows is said in it.
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : null;
  const translated = code === null || pageLanguage() === 'en' ? null : errorMessage(code);
  if (translated !== null) return translated;
  if (err instanceof Error) return err.message;
  return t('page.somethingWrong');
}
