import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import express from 'express';
import { buildWeb } from '../../../scripts/build-web.js';
import { staticPages } from '../../../src/http/static-pages.js';
import { manifestWords } from '../../../src/http/web-manifest.js';

// On a phone's slow link the page's bytes are most of the wait before a student can check in:
// the built pages are served brotli- or gzip-compressed to browsers that accept it (built once,
// beside each file), and as they are to anything else.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('built pages are served compressed (scripts/build-web.ts, src/http/static-pages.ts)', function () {
  this.timeout(60_000);
  let dir = '';
  let server: Server;
  let port = 0;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pages-'));
    await buildWeb({ outDir: dir });
    const app = express();
    app.use(staticPages(dir));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers brotli, else gzip, with the page type, and the same content as the file', async () => {
    const plain = await readFile(path.join(dir, 'student.js'));
    const br = await get(port, '/student.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).to.equal(200);
    expect(br.headers['content-encoding']).to.equal('br');
    expect(br.headers['content-type']).to.match(/^text\/javascript/);
    expect(br.headers['vary']).to.match(/Accept-Encoding/i);
    expect(br.headers['content-security-policy']).to.contain("default-src 'self'");
    expect(brotliDecompressSync(br.body).equals(plain)).to.equal(true);
    expect(br.body.length).to.be.below(plain.length / 2);

    const gz = await get(port, '/student.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(gz.body).equals(plain)).to.equal(true);

    const page = await get(port, '/student.html', { 'accept-encoding': 'br;q=0, gzip;q=0.5' });
    expect(page.headers['content-encoding']).to.equal('gzip');
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(gunzipSync(page.body).toString()).to.contain('<title>');

    const index = await get(port, '/', { 'accept-encoding': 'gzip' });
    expect(index.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(index.body).toString()).to.contain('student.html');
  });

  it('sends the file as it is without Accept-Encoding, and revalidates each encoding by its own ETag', async () => {
    const plain = await readFile(path.join(dir, 'styles.css'));
    const identity = await get(port, '/styles.css');
    expect(identity.headers['content-encoding']).to.equal(undefined);
    expect(identity.headers['content-type']).to.match(/^text\/css/);
    expect(identity.body.equals(plain)).to.equal(true);

    const gz = await get(port, '/styles.css', { 'accept-encoding': 'gzip' });
    expect(gz.headers['etag']).to.be.a('string').and.not.equal(identity.headers['etag']);
    const again = await get(port, '/styles.css', { 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers['etag']) });
    expect(again.status).to.equal(304);

    // Source maps and unknown paths are untouched.
    const map = await get(port, '/student.js.map', { 'accept-encoding': 'gzip' });
    expect(map.headers['content-encoding']).to.equal(undefined);
    expect((await get(port, '/no-such.js', { 'accept-encoding': 'gzip' })).status).to.equal(404);
  });

  it('a compressed file gone since start (the pages rebuilt under a running server) answers the file as it is', async () => {
    const plain = await readFile(path.join(dir, 'reports.js'));
    await rm(path.join(dir, 'reports.js.br'));
    const answer = await get(port, '/reports.js', { 'accept-encoding': 'br' });
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-encoding']).to.equal(undefined);
    expect(answer.headers['content-type']).to.match(/^text\/javascript/);
    expect(answer.body.equals(plain)).to.equal(true);

    // Neither left: the next handler's answer, without the encoding of a file that is not sent.
    await rm(path.join(dir, 'reset.js.gz'));
    await rm(path.join(dir, 'reset.js'));
    const gone = await get(port, '/reset.js', { 'accept-encoding': 'gzip' });
    expect(gone.status).to.equal(404);
    expect(gone.headers['content-encoding']).to.equal(undefined);
    expect(gone.headers['content-type'] ?? '').not.to.match(/javascript/);
  });

  it('names only the built files: encoded slashes and dots reach no other file', async () => {
    for (const p of ['/..%2fpackage.json', '/%2e%2e/package.json', '/..%5cpackage.json', '/student.js%00.br', '/.%2fstudent.js.br/']) {
      const answer = await get(port, p, { 'accept-encoding': 'br, gzip' });
      expect(answer.status, p).to.equal(404);
      expect(answer.headers['content-encoding'], p).to.equal(undefined);
    }
  });

  it('answers the home page in the browser’s language: the built English file, else written in French; both vary by language', async () => {
    const english = await get(port, '/', { 'accept-language': 'en-US,en;q=0.9', 'accept-encoding': 'br' });
    expect(english.headers['content-encoding']).to.equal('br');
    expect(brotliDecompressSync(english.body).toString()).to.equal(await readFile(path.join(dir, 'index.html'), 'utf8'));
    expect(english.headers['vary'])
      .to.match(/Accept-Encoding/)
      .and.match(/Accept-Language/);
    for (const pathname of ['/', '/index.html']) {
      const french = await get(port, pathname, { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.8', 'accept-encoding': 'br' });
      expect(french.status).to.equal(200);
      expect(french.headers['content-type']).to.match(/^text\/html/);
      expect(french.headers['vary']).to.match(/Accept-Language/);
      expect(french.headers['content-security-policy']).to.be.a('string');
      const html = french.body.toString();
      expect(html).to.include('<html lang="fr"').and.include('Pointage des élèves').and.include('Mot de passe oublié\u00a0?');
      expect(html).to.not.include('Student check-in');
    }
  });

  it('answers the web manifest in the browser’s language: the name under an installed icon; both vary by language', async () => {
    const built = JSON.parse(await readFile(path.join(dir, 'manifest.webmanifest'), 'utf8')) as Record<string, unknown>;
    expect(built).to.include({ ...manifestWords.en, lang: 'en', dir: 'ltr' });
    const english = await get(port, '/manifest.webmanifest', { 'accept-language': 'en-GB,en;q=0.9', 'accept-encoding': 'br' });
    expect(english.headers['content-encoding']).to.equal('br');
    expect(JSON.parse(brotliDecompressSync(english.body).toString())).to.deep.equal(built);
    expect(english.headers['vary'])
      .to.match(/Accept-Encoding/)
      .and.match(/Accept-Language/);

    const french = await get(port, '/manifest.webmanifest', { 'accept-language': 'fr-CA,fr;q=0.9,en;q=0.8' });
    expect(french.status).to.equal(200);
    expect(french.headers['content-type']).to.match(/^application\/manifest\+json/);
    expect(french.headers['vary']).to.match(/Accept-Language/);
    expect(JSON.parse(french.body.toString())).to.deep.equal({
      ...built,
      name: 'Présence en classe',
      short_name: 'Présence',
      lang: 'fr',
      dir: 'ltr',
    });
  });

  it('answers the manifest in the language the page links it with (the signed-in user’s), whatever the browser prefers', async () => {
    const built = JSON.parse(await readFile(path.join(dir, 'manifest.webmanifest'), 'utf8')) as Record<string, unknown>;
    // The built pages link it in English; a page switched to another language relinks it (src/web/lib/i18n.ts).
    expect(await readFile(path.join(dir, 'student.html'), 'utf8')).to.include('<link rel="manifest" href="manifest.webmanifest?lang=en">');

    const french = await get(port, '/manifest.webmanifest?lang=fr', { 'accept-language': 'en-GB,en;q=0.9' });
    expect(french.status).to.equal(200);
    expect(french.headers['content-type']).to.match(/^application\/manifest\+json/);
    expect(JSON.parse(french.body.toString())).to.deep.include({ name: 'Présence en classe', short_name: 'Présence', lang: 'fr' });
    // The same answer for every browser: its URL names the language, so a cache needs no copy per Accept-Language.
    expect(french.headers['vary'] ?? '').to.not.match(/Accept-Language/);

    const english = await get(port, '/manifest.webmanifest?lang=en', { 'accept-language': 'fr-FR,fr;q=0.9' });
    expect(english.status).to.equal(200);
    expect(JSON.parse(english.body.toString())).to.deep.equal(built);
    expect(english.headers['vary'] ?? '').to.not.match(/Accept-Language/);

    // A language no catalog serves: the browser's, varying by it.
    const unknown = await get(port, '/manifest.webmanifest?lang=de', { 'accept-language': 'fr-FR,fr;q=0.9' });
    expect(JSON.parse(unknown.body.toString())).to.deep.include({ name: 'Présence en classe', lang: 'fr' });
    expect(unknown.headers['vary']).to.match(/Accept-Language/);
  });
});
