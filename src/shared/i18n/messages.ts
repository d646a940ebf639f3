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
  /** The same in full words, for a sentence: "jeudi 10 décembre 2026 à 17:53 UTC+1" (an email's expiry). */
  longDateTime(at: Date | string): string;
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
  const f = formatsOf(FORMAT_LOCALE[language], opts.timeZone);
  const fill = (text: string, params: Record<string, string | number>): string =>
    text.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
      const value = params[name];
      if (value === undefined) return whole;
      return typeof value === 'number' ? f.numbers().format(value) : value;
    });
  return {
    language,
    t(key, ...args) {
      const message = (catalog as Catalog)[key];
      const params: Record<string, string | number> = (args[0] as Record<string, string | number> | undefined) ?? {};
      if (message === undefined) return key;
      if (typeof message === 'string') return fill(message, params);
      const count = Number(params['count'] ?? 0);
      const form = message[f.plurals().select(count)] ?? message.other;
      return fill(form.replace(/#/g, f.numbers().format(count)), params);
    },
    number: (value) => f.numbers().format(value),
    dateTime: (at) => f.stamp().format(new Date(at)),
    longDateTime: (at) => f.longStamp().format(new Date(at)),
    time: (at) => f.clock().format(new Date(at)),
    day: (isoDay) => f.calendar().format(new Date(`${isoDay}T00:00:00Z`)),
  };
}

/** The Intl objects a translator formats with, each made when first used. */
interface Formats {
  plurals: () => Intl.PluralRules;
  numbers: () => Intl.NumberFormat;
  stamp: () => Intl.DateTimeFormat;
  longStamp: () => Intl.DateTimeFormat;
  clock: () => Intl.DateTimeFormat;
  calendar: () => Intl.DateTimeFormat;
}

/**
 * Formats by locale and zone, shared by every translator of them. Making the five took about
 * half a millisecond, and a translator is made per email (a thousand invitations queued at once
 * blocked the node for that long per row) and per error page an anonymous client asks for, most
 * using none of them. Immutable objects, so sharing them is safe; the zones are the
 * organisations', and the map is emptied if it ever holds more than FORMATS_MAX.
 */
const formats = new Map<string, Formats>();
const FORMATS_MAX = 1_000;

function formatsOf(locale: string, timeZone: string | undefined): Formats {
  const key = `${locale} ${timeZone ?? ''}`;
  const known = formats.get(key);
  if (known) return known;
  const zone = timeZone ? { timeZone } : {};
  const once = <T>(make: () => T): (() => T) => {
    let made: T | undefined;
    return () => (made ??= make());
  };
  const made: Formats = {
    plurals: once(() => new Intl.PluralRules(locale)),
    numbers: once(() => new Intl.NumberFormat(locale)),
    stamp: once(
      () =>
        new Intl.DateTimeFormat(locale, {
          ...zone,
          weekday: 'short',
          day: 'numeric',
          month: 'short',
          year: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
          timeZoneName: 'short',
        }),
    ),
    // Abbreviated, French reads "jusqu’au jeu. 10 déc." (a game); in a sentence the words are whole.
    longStamp: once(
      () =>
        new Intl.DateTimeFormat(locale, {
          ...zone,
          weekday: 'long',
          day: 'numeric',
          month: 'long',
          year: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
          timeZoneName: 'short',
        }),
    ),
    clock: once(() => new Intl.DateTimeFormat(locale, { ...zone, hour: '2-digit', minute: '2-digit' })),
    // A calendar day has no zone of its own: read at UTC midnight, written in UTC.
    calendar: once(
      () => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }),
    ),
  };
  if (formats.size >= FORMATS_MAX) formats.clear();
  formats.set(key, made);
  return made;
}
