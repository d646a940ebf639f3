import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { pino } from 'pino';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { sessionCommands, type SessionHandlerDeps } from '../../src/realtime/handlers/session-handlers.js';
import { checkinCommands, type CheckinHandlerDeps } from '../../src/realtime/handlers/checkin-handlers.js';
import { createClass } from '../support/fixtures.js';
import { startTestServer, type TestServer, refusal } from '../support/http.js';
import { command, nextEvent, ok, type ClientSocket, userClient } from '../support/sockets.js';

const ROOM = { lat: 40.4168, lon: -3.7038, radiusM: 80 };
const here = () => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy: 10, timestamp: Date.now() });
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const codeOf = (ack: { ok: boolean; error?: { code: string } }) => (ack.ok ? 'ok' : ack.error!.code);

describe('session lifecycle and the protocol as documented (socket.io + HTTP)', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let students: User[];
  let subject: Subject;
  const sockets: ClientSocket[] = [];
  const client = userClient(() => srv, sockets);
  const open = async (t: ClientSocket, extra: Record<string, unknown> = {}) =>
    ok(await command(t, 'session:open', { subjectId: subject.id, policy: { rotatingCode: false }, ...extra }));

  beforeEach(async () => {
    srv = await startTestServer();
    ({ org, teacher, students, subject } = await createClass(srv.store, 3, { location: ROOM }));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv.cleanup();
  });

  it('refuses a second session of a subject at the same time unless confirmed parallel', async () => {
    const t = await client(teacher);
    const first = await open(t);
    const again = await command(t, 'session:open', { subjectId: subject.id, policy: { rotatingCode: false } });
    expect(codeOf(again)).to.equal('SESSION_ALREADY_OPEN');
    if (!again.ok) expect(again.error.details).to.deep.include({ sessionIds: [first.id] });
    expect((await srv.store.sessions.list(org.id, { subjectId: subject.id, limit: 10, offset: 0 })).total).to.equal(1);
    // A session that starts once this one has closed does not clash.
    ok(await command(t, 'session:open', { subjectId: subject.id, startsAt: first.closesAt, policy: { rotatingCode: false } }));
    const parallel = await open(t, { parallel: true });
    expect(parallel.status).to.equal('open');
  });

  it("refuses a teacher's class of another subject at the same time unless confirmed teacherOverlap", async () => {
    const other = await srv.store.subjects.create(org.id, {
      code: 'LIFE2',
      name: 'Second subject',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: [],
    });
    const t = await client(teacher);
    const first = await open(t);
    const clash = await command(t, 'session:open', { subjectId: other.id, policy: { rotatingCode: false } });
    expect(codeOf(clash)).to.equal('TEACHER_DOUBLE_BOOKED');
    if (!clash.ok) {
      expect(clash.error.details).to.deep.equal({
        teacherId: teacher.id,
        sessionIds: [first.id],
        subjectIds: [subject.id],
        field: 'teacherOverlap',
      });
    }
    expect((await srv.store.sessions.list(org.id, { subjectId: other.id, limit: 10, offset: 0 })).total).to.equal(0);
    // The flag is part of the strict payload: a wrong type is refused like any field.
    expect(codeOf(await command(t, 'session:open', { subjectId: other.id, teacherOverlap: 'yes' } as never))).to.equal('VALIDATION_FAILED');
    const both = ok(await command(t, 'session:open', { subjectId: other.id, policy: { rotatingCode: false }, teacherOverlap: true }));
    expect(both).to.include({ status: 'open', subjectId: other.id, teacherId: teacher.id });
  });

  it('cancels a session: no absents, left out of the summary, announced to watchers and students, final', async () => {
    const t = await client(teacher);
    const s0 = await client(students[0]!);
    const kept = await open(t);
    ok(await command(s0, 'checkin:submit', { sessionId: kept.id, location: here() }));
    ok(await command(t, 'session:close', { sessionId: kept.id }));
    const session = await open(t);
    ok(await command(t, 'session:watch', { sessionId: session.id }));
    ok(await command(s0, 'session:join', { sessionId: session.id }));
    ok(await command(s0, 'checkin:submit', { sessionId: session.id, location: here() }));
    const [toTeacher, toStudent] = [
      nextEvent(t, 'session:status', (v) => v.id === session.id),
      nextEvent(s0, 'session:status', (v) => v.id === session.id),
    ];
    const view = ok(await command(t, 'session:cancel', { sessionId: session.id, reason: 'opened by mistake' }));
    expect(view.status).to.equal('cancelled');
    expect((await toTeacher)[0].status).to.equal('cancelled');
    expect((await toStudent)[0].status).to.equal('cancelled');
    expect(await srv.store.records.listBySession(org.id, session.id)).to.have.length(1);
    expect(codeOf(await command(await client(students[1]!), 'checkin:submit', { sessionId: session.id, location: here() }))).to.equal(
      'SESSION_CANCELLED',
    );
    expect(codeOf(await command(t, 'session:close', { sessionId: session.id }))).to.equal('SESSION_CANCELLED');
    expect(codeOf(await command(t, 'session:reopen', { sessionId: session.id }))).to.equal('SESSION_CANCELLED');
    expect(codeOf(await command(t, 'checkin:mark', { sessionId: session.id, studentId: students[2]!.id, status: 'present' }))).to.equal(
      'SESSION_CANCELLED',
    );
    const summary = await srv.store.summaries.get(org.id, subject.id, kept.day);
    // Only the kept session counts: 1 present of 3.
    expect(summary).to.include({ present: 1, absent: 2, total: 3 });
    const audit = await srv.store.audit.listForSession(org.id, session.id);
    expect(audit.find((a) => a.action === 'session.cancel')).to.include({ actorId: teacher.id, reason: 'opened by mistake' });
    // Voiding a closed session takes it out of the summary too.
    ok(await command(t, 'session:cancel', { sessionId: kept.id }));
    expect(await srv.store.summaries.get(org.id, subject.id, kept.day)).to.include({ total: 0 });
    // The student's own history still lists both records (staff see them too), each saying that
    // its session was voided, so that "present" is never read as counted attendance.
    const history = await srv.request('GET', '/api/v1/me/attendance', { token: srv.app.tokenService.signAccess(students[0]!).token });
    expect(history.status).to.equal(200);
    const bySession = new Map(
      (history.body as { items: { sessionId: string; sessionStatus: string }[] }).items.map((e) => [e.sessionId, e]),
    );
    expect(bySession.get(session.id)).to.include({ status: 'present', sessionStatus: 'cancelled' });
    expect(bySession.get(kept.id)).to.include({ status: 'present', sessionStatus: 'cancelled' });
  });

  it('extends closesAt and moves lateAfter while open, announced; refused once closed', async () => {
    const t = await client(teacher);
    const s0 = await client(students[0]!);
    const session = await open(t);
    ok(await command(s0, 'session:join', { sessionId: session.id }));
    const status = nextEvent(s0, 'session:status', (v) => v.id === session.id);
    const closesAt = inMinutes(90);
    const lateAfter = inMinutes(30);
    const view = ok(await command(t, 'session:extend', { sessionId: session.id, closesAt, lateAfter }));
    expect(view).to.include({ closesAt, lateAfter, status: 'open' });
    expect((await status)[0]).to.include({ closesAt, lateAfter });
    const bad = await command(t, 'session:extend', { sessionId: session.id, lateAfter: inMinutes(120) });
    expect(codeOf(bad)).to.equal('VALIDATION_FAILED');
    if (!bad.ok)
      expect(bad.error.details?.['issues']).to.deep.equal([
        { path: 'lateAfter', message: 'lateAfter is after closesAt.', code: 'afterClose', params: {} },
      ]);
    const none = await command(t, 'session:extend', { sessionId: session.id } as never);
    expect(codeOf(none)).to.equal('VALIDATION_FAILED');
    ok(await command(t, 'session:close', { sessionId: session.id }));
    expect(codeOf(await command(t, 'session:extend', { sessionId: session.id, closesAt }))).to.equal('SESSION_CLOSED');
  });

  it("refuses an extension or reopening into the teacher's next class, naming it, until confirmed; nothing changes meanwhile", async () => {
    const other = await srv.store.subjects.create(org.id, {
      code: 'LIFE3',
      name: 'Next class',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: [],
    });
    const t = await client(teacher);
    const session = await open(t, { closesAt: inMinutes(30) });
    const next = await open(t, { subjectId: other.id, startsAt: inMinutes(35), closesAt: inMinutes(95) });
    const tenPast = await command(t, 'session:extend', { sessionId: session.id, closesAt: inMinutes(45) });
    expect(codeOf(tenPast)).to.equal('TEACHER_DOUBLE_BOOKED');
    if (!tenPast.ok) {
      expect(tenPast.error.details).to.deep.equal({
        teacherId: teacher.id,
        sessionIds: [next.id],
        subjectIds: [other.id],
        field: 'teacherOverlap',
      });
    }
    expect((await srv.store.sessions.get(org.id, session.id))?.closesAt.toISOString()).to.equal(session.closesAt);
    // The flags are part of both strict payloads.
    expect(codeOf(await command(t, 'session:extend', { sessionId: session.id, closesAt: inMinutes(45), parallel: 1 } as never))).to.equal(
      'VALIDATION_FAILED',
    );
    const closesAt = inMinutes(45);
    expect(ok(await command(t, 'session:extend', { sessionId: session.id, closesAt, teacherOverlap: true })).closesAt).to.equal(closesAt);

    // Closed, and another session of the subject opened since: reopening meets the subject's rule.
    ok(await command(t, 'session:close', { sessionId: session.id }));
    const since = await open(t, { parallel: true, teacherOverlap: true });
    const reopen = await command(t, 'session:reopen', { sessionId: session.id, teacherOverlap: true });
    expect(codeOf(reopen)).to.equal('SESSION_ALREADY_OPEN');
    if (!reopen.ok) expect(reopen.error.details).to.deep.equal({ sessionIds: [since.id], field: 'parallel' });
    expect((await srv.store.sessions.get(org.id, session.id))?.status).to.equal('closed');
    expect(ok(await command(t, 'session:reopen', { sessionId: session.id, parallel: true, teacherOverlap: true })).status).to.equal('open');
  });

  it('reopens a closed session: closing is taken back, screens resync, students check in, the summary follows', async () => {
    const t = await client(teacher);
    const [s0, s1] = [await client(students[0]!), await client(students[1]!)];
    const session = await open(t);
    ok(await command(s0, 'checkin:submit', { sessionId: session.id, location: here() }));
    ok(await command(t, 'session:close', { sessionId: session.id }));
    expect(await srv.store.summaries.get(org.id, subject.id, session.day)).to.include({ present: 1, absent: 2 });
    ok(await command(t, 'session:watch', { sessionId: session.id }));
    ok(await command(s1, 'session:join', { sessionId: session.id }));
    const resync = nextEvent(t, 'roster:resync', (n) => n.sessionId === session.id);
    const toStudent = nextEvent(s1, 'session:status', (v) => v.id === session.id);
    const view = ok(await command(t, 'session:reopen', { sessionId: session.id, reason: 'closed too early' }));
    expect(view).to.include({ status: 'open', closedAt: null });
    await resync;
    expect((await toStudent)[0].status).to.equal('open');
    const snapshot = ok(await command(t, 'session:watch', { sessionId: session.id }));
    expect(snapshot.counts).to.include({ present: 1, absent: 0, notYet: 2, total: 3 });
    // While reopened the session is out of the day's summary.
    expect(await srv.store.summaries.get(org.id, subject.id, session.day)).to.include({ total: 0 });
    expect(ok(await command(s1, 'session:join', { sessionId: session.id })).checkin).to.equal(null);
    expect(ok(await command(s1, 'checkin:submit', { sessionId: session.id, location: here() })).status).to.be.oneOf(['present', 'late']);
    ok(await command(t, 'session:close', { sessionId: session.id }));
    const summary = await srv.store.summaries.get(org.id, subject.id, session.day);
    expect(summary!.present + summary!.late).to.equal(2);
    expect(summary).to.include({ absent: 1, total: 3 });
    const actions = (await srv.store.audit.listForSession(org.id, session.id)).map((a) => a.action);
    expect(actions).to.include.members(['session.reopen', 'reopen.remove']);
    expect(codeOf(await command(t, 'session:reopen', { sessionId: (await open(t, { parallel: true })).id }))).to.equal(
      'SESSION_NOT_CLOSED',
    );
  });

  describe('as docs/protocol.md says', () => {
    it('checkin:submit on a closed session answers SESSION_CLOSED, even for a student with a record (§5.7)', async () => {
      const t = await client(teacher);
      const s0 = await client(students[0]!);
      const session = await open(t);
      const first = ok(await command(s0, 'checkin:submit', { sessionId: session.id, location: here() }));
      // The view carries the record's version, as §6 says.
      expect(first.recordVersion).to.equal(1);
      ok(await command(t, 'session:close', { sessionId: session.id }));
      expect(codeOf(await command(s0, 'checkin:submit', { sessionId: session.id, location: here() }))).to.equal('SESSION_CLOSED');
      expect(codeOf(await command(await client(students[1]!), 'checkin:submit', { sessionId: session.id, location: here() }))).to.equal(
        'SESSION_CLOSED',
      );
    });

    it('a bare address in allowedIpRanges is accepted and means /32 or /128 (§9)', async () => {
      const token = srv.app.tokenService.signAccess(teacher).token;
      const res = await srv.request('PUT', `/api/v1/subjects/${subject.id}/network`, {
        token,
        body: { allowedIpRanges: ['127.0.0.1', '::1', '10.0.0.0/8'] },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.allowedIpRanges).to.deep.equal(['127.0.0.1', '::1', '10.0.0.0/8']);
      const bad = await srv.request('PUT', `/api/v1/subjects/${subject.id}/network`, { token, body: { allowedIpRanges: ['127.0.0.300'] } });
      expect(refusal(bad)).to.deep.equal([400, 'VALIDATION_FAILED']);
      // The test client connects from loopback: the bare address lets it through.
      const t = await client(teacher);
      const session = await open(t, { policy: { rotatingCode: false, network: true } });
      expect(
        ok(await command(await client(students[0]!), 'checkin:submit', { sessionId: session.id, location: here() })).reason,
      ).to.not.equal('NETWORK_NOT_ALLOWED');
    });

    it('session:open refuses a binary attachment as policy, naming the field, and opens nothing', async () => {
      const t = await client(teacher);
      const ack = await command(t, 'session:open', { subjectId: subject.id, policy: new Uint8Array([1, 2, 3]) } as never);
      expect(codeOf(ack)).to.equal('VALIDATION_FAILED');
      if (!ack.ok) expect((ack.error.details?.['issues'] as { path: string }[]).map((i) => i.path)).to.deep.equal(['policy']);
      const empty = await command(t, 'session:open', { subjectId: subject.id, policy: new Uint8Array(0) } as never);
      expect(codeOf(empty)).to.equal('VALIDATION_FAILED');
      expect((await srv.store.sessions.list(org.id, { subjectId: subject.id, limit: 10, offset: 0 })).total).to.equal(0);
    });

    it('every payload is strict: an unknown field is refused by name, nested ones too', async () => {
      const t = await client(teacher);
      const ack = await command(t, 'session:open', {
        subjectId: subject.id,
        policy: { rotatingCode: false, geofense: true },
        userId: 'x',
      } as never);
      expect(codeOf(ack)).to.equal('VALIDATION_FAILED');
      if (!ack.ok)
        expect((ack.error.details?.['issues'] as { path: string }[]).map((i) => i.path).sort()).to.deep.equal([
          'policy.geofense',
          'userId',
        ]);
      const s0 = await client(students[0]!);
      const session = await open(t);
      const submit = await command(s0, 'checkin:submit', { sessionId: session.id, location: { ...here(), altitude: 3 } } as never);
      expect(submit.ok ? 'ok' : submit.error.code).to.equal('VALIDATION_FAILED');
      if (!submit.ok)
        expect((submit.error.details?.['issues'] as { path: string }[]).map((i) => i.path)).to.deep.equal(['location.altitude']);
    });

    it('a correction without a reason names the reason field (§5.9)', async () => {
      const t = await client(teacher);
      const session = await open(t);
      ok(await command(t, 'session:close', { sessionId: session.id }));
      const ack = await command(t, 'checkin:mark', { sessionId: session.id, studentId: students[0]!.id, status: 'excused' });
      expect(codeOf(ack)).to.equal('VALIDATION_FAILED');
      if (!ack.ok) expect((ack.error.details?.['issues'] as { path: string }[]).map((i) => i.path)).to.deep.equal(['reason']);
    });

    it('documents every socket command in §5 and docs/limits.md, and sends no reader to src/', () => {
      const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
      const limits = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8');
      const logger = pino({ level: 'silent' });
      const events = [
        ...sessionCommands({ logger } as unknown as SessionHandlerDeps),
        ...checkinCommands({ logger } as unknown as CheckinHandlerDeps),
      ].map((c) => c.event);
      expect(events).to.include.members(['session:cancel', 'session:extend', 'session:reopen']);
      for (const event of events) {
        expect(protocol, event).to.match(new RegExp(`\\| \`${event}\` \\|`));
        expect(limits, event).to.include(`| \`${event}\` |`);
      }
      expect(protocol).to.not.match(/src\/[a-z]/);
    });
  });
});
