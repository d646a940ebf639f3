import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SLOT_LOCK_TTL_MS } from '../../src/domain/sessions/slot-locks.js';
import type { Store } from '../../src/domain/ports/store.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createClass } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { NO_CHECKS } from '../support/live-class.js';
import { command, connectClient, waitFor, type ClientSocket } from '../support/sockets.js';

/**
 * A node paused (SIGSTOP, a stalled virtual machine) while it holds a session slot lock: the lock
 * expires, another node takes it and opens the session, and the paused node, resumed, must not
 * write as if it still held it. The pause is played inside the process: the paused node's clash
 * check has read the store (no session yet) and its answer is held back while B acts, as a stopped
 * process would hold it. The lock's 15 s are not waited for: B's clock is moved past them, as the
 * time of the pause would have moved it (sigstop-fencing.test.ts waits the real time, with a real
 * stopped process).
 */
describe('a node paused while it holds a slot lock (fencing)', function () {
  this.timeout(60_000);
  let dir = '';
  const servers: TestServer[] = [];
  const sockets: ClientSocket[] = [];
  after(async () => {
    for (const s of sockets) s.disconnect();
    for (const srv of servers) await srv.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the resumed node does not open a second session of the subject the other node opened meanwhile', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fencing-'));
    const file = path.join(dir, 'attendance.db');
    let paused: Promise<void> | null = null;
    let resume = () => undefined as void;
    let heldReads = 0;
    // Holds back the answer of the subject's clash check (already read) while `paused` is set.
    const pausable = (store: Store): Store =>
      new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== 'sessions') return value;
          const sessions = value as Store['sessions'];
          return new Proxy(sessions, {
            get(t, p, r) {
              const fn = Reflect.get(t, p, r) as unknown;
              if (p !== 'listActiveForSubjectsDuring' || typeof fn !== 'function') return fn;
              return async (...args: unknown[]) => {
                const read = (await (fn as (...a: unknown[]) => Promise<unknown>).apply(t, args)) as unknown;
                if (paused) {
                  heldReads += 1;
                  await paused;
                }
                return read;
              };
            },
          });
        },
      });
    const a = await startTestServer({}, { openStore: () => createSqliteStore({ path: file }), wrapStore: pausable });
    servers.push(a);
    let bAheadMs = 0;
    const b = await startTestServer(
      {},
      { openStore: () => createSqliteStore({ path: file }), clock: () => new Date(Date.now() + bAheadMs) },
    );
    servers.push(b);
    const made = await createClass(a.store, 2);
    const teacherA = await connectClient(a.baseUrl, a.app.tokenService.signAccess(made.teacher).token);
    const teacherB = await connectClient(b.baseUrl, b.app.tokenService.signAccess(made.teacher).token);
    sockets.push(teacherA, teacherB);
    const open = (socket: ClientSocket) =>
      command(socket, 'session:open', { subjectId: made.subject.id, policy: NO_CHECKS }, SLOT_LOCK_TTL_MS + 20_000);

    paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const openedOnA = open(teacherA);
    await waitFor(() => heldReads === 1);
    // Past the lock's life on B's clock: B takes the expired locks, finds no session and opens one.
    bAheadMs = SLOT_LOCK_TTL_MS + 500;
    const onB = await open(teacherB);
    expect(onB.ok, JSON.stringify(onB)).to.equal(true);
    paused = null;
    resume();

    const onA = await openedOnA;
    const active = (await a.store.sessions.listActiveForSubjects(made.org.id, [made.subject.id])).map((s) => s.id);
    expect(active, 'one session of the subject').to.have.length(1);
    expect(onA.ok, JSON.stringify(onA)).to.equal(false);
    if (!onA.ok) expect(onA.error.code).to.equal('SESSION_ALREADY_OPEN');
  });
});
