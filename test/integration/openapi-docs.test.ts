import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DEMO_PASSWORDS, seedDemo } from '../../src/domain/seed.js';
import type { Store } from '../../src/domain/ports/store.js';
import { ensurePagesBuilt } from '../support/browser.js';
import { startTestServer, type TestServer, refusal } from '../support/http.js';
import { cheapPasswordHasher } from '../support/passwords.js';

describe('OpenAPI document and docs page', () => {
  let srv: TestServer;
  before(async function () {
    // The docs page names the pages' favicon, served from the built pages.
    this.timeout(120_000);
    await ensurePagesBuilt('favicon.svg');
    srv = await startTestServer();
  });
  after(() => srv.cleanup());

  it('serves an OpenAPI 3.1 document listing every route with schemas and security', async () => {
    const res = await srv.request('GET', '/api/openapi.json');
    expect(res.status).to.equal(200);
    const doc = res.body;
    expect(doc.openapi).to.match(/^3\.1\./);
    expect(doc.info.title).to.be.a('string');
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(ops).to.include.members([
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/logout',
      'GET /api/v1/me',
      'GET /api/v1/users',
      'POST /api/v1/users',
      'GET /api/v1/users/{id}',
      'PATCH /api/v1/users/{id}',
      'POST /api/v1/users/{id}/deactivate',
      'POST /api/v1/users/import',
      'GET /api/v1/subjects',
      'POST /api/v1/subjects',
      'GET /api/v1/subjects/{id}',
      'PATCH /api/v1/subjects/{id}',
      'DELETE /api/v1/subjects/{id}',
      'GET /api/v1/subjects/{id}/students',
      'POST /api/v1/subjects/{id}/enrolments',
      'DELETE /api/v1/subjects/{id}/enrolments',
      'PUT /api/v1/subjects/{id}/location',
      'PUT /api/v1/subjects/{id}/network',
    ]);
    const login = doc.paths['/api/v1/auth/login'].post;
    expect(login.security).to.equal(undefined);
    expect(login.requestBody.content['application/json'].schema.required).to.include.members(['email', 'password']);
    expect(login.responses['200'].content['application/json'].schema.properties.accessTokenExpiresAt).to.include({
      type: 'string',
      format: 'date-time',
    });
    expect(login.responses['401'].content['application/json'].schema.$ref).to.equal('#/components/schemas/Error');

    const listUsers = doc.paths['/api/v1/users'].get;
    expect(listUsers.security).to.deep.equal([{ bearerAuth: [] }]);
    const limit = listUsers.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit).to.deep.include({ in: 'query', required: false });
    expect(limit.schema).to.include({ maximum: 200, default: 50 });
    const user = listUsers.responses['200'].content['application/json'].schema.properties.items.items;
    expect(user.properties).to.not.have.property('passwordHash');

    const getSubject = doc.paths['/api/v1/subjects/{id}'].get;
    expect(getSubject.parameters[0]).to.deep.include({ name: 'id', in: 'path', required: true });
    expect(doc.paths['/api/v1/users/import'].post.requestBody.content).to.have.keys('application/json', 'text/csv');
    // bcrypt reads 72 bytes: a password of 72 characters may be refused, and the document says so.
    const createUser = doc.paths['/api/v1/users'].post.requestBody.content['application/json'].schema;
    expect(createUser.properties.password.description).to.match(/at most 72 bytes/);
    expect(doc.paths['/api/v1/users/{id}'].patch.requestBody.content['application/json'].schema.properties.password.description).to.match(
      /at most 72 bytes/,
    );
    // JSON bodies refuse unknown fields, nested ones included, and the document says so.
    const createSubject = doc.paths['/api/v1/subjects'].post.requestBody.content['application/json'].schema;
    expect(createSubject.additionalProperties).to.equal(false);
    expect(createSubject.properties.location.anyOf[0].additionalProperties).to.equal(false);
    expect(createSubject.properties.teacherIds.description).to.be.a('string');
    // A comma-separated list of session statuses: the document says which strings pass.
    const status = doc.paths['/api/v1/subjects/{id}/sessions'].get.parameters.find((p: { name: string }) => p.name === 'status');
    const pattern = new RegExp(status.schema.pattern);
    expect(['open', 'scheduled,closed'].every((v) => pattern.test(v))).to.equal(true);
    expect(['', 'open,', 'opened'].some((v) => pattern.test(v))).to.equal(false);
    expect(doc.components.securitySchemes.bearerAuth).to.deep.equal({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('every query parameter a route requires is written with it at least once in README or docs/*.md (docs client)', async () => {
    const doc = (await srv.request('GET', '/api/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean }[] }>>;
    };
    const required = new Map<string, string[]>();
    for (const [route, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        // `token` only comes inside a link the service itself mails (unsubscribe): nobody writes it.
        const names = (op.parameters ?? []).filter((p) => p.in === 'query' && p.required && p.name !== 'token').map((p) => p.name);
        if (names.length > 0) required.set(`${method.toUpperCase()} ${route}`, names);
      }
    }
    expect(required.size, 'routes with a required query').to.be.above(3);
    const root = new URL('../../', import.meta.url);
    const texts = ['README.md', ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`)].map((f) =>
      readFileSync(new URL(f, root), 'utf8'),
    );
    const written = new Set<string>();
    for (const text of texts) {
      for (const m of text.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (?:\/api\/v1)?(\/[^`?\s]*)(\?[^`]*)?`/g)) {
        const key = `${m[1]} /api/v1${m[2]!.replace(/\{[^}]+\}|:[a-z]+/gi, '{id}')}`;
        const query = m[3] ?? '';
        if (required.get(key)?.every((name) => new RegExp(`[?&]${name}\\b`).test(query))) written.add(key);
      }
    }
    expect([...required.keys()].filter((key) => !written.has(key))).to.deep.equal([]);
  });

  it("a subject's upcoming meetings: every field of the answer described in the OpenAPI and written in docs/timetable.md (docs client)", async () => {
    type Item = { properties: Record<string, { description?: string }> };
    const doc = (await srv.request('GET', '/api/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: Record<string, { schema: { items?: Item } & Item }> }> }>
      >;
      components: { schemas: Record<string, Item> };
    };
    const resolve = (s: Item & { $ref?: string }): Item => (s.$ref ? doc.components.schemas[s.$ref.split('/').pop()!]! : s);
    const list = doc.paths['/api/v1/subjects/{id}/upcoming']!.get!.responses['200']!.content['application/json']!.schema;
    const fields = resolve(list.items!).properties;
    expect(Object.keys(fields)).to.include.members(['meetingId', 'day', 'startsAt', 'closesAt', 'state', 'sessionId']);
    const undescribed = Object.entries(fields)
      .filter(([, f]) => !f.description)
      .map(([name]) => name);
    expect(undescribed, 'fields without a description in the OpenAPI').to.deep.equal([]);
    const timetable = readFileSync(new URL('../../docs/timetable.md', import.meta.url), 'utf8');
    const section = timetable.slice(timetable.indexOf('GET /subjects/{id}/upcoming'));
    expect(
      Object.keys(fields).filter((name) => !section.includes(`\`${name}\``)),
      'fields docs/timetable.md does not name',
    ).to.deep.equal([]);
  });

  it('the excuses list: `cursor` in, `nextCursor` out, `offset` marked deprecated (docs client)', async () => {
    type Param = { name: string; in: string; deprecated?: boolean; description?: string };
    const doc = (await srv.request('GET', '/api/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { parameters: Param[]; responses: Record<string, { content: Record<string, { schema: unknown }> }> }>
      >;
    };
    const op = doc.paths['/api/v1/excuses']!.get!;
    const params = new Map(op.parameters.map((p) => [p.name, p]));
    expect(params.get('offset')).to.include({ deprecated: true });
    expect(params.get('cursor')).to.include({ in: 'query', required: false });
    expect(params.get('cursor')!.deprecated).to.equal(undefined);
    const schema = op.responses['200']!.content['application/json']!.schema as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).to.include('nextCursor');
  });

  it('serves the docs page with its scripts and styles from this server', async () => {
    const page = await srv.request('GET', '/api/docs');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/text\/html/);
    const html = page.body as string;
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).to.be.at.least(3);
    for (const asset of assets) {
      expect(asset.startsWith('/'), `${asset} is local`).to.equal(true);
      const res = await fetch(srv.baseUrl + asset);
      expect(res.status, asset).to.equal(200);
      expect((await res.arrayBuffer()).byteLength, asset).to.be.above(100);
    }
  });

  it('serves the docs page and its script under a policy that allows no inline script and no framing', async () => {
    for (const address of ['/api/docs/', '/api/docs/init.js', '/api/docs/assets/swagger-ui-bundle.js']) {
      const csp = (await srv.request('GET', address)).headers.get('content-security-policy') ?? '';
      const directives = new Map(csp.split(';').map((d) => [d.trim().split(' ')[0], d.trim().split(' ').slice(1)] as const));
      expect(directives.get('frame-ancestors'), address).to.deep.equal(["'none'"]);
      expect(directives.get('script-src'), address).to.deep.equal(["'self'"]);
      expect(directives.get('object-src'), address).to.deep.equal(["'none'"]);
    }
  });

  it("serves none of swagger-ui-dist's files but the page's own: not its version, its pages, its source maps", async () => {
    for (const file of [
      'package.json',
      'README.md',
      'index.html',
      'oauth2-redirect.html',
      'swagger-initializer.js',
      'swagger-ui-bundle.js.map',
      'index.js',
    ]) {
      const res = await srv.request('GET', `/api/docs/assets/${file}`);
      expect(res.status, file).to.equal(404);
      expect(JSON.stringify(res.body), file).to.not.contain('swagger');
    }
  });
});

describe('HTTP failure answers', () => {
  let srv: TestServer;
  let pingFails = false;
  before(async () => {
    srv = await startTestServer(
      // A first back-off pause longer than the test (the default is 1 s): on a loaded machine a
      // third guess sent more than a second after the second was let through, rightly, and
      // answered 401 instead of the 429 under test.
      { LOGIN_ACCOUNT_FREE_FAILURES: '2', LOGIN_BACKOFF_BASE_MS: '600000' },
      {
        wrapStore: (inner: Store) => {
          const users = Object.create(inner.users) as Store['users'];
          users.list = async () => {
            throw new Error('secret internal detail /var/db');
          };
          return Object.assign(Object.create(inner) as Store, {
            users,
            ping: () => (pingFails ? Promise.reject(new Error('down')) : inner.ping()),
          });
        },
      },
    );
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
  });
  after(() => srv.cleanup());

  it('answers 500 INTERNAL without the internal message or a stack', async () => {
    const { accessToken } = await srv.login('admin@demo.school', DEMO_PASSWORDS.admin);
    const res = await srv.request('GET', '/api/v1/users', { token: accessToken });
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({ error: { code: 'INTERNAL', message: 'Internal error.' } });
  });

  it('answers /readyz 503 when the store does not answer', async () => {
    pingFails = true;
    let res;
    try {
      res = await srv.request('GET', '/readyz');
    } finally {
      pingFails = false;
    }
    expect(res.status).to.equal(503);
    expect(res.body.store).to.deep.equal({ kind: 'sqlite', ok: false });
    // A failing store does not read as a busy login pool.
    expect(res.body.passwords).to.include({ ok: true });
  });

  it('answers 429 with Retry-After once login failures exceed the limit', async () => {
    const attempt = () => srv.request('POST', '/api/v1/auth/login', { body: { email: 'ada@demo.school', password: 'wrong-password' } });
    expect(refusal(await attempt())).to.deep.equal([401, 'INVALID_CREDENTIALS']);
    expect((await attempt()).status).to.equal(401);
    const limited = await attempt();
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 900);
  });
});
