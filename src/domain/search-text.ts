/**
 * How both stores compare a list's search text: letters without their accents and case, so that
 * "helene" finds "Hélène" and "ELODIE" finds "Élodie", as a French school types names on a
 * keyboard that makes accents slow (or a CSV that dropped them).
 */

/** `text` without combining marks (é → e, ç → c) and lower-cased. */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/**
 * Every Latin letter with a mark, by the base letter it folds to: one pass over Latin-1 and
 * Latin Extended-A and -B, whose accented letters are the ones school names hold.
 */
const ACCENTED = (() => {
  const byBase = new Map<string, string>();
  for (let cp = 0xc0; cp <= 0x24f; cp++) {
    const letter = String.fromCodePoint(cp);
    const base = foldForSearch(letter);
    if (base.length !== 1 || !/[a-z]/.test(base) || base === letter.toLowerCase()) continue;
    byBase.set(base, (byBase.get(base) ?? '') + letter);
  }
  return byBase;
})();

/**
 * A regular-expression source matching `q` as a literal substring whatever the accents of the
 * text searched (to be used case-insensitively): for a store that matches by regex rather than
 * by a folded copy of the text. `q` is folded first, so its own accents do not narrow the match.
 */
export function accentInsensitivePattern(q: string): string {
  return [...foldForSearch(q)]
    .map((ch) => {
      const accented = ACCENTED.get(ch);
      if (accented) return `[${ch}${accented}]`;
      return ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    })
    .join('');
}
