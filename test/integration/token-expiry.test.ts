import { expect } from 'chai';
import { JwtTokenSigner } from '../../src/adapters/jwt-token-signer.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, connectRefused, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

/**
 * The server runs on a clock the test moves forward: expiry is reached by moving it, and the
 * node's once-a-second sweep notices within a second, so the events below are awaited. The
 * clock also runs on with real time, as the sweep only runs seconds after the last one.
 */
const clock = {
  offset: 0,
  now: (): Date => new Date(Date.now() + clock.offset),
  advance(ms: number): void {
    clock.offset += ms;
  },
};

/** A token of `user` that expires `inMs` from now, and when: signed by a clock set back by the rest of the TTL. */
function signedExpiringIn(srv: TestServer, user: User, inMs: number): { token: string; expiresAt: Date } {
  const back = srv.config.jwt.accessTtlS * 1000 - inMs;
  return new JwtTokenSigner(srv.config.jwt, () => new Date(clock.now().getTime() - back)).signAccess(user);
}

function tokenExpiringIn(srv: TestServer, user: User, inMs: number): string {
  return signedExpiringIn(srv, user, inMs).token;
}

describe('socket.io: access-token expiry during a connection', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let student: User;
  let other: User;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer({}, { clock: clock.now });
    const org = await createOrg(srv.store);
    student = await createUser(srv.store, org.id, 'student');
    other = await createUser(srv.store, org.id, 'student');
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  async function connect(token: string, listen?: (socket: ClientSocket) => void): Promise<ClientSocket> {
    const s = await connectClient(srv.baseUrl, token, undefined, listen);
    sockets.push(s);
    return s;
  }

  it('warns, then tells the client and disconnects it when the token expires', async () => {
    // Less than a minute is left at connection: the warning comes at the next sweep, which may
    // run while the connection is acknowledged; listened to from the handshake on (listened to
    // once connected, it was missed in 1 run of 12 at load 19).
    const warnings: { expiresAt: string }[] = [];
    const signed = signedExpiringIn(srv, student, 30_000);
    const s = await connect(signed.token, (socket) => socket.on('auth:expiring', (w) => warnings.push(w)));
    await waitFor(() => warnings.length > 0);
    // The token's own expiry (it was checked against the time left at the warning, 27 to 30 s,
    // which a connection and a sweep slower than 3 s together missed at load 26).
    expect(warnings.map((w) => w.expiresAt)).to.deep.equal([signed.expiresAt.toISOString()]);
    const expired = nextEvent(s, 'auth:expired');
    const gone = new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason)));
    clock.advance(30_000);
    await expired;
    expect(await gone).to.equal('io server disconnect');
  });

  it('moves the deadline when the client renews with a fresh token of the same user', async () => {
    const s = await connect(tokenExpiringIn(srv, student, 30_000));
    // A socket left on the same old deadline: its expiry shows a sweep past that deadline ran.
    const witness = await connect(tokenExpiringIn(srv, other, 30_000));
    const renewed = ok(await command(s, 'auth:renew', { token: srv.app.tokenService.signAccess(student).token }));
    expect(Date.parse(renewed.expiresAt) - clock.now().getTime()).to.be.greaterThan(60_000);
    let expired = false;
    s.on('auth:expired', () => (expired = true));
    const witnessExpired = nextEvent(witness, 'auth:expired');
    clock.advance(31_000);
    await witnessExpired;
    // Past the old deadline and a sweep: still connected and still served.
    expect(expired).to.equal(false);
    expect(s.connected).to.equal(true);
    const again = ok(await command(s, 'auth:renew', { token: srv.app.tokenService.signAccess(student).token }));
    expect(again.expiresAt).to.be.a('string');
  });

  it("refuses to renew with another user's token and keeps the old deadline", async () => {
    const s = await connect(tokenExpiringIn(srv, student, 30_000));
    const ack = await command(s, 'auth:renew', { token: srv.app.tokenService.signAccess(other).token });
    expect(ack.ok ? 'ok' : ack.error.code).to.equal('TOKEN_INVALID');
    const expired = nextEvent(s, 'auth:expired');
    clock.advance(30_000);
    await expired;
  });

  // The signer tolerates a few seconds of clock skew between nodes, but a socket ends at its
  // token's exp (TokenExpiryWatch): accepting a token already past it connected a client only to
  // cut it a second later, instead of the documented connect_error TOKEN_EXPIRED.
  it('refuses a handshake and a renewal with a token whose exp has just passed (TOKEN_EXPIRED)', async () => {
    const justExpired = tokenExpiringIn(srv, student, -2_000);
    expect((await connectRefused(srv.baseUrl, { token: justExpired })).code).to.equal('TOKEN_EXPIRED');
    const s = await connect(tokenExpiringIn(srv, student, 30_000));
    const ack = await command(s, 'auth:renew', { token: justExpired });
    expect(ack.ok ? 'ok' : ack.error.code).to.equal('TOKEN_EXPIRED');
  });
});
