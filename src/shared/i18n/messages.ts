/**
 * The message-catalog layer of the pages and the server's emails: a catalog maps keys to
 * messages, plain or plural; `translator` formats them for one language and time zone.
 *
 * A message is a string with `{name}` placeholders, or plural forms chosen by
 * `Intl.PluralRules` (the CLDR categories, `other` required), where `#` is the formatted
 * `count`, as in ICU's `{count, plural, one {# session} other {# sessions}}`. Objects, not ICU
 * strings: no parser ships to the phone, and a translator can still read them.
 */
import { FORMAT_LOCALE, type Language } from './languages.js';

export type PluralForms = { readonly other: string } & { readonly [K in Exclude<Intl.LDMLPluralRule, 'other'>]?: string };
export type Message = string | PluralForms;

/** A catalog of `Keys`; the English one (declared `as const`) is where the keys come from. */
export type Catalog<Keys extends string = string> = { readonly [K in Keys]: Message };

/** A catalog with the keys of `Source`: a missing or unknown key is a compile error. */
export type CatalogOf<Source> = { readonly [K in keyof Source]: Message };

type Placeholders<S> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;

/** The placeholders of a source message: `count` (a number) for plural ones, the `{names}` in its text. */
type ParamNames<M> = M extends string ? Placeholders<M> : M extends PluralForms ? 'count' | Placeholders<M[keyof M]> : never;

export type Params<M> = { [P in ParamNames<M>]: P extends 'count' ? number : string | number };

/** `t(key)` for a message without placeholders, `t(key, params)` for one with. */
export type ParamArgs<M> = [ParamNames<M>] extends [never] ? [] : [params: Params<M>];

export interface Translator<Source> {
  readonly language: Language;
  /** The message of `key`, its placeholders filled; a key the catalog lacks at run time gives the key itself. */
  t<K extends keyof Source & string>(key: K, ...args: ParamArgs<Source[K]>): string;
  /** A number as the language writes it (1 234,5 in French). */
  number(value: number): string;
  /** Date and time in the organisation's zone, the zone named: "ven. 11 déc. 2026, 17:53 UTC+1". */
  dateTime(at: Date | string): string;
  /** The hour and minute in the organisation's zone. */
  time(at: Date | string): string;
  /** A calendar day (YYYY-MM-DD, already the organisation's) in words: "Monday 2 March 2026". */
  day(isoDay: string): string;
}

export interface TranslatorOptions {
  /** IANA zone the times are read in (the organisation's); the runtime's when absent. */
  timeZone?: string | undefined;
}

/**
 * Formats `catalog`'s messages in `language`. `Source` (the English catalog's type) is given,
 * never inferred from `catalog`: inferred, it would lose the messages' placeholders.
 */
export function translator<Source>(
  language: Language,
  catalog: CatalogOf<NoInfer<Source>>,
  opts: TranslatorOptions = {},
): Translator<Source> {
  const zone = opts.timeZone ? { timeZone: opts.timeZone } : {};
  const locale = FORMAT_LOCALE[language];
  const plurals = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const stamp = new Intl.DateTimeFormat(locale, {
    ...zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  });
  const clock = new Intl.DateTimeFormat(locale, { ...zone, hour: '2-digit', minute: '2-digit' });
  // A calendar day has no zone of its own: read at UTC midnight, written in UTC.
  const calendar = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const fill = (text: string, params: Record<string, string | number>): string =>
    text.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
      const value = params[name];
      if (value === undefined) return whole;
      return typeof value === 'number' ? numbers.format(value) : value;
    });
  return {
    language,
    t(key, ...args) {
      const message = (catalog as Catalog)[key];
      const params: Record<string, string | number> = (args[0] as Record<string, string | number> | undefined) ?? {};
      if (message === undefined) return key;
      if (typeof message === 'string') return fill(message, params);
      const count = Number(params['count'] ?? 0);
      const form = message[plurals.select(count)] ?? message.other;
      return fill(form.replace(/#/g, numbers.format(count)), params);
    },
    number: (value) => numbers.format(value),
    dateTime: (at) => stamp.format(new Date(at)),
    time: (at) => clock.format(new Date(at)),
    day: (isoDay) => calendar.format(new Date(`${isoDay}T00:00:00Z`)),
  };
}
