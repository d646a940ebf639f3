import { expect } from 'chai';
import type { Store } from '../../src/domain/ports/store.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import { command, ok, waitFor, type ClientSocket } from '../support/sockets.js';

const STUDENTS = 12;
/** Each absent written at closing takes this long: a close that outlasts many scheduler passes. */
const SLOW_WRITE_MS = 60;

/** How many record writes a call makes: closing writes its absents in batches (records.writeBatch). */
const writesOf = (prop: string | symbol, args: unknown[]): number =>
  prop === 'insertIfAbsent' ? 1 : prop === 'writeBatch' && Array.isArray(args[0]) ? args[0].length : 0;

function slowAbsents(store: Store): Store {
  const records = new Proxy(store.records, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if ((prop !== 'insertIfAbsent' && prop !== 'writeBatch') || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await new Promise((resolve) => setTimeout(resolve, SLOW_WRITE_MS * writesOf(prop, args)));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return new Proxy(store, { get: (target, prop, receiver) => (prop === 'records' ? records : Reflect.get(target, prop, receiver)) });
}

/** Passes of the node's close scheduler finished so far (attendance_scheduler_ticks_total). */
async function schedulerPasses(srv: TestServer): Promise<number> {
  return (await srv.app.metrics.schedulerTicks.get()).values[0]?.value ?? 0;
}

// Walking three nodes on MongoDB, a teacher's close of a 300-student session took longer than a
// scheduler pass: every node's close scheduler lists closing sessions as due, so each ran the
// same close alongside the teacher's (four closers at once on a slow store), and the audit trail
// held four `session.close` entries for one close, three of them SCHEDULED_CLOSE by nobody.
describe("a teacher's close that outlasts scheduler passes", function () {
  this.timeout(30_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer({ SCHEDULER_INTERVAL_MS: '100' }, { wrapStore: slowAbsents });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv?.cleanup();
  });

  it('runs once, by the teacher: one session.close audit entry, naming them', async () => {
    const { org, teacher, staff: teacherSocket, sessionId } = await openLiveClass(srv, sockets, STUDENTS);
    ok(await command(teacherSocket, 'session:watch', { sessionId }));
    const statuses: string[] = [];
    teacherSocket.on('session:status', (s) => {
      if (s.id === sessionId) statuses.push(s.status);
    });
    const closed = ok(await command(teacherSocket, 'session:close', { sessionId }, 20_000));
    expect(closed.session.status).to.equal('closed');
    expect(closed.counts.absent).to.equal(STUDENTS);
    // Scheduler passes after the close find nothing more to do. The pass under way at the answer
    // may have started before it (and found the lease held); the one after starts later.
    const passes = await schedulerPasses(srv);
    await waitFor(async () => (await schedulerPasses(srv)) >= passes + 2, 10_000);
    const entries = await srv.store.audit.listForEntity(org.id, 'session', sessionId);
    const closes = entries.filter((e) => e.action === 'session.close');
    expect(closes.map((e) => [e.actorId, e.reason])).to.deep.equal([[teacher.id, null]]);
    expect(statuses.filter((s) => s === 'closed')).to.have.length(1);
  });
});
