/**
 * The languages the service ships a complete catalog for. English is the source: every other
 * catalog is typed against it, so a key missing from one is a compile error (docs/languages.md).
 */
export const LANGUAGES = ['en', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

/** What a reader gets when nothing they or their organisation chose is shipped. */
export const SOURCE_LANGUAGE: Language = 'en';

/** Each language in its own words, for a language menu. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', fr: 'Français' };

/**
 * The locale numbers and dates are written in: English as in Britain (day month year, 24-hour
 * clock), which readers worldwide misread less than the American order.
 */
export const FORMAT_LOCALE: Record<Language, string> = { en: 'en-GB', fr: 'fr-FR' };

/** Primary subtags of scripts written right to left; a catalog in one of them makes its pages `dir="rtl"`. */
const RIGHT_TO_LEFT = new Set(['ar', 'ckb', 'dv', 'fa', 'he', 'ps', 'sd', 'ug', 'ur', 'yi']);

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The primary subtag of a BCP 47 tag, lower-cased: `pt-BR` gives `pt`. */
export function primarySubtag(tag: string): string {
  return tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';
}

/**
 * The first of `tags` (in preference order, as `navigator.languages` or Accept-Language list
 * them) that a shipped catalog serves, by primary subtag; null when none does.
 */
export function matchLanguage(tags: readonly string[]): Language | null {
  for (const tag of tags) {
    const primary = primarySubtag(tag);
    if (isLanguage(primary)) return primary;
  }
  return null;
}

/** The shipped language for a stored or typed tag (a guardian's `pt-BR`, an older row), English when none fits. */
export function languageOf(tag: string | null | undefined): Language {
  return (tag ? matchLanguage([tag]) : null) ?? SOURCE_LANGUAGE;
}

export function textDirection(language: string): 'ltr' | 'rtl' {
  return RIGHT_TO_LEFT.has(primarySubtag(language)) ? 'rtl' : 'ltr';
}
