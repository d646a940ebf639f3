import { expect } from 'chai';
import type { User } from '../../src/domain/ports/users.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import { newRecord, newSession } from '../contract/fixtures.js';
import { createClass } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, ok, type ClientSocket, userClient } from '../support/sockets.js';

// GET /me/attendance lists sessions by their start, not by when a record was written: a
// teacher's mark of an old session after it closed must not lift it to the top of a page.

const DAY = 24 * 60 * 60_000;

describe('GET /me/attendance in session order', function () {
  this.timeout(20_000);
  let srv: TestServer;
  const sockets: ClientSocket[] = [];
  const client = userClient(() => srv, sockets);

  beforeEach(async () => {
    srv = await startTestServer();
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv.cleanup();
  });

  async function closedSessions(orgId: string, subject: Subject, teacher: User, daysAgo: readonly number[]) {
    const made = [];
    for (const d of daysAgo) {
      made.push(
        await srv.store.sessions.create(
          orgId,
          newSession(subject.id, teacher.id, { status: 'closed', startsAt: new Date(Date.now() - d * DAY) }),
        ),
      );
    }
    return made;
  }

  it('keeps an old session below newer ones, page after page, when its record is written last', async () => {
    const { org, teacher, students, subject } = await createClass(srv.store, 1);
    const student = students[0]!;
    const [oldest, middle, newest] = await closedSessions(org.id, subject, teacher, [3, 2, 1]);
    for (const s of [newest!, middle!])
      await srv.store.records.insertIfAbsent(org.id, newRecord(s.id, subject.id, student.id, { status: 'absent' }));
    // The teacher's late mark: the oldest session's record is written after the others.
    ok(
      await command(await client(teacher), 'checkin:mark', {
        sessionId: oldest!.id,
        studentId: student.id,
        status: 'present',
        reason: 'paper register',
      }),
    );

    const token = srv.app.tokenService.signAccess(student).token;
    const seen: string[] = [];
    for (let offset = 0; offset < 3; offset += 2) {
      const res = await srv.request('GET', `/api/v1/me/attendance?limit=2&offset=${offset}`, { token });
      expect(res.status).to.equal(200);
      expect(res.body.total).to.equal(3);
      seen.push(...(res.body.items as { sessionId: string }[]).map((e) => e.sessionId));
    }
    expect(seen).to.deep.equal([newest!.id, middle!.id, oldest!.id]);
  });
});
