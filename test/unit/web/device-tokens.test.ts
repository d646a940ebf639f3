import { expect } from 'chai';
import { login } from '../../../src/web/lib/auth.js';

/** The pages' known-device tokens: one per account (email and organisation), with localStorage and fetch stood in for. */
describe('login keeps a device token per account (browser pages)', () => {
  const items = new Map<string, string>();
  const sent: Record<string, unknown>[] = [];
  let answer = 'd-new';
  const saved = { localStorage: globalThis.localStorage, fetch: globalThis.fetch };
  const user = { id: 'u', name: 'U', email: 'sam@x.test', role: 'teacher' };

  before(() => {
    Object.assign(globalThis, {
      localStorage: {
        getItem: (k: string) => items.get(k) ?? null,
        setItem: (k: string, v: string) => void items.set(k, v),
        removeItem: (k: string) => void items.delete(k),
      },
      fetch: (url: string, init: RequestInit) => {
        expect(url).to.equal('api/v1/auth/login');
        sent.push(JSON.parse(String(init.body)) as Record<string, unknown>);
        const body = {
          accessToken: 'a',
          accessTokenExpiresAt: new Date(Date.now() + 60_000).toISOString(),
          refreshToken: 'r',
          user,
          deviceToken: answer,
        };
        return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
      },
    });
  });
  after(() => Object.assign(globalThis, saved));
  beforeEach(() => {
    items.clear();
    sent.length = 0;
  });

  const tokenSent = () => sent.at(-1)!.deviceToken;

  it('sends each organisation’s account its own token, never another account’s of the same email', async () => {
    answer = 'd-north';
    await login('Sam@x.test', 'pw', 'north');
    expect(tokenSent()).to.equal(undefined);
    answer = 'd-south';
    await login('sam@x.test', 'pw', 'south');
    expect(tokenSent()).to.equal(undefined);
    await login('sam@x.test', 'pw', 'north');
    expect(tokenSent()).to.equal('d-north');
    await login('sam@x.test', 'pw', 'South');
    expect(tokenSent()).to.equal('d-south');
    await login('sam@x.test', 'pw');
    expect(tokenSent()).to.equal(undefined);
  });

  it('reads an entry stored by the email alone once, then keeps the account’s own', async () => {
    items.set(
      'attendance.devices',
      JSON.stringify([
        ['sam@x.test', 'd-old'],
        ['kim@x.test', 'd-kim'],
      ]),
    );
    answer = 'd-fresh';
    await login('sam@x.test', 'pw', 'north');
    expect(tokenSent()).to.equal('d-old');
    expect(JSON.parse(items.get('attendance.devices')!)).to.deep.equal([
      ['sam@x.test', 'north', 'd-fresh'],
      ['kim@x.test', 'd-kim'],
    ]);
    await login('sam@x.test', 'pw', 'south');
    expect(tokenSent()).to.equal(undefined);
  });
});
