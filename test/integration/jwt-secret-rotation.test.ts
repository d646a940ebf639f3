import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { UnsubscribeTokens } from '../../src/domain/notifications/unsubscribe-tokens.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { refusal, startTestServer, type TestServer } from '../support/http.js';

const OLD_SECRET = 'the-secret-before-the-rotation-0123456789';
const NEW_SECRET = 'the-secret-after-the-rotation-9876543210';

/**
 * What a new JWT_SECRET does (docs/deploy.md, "Rotating JWT_SECRET"), the service restarted on
 * the same store: tokens signed with the old secret are refused, the logins themselves go on
 * (refresh tokens are random strings the store keeps, not signed), unsubscribe links already
 * mailed stop working.
 */
describe('JWT_SECRET rotated: the old secret signs nothing the service accepts, logins go on', function () {
  this.timeout(30_000);
  let dir: string;
  let srv: TestServer | null = null;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'jwt-rotation-'));
  });
  after(async () => {
    await srv?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (secret: string) =>
    startTestServer({ JWT_SECRET: secret }, { openStore: () => createSqliteStore({ path: path.join(dir, 'attendance.db') }) });

  it('refuses the old access token (TOKEN_INVALID) and unsubscribe link, and refreshes the login', async () => {
    srv = await start(OLD_SECRET);
    const org = await createOrg(srv.store);
    const student = await createUser(srv.store, org.id, 'student');
    const before = await srv.login(student.email, PASSWORD);
    const link = new UnsubscribeTokens(OLD_SECRET).issue({ orgId: org.id, userId: student.id, category: 'digest' });
    expect((await srv.request('GET', `/api/v1/unsubscribe?token=${link}`)).status, 'the link works before').to.equal(200);
    await srv.cleanup();
    srv = null;

    srv = await start(NEW_SECRET);
    expect(refusal(await srv.request('GET', '/api/v1/me', { token: before.accessToken }))).to.deep.equal([401, 'TOKEN_INVALID']);
    const refreshed = await srv.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: before.refreshToken } });
    expect(refreshed.status).to.equal(200);
    expect((await srv.request('GET', '/api/v1/me', { token: refreshed.body.accessToken })).status).to.equal(200);
    const unsubscribe = await srv.request('GET', `/api/v1/unsubscribe?token=${link}`, { headers: { accept: 'application/json' } });
    expect(refusal(unsubscribe)[1]).to.equal('UNSUBSCRIBE_LINK_INVALID');
  });
});
