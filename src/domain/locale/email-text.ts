import type { Language } from '../../shared/i18n/languages.js';
import { translator, type CatalogOf, type Translator } from '../../shared/i18n/messages.js';
import { emailEn } from './email-en.js';
import { emailFr } from './email-fr.js';

/** Every shipped language's email catalog; a language added to LANGUAGES without one fails to compile. */
const CATALOGS: Record<Language, CatalogOf<typeof emailEn>> = { en: emailEn, fr: emailFr };

export type EmailText = Translator<typeof emailEn>;

/** The email catalog of `language`, its times read in `timeZone` (the organisation's). */
export function emailText(language: Language, timeZone?: string): EmailText {
  return translator(language, CATALOGS[language], { timeZone });
}
