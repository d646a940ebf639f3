/**
 * The pages' shared markup (the document head, the login form) is written once in
 * src/web/partials and placed by a comment in each page:
 *
 *   <!-- partial:login heading="Log in (teacher)" class="narrow" -->
 *
 * The build replaces the comment with the partial, `{{name}}` taken from the attributes.
 * A partial or an attribute that does not exist fails the build rather than ship a hole.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const DIRECTIVE = /^[ \t]*<!--\s*partial:([a-z-]+)((?:\s+[a-z-]+="[^"]*")*)\s*-->[ \t]*\r?\n?/gm;
const ATTRIBUTE = /([a-z-]+)="([^"]*)"/g;
const SLOT = /\{\{([a-z-]+)\}\}/g;

export async function expandPartials(html: string, partialsDir: string, page: string): Promise<string> {
  const cache = new Map<string, string>();
  const parts: string[] = [];
  let last = 0;
  for (const match of html.matchAll(DIRECTIVE)) {
    const [whole, name, attrs] = match as unknown as [string, string, string];
    let partial = cache.get(name);
    if (partial === undefined) {
      partial = await readFile(path.join(partialsDir, `${name}.html`), 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new Error(`${page}: no partial "${name}" (${err.code ?? err.message})`);
      });
      cache.set(name, partial);
    }
    const values = new Map([...attrs.matchAll(ATTRIBUTE)].map((a) => [a[1]!, a[2]!]));
    const filled = partial.replace(SLOT, (_slot, key: string) => {
      const value = values.get(key);
      if (value === undefined) throw new Error(`${page}: partial "${name}" needs ${key}="…"`);
      return value;
    });
    parts.push(html.slice(last, match.index), filled.endsWith('\n') ? filled : `${filled}\n`);
    last = match.index + whole.length;
  }
  parts.push(html.slice(last));
  return parts.join('');
}
