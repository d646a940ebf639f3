import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { STANDING_VERSION_MS } from '../../src/realtime/current-actor.js';
import { REPO_ROOT, runNode } from '../support/run-node.js';
import { command, connectClient, connectRefused, type ClientSocket } from '../support/sockets.js';

/**
 * `admin reset` is how an operator takes back an admin account someone else got into: every
 * earlier login of it ends. The CLI is another process with no channel to the running service
 * but the store, so the service's open sockets of those logins must see the revocation there
 * (at their next command), not only when their access token expires.
 */
describe('admin CLI reset ends the open sockets of the earlier logins', function () {
  this.timeout(120_000);
  let dir: string;
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  const sockets: ClientSocket[] = [];
  /** How far the service's clock is ahead of the wall clock: moved on instead of waiting. */
  let aheadMs = 0;

  /** The service over a fresh store file, re-checking idle sockets every `recheckMs` (0: never). */
  async function start(recheckMs: number): Promise<void> {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-revocation-'));
    const file = path.join(dir, 'attendance.db');
    aheadMs = 0;
    srv = await startTestServer(
      { SOCKET_RECHECK_MS: String(recheckMs) },
      { openStore: () => createSqliteStore({ path: file }), clock: () => new Date(Date.now() + aheadMs) },
    );
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
  }
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `admin reset` on the admin's account in another process, as the operator would. */
  async function adminReset(password: string): Promise<void> {
    const env: NodeJS.ProcessEnv = {};
    // The developer's own store, Redis or secrets must not reach the CLI.
    for (const [k, v] of Object.entries(process.env))
      if (!/^(STORE|SQLITE_PATH|MONGODB_|REDIS_URL|DATA_DIR|NODE_ENV|JWT_)/.test(k)) env[k] = v;
    Object.assign(env, { SQLITE_PATH: path.join(dir, 'attendance.db'), DATA_DIR: dir, BCRYPT_COST: '4', FACE_ENABLED: 'false' });
    const run = await runNode(
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'scripts', 'admin.ts'),
        'admin',
        'reset',
        '--org',
        org.slug,
        '--email',
        admin.email,
        '--password-stdin',
      ],
      { env, stdin: `${password}\n` },
    );
    expect(run.code, run.out).to.equal(0);
  }

  it('refuses the next command of a socket of an ended login with TOKEN_REVOKED and disconnects it', async () => {
    // Only the command path: the idle-socket check (next case) would cut it first.
    await start(0);
    const { accessToken } = await srv.login(admin.email, 'correct-horse-battery');
    const socket = await connectClient(srv.baseUrl, accessToken);
    sockets.push(socket);
    expect((await command(socket, 'session:list-active', {})).ok, 'before the reset').to.equal(true);

    await adminReset('a-new-password-after-the-breach');

    const cut = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    // The service reads the organisation's standing version again at most STANDING_VERSION_MS
    // after it read it: its clock is moved that far on rather than waited for (the CLI's run
    // outlasts it anyway; this keeps the case from depending on that).
    aheadMs += STANDING_VERSION_MS;
    const answer = await command(socket, 'session:list-active', {});
    expect(answer.ok).to.equal(false);
    expect(!answer.ok && answer.error.code).to.equal('TOKEN_REVOKED');
    expect(await cut).to.equal('io server disconnect');
    expect((await connectRefused(srv.baseUrl, { token: accessToken })).code).to.equal('TOKEN_REVOKED');
  });

  it('cuts an idle socket of an ended login (no command sent) with auth:revoked TOKEN_REVOKED', async () => {
    await start(500);
    const { accessToken } = await srv.login(admin.email, 'correct-horse-battery');
    const socket = await connectClient(srv.baseUrl, accessToken);
    sockets.push(socket);
    // Listened for before the CLI runs (the check runs every 500 ms); bounded by the case's
    // timeout only, as the CLI's own run takes seconds, and more on a loaded machine.
    const told = new Promise<{ code: string }>((resolve) => socket.once('auth:revoked', (body: { code: string }) => resolve(body)));
    const cut = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

    await adminReset('a-new-password-after-the-breach');

    expect((await told).code).to.equal('TOKEN_REVOKED');
    expect(await cut).to.equal('io server disconnect');
    expect((await connectRefused(srv.baseUrl, { token: accessToken })).code).to.equal('TOKEN_REVOKED');
  });
});
