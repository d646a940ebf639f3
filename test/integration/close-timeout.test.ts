import { expect } from 'chai';
import type { SessionView } from '../../src/shared/events.js';
import { heldWrites } from '../support/held-writes.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import { command, ok, waitFor, type ClientSocket } from '../support/sockets.js';

const STUDENTS = 4;

// A close whose store call never answers renewed its lease for ever, and the session stayed
// `closing` on every screen. Past CLOSE_MAX_MS the close gives the session up: the teacher's
// console is told (`session:close-failed`), and the next close finishes it.
describe('a close stuck past CLOSE_MAX_MS', function () {
  this.timeout(30_000);
  let srv: TestServer;
  const held = heldWrites();
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer({ CLOSE_ANSWER_WAIT_MS: '200', CLOSE_MAX_MS: '1000' }, { wrapStore: held.wrap });
  });
  after(async () => {
    held.release();
    for (const s of sockets) s.disconnect();
    await srv?.cleanup();
  });

  it('tells the watching console CLOSE_TIMED_OUT, and the session is closed once, by the next close', async () => {
    const { org, staff, sessionId } = await openLiveClass(srv, sockets, STUDENTS);
    ok(await command(staff, 'session:watch', { sessionId }));
    const failed: unknown[] = [];
    const statuses: SessionView[] = [];
    staff.on('session:close-failed', (notice) => failed.push(notice));
    staff.on('session:status', (s) => statuses.push(s));

    expect(ok(await command(staff, 'session:close', { sessionId })).session.status).to.equal('closing');
    await waitFor(() => failed.length > 0, 5_000);
    expect(failed).to.deep.equal([{ sessionId, code: 'CLOSE_TIMED_OUT' }]);
    const given = await srv.store.sessions.get(org.id, sessionId);
    expect(given?.status).to.equal('closing');

    // The store answers again: the scheduler's close (or the stuck one's last write) stores the
    // absents, the stuck close stops at its next fence, and the session closes once.
    held.release();
    await waitFor(() => statuses.some((s) => s.id === sessionId && s.status === 'closed'), 10_000);
    const records = await srv.store.records.listBySession(org.id, sessionId);
    expect(records.map((r) => r.status)).to.deep.equal(Array(STUDENTS).fill('absent'));
    const closes = (await srv.store.audit.listForEntity(org.id, 'session', sessionId)).filter((e) => e.action === 'session.close');
    expect(closes).to.have.length(1);
  });
});
