import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SLOT_LOCK_TTL_MS } from '../../src/domain/sessions/slot-locks.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createClass } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { NO_CHECKS } from '../support/live-class.js';
import { command, connectClient, waitFor, type ClientSocket } from '../support/sockets.js';

const CHILD = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'support', 'self-stopping-node.ts');

/** The process's state letter from /proc: `T` while stopped. */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code, signal) => reject(new Error(`node A exited (${code ?? signal}) before listening`)));
  });
}

/**
 * The paused-node scenario of paused-node-fencing.test.ts with a real pause: node A runs in a
 * process of its own and stops itself with SIGSTOP right after its clash check of a
 * `session:open` (holding the subject's slot locks), stays stopped past the locks' 15 s while
 * node B opens the session, and is continued with SIGCONT. Its late write is refused.
 */
describe('a node stopped by SIGSTOP while it holds a slot lock (a real process)', function () {
  // Node A's start under tsx takes seconds on a loaded machine, then the 15.5 s stop: a bound for
  // a hung case only, far past what the steps take, which are each waited for in order.
  this.timeout(180_000);
  let dir = '';
  let b: TestServer | null = null;
  let child: ChildProcess | null = null;
  const sockets: ClientSocket[] = [];
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await b?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('node A, continued after the locks expired, does not open a second session of the subject B opened', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sigstop-'));
    const file = path.join(dir, 'attendance.db');
    const secret = randomBytes(32).toString('base64url');
    // B first: it creates the file and its tables.
    b = await startTestServer({ JWT_SECRET: secret }, { openStore: () => createSqliteStore({ path: file }) });
    child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, SQLITE_PATH: file, JWT_SECRET: secret },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const aUrl = await listening(child);
    const made = await createClass(b.store, 2);
    const token = b.app.tokenService.signAccess(made.teacher).token;
    const teacherA = await connectClient(aUrl, token);
    const teacherB = await connectClient(b.baseUrl, token);
    sockets.push(teacherA, teacherB);
    const open = (socket: ClientSocket) =>
      command(socket, 'session:open', { subjectId: made.subject.id, policy: NO_CHECKS }, SLOT_LOCK_TTL_MS + 90_000);

    const told = (word: string) =>
      new Promise<void>((resolve) => {
        const listener = (m: unknown) => {
          if (m !== word) return;
          child!.off('message', listener);
          resolve();
        };
        child!.on('message', listener);
      });
    const armed = told('armed');
    child.send('arm');
    await armed;
    const stopping = told('stopping');
    const openedOnA = open(teacherA);
    // An open answered before A stopped would leave `stopping` waiting for ever: fail with it.
    await Promise.race([
      stopping,
      openedOnA.then((ack) => {
        throw new Error(`node A answered before stopping: ${JSON.stringify(ack)}`);
      }),
    ]);
    const pid = child.pid!;
    // It stops right after telling `stopping`; the bound is only for a process that never does.
    await waitFor(() => processState(pid) === 'T', 30_000);
    // Past the locks' life: B takes the expired locks, finds no session and opens one. Real time
    // is the point here (paused-node-fencing.test.ts moves a clock instead): A's locks were taken
    // on its own clock before it told `stopping`, so this wait, started after, ends past them
    // however late the timer fires; a late timer only makes the pause longer.
    await new Promise((resolve) => setTimeout(resolve, SLOT_LOCK_TTL_MS + 500));
    expect(processState(pid), 'A still stopped').to.equal('T');
    const onB = await open(teacherB);
    expect(onB.ok, JSON.stringify(onB)).to.equal(true);
    child.kill('SIGCONT');

    const onA = await openedOnA;
    expect(onA.ok, JSON.stringify(onA)).to.equal(false);
    if (!onA.ok) expect(onA.error.code).to.equal('SESSION_ALREADY_OPEN');
    const active = await b.store.sessions.listActiveForSubjects(made.org.id, [made.subject.id]);
    expect(active, 'one session of the subject').to.have.length(1);
  });
});
