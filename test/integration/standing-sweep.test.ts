import { expect } from 'chai';
import { EventEmitter, once } from 'node:events';
import type { Store } from '../../src/domain/ports/store.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { NO_CHECKS } from '../support/live-class.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, nextEvent, ok, pollUntil, type ClientSocket } from '../support/sockets.js';

/**
 * Changes written straight to the store (as another process would, with no announcement to the
 * nodes) reach the sockets that send no command, at the next re-check of their standing.
 */
describe('idle sockets are re-checked (SOCKET_RECHECK_MS)', function () {
  this.timeout(30_000);
  let srv: TestServer;
  let org: Organisation;
  let failReads = false;
  const sockets: ClientSocket[] = [];
  // Reads of each user's standing, failed ones included: a test waits for re-checks that happened,
  // not for a time in which a loaded machine may have run none.
  const readsOf = new Map<string, number>();
  const standingRead = new EventEmitter();

  /** Resolves once `userId`'s standing has been read `more` times from now. */
  async function reread(userId: string, more: number): Promise<void> {
    const until = (readsOf.get(userId) ?? 0) + more;
    while ((readsOf.get(userId) ?? 0) < until) await once(standingRead, 'read');
  }
  // Reads of the organisation's standing version: each re-check pass reads it, while a user whose
  // standing it shows unchanged is not read again.
  let versionReads = 0;
  /** Resolves once the organisation's standing version has been read `more` times from now. */
  async function versionReread(more: number): Promise<void> {
    const until = versionReads + more;
    while (versionReads < until) await once(standingRead, 'version');
  }

  before(async () => {
    const failing = (store: Store): Store => ({
      ...store,
      users: {
        ...store.users,
        getStandings: async (orgId, ids) => {
          try {
            if (failReads) throw new Error('store out of reach');
            return await store.users.getStandings(orgId, ids);
          } finally {
            for (const id of ids) readsOf.set(id, (readsOf.get(id) ?? 0) + 1);
            standingRead.emit('read');
          }
        },
      },
      standingVersions: {
        current: async (orgId) => {
          try {
            return await store.standingVersions.current(orgId);
          } finally {
            versionReads += 1;
            standingRead.emit('version');
          }
        },
      },
    });
    srv = await startTestServer({ SOCKET_RECHECK_MS: '200' }, { wrapStore: failing });
    org = await createOrg(srv.store);
  });
  afterEach(() => {
    failReads = false;
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(async () => srv?.cleanup());

  async function connectedUser(role: 'teacher' | 'student') {
    const user = await createUser(srv.store, org.id, role);
    const { accessToken } = await srv.login(user.email, 'correct-horse-battery');
    const socket = await connectClient(srv.baseUrl, accessToken);
    sockets.push(socket);
    return { user, socket };
  }

  it('cuts a deactivated account with ACCOUNT_DISABLED and a changed role with ROLE_CHANGED; leaves the others', async () => {
    const a = await connectedUser('teacher');
    const b = await connectedUser('teacher');
    const bystander = await connectedUser('student');
    const toldA = nextEvent(a.socket, 'auth:revoked', undefined, 5_000);
    const toldB = nextEvent(b.socket, 'auth:revoked', undefined, 5_000);

    await srv.store.users.update(org.id, a.user.id, { active: false });
    await srv.store.users.update(org.id, b.user.id, { role: 'student' });

    expect((await toldA)[0].code).to.equal('ACCOUNT_DISABLED');
    expect((await toldB)[0].code).to.equal('ROLE_CHANGED');
    expect(await pollUntil(() => a.socket.disconnected && b.socket.disconnected)).to.equal(true);
    // Several re-checks later (a read is followed by its verdict before the next pass), the
    // unchanged user is still connected.
    await versionReread(3);
    expect(bystander.socket.connected).to.equal(true);
  });

  it("takes a teacher taken off the subject out of its sessions' staff rooms (session:access-lost), the others watching on", async () => {
    const a = await connectedUser('teacher');
    const b = await connectedUser('teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [a.user.id, b.user.id], [student.id]);
    const sessionId = ok(await command(a.socket, 'session:open', { subjectId: subject.id, policy: NO_CHECKS })).id;
    for (const t of [a, b]) ok(await command(t.socket, 'session:watch', { sessionId }));
    const heard: string[] = [];
    b.socket.on('roster:updates', (batch) => heard.push(batch.sessionId));
    const lost = nextEvent(b.socket, 'session:access-lost', undefined, 5_000);

    // Straight to the store: the announcement that would take them out of the room never comes
    // (another process, or a Redis outage on the way to this node).
    await srv.store.subjects.update(org.id, subject.id, { teacherIds: [a.user.id] });

    expect((await lost)[0]).to.deep.equal({ sessionId, code: 'NOT_SUBJECT_TEACHER' });
    expect(b.socket.connected, 'still a teacher of the organisation').to.equal(true);
    const phone = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(student).token);
    sockets.push(phone);
    const update = nextEvent(a.socket, 'roster:updates', undefined, 5_000);
    ok(await command(phone, 'checkin:submit', { sessionId }));
    expect((await update)[0].sessionId).to.equal(sessionId);
    // Packets keep their order: anything sent to b before this answer has arrived.
    await command(b.socket, 'session:list-active', {});
    expect(heard).to.deep.equal([]);
    // The teacher who still teaches it stays in the room.
    expect(a.socket.connected).to.equal(true);
  });

  it('takes a student unenrolled from the subject out of its rooms (session:access-lost NOT_ENROLLED), the others hearing on', async () => {
    const teacher = await connectedUser('teacher');
    const a = await connectedUser('student');
    const b = await connectedUser('student');
    const subject = await createSubject(srv.store, org.id, [teacher.user.id], [a.user.id, b.user.id]);
    // Both listed the subject's sessions (its room) and joined the live one (the session's).
    for (const s of [a, b]) ok(await command(s.socket, 'session:list-active', {}));
    const sessionId = ok(await command(teacher.socket, 'session:open', { subjectId: subject.id, policy: NO_CHECKS })).id;
    for (const s of [a, b]) ok(await command(s.socket, 'session:join', { sessionId }));
    const heard: string[] = [];
    b.socket.on('session:status', (view) => heard.push(`${view.id} ${view.status}`));
    const lost = nextEvent(b.socket, 'session:access-lost', undefined, 5_000);

    // Straight to the store: the announcement that would take b out of the rooms never comes.
    await srv.store.subjects.unenrol(org.id, subject.id, [b.user.id]);

    expect((await lost)[0]).to.deep.equal({ sessionId, code: 'NOT_ENROLLED' });
    expect(b.socket.connected, 'still a student of the organisation').to.equal(true);
    // Neither the joined session's close (its room) nor the subject's next session (the
    // subject's room) reaches b; a hears both.
    const closed = nextEvent(a.socket, 'session:status', (view) => view.id === sessionId && view.status === 'closed', 5_000);
    ok(await command(teacher.socket, 'session:close', { sessionId }));
    await closed;
    const opened = nextEvent(a.socket, 'session:status', (view) => view.id !== sessionId, 5_000);
    ok(await command(teacher.socket, 'session:open', { subjectId: subject.id, policy: NO_CHECKS }));
    await opened;
    // Packets keep their order: anything sent to b before this answer has arrived.
    await command(b.socket, 'session:list-active', {});
    expect(heard).to.deep.equal([]);
  });

  it('tells a student unenrolled from the subject of its live session they listed but did not join, which no longer admits them', async () => {
    const teacher = await connectedUser('teacher');
    const c = await connectedUser('student');
    const subject = await createSubject(srv.store, org.id, [teacher.user.id], [c.user.id]);
    ok(await command(c.socket, 'session:list-active', {}));
    const sessionId = ok(await command(teacher.socket, 'session:open', { subjectId: subject.id, policy: NO_CHECKS })).id;
    const lost = nextEvent(c.socket, 'session:access-lost', undefined, 5_000);

    // Straight to the store: the announcement that would tell c never comes.
    await srv.store.subjects.unenrol(org.id, subject.id, [c.user.id]);

    expect((await lost)[0]).to.deep.equal({ sessionId, code: 'NOT_ENROLLED' });
    const join = await command(c.socket, 'session:join', { sessionId });
    expect(join.ok ? null : join.error.code).to.equal('NOT_ENROLLED');
    expect(ok(await command(c.socket, 'session:list-active', {}))).to.deep.equal([]);
  });

  it('keeps every socket while the store cannot be read, and cuts them once it can', async () => {
    const a = await connectedUser('teacher');
    const told = nextEvent(a.socket, 'auth:revoked', undefined, 5_000);
    failReads = true;
    await srv.store.users.update(org.id, a.user.id, { active: false });
    // Two failed re-checks: the first one's outcome was applied before the second began.
    await reread(a.user.id, 2);
    expect(a.socket.connected, 'a failed read is no verdict').to.equal(true);

    failReads = false;
    expect((await told)[0].code).to.equal('ACCOUNT_DISABLED');
  });
});
