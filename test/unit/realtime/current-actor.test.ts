import { expect } from 'chai';
import { CurrentActors, STANDING_VERSION_MS, ACTOR_MAX_AGE_MS } from '../../../src/realtime/current-actor.js';
import type { AppSocket } from '../../../src/realtime/types.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { expectCode } from '../../support/expect-code.js';
import { createOrg, createUser } from '../../support/fixtures.js';

describe('CurrentActors (who acts on a socket command, from the store)', () => {
  let store: Store;
  let user: User;
  let t: number;
  let reads: number;
  let orgReads: number;
  let revocationReads: number;
  let versionReads: number;
  const socketOf = (u: User, sid: string | null = null) =>
    ({ data: { userId: u.id, orgId: u.orgId, role: 'teacher', sid } }) as unknown as AppSocket;
  /** A login of the user as the store keeps it (its refresh token), its id the access token's sid. */
  const login = async (u: User, familyId: string) => {
    await store.refreshTokens.create({
      orgId: u.orgId,
      userId: u.id,
      familyId,
      tokenHash: `hash-${familyId}`,
      expiresAt: new Date(t + 86_400_000),
      userAgent: null,
      ip: null,
    });
    return familyId;
  };

  beforeEach(async () => {
    const inner = await createSqliteStore({ path: ':memory:' });
    reads = 0;
    orgReads = 0;
    revocationReads = 0;
    versionReads = 0;
    store = {
      ...inner,
      users: {
        ...inner.users,
        get: (orgId: string, id: string) => ((reads += 1), inner.users.get(orgId, id)),
        getMany: (orgId: string, ids: string[]) => ((reads += 1), inner.users.getMany(orgId, ids)),
        getStandings: (orgId: string, ids: string[]) => ((reads += 1), inner.users.getStandings(orgId, ids)),
      },
      organisations: { ...inner.organisations, get: (id: string) => ((orgReads += 1), inner.organisations.get(id)) },
      standingVersions: { current: (orgId: string) => ((versionReads += 1), inner.standingVersions.current(orgId)) },
      refreshTokens: {
        ...inner.refreshTokens,
        revokedFamilies: (ids: readonly string[]) => ((revocationReads += 1), inner.refreshTokens.revokedFamilies(ids)),
      },
    } as Store;
    const org = await createOrg(inner);
    user = await createUser(inner, org.id, 'teacher');
    t = Date.UTC(2026, 0, 5, 9);
  });
  afterEach(() => store.close());

  it('sees a deactivation or a role change once the version is read again, even with nobody telling it', async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    const socket = socketOf(user);
    expect((await actors.of(socket)).role).to.equal('teacher');
    await store.users.update(user.orgId, user.id, { role: 'admin' });
    t += STANDING_VERSION_MS - 1;
    expect((await actors.of(socket)).role, 'the version read is still fresh').to.equal('teacher');
    t += 1;
    expect((await actors.of(socket)).role).to.equal('admin');
    expect(socket.data.role, 'the socket follows').to.equal('admin');
    await store.organisations.update(user.orgId, { active: false });
    actors.forget(user.id);
    await expectCode(actors.of(socket), 'ORGANISATION_DISABLED');
    await store.users.update(user.orgId, user.id, { active: false });
    actors.forget(user.id);
    await expectCode(actors.of(socket), 'ACCOUNT_DISABLED');
  });

  it('keeps what it read of a user while the standing version stands: one version read for all the sockets of the organisation', async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    const others = await Promise.all(Array.from({ length: 9 }, () => createUser(store, user.orgId, 'student')));
    const sockets = [user, ...others].map((u) => socketOf(u));
    await Promise.all(sockets.map((s) => actors.of(s)));
    expect(reads).to.equal(1);
    const before = versionReads;
    // Ten seconds of commands from every socket.
    for (let i = 0; i < 10; i += 1) {
      t += 1_000;
      await Promise.all(sockets.map((s) => actors.of(s)));
      for (const s of sockets) expect(actors.current(s)?.id).to.equal(s.data.userId);
    }
    expect(reads, 'no user read again').to.equal(1);
    expect(versionReads - before, 'one version read a second, shared').to.equal(10);
    await store.users.update(user.orgId, others[0]!.id, { name: 'Renamed' });
    t += STANDING_VERSION_MS;
    await actors.of(sockets[1]!);
    expect(reads, "a rename changes nobody's standing").to.equal(1);
    t += ACTOR_MAX_AGE_MS;
    await actors.of(sockets[0]!);
    expect(reads, 'read again at the latest after ACTOR_MAX_AGE_MS').to.equal(2);
  });

  it("keeps a handshake's read only under the version read before it: a change stored meanwhile shows at the next command", async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    const other = await createUser(store, user.orgId, 'student');
    const socket = socketOf(user);
    await actors.beforeHandshake(socket, user.orgId);
    // The handshake has read a teacher; the role changes, and another socket's command reads the moved version.
    await store.users.update(user.orgId, user.id, { role: 'admin' });
    t += STANDING_VERSION_MS;
    await actors.of(socketOf(other));
    actors.fresh(socket);
    expect(actors.current(socket), "not served from the handshake's read").to.equal(null);
    expect((await actors.of(socket)).role).to.equal('admin');
  });

  it("gives the actor without a promise only from an entry whose version stands and that knows the socket's login", async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    const phone = socketOf(user, await login(user, 'login-phone'));
    const laptop = socketOf(user, await login(user, 'login-laptop'));
    expect(actors.current(phone), 'never read').to.equal(null);
    await actors.beforeHandshake(phone, user.orgId);
    actors.fresh(phone);
    expect(actors.current(phone)).to.deep.equal({ id: user.id, orgId: user.orgId, role: 'teacher' });
    expect(actors.current(laptop), 'a login the entry does not know').to.equal(null);
    await actors.of(laptop);
    expect(actors.current(laptop)?.id).to.equal(user.id);
    await store.users.update(user.orgId, user.id, { role: 'admin' });
    t += STANDING_VERSION_MS;
    expect(actors.current(phone), 'the version moved: the store is read again').to.equal(null);
    expect((await actors.of(phone)).role).to.equal('admin');
    await store.refreshTokens.revokeFamily('login-phone', new Date(t));
    await store.users.update(user.orgId, user.id, { active: false });
    actors.forget(user.id);
    expect(actors.current(phone), 'forgotten on an announced change').to.equal(null);
    await expectCode(actors.of(phone), 'ACCOUNT_DISABLED');
    expect(() => actors.current(phone))
      .to.throw()
      .with.property('code', 'ACCOUNT_DISABLED');
    await store.users.update(user.orgId, user.id, { active: true });
    actors.forget(user.id);
    await expectCode(actors.of(phone), 'TOKEN_REVOKED');
    expect(() => actors.current(phone))
      .to.throw()
      .with.property('code', 'TOKEN_REVOKED');
    expect((await actors.of(laptop)).id, 'the other login goes on').to.equal(user.id);
    expect(actors.current(laptop)?.id).to.equal(user.id);
  });

  it("serves a burst of one user's commands from one read, and a fresh handshake from none", async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    await Promise.all(Array.from({ length: 20 }, () => actors.of(socketOf(user))));
    expect(reads).to.equal(1);
    await store.users.update(user.orgId, user.id, { role: 'admin' });
    t += STANDING_VERSION_MS;
    const reconnect = socketOf(user);
    reconnect.data.role = 'admin';
    await actors.beforeHandshake(reconnect, user.orgId);
    actors.fresh(reconnect);
    expect((await actors.of(socketOf(user))).role).to.equal('admin');
    expect(reads).to.equal(1);
  });

  it('reads the users of one turn together: one query for 30 users, and one of the organisation', async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    const others = await Promise.all(Array.from({ length: 29 }, () => createUser(store, user.orgId, 'student')));
    await store.users.update(user.orgId, others[3]!.id, { active: false });
    const results = await Promise.allSettled([user, ...others].map((u) => actors.of(socketOf(u))));
    expect(reads).to.equal(1);
    expect(orgReads).to.equal(1);
    expect(results.map((r) => r.status)).to.deep.equal([user, ...others].map((_, i) => (i === 4 ? 'rejected' : 'fulfilled')));
    expect((results[0] as PromiseFulfilledResult<{ role: string }>).value.role).to.equal('teacher');
    expect((results[1] as PromiseFulfilledResult<{ role: string }>).value.role).to.equal('student');
    await expectCode(actors.of(socketOf(others[3]!)), 'ACCOUNT_DISABLED');
  });

  it("refuses a socket's commands once its login ended (TOKEN_REVOKED), with nobody telling it; the user's other login goes on", async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    const phone = socketOf(user, await login(user, 'login-phone'));
    const laptop = socketOf(user, await login(user, 'login-laptop'));
    await actors.beforeHandshake(phone, user.orgId);
    actors.fresh(phone);
    await Promise.all([actors.of(phone), actors.of(laptop)]);
    await store.refreshTokens.revokeFamily('login-phone', new Date(t));
    t += STANDING_VERSION_MS - 1;
    expect((await actors.of(phone)).id, 'the version read is still fresh').to.equal(user.id);
    t += 1;
    await expectCode(actors.of(phone), 'TOKEN_REVOKED');
    expect((await actors.of(laptop)).id).to.equal(user.id);
  });

  it("reads the logins of one turn's sockets in one query with their users, and none for a socket without one", async () => {
    const actors = new CurrentActors(store, () => new Date(t));
    const others = await Promise.all(Array.from({ length: 9 }, () => createUser(store, user.orgId, 'student')));
    const sockets = await Promise.all([user, ...others].map(async (u, i) => socketOf(u, await login(u, `login-${i}`))));
    await store.refreshTokens.revokeFamily('login-4', new Date(t));
    const results = await Promise.allSettled([...sockets, socketOf(user)].map((s) => actors.of(s)));
    expect(reads).to.equal(1);
    expect(revocationReads).to.equal(1);
    expect(results.map((r) => r.status)).to.deep.equal([...sockets, null].map((_, i) => (i === 4 ? 'rejected' : 'fulfilled')));
    t += STANDING_VERSION_MS;
    await actors.of(socketOf(user));
    expect(revocationReads, 'no login to check').to.equal(1);
  });
  it('does not keep a read that was on its way when a change was announced: the next command reads again', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inner = store;
    let standingsAsked!: () => void;
    const asked = new Promise<void>((resolve) => (standingsAsked = resolve));
    // The standing is read before the deactivation is stored, and answers after it was announced.
    const gated = {
      ...inner,
      users: {
        ...inner.users,
        getStandings: async (orgId: string, ids: string[]) => {
          const read = await inner.users.getStandings(orgId, ids);
          standingsAsked();
          await held;
          return read;
        },
      },
    } as Store;
    const actors = new CurrentActors(gated, () => new Date(t));
    const socket = socketOf(user);
    const first = actors.of(socket);
    await asked;
    await inner.users.update(user.orgId, user.id, { active: false });
    actors.forget(user.id);
    release();
    expect((await first).id, 'the command already on its way acts as it was read').to.equal(user.id);
    expect(actors.current(socket), 'not served from the read that predates the change').to.equal(null);
    await expectCode(actors.of(socket), 'ACCOUNT_DISABLED');
  });
});
