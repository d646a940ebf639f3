/**
 * The pages' language: which catalog, loading it, and applying it to the markup. English (the
 * source) is bundled; another language's catalog is dist/public/locale-<lang>.js, fetched only
 * by a reader of that language, so the student page stays small on a weak phone.
 *
 * Markup: `data-i18n="key"` replaces an element's text, `data-i18n-attr="aria-label:key"` an
 * attribute (several separated by `;`), and `data-i18n-title` on <body> the document title.
 */
import { isLanguage, matchLanguage, SOURCE_LANGUAGE, textDirection, type Language } from '../../shared/i18n/languages.js';
import { translator, type CatalogOf, type ParamArgs, type Translator } from '../../shared/i18n/messages.js';
import { pageEn, type PageKey } from '../locales/en.js';

type PageCatalog = CatalogOf<typeof pageEn>;

let current: Translator<typeof pageEn> = translator(SOURCE_LANGUAGE, pageEn);

/** The last language this browser used for a signed-in user: the next visit starts in it. */
const LANGUAGE_KEY = 'attendance.language';

/** The message of `key` in the page's language. */
export function t<K extends PageKey>(key: K, ...args: ParamArgs<(typeof pageEn)[K]>): string {
  return current.t(key, ...args);
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

async function loadCatalog(language: Language): Promise<PageCatalog> {
  if (language === SOURCE_LANGUAGE) return pageEn;
  // Resolved against this module's URL: the catalogs sit beside the page bundles.
  const module = (await import(new URL(`./locale-${language}.js`, import.meta.url).href)) as { default: PageCatalog };
  return module.default;
}

/**
 * Switches the page to `language`: loads its catalog, sets `lang` and `dir` on <html>, and
 * rewrites the marked-up text. A catalog that fails to load leaves the page in English.
 */
export async function useLanguage(language: Language, timeZone?: string): Promise<void> {
  let catalog: PageCatalog = pageEn;
  let chosen = language;
  try {
    catalog = await loadCatalog(language);
  } catch (err) {
    console.warn(`the ${language} catalog did not load; the page stays in English`, err);
    chosen = SOURCE_LANGUAGE;
  }
  current = translator(chosen, catalog, { timeZone });
  document.documentElement.lang = chosen;
  document.documentElement.dir = textDirection(chosen);
  localise(document);
}

const isKey = (key: string): key is PageKey => Object.hasOwn(pageEn, key);

/** Whether the catalog words the error code `code` itself (`error.CODE`). */
export const errorKey = (code: string): Extract<PageKey, `error.${string}`> | null => {
  const key = `error.${code}`;
  return isKey(key) ? (key as Extract<PageKey, `error.${string}`>) : null;
};

/** Rewrites the marked-up text under `root` in the page's language. */
export function localise(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = el.dataset['i18n'] ?? '';
    if (isKey(key)) el.textContent = current.t(key as never);
  }
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    for (const pair of (el.dataset['i18nAttr'] ?? '').split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key && isKey(key)) el.setAttribute(attr, current.t(key as never));
    }
  }
  const title = document.body?.dataset['i18nTitle'];
  if (title && isKey(title)) document.title = current.t(title as never);
}
