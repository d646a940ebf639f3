// A token's life under an open socket, as protocol.md §3 tells a client written from the docs:
// auth:expiring a third of a short lifetime before the end, a renewal with a token refreshed on
// the other node, the renewal's refusals, and auth:expired with no automatic reconnection.
import { expect } from 'chai';
import { firstRunWith, people, useDeployment, useSockets } from './deployment.js';
import type { Tokens } from './http-client.js';
import { codeOf, connectRefused, data, nextEvent, send } from './socket-client.js';

/** protocol.md §3: under 180 s, auth:expiring comes a third of the lifetime before the end. */
const TTL_S = 30;

describe('docs client: token expiry under an open socket (two production nodes)', function () {
  this.timeout(150_000);
  const dep = useDeployment('docs-renewal', 2, { ACCESS_TOKEN_TTL_S: String(TTL_S) });
  const list = people('e', 1, 1);
  const open = useSockets(dep);

  before(async function () {
    this.timeout(180_000);
    await firstRunWith(dep, list);
  });

  it('auth:expiring about a third before; renewed with a token refreshed on the other node; the socket keeps working', async () => {
    let tokens: Tokens = await dep.http[0]!.login(list[0]!.email, list[0]!.password);
    const other = await dep.http[1]!.login(list[1]!.email, list[1]!.password);
    const socket = await open(0, () => tokens.accessToken);
    const [warning] = await nextEvent(socket, 'auth:expiring', () => true, TTL_S * 1_000);
    expect(warning.expiresAt).to.equal(tokens.accessTokenExpiresAt);
    // Never early; how late it arrives depends on the machine's load, so only the early side is checked.
    expect(Date.parse(warning.expiresAt) - Date.now()).to.be.at.most((TTL_S * 1_000) / 3 + 1_000);

    const foreign = await send(socket, 'auth:renew', { token: other.accessToken });
    expect(codeOf(foreign), '§3: a token of another user').to.equal('TOKEN_INVALID');
    expect(codeOf(await send(socket, 'auth:renew', {} as never))).to.equal('VALIDATION_FAILED');

    const refreshed = await dep.http[1]!.post<Tokens>('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    expect(refreshed.status, refreshed.text).to.equal(200);
    tokens = refreshed.body;
    const renewed = data(await send(socket, 'auth:renew', { token: tokens.accessToken }));
    expect(renewed).to.deep.equal({ expiresAt: tokens.accessTokenExpiresAt });
    // Past the first token's end, the socket still answers: its timers run from the new token.
    const expired = nextEvent(socket, 'auth:expired', () => true, TTL_S * 2_000);
    const [next] = await nextEvent(socket, 'auth:expiring', () => true, TTL_S * 1_000);
    expect(next.expiresAt, 'once per token: the new one').to.equal(tokens.accessTokenExpiresAt);
    expect(data(await send(socket, 'session:list-active', {}))).to.deep.equal([]);

    // Not renewed this time: auth:expired, then the server's disconnection, not retried by the client.
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await expired;
    expect(await gone).to.equal('io server disconnect');
    expect(socket.active).to.equal(false);
    expect((await connectRefused(dep.nodes[1]!.url, { token: tokens.accessToken })).data.code).to.equal('TOKEN_EXPIRED');

    // protocol.md §2: after the refusal, refresh over HTTP and call socket.connect(); the auth
    // function hands the new token to the handshake, and the socket works again.
    const retried = new Promise<string | undefined>((resolve) =>
      socket.once('connect_error', (err) => resolve((err as Error & { data?: { code?: string } }).data?.code)),
    );
    socket.connect();
    expect(await retried, 'the same socket, still with the expired token').to.equal('TOKEN_EXPIRED');
    expect(socket.active, 'no automatic retry after a refusal').to.equal(false);
    const fresh = await dep.http[0]!.post<Tokens>('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    expect(fresh.status, fresh.text).to.equal(200);
    tokens = fresh.body;
    const back = new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.connect();
    await back;
    expect(data(await send(socket, 'session:list-active', {}))).to.deep.equal([]);
  });
});
