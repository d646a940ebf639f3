import { expect } from 'chai';
import { freshToken, type StoredAuth } from '../../../src/web/lib/auth.js';

/** The pages' token refresh, with localStorage and fetch of a browser stood in for. */
describe('freshToken (browser pages)', () => {
  const items = new Map<string, string>();
  let refreshes: number;
  const saved = { localStorage: globalThis.localStorage, fetch: globalThis.fetch };
  const store = (auth: Partial<StoredAuth> & { accessTokenExpiresAt: string }) =>
    items.set(
      'attendance.auth',
      JSON.stringify({ accessToken: 'old', refreshToken: 'r1', user: { id: 'u', name: 'U', email: 'u@x.test', role: 'student' }, ...auth }),
    );
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

  before(() => {
    Object.assign(globalThis, {
      localStorage: {
        getItem: (k: string) => items.get(k) ?? null,
        setItem: (k: string, v: string) => void items.set(k, v),
        removeItem: (k: string) => void items.delete(k),
      },
      fetch: (url: string) => {
        expect(url).to.equal('api/v1/auth/refresh');
        refreshes += 1;
        const body = {
          accessToken: 'new',
          accessTokenExpiresAt: inMs(30_000),
          refreshToken: 'r2',
          user: { id: 'u', name: 'U', email: 'u@x.test', role: 'student' },
        };
        return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
      },
    });
  });
  after(() => Object.assign(globalThis, saved));
  beforeEach(() => {
    items.clear();
    refreshes = 0;
  });

  it('keeps a 15-minute token until a minute is left', async () => {
    store({ accessTokenExpiresAt: inMs(61_000), accessTokenLifetimeMs: 900_000 });
    expect(await freshToken()).to.equal('old');
    store({ accessTokenExpiresAt: inMs(59_000), accessTokenLifetimeMs: 900_000 });
    expect(await freshToken()).to.equal('new');
    expect(refreshes).to.equal(1);
  });

  it('keeps a fresh 30 s token (ACCESS_TOKEN_TTL_S=30) instead of refreshing at every request', async () => {
    store({ accessTokenExpiresAt: inMs(30_000), accessTokenLifetimeMs: 30_000 });
    expect(await freshToken()).to.equal('old');
    expect(refreshes).to.equal(0);
    // The refreshed pair is kept with its own lifetime: the next request does not refresh again.
    store({ accessTokenExpiresAt: inMs(9_000), accessTokenLifetimeMs: 30_000 });
    expect(await freshToken()).to.equal('new');
    expect(await freshToken()).to.equal('new');
    expect(refreshes).to.equal(1);
  });
});
