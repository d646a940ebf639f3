import { expect } from 'chai';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer, refusal } from '../support/http.js';

// The application's scheduled token purge, with its clock injected: a login's refresh token
// is deleted once it has been expired for more than a day, and the organisation's audit says so.

const DAY = 86_400_000;

describe('scheduled token purge (application)', function () {
  let srv: TestServer;
  let now = Date.UTC(2026, 2, 2, 9, 0, 0);

  before(async () => {
    srv = await startTestServer({ TOKEN_PURGE_INTERVAL_MS: '3600000' }, { clock: () => new Date(now) });
  });
  after(async () => {
    await srv.cleanup();
  });

  it('deletes the expired refresh tokens of a login on the next due run, once', async () => {
    const org = await createOrg(srv.store);
    const user = await createUser(srv.store, org.id, 'teacher');
    const { refreshToken } = await srv.login(user.email, PASSWORD, org.slug);
    // The node's own checks stop here; the test drives the runs.
    await srv.app.tokenPurge.stop();

    now += srv.config.jwt.refreshTtlS * 1_000 + DAY + 60_000;
    expect(await srv.app.tokenPurge.tick()).to.equal(true);
    expect(await srv.app.tokenPurge.tick(), 'not due again within the interval').to.equal(false);

    const entries = await srv.store.audit.listForEntity(org.id, 'organisation', org.id);
    expect(entries.filter((e) => e.action === 'tokens.purge').map((e) => e.to)).to.deep.equal([
      { refreshTokens: 1, accountTokens: 0, outbox: 0, webhookDeliveries: 0 },
    ]);
    const res = await srv.request('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
    expect(refusal(res)).to.deep.equal([401, 'REFRESH_TOKEN_INVALID']);
  });
});
