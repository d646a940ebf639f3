import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A school may publish the service under a path of another host (https://www.school.example/
// attendance/, the proxy stripping the prefix). Every page sits at the top of the site, so an
// address relative to the page follows the prefix and one starting with "/" escapes it. This
// holds every page, partial, script and the manifest to that, including the next one added.

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/web');

/** A quoted string, template or CSS url() that starts with one "/" and then a name: "/api", `/${x}`. */
const ABSOLUTE_PATH = /(?:["'`]|url\(\s*)\/(?=[\w$.{-])/g;

async function webFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await webFiles(full)));
    else if (/\.(ts|html|css|webmanifest|json)$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** Lines naming an absolute same-origin path, as "file:line: text"; `//` comments are skipped. */
function absolutePaths(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    const code = /^\s*(\/\/|\*|\/\*)/.test(line) ? '' : line;
    return code.match(ABSOLUTE_PATH) ? [`${file}:${i + 1}: ${line.trim()}`] : [];
  });
}

describe('web pages under a path prefix (src/web)', () => {
  it('finds the forms an absolute path takes', () => {
    expect(absolutePaths('x', `fetch('/api/v1/users')`)).to.have.length(1);
    expect(absolutePaths('x', 'apiJson(`/api/v1/users/${id}`)')).to.have.length(1);
    expect(absolutePaths('x', '<link rel="stylesheet" href="/styles.css">')).to.have.length(1);
    expect(absolutePaths('x', '"start_url": "/student.html",')).to.have.length(1);
    expect(absolutePaths('x', 'a { background: url(/bg.png) }')).to.have.length(1);
    expect(absolutePaths('x', 'const p = `${base}${rest && `/${rest}`}`;')).to.have.length(1);
    // Relative addresses, other sites and a lone separator are fine.
    expect(
      absolutePaths('x', `fetch('api/v1/users'); x.split('/'); new URL('https://example.org/a'); s.replace(/a\\/b/g, '')`),
    ).to.deep.equal([]);
  });

  it('no page, partial, script or manifest names an absolute same-origin path', async () => {
    const found: string[] = [];
    for (const file of await webFiles(WEB)) {
      found.push(...absolutePaths(path.relative(WEB, file), await readFile(file, 'utf8')));
    }
    expect(found, 'use an address relative to the page (api/v1/…, styles.css)').to.deep.equal([]);
  });
});
