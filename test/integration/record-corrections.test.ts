import path from 'node:path';
import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import type { RosterEntry } from '../../src/shared/events.js';
import { PASSWORD, createCodeSession, createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, refusal, type Json, type TestServer } from '../support/http.js';
import type { TestNode } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, nextRosterUpdate, ok } from '../support/sockets.js';
import { useNodes } from '../support/use-nodes.js';

// A school's information system corrects records after the fact over HTTP
// (POST /sessions/{id}/records/{studentId}/correction, docs/integrations.md "Corrections"):
// the domain call checkin:mark makes, so the same rules, audit, webhooks and live roster.

const correctionPath = (sessionId: string, studentId: string) => `/api/v1/sessions/${sessionId}/records/${studentId}/correction`;

/** POST of `body` to `url` on `node` with `token`: the status and parsed body. */
async function post(node: TestNode, url: string, token: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(node.url + url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('record corrections over HTTP', function () {
  describe('on two nodes', function () {
    const suite = useRedis('record-corrections');
    const nodes = useNodes(suite);
    let fileNo = 0;

    it('corrects a closed session as the socket does: audited, summarised, sent to a watcher on the other node and to webhooks', async () => {
      const [a, b] = await nodes.start(2, {
        sqlitePath: path.join(suite.dir, `corrections-${++fileNo}.db`),
        env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '60000' },
      });
      const store = a!.store;
      const org = await createOrg(store);
      const admin = await createUser(store, org.id, 'admin');
      const teacher = await createUser(store, org.id, 'teacher');
      const student = await createUser(store, org.id, 'student');
      const subject = await createSubject(store, org.id, [teacher.id], [student.id]);
      const session = await createCodeSession(store, org.id, subject.id, teacher.id, { startsAt: new Date(Date.now() - 3_600_000) });
      await a!.app.attendance.closer.close(org.id, session.id, teacher.id);
      const endpoint = await store.webhooks.createEndpoint(
        org.id,
        { url: 'http://127.0.0.1:9/hook', description: null, secret: 'whsec_corrections', events: ['record.changed'] },
        new Date(),
      );

      const watcher = await nodes.client(b!, teacher);
      const snapshot = ok(await command(watcher, 'session:watch', { sessionId: session.id }));
      const before = snapshot.entries.find((e) => e.studentId === student.id)!;
      expect(before.status).to.equal('absent');

      const adminToken = a!.app.tokenService.signAccess(admin).token;
      const pushed = nextRosterUpdate(watcher, (u) => u.entry.studentId === student.id && u.entry.status === 'excused');
      const res = await post(a!, correctionPath(session.id, student.id), adminToken, {
        status: 'excused',
        reason: 'medical certificate received by the office',
        absenceCategory: 'MEDICAL',
        expectedVersion: before.recordVersion,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const entry = res.body as RosterEntry;
      expect(entry).to.include({
        status: 'excused',
        reason: 'CORRECTED_BY_TEACHER',
        correctionReason: 'medical certificate received by the office',
        absenceCategory: 'MEDICAL',
        decidedBy: admin.id,
        recordVersion: before.recordVersion + 1,
      });
      const update = await pushed;
      expect(update.entry).to.deep.equal(entry);

      const trail = await store.audit.listForSession(org.id, session.id);
      const corrections = trail.filter((e) => e.action === 'record.correct');
      expect(corrections.map((e) => [e.actorId, e.reason])).to.deep.equal([[admin.id, 'medical certificate received by the office']]);
      const [summary] = await store.summaries.list(org.id, subject.id, session.day, session.day);
      expect(summary).to.include({ excused: 1, absent: 0 });

      await a!.app.webhookEvents.drain();
      const deliveries = await store.webhooks.listDeliveries(org.id, endpoint.id, { limit: 10, offset: 0 });
      const changed = deliveries.items.filter((d) => d.event === 'record.changed').map((d) => JSON.parse(d.body).data.record);
      expect(changed.map((r: { status: string; studentId: string }) => [r.status, r.studentId])).to.deep.equal([['excused', student.id]]);
    });
  });

  describe('its refusals', function () {
    let srv: TestServer;
    let org: Organisation;
    let teacher: User;
    let student: User;
    let subject: Subject;
    let token: string;
    before(async () => {
      srv = await startTestServer();
      org = await createOrg(srv.store);
      teacher = await createUser(srv.store, org.id, 'teacher');
      student = await createUser(srv.store, org.id, 'student');
      subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
      token = (await srv.login(teacher.email, PASSWORD)).accessToken;
    });
    after(() => srv.cleanup());

    /** A session of the subject with the student marked present, and that record's version. */
    async function markedSession(): Promise<{ sessionId: string; version: number }> {
      const session = await createCodeSession(srv.store, org.id, subject.id, teacher.id);
      const res = await srv.request('POST', correctionPath(session.id, student.id), {
        token,
        body: { status: 'present', reason: 'seen in the room' },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ status: 'present', reason: 'MARKED_BY_TEACHER' });
      return { sessionId: session.id, version: res.body.recordVersion };
    }

    it('answers RECORD_CHANGED for a stale expectedVersion, and changes nothing', async () => {
      const { sessionId, version } = await markedSession();
      const res = await srv.request('POST', correctionPath(sessionId, student.id), {
        token,
        body: { status: 'absent', reason: 'left early', expectedVersion: version - 1 },
      });
      expect(refusal(res)).to.deep.equal([409, 'RECORD_CHANGED']);
      expect(await srv.store.records.getForStudent(org.id, sessionId, student.id)).to.include({ status: 'present', version });
    });

    it("refuses a category that is not the organisation's, or one given without status excused", async () => {
      const { sessionId, version } = await markedSession();
      const unknown = await srv.request('POST', correctionPath(sessionId, student.id), {
        token,
        body: { status: 'excused', reason: 'note from home', absenceCategory: 'HOLIDAY' },
      });
      expect(refusal(unknown)).to.deep.equal([400, 'ABSENCE_CATEGORY_UNKNOWN']);
      const notExcused = await srv.request('POST', correctionPath(sessionId, student.id), {
        token,
        body: { status: 'absent', reason: 'note from home', absenceCategory: 'MEDICAL' },
      });
      expect(refusal(notExcused)).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(notExcused.body.error.details.issues.map((i: { path: string }) => i.path)).to.deep.equal(['absenceCategory']);
      expect(await srv.store.records.getForStudent(org.id, sessionId, student.id)).to.include({ status: 'present', version });
    });

    it('requires a reason', async () => {
      const { sessionId } = await markedSession();
      const res = await srv.request('POST', correctionPath(sessionId, student.id), { token, body: { status: 'absent' } });
      expect(refusal(res)).to.deep.equal([400, 'VALIDATION_FAILED']);
    });
  });
});
