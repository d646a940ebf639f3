import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandPartials } from '../../../scripts/lib/html-partials.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('page partials (scripts/lib/html-partials.ts)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'partials-'));
    await writeFile(path.join(dir, 'greet.html'), '  <h1 class="{{class}}">{{text}}</h1>\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('puts the partial where its comment stands, its slots filled from the attributes', async () => {
    const page = '<main>\n  <!-- partial:greet text="Hello · you" class="" -->\n  <p>rest</p>\n</main>\n';
    expect(await expandPartials(page, dir, 'x.html')).to.equal('<main>\n  <h1 class="">Hello · you</h1>\n  <p>rest</p>\n</main>\n');
  });

  it('fails the build on an unknown partial or a missing attribute instead of shipping a hole', async () => {
    const fail = (html: string) =>
      expandPartials(html, dir, 'x.html').then(
        () => 'expanded',
        (err: Error) => err.message,
      );
    expect(await fail('<!-- partial:nope -->\n')).to.match(/x\.html: no partial "nope"/);
    expect(await fail('<!-- partial:greet text="hi" -->\n')).to.equal('x.html: partial "greet" needs class="…"');
  });

  it('leaves no directive or slot in any real page, and every page gets the shared head', async () => {
    const pages = (await readdir(path.join(ROOT, 'src/web/public'))).filter((n) => n.endsWith('.html'));
    expect(pages.length).to.be.at.least(7);
    for (const name of pages) {
      const out = await expandPartials(
        await readFile(path.join(ROOT, 'src/web/public', name), 'utf8'),
        path.join(ROOT, 'src/web/partials'),
        name,
      );
      expect(out, name).not.to.match(/partial:|\{\{/);
      expect(out.startsWith('<!doctype html>\n<html lang="en">\n<head>\n'), name).to.equal(true);
      expect(out, name).to.contain('<link rel="stylesheet" href="styles.css">');
    }
  });
});
