import path from 'node:path';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { connectClient, connectRefused, nextEvent, type ClientSocket } from '../support/sockets.js';

/** Logs in over HTTP against `baseUrl`. */
async function login(baseUrl: string, email: string): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(res.status).to.equal(200);
  return (await res.json()) as { accessToken: string; refreshToken: string };
}

async function me(baseUrl: string, token: string): Promise<{ status: number; code: string | null }> {
  const res = await fetch(`${baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code ?? null };
}

describe('logout ends a login on every node (access tokens and open sockets)', function () {
  this.timeout(30_000);
  let cluster: StartedNodes | null = null;
  const sockets: ClientSocket[] = [];

  const suite = useRedis('revocation');
  before(async () => {
    cluster = await startNodes(2, { redisUrl: suite.redis.url, sqlitePath: path.join(suite.dir, 'attendance.db') });
  });
  suite.beforeStop(async () => {
    for (const s of sockets) s.disconnect();
    await cluster?.cleanup();
  });

  it('refuses the logged-out access token on another node, cuts its sockets there, and leaves the other login alone', async () => {
    const [a, b] = cluster!.nodes as [StartedNodes['nodes'][number], StartedNodes['nodes'][number]];
    const org = await createOrg(a.store);
    const student: User = await createUser(a.store, org.id, 'student');
    const phone = await login(a.url, student.email);
    const laptop = await login(a.url, student.email);

    const phoneSocket = await connectClient(b.url, phone.accessToken);
    const laptopSocket = await connectClient(b.url, laptop.accessToken);
    sockets.push(phoneSocket, laptopSocket);
    const told = nextEvent(phoneSocket, 'auth:revoked', () => true);
    const cut = new Promise<string>((resolve) => phoneSocket.once('disconnect', (reason) => resolve(reason)));

    const out = await fetch(`${a.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: phone.refreshToken }),
    });
    expect(out.status).to.equal(204);

    await told;
    expect(await cut).to.equal('io server disconnect');
    expect(await me(b.url, phone.accessToken)).to.deep.equal({ status: 401, code: 'TOKEN_REVOKED' });
    expect(await me(a.url, phone.accessToken)).to.deep.equal({ status: 401, code: 'TOKEN_REVOKED' });
    expect((await connectRefused(b.url, { token: phone.accessToken })).code).to.equal('TOKEN_REVOKED');

    expect(await me(b.url, laptop.accessToken)).to.deep.equal({ status: 200, code: null });
    expect(laptopSocket.connected, 'the other login keeps its socket').to.equal(true);
  });
});

describe('Socket.IO refuses pages of other sites (Origin)', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let token: string;
  const ALLOWED = 'https://app.partner.example';

  before(async () => {
    srv = await startTestServer({ CORS_ORIGINS: ALLOWED });
    const org = await createOrg(srv.store);
    token = srv.app.tokenService.signAccess(await createUser(srv.store, org.id, 'student')).token;
  });
  after(() => srv.cleanup());

  /** Connects with an Origin header over the given transport; resolves with whether it connected. */
  function connectsFrom(origin: string | null, transport: 'websocket' | 'polling'): Promise<boolean> {
    const socket = connect(srv.baseUrl, {
      auth: { token },
      transports: [transport],
      reconnection: false,
      forceNew: true,
      ...(origin === null ? {} : { extraHeaders: { origin } }),
    });
    return new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('connect_error', () => resolve(false));
    }).finally(() => socket.disconnect());
  }

  for (const transport of ['websocket', 'polling'] as const) {
    it(`over ${transport}: refuses another site and "null", accepts this site, a configured origin and no Origin`, async () => {
      const self = srv.baseUrl;
      expect(await connectsFrom('https://evil.example', transport), 'another site').to.equal(false);
      expect(await connectsFrom('null', transport), 'a sandboxed frame').to.equal(false);
      expect(await connectsFrom(self.replace('127.0.0.1', 'localhost'), transport), 'another host name').to.equal(false);
      expect(await connectsFrom(self, transport), 'this site').to.equal(true);
      expect(await connectsFrom(ALLOWED, transport), 'CORS_ORIGINS').to.equal(true);
      expect(await connectsFrom(null, transport), 'not a browser').to.equal(true);
    });
  }
});
