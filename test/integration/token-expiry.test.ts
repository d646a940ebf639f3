import { expect } from 'chai';
import { TokenService } from '../../src/auth/tokens.js';
import type { User } from '../../src/domain/store-ports.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, nextEvent, ok, type ClientSocket } from '../support/sockets.js';

/** A token of `user` that expires `inMs` from now: signed by a clock set back by the rest of the TTL. */
function tokenExpiringIn(srv: TestServer, user: User, inMs: number): string {
  const back = srv.config.jwt.accessTtlS * 1000 - inMs;
  return new TokenService(srv.config.jwt, () => new Date(Date.now() - back)).signAccess(user).token;
}

describe('socket.io: access-token expiry during a connection', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let student: User;
  let other: User;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer();
    const org = await createOrg(srv.store);
    student = await createUser(srv.store, org.id, 'student');
    other = await createUser(srv.store, org.id, 'student');
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  async function connect(token: string): Promise<ClientSocket> {
    const s = await connectClient(srv.baseUrl, token);
    sockets.push(s);
    return s;
  }

  it('warns, then tells the client and disconnects it when the token expires', async () => {
    const s = await connect(tokenExpiringIn(srv, student, 2_500));
    // Less than a minute is left at connection: the warning comes at the next sweep.
    const [warning] = await nextEvent(s, 'auth:expiring', () => true, 2_000);
    expect(Date.parse(warning.expiresAt) - Date.now()).to.be.within(0, 2_600);
    const expired = nextEvent(s, 'auth:expired', () => true, 5_000);
    const gone = new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason)));
    await expired;
    expect(await gone).to.equal('io server disconnect');
  });

  it('moves the deadline when the client renews with a fresh token of the same user', async () => {
    const s = await connect(tokenExpiringIn(srv, student, 2_000));
    const renewed = ok(await command(s, 'auth:renew', { token: srv.app.tokenService.signAccess(student).token }));
    expect(Date.parse(renewed.expiresAt) - Date.now()).to.be.greaterThan(60_000);
    let expired = false;
    s.on('auth:expired', () => (expired = true));
    // Past the old deadline and a sweep: still connected and still served.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(expired).to.equal(false);
    expect(s.connected).to.equal(true);
    const again = ok(await command(s, 'auth:renew', { token: srv.app.tokenService.signAccess(student).token }));
    expect(again.expiresAt).to.be.a('string');
  });

  it("refuses to renew with another user's token and keeps the old deadline", async () => {
    const s = await connect(tokenExpiringIn(srv, student, 3_000));
    const ack = await command(s, 'auth:renew', { token: srv.app.tokenService.signAccess(other).token });
    expect(ack.ok ? 'ok' : ack.error.code).to.equal('TOKEN_INVALID');
    await nextEvent(s, 'auth:expired', () => true, 6_000);
  });
});
