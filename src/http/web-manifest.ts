import { textDirection, type Language } from '../shared/i18n/languages.js';
import { translator, type CatalogOf } from '../shared/i18n/messages.js';

/**
 * The web manifest's words: the name a phone shows under the installed icon and in its app list.
 * The built `manifest.webmanifest` is the English one; a browser preferring another shipped
 * language gets it written in that one, as the home page.
 */
const en = {
  name: 'Classroom attendance',
  short_name: 'Attendance',
} as const;

/** Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md). */
const fr: CatalogOf<typeof en> = {
  name: 'Présence en classe',
  short_name: 'Présence',
};

const CATALOGS: Record<Language, CatalogOf<typeof en>> = { en, fr };

/** The catalogs, for the test that the built English file says what this one does. */
export const manifestWords = CATALOGS;

/** `built` (the English manifest's JSON) in `language`: its names, `lang` and `dir`; the rest as built. */
export function webManifest(built: string, language: Language): string {
  const s = translator<typeof en>(language, CATALOGS[language]);
  const manifest = JSON.parse(built) as Record<string, unknown>;
  return JSON.stringify(
    { ...manifest, name: s.t('name'), short_name: s.t('short_name'), lang: language, dir: textDirection(language) },
    null,
    2,
  );
}
