import { expect } from 'chai';
import type { Ack } from '../../src/shared/errors.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { AttendanceSession } from '../../src/domain/ports/sessions.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import type { CommandName } from '../../src/realtime/types.js';
import { createCodeSession, createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../support/sockets.js';

/**
 * The socket side of the authorization matrix: every client event of the event map, sent by each
 * kind of caller about a fresh subject taught by `teacherOwn` with `student` enrolled (and a live
 * session of it), with the answer docs/protocol.md documents. The rows are a Record over every
 * command name, so an event added to ClientToServerEvents without a row fails the typecheck.
 */
type Caller = 'student' | 'studentOther' | 'teacherOther' | 'teacherOwn' | 'admin' | 'otherAdmin';
const CALLERS: Caller[] = ['student', 'studentOther', 'teacherOther', 'teacherOwn', 'admin', 'otherAdmin'];
/** `ok`, or the error code of the refusal. */
type Answer = 'ok' | string;

interface Fixture {
  subject: Subject;
  session: AttendanceSession;
  srv: TestServer;
}

interface Row {
  /** A payload otherwise valid, naming the fixture's objects. */
  payload: (fx: Fixture, caller: Caller) => unknown;
  /** Changes the fixture before the call (a closed session, a check-in to decide). */
  prepare?: (fx: Fixture) => Promise<void>;
  expect: Record<Caller, Answer>;
}

/** Staff commands on this organisation's session: its teachers and admins; another org's admin does not find it. */
const STAFF = (notFound: string): Record<Caller, Answer> => ({
  student: 'FORBIDDEN',
  studentOther: 'FORBIDDEN',
  teacherOther: 'NOT_SUBJECT_TEACHER',
  teacherOwn: 'ok',
  admin: 'ok',
  otherAdmin: notFound,
});
/** Commands that only take the socket out of a room it may or may not be in: harmless for anyone. */
const ANYONE: Record<Caller, Answer> = {
  student: 'ok',
  studentOther: 'ok',
  teacherOther: 'ok',
  teacherOwn: 'ok',
  admin: 'ok',
  otherAdmin: 'ok',
};
/** Student commands on the session: its enrolled student only. */
/** A staff caller of another organisation is refused by role or by not finding the session: either tells nothing. */
const ENROLLED = (own: Answer, otherAdmin: Answer = 'SESSION_NOT_FOUND'): Record<Caller, Answer> => ({
  student: own,
  studentOther: 'NOT_ENROLLED',
  teacherOther: 'FORBIDDEN',
  teacherOwn: 'FORBIDDEN',
  admin: 'FORBIDDEN',
  otherAdmin: otherAdmin,
});

const ref = (fx: Fixture) => ({ sessionId: fx.session.id });
const inTwoHours = () => new Date(Date.now() + 7_200_000).toISOString();

describe('socket authorization matrix: every client event × every kind of caller', function () {
  this.timeout(30_000);
  let srv: TestServer;
  let org: Organisation;
  const users = {} as Record<Caller, User>;
  const sockets = {} as Record<Caller, ClientSocket>;
  /** The organisation's admin on a socket of its own, to prepare fixtures as the pages would. */
  let setup: ClientSocket;

  const ROWS: Record<CommandName, Row> = {
    'session:open': {
      payload: (fx) => ({ subjectId: fx.subject.id, policy: { preset: 'manual' }, parallel: true, teacherOverlap: true }),
      expect: STAFF('NOT_FOUND'),
    },
    'session:watch': { payload: ref, expect: STAFF('SESSION_NOT_FOUND') },
    'session:unwatch': { payload: ref, expect: ANYONE },
    'session:code': { payload: ref, expect: STAFF('SESSION_NOT_FOUND') },
    'session:close': { payload: ref, expect: STAFF('SESSION_NOT_FOUND') },
    'session:cancel': { payload: ref, expect: STAFF('SESSION_NOT_FOUND') },
    'session:extend': { payload: (fx) => ({ ...ref(fx), closesAt: inTwoHours() }), expect: STAFF('SESSION_NOT_FOUND') },
    'session:reopen': {
      prepare: async (fx) => void ok(await command(setup, 'session:close', ref(fx))),
      payload: ref,
      expect: STAFF('SESSION_NOT_FOUND'),
    },
    // Everyone may list; what each list holds is checked below.
    'session:list-active': { payload: () => ({}), expect: ANYONE },
    'session:join': { payload: ref, expect: ENROLLED('ok', 'FORBIDDEN') },
    'session:leave': { payload: ref, expect: ANYONE },
    // A session checked by code only: its enrolled student is past access, and told no challenge is due.
    'checkin:challenge': { payload: ref, expect: ENROLLED('LIVENESS_NOT_REQUIRED') },
    'checkin:submit': { payload: (fx) => ({ ...ref(fx), code: '000000' }), expect: ENROLLED('ok') },
    'checkin:decide': {
      prepare: async (fx) => {
        await command(sockets.student, 'checkin:submit', { ...ref(fx), code: '000000' });
      },
      payload: (fx) => ({ ...ref(fx), studentId: users.student.id, decision: 'accept' }),
      expect: STAFF('SESSION_NOT_FOUND'),
    },
    'checkin:mark': {
      payload: (fx) => ({ ...ref(fx), studentId: users.student.id, status: 'present' }),
      expect: STAFF('SESSION_NOT_FOUND'),
    },
    // Each caller presents a fresh token of the fixture's student: only the student's own socket takes it.
    'auth:renew': {
      payload: () => ({ token: srv.app.tokenService.signAccess(users.student).token }),
      expect: {
        ...ANYONE,
        studentOther: 'TOKEN_INVALID',
        teacherOther: 'TOKEN_INVALID',
        teacherOwn: 'TOKEN_INVALID',
        admin: 'TOKEN_INVALID',
        otherAdmin: 'TOKEN_INVALID',
      },
    },
  };

  before(async () => {
    srv = await startTestServer({ SOCKET_HEAVY_RATE_PER_MINUTE: '1000', CHECKIN_RATE_PER_MINUTE: '600' });
    org = await createOrg(srv.store);
    const other = await createOrg(srv.store);
    users.student = await createUser(srv.store, org.id, 'student');
    users.studentOther = await createUser(srv.store, org.id, 'student');
    users.teacherOther = await createUser(srv.store, org.id, 'teacher');
    users.teacherOwn = await createUser(srv.store, org.id, 'teacher');
    users.admin = await createUser(srv.store, org.id, 'admin');
    users.otherAdmin = await createUser(srv.store, other.id, 'admin');
    for (const caller of CALLERS) sockets[caller] = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(users[caller]).token);
    setup = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(await createUser(srv.store, org.id, 'admin')).token);
  });
  after(async () => {
    for (const s of [...Object.values(sockets), setup]) s?.disconnect();
    await srv?.cleanup();
  });

  async function fixture(): Promise<Fixture> {
    // The other student and teacher have a subject of their own, so their refusals are about this one.
    await createSubject(srv.store, org.id, [users.teacherOther.id], [users.studentOther.id]);
    const subject = await createSubject(srv.store, org.id, [users.teacherOwn.id], [users.student.id]);
    const session = await createCodeSession(srv.store, org.id, subject.id, users.teacherOwn.id);
    return { subject, session, srv };
  }

  for (const [event, row] of Object.entries(ROWS) as [CommandName, Row][]) {
    describe(event, () => {
      for (const caller of CALLERS) {
        const want = row.expect[caller];
        it(`${caller} → ${want}`, async () => {
          const fx = await fixture();
          await row.prepare?.(fx);
          const before = await srv.store.sessions.get(org.id, fx.session.id);
          const records = await srv.store.records.listBySession(org.id, fx.session.id);
          const send = command as (s: ClientSocket, e: CommandName, p: unknown) => Promise<Ack<unknown>>;
          const answer = await send(sockets[caller], event, row.payload(fx, caller));
          expect(answer.ok ? 'ok' : answer.error.code, JSON.stringify(answer)).to.equal(want);
          if (!answer.ok) {
            // A refused command changes nothing.
            expect(await srv.store.sessions.get(org.id, fx.session.id)).to.deep.equal(before);
            expect(await srv.store.records.listBySession(org.id, fx.session.id)).to.deep.equal(records);
            expect(await srv.store.subjects.listEnrolled(org.id, fx.subject.id)).to.deep.equal([users.student.id]);
          }
        });
      }
    });
  }

  it("lists a subject's live session to its student, its teacher and its organisation's admins only", async () => {
    const fx = await fixture();
    const listed: Record<string, boolean> = {};
    for (const caller of CALLERS) {
      const sessions = ok(await command(sockets[caller], 'session:list-active', {}));
      listed[caller] = sessions.some((s) => s.id === fx.session.id);
    }
    expect(listed).to.deep.equal({
      student: true,
      studentOther: false,
      teacherOther: false,
      teacherOwn: true,
      admin: true,
      otherAdmin: false,
    });
  });

  it('takes no student id from a payload: naming another student is refused and writes nothing', async () => {
    const fx = await fixture();
    await srv.store.subjects.enrol(org.id, fx.subject.id, [users.studentOther.id]);
    for (const [event, payload] of [
      ['checkin:submit', { ...ref(fx), code: '000000', studentId: users.studentOther.id }],
      ['checkin:challenge', { ...ref(fx), studentId: users.studentOther.id }],
      ['session:join', { ...ref(fx), userId: users.studentOther.id }],
    ] as const) {
      const send = command as (s: ClientSocket, e: CommandName, p: unknown) => Promise<Ack<unknown>>;
      const answer = await send(sockets.student, event, payload);
      expect(answer.ok ? 'ok' : answer.error.code, event).to.equal('VALIDATION_FAILED');
    }
    expect(await srv.store.records.listBySession(org.id, fx.session.id)).to.deep.equal([]);
  });
});
