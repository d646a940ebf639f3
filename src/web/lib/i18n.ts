/**
 * The pages' language: which catalog, loading it, and applying it to the markup. English (the
 * source) is bundled; another language's catalog is dist/public/locale-<lang>.js, fetched only
 * by a reader of that language, so the student page stays small on a weak phone.
 *
 * Markup: `data-i18n="key"` replaces an element's text, `data-i18n-attr="aria-label:key"` an
 * attribute (several separated by `;`), and `data-i18n-title` on <body> the document title.
 */
import { isLanguage, matchLanguage, SOURCE_LANGUAGE, textDirection, type Language } from '../../shared/i18n/languages.js';
import { translator, type Catalog, type CatalogOf, type Message, type ParamArgs, type Translator } from '../../shared/i18n/messages.js';
import { pageEn, type PageKey } from '../locales/en.js';

type PageCatalog = CatalogOf<typeof pageEn>;

/**
 * A page's own catalog beside the shared one (the staff pages' words): its English is bundled
 * into the pages that import it, another language's is dist/public/locale-<name>-<lang>.js.
 */
const parts: string[] = [];

/** Every English message the page holds, shared and its own: the keys markup may name. */
const source: Record<string, Message> = { ...pageEn };

let current: Translator<Record<string, Message>> = translator<Record<string, Message>>(SOURCE_LANGUAGE, source);

/** `current.t` unchecked: the typed wrappers below and the markup's checked keys call it. */
const say = (key: string, params?: Record<string, string | number>): string =>
  (current.t as (key: string, params?: Record<string, string | number>) => string)(key, params);

/** The last language this browser used for a signed-in user: the next visit starts in it. */
const LANGUAGE_KEY = 'attendance.language';

/** The message of `key` in the page's language. */
export function t<K extends PageKey>(key: K, ...args: ParamArgs<(typeof pageEn)[K]>): string {
  return say(key, args[0]);
}

/**
 * Adds a page's own catalog (`en`, its English source) and gives its typed `t`. Call it when
 * the page's module loads, before the page picks its language; its keys must not repeat the
 * shared catalog's, so one name means one message on every page.
 */
export function addCatalog<Source extends Catalog>(
  name: string,
  en: Source,
): <K extends keyof Source & string>(key: K, ...args: ParamArgs<Source[K]>) => string {
  const repeated = Object.keys(en).filter((key) => Object.hasOwn(source, key));
  if (repeated.length > 0) throw new Error(`catalog ${name} repeats ${repeated.join(', ')}`);
  parts.push(name);
  Object.assign(source, en);
  current = translator<Record<string, Message>>(current.language, { ...source }, { timeZone: zone });
  return (key, ...args) => say(key, args[0] as Record<string, string | number> | undefined);
}

export function pageLanguage(): Language {
  return current.language;
}

/** The language to start in: the signed-in user's last one on this browser, else the browser's own preferences. */
export function initialLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(LANGUAGE_KEY);
  } catch (err) {
    // Storage refused (private mode): the browser's languages decide.
    console.info('no stored language', err);
  }
  if (isLanguage(stored)) return stored;
  return matchLanguage(typeof navigator === 'undefined' ? [] : navigator.languages) ?? SOURCE_LANGUAGE;
}

/** Remembers the signed-in user's language for the next visit's first paint (forgotten at logout). */
export function rememberLanguage(language: Language | null): void {
  try {
    if (language) localStorage.setItem(LANGUAGE_KEY, language);
    else localStorage.removeItem(LANGUAGE_KEY);
  } catch (err) {
    console.info('language not remembered', err);
  }
}

/** The organisation's time zone the page's dates are written in, once known. */
let zone: string | undefined;

async function loadFile<C>(file: string): Promise<C> {
  // Resolved against this module's URL: the catalogs sit beside the page bundles.
  const module = (await import(new URL(`./${file}.js`, import.meta.url).href)) as { default: C };
  return module.default;
}

/** The shared catalog and the page's own in `language`, fetched together: one file each. */
async function loadCatalog(language: Language): Promise<Record<string, Message>> {
  if (language === SOURCE_LANGUAGE) return { ...source };
  const [shared, ...own] = await Promise.all([
    loadFile<PageCatalog>(`locale-${language}`),
    ...parts.map((part) => loadFile<Catalog>(`locale-${part}-${language}`)),
  ]);
  return Object.assign({}, shared, ...own) as Record<string, Message>;
}

/**
 * Switches the page to `language`: loads its catalog, sets `lang` and `dir` on <html>, and
 * rewrites the marked-up text. A catalog that fails to load leaves the page in English.
 */
export async function useLanguage(language: Language, timeZone?: string): Promise<void> {
  let catalog: Record<string, Message> = source;
  let chosen = language;
  try {
    catalog = await loadCatalog(language);
  } catch (err) {
    console.warn(`the ${language} catalog did not load; the page stays in English`, err);
    chosen = SOURCE_LANGUAGE;
  }
  zone = timeZone;
  current = translator<Record<string, Message>>(chosen, catalog, { timeZone });
  document.documentElement.lang = chosen;
  document.documentElement.dir = textDirection(chosen);
  linkManifest(chosen);
  localise(document);
}

/**
 * Points the page's web manifest at `language`: the name an installed app shows follows the
 * page's language (the user's choice once signed in), not the browser's, which alone decides
 * a manifest asked for without `lang=`. The link stays relative, so a path prefix keeps working.
 */
function linkManifest(language: Language): void {
  const link = document.querySelector<HTMLLinkElement>('link[rel="manifest"]');
  const href = link?.getAttribute('href');
  if (!link || !href) return;
  link.setAttribute('href', `${href.split('?')[0] ?? href}?lang=${language}`);
}

const isKey = (key: string): boolean => Object.hasOwn(source, key);

/** The error code's sentence (`error.CODE`) in the page's language, from the shared catalog or the page's own; null when neither words it. */
export const errorMessage = (code: string): string | null => {
  const key = `error.${code}`;
  return isKey(key) ? say(key) : null;
};

/** A number as the page's language writes it. */
export const formatNumber = (value: number): string => current.number(value);

/** Rewrites the marked-up text under `root` in the page's language. */
export function localise(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = el.dataset['i18n'] ?? '';
    if (isKey(key)) el.textContent = say(key);
  }
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    for (const pair of (el.dataset['i18nAttr'] ?? '').split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key && isKey(key)) el.setAttribute(attr, say(key));
    }
  }
  const title = document.body?.dataset['i18nTitle'];
  if (title && isKey(title)) document.title = say(title);
}
