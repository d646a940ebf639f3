import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Store } from '../../src/domain/ports/store.js';
import type { Ack } from '../../src/shared/errors.js';
import type { CheckinView } from '../../src/shared/events.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import { command, ok, type ClientSocket } from '../support/sockets.js';

const STUDENTS = 12;

// Shutdown drains the group commit: check-ins waiting in a batch when close() starts are written
// and acknowledged before the sockets go, rather than lost with them (or written after the
// answer could no longer reach anyone).
describe('closing a node with check-ins queued for their group commit', function () {
  this.timeout(20_000);
  let dir: string;
  let srv: TestServer | null = null;
  const sockets: ClientSocket[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'checkin-drain-'));
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes and acknowledges every queued check-in before the store closes', async () => {
    const dbPath = path.join(dir, 'attendance.db');
    // Signalled once every student's submission has read its record, the last step before the
    // batch: from there only the (long) window stands between it and the store.
    let reads = 0;
    let allRead: () => void = () => undefined;
    const queued = new Promise<void>((resolve) => (allRead = resolve));
    let watchedSession: string | null = null;
    const watchReads = (store: Store): Store => {
      // The check-ins of one turn of the event loop read their records with one query.
      const getForSessionStudents = store.records.getForSessionStudents.bind(store.records);
      store.records.getForSessionStudents = async (orgId, keys) => {
        const found = await getForSessionStudents(orgId, keys);
        if ((reads += keys.filter((k) => k.sessionId === watchedSession).length) === STUDENTS) allRead();
        return found;
      };
      return store;
    };
    // The longest window the configuration allows, and room for all of them in one batch.
    srv = await startTestServer(
      { CHECKIN_BATCH_WINDOW_MS: '100', CHECKIN_BATCH_MAX: '5000' },
      { openStore: () => createSqliteStore({ path: dbPath }), wrapStore: watchReads },
    );
    const { org, sessionId, students, phones } = await openLiveClass(srv, sockets, STUDENTS);

    watchedSession = sessionId;
    let answered = 0;
    const answers = phones.map((phone) =>
      command(phone, 'checkin:submit', { sessionId }).then(
        (ack): Ack<CheckinView> | null => {
          answered += 1;
          return ack;
        },
        () => null, // no answer before the socket went
      ),
    );
    await queued;
    // The submissions' remaining steps are promise callbacks: one turn of the event loop and
    // every one is waiting in the batch.
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered, 'answers before close()').to.equal(0);
    const closed = srv.app.close();
    const acks = await Promise.all(answers);
    await closed;

    const codes = acks.map((a) => (a === null ? 'no answer' : a.ok ? 'ok' : a.error.code));
    expect(codes, 'every queued check-in answered').to.deep.equal(students.map(() => 'ok'));
    const store = await createSqliteStore({ path: dbPath });
    try {
      const stored = await store.records.listBySession(org.id, sessionId);
      expect(stored.map((r) => r.studentId).sort()).to.deep.equal(students.map((s) => s.id).sort());
      for (const ack of acks) {
        const view = ok(ack!);
        const record = stored.find((r) => r.id === view.recordId);
        expect(record, `acknowledged record ${view.recordId} stored`).to.not.equal(undefined);
        expect(record!.version).to.equal(view.recordVersion);
      }
    } finally {
      await store.close();
    }
  });
});
