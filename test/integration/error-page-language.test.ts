import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/http.js';

// The server's own error page in the browser's language (docs/languages.md); programs keep JSON.
describe('error pages in the browser’s language', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv?.cleanup());

  const page = async (language: string) => {
    const res = await fetch(`${srv.baseUrl}/no-such-page.html`, { headers: { accept: 'text/html', 'accept-language': language } });
    return { status: res.status, body: await res.text() };
  };

  it('answers French to a French browser, English to one whose language has no catalog', async () => {
    const fr = await page('fr-CA,fr;q=0.9,en;q=0.5');
    expect(fr.status).to.equal(404);
    expect(fr.body).to.include('<html lang="fr" dir="ltr">').and.include('<h1>Page introuvable</h1>').and.include('Erreur 404.');
    expect(fr.body).to.include('Pointage des élèves</a>');
    const de = await page('de-DE,de;q=0.9');
    expect(de.body).to.include('<html lang="en" dir="ltr">').and.include('<h1>Page not found</h1>').and.include('Error 404.');
    const api = await fetch(`${srv.baseUrl}/api/v1/no-such-route`, { headers: { 'accept-language': 'fr' } });
    expect(((await api.json()) as { error: { code: string } }).error.code).to.equal('NOT_FOUND');
  });

  it('reads the preferences by q, then in their order, and leaves out refused ones', async () => {
    expect((await page('en;q=0.2,fr')).body).to.include('<html lang="fr"');
    expect((await page('fr;q=0,de,en;q=0.5')).body).to.include('<html lang="en"');
    expect((await page('fr;q=0.5,en;q=0.5')).body).to.include('<html lang="fr"');
  });

  it('reads only the first kilobyte of an Accept-Language or Accept header, as no browser sends more', async () => {
    // Parsed whole, a 16 KB header (Node's bound) cost about 3 ms per error page an anonymous
    // client asks for, each of a rate limit's refusals included.
    const long = `${Array.from({ length: 2_000 }, () => 'xx').join(',')},fr`;
    const res = await page(long);
    expect(res.status).to.equal(404);
    expect(res.body).to.include('<html lang="en"');
    const accept = `${Array.from({ length: 300 }, (_, i) => `application/x-${i};q=0.1`).join(',')},text/html`;
    const html = await fetch(`${srv.baseUrl}/no-such-page.html`, { headers: { accept, 'accept-language': 'fr' } });
    expect(html.status).to.equal(404);
    expect(html.headers.get('content-type')).to.match(/^application\/json/);
    expect(((await html.json()) as { error: { code: string } }).error.code).to.equal('NOT_FOUND');
  });

  it('says the answer follows Accept and Accept-Language, so a shared cache keeps one per language', async () => {
    for (const [path, accept] of [
      ['/no-such-page.html', 'text/html'],
      ['/no-such-page.html', 'application/json'],
      ['/api/v1/unsubscribe?token=u1.not.valid', 'text/html'],
    ] as const) {
      const res = await fetch(`${srv.baseUrl}${path}`, { headers: { accept, 'accept-language': 'fr' } });
      await res.arrayBuffer();
      expect(res.status, path).to.be.oneOf([400, 404]);
      const vary = (res.headers.get('vary') ?? '').toLowerCase().split(/\s*,\s*/);
      expect(vary, `${path} ${accept}`).to.include.members(['accept', 'accept-language']);
    }
  });

  it("keeps an unsubscribe link's error page out of caches and Referer headers, as its other pages", async () => {
    // The link's token is its only credential. Refusals before the route's handler (the public
    // rate limit on a school's shared address, a link cut by a mail client) had neither header.
    const res = await fetch(`${srv.baseUrl}/api/v1/unsubscribe?token=u1.cut%20here`, { headers: { accept: 'text/html' } });
    expect(res.status).to.equal(400);
    expect(await res.text()).to.include('This link is not valid');
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
  });
});
