import { expect } from 'chai';
import { codeAt } from '../../src/domain/checks/rotating-code.js';
import type { RosterEntry, RosterUpdate, SessionView } from '../../src/shared/events.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createClass, createUser } from '../support/fixtures.js';
import { createMongoStore } from '../../src/store/mongo/mongo-store.js';
import { testMongoStoreConfig, useMongo } from '../support/ferretdb.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { TestClock } from '../support/live-fixture.js';
import { command, connectClient, nextEvent, ok, onRosterUpdate, waitFor, type ClientSocket } from '../support/sockets.js';

const ROOM = { lat: 45.4642, lon: 9.19, radiusM: 60 };
const north = (m: number) => ({ lat: ROOM.lat + m / 111_195, lon: ROOM.lon });

/** A roster screen: snapshot, then updates applied when the record version is newer. */
class Screen {
  readonly entries = new Map<string, RosterEntry>();
  readonly updates: RosterUpdate[] = [];
  constructor(readonly socket: ClientSocket) {
    onRosterUpdate(socket, (u) => {
      this.updates.push(u);
      const held = this.entries.get(u.entry.studentId);
      if (!held || u.entry.recordVersion > held.recordVersion) this.entries.set(u.entry.studentId, u.entry);
    });
  }
  async watch(sessionId: string): Promise<void> {
    const snap = ok(await command(this.socket, 'session:watch', { sessionId }));
    for (const e of snap.entries) {
      const held = this.entries.get(e.studentId);
      if (!held || e.recordVersion >= held.recordVersion) this.entries.set(e.studentId, e);
    }
  }
  statusOf(studentId: string): string | undefined {
    return this.entries.get(studentId)?.status;
  }
}

const PERIOD_MS = 15_000;

/**
 * The server's clock, stopped one second into a code period, so the current, previous and stale
 * codes below are those the server computes, however long the test takes.
 */
function clockInPeriod(): TestClock {
  return new TestClock(Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS + 1_000);
}

/** An organisation with a teacher, an admin and a subject in ROOM with 40 enrolled students. */
interface School {
  org: Organisation;
  teacher: User;
  admin: User;
  students: User[];
  subject: Subject;
}

/** A session the teacher opened, watched from three screens, with every student's socket joined. */
interface Lesson extends School {
  session: SessionView;
  projector: Screen;
  phone: Screen;
  office: Screen;
  studentSockets: ClientSocket[];
}

type Plan = { where: { lat: number; lon: number }; accuracy: number; code: string; expect: string; reason?: string };

/**
 * What student `i` of 40 submits and what the server must decide: 15 present (current or
 * previous code), 15 rejected (stale or wrong code, outside the room), 5 pending (imprecise
 * location), 5 who never submit.
 */
function planOf(secret: string, now: number): (i: number) => Plan | null {
  const current = codeAt(secret, 15, new Date(now));
  const previous = codeAt(secret, 15, new Date(now - PERIOD_MS));
  const stale = codeAt(secret, 15, new Date(now - 3 * PERIOD_MS));
  const wrong = String((Number(current) + 1) % 1_000_000).padStart(6, '0');
  return (i) => {
    if (i < 10) return { where: north(5), accuracy: 10, code: current, expect: 'present' };
    if (i < 15) return { where: north(10), accuracy: 15, code: previous, expect: 'present' };
    if (i < 20) return { where: north(5), accuracy: 10, code: stale, expect: 'rejected', reason: 'CODE_INVALID' };
    if (i < 25) return { where: north(5), accuracy: 10, code: wrong, expect: 'rejected', reason: 'CODE_INVALID' };
    if (i < 30) return { where: north(2_500), accuracy: 20, code: current, expect: 'rejected', reason: 'GEOFENCE_OUTSIDE' };
    if (i < 35) return { where: north(40), accuracy: 150, code: current, expect: 'pending', reason: 'GEOFENCE_IMPRECISE' };
    return null;
  };
}

/**
 * How long the close and the submissions sent all at once may take to be answered. On FerretDB
 * the 35 submissions are answered together after their one group commit: 1.6 to 3.1 s at load
 * 14, close to the 5 s a command is otherwise given (the close took 1.7 to 5.4 s there; see close).
 */
const SLOW_ACK_MS = 20_000;

function liveSession(title: string, start: (clock: TestClock) => Promise<TestServer>): void {
  describe(title, function () {
    // A closing test on FerretDB at load 20 took 17 to 23 s, most of it the close (see close).
    this.timeout(SLOW_ACK_MS + 30_000);
    let srv: TestServer;
    let clock: TestClock;
    const sockets: ClientSocket[] = [];
    const token = (u: User) => srv.app.tokenService.signAccess(u).token;
    const client = async (u: User) => {
      const s = await connectClient(srv.baseUrl, token(u));
      sockets.push(s);
      return s;
    };

    // Each case on its own server and clock, building what it needs with the helpers below.
    beforeEach(async () => {
      clock = clockInPeriod();
      srv = await start(clock);
    });
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.disconnect();
      await srv.cleanup();
    });

    async function school(): Promise<School> {
      const cls = await createClass(srv.store, 40, { location: ROOM });
      return { ...cls, admin: await createUser(srv.store, cls.org.id, 'admin') };
    }

    /** The teacher opens a session with geofence and rotating code; two teacher screens and the office watch it. */
    async function openLesson(): Promise<Lesson> {
      const s = await school();
      const projector = new Screen(await client(s.teacher));
      const phone = new Screen(await client(s.teacher));
      const office = new Screen(await client(s.admin));
      const session = ok(
        await command(projector.socket, 'session:open', { subjectId: s.subject.id, policy: { geofence: true, rotatingCode: true } }),
      );
      for (const screen of [projector, phone, office]) await screen.watch(session.id);
      const studentSockets = await Promise.all(s.students.map((u) => client(u)));
      await Promise.all(studentSockets.map((sock) => command(sock, 'session:join', { sessionId: session.id }).then(ok)));
      return { ...s, session, projector, phone, office, studentSockets };
    }

    /** Every student with a plan submits at once; resolves with the plan and each acknowledgement. */
    async function submitAll(lesson: Lesson) {
      const secret = (await srv.store.sessions.get(lesson.org.id, lesson.session.id))!.codeSecret;
      const plan = planOf(secret, clock.now().getTime());
      const acks = await Promise.all(
        lesson.studentSockets.map(async (s, i) => {
          const p = plan(i);
          if (!p) return null;
          return command(
            s,
            'checkin:submit',
            {
              sessionId: lesson.session.id,
              location: { ...p.where, accuracy: p.accuracy, timestamp: clock.now().getTime() },
              code: p.code,
            },
            SLOW_ACK_MS,
          );
        }),
      );
      return { plan, acks };
    }

    /**
     * The teacher closes the session from the projector. Closing settles each student without a
     * decided record one at a time (its record, its audit entry and its roster change, several
     * store round trips each, 25 students here): 0.1 s on SQLite, 8.5 s on FerretDB at load 20,
     * where the 5 s a command is otherwise given failed the three tests that close.
     */
    async function close(lesson: Lesson) {
      return ok(await command(lesson.projector.socket, 'session:close', { sessionId: lesson.session.id }, SLOW_ACK_MS));
    }

    it('opens a session every screen watches, with the whole roster not yet checked in', async () => {
      const { session, projector, phone, office } = await openLesson();
      expect(session.status).to.equal('open');
      for (const screen of [projector, phone, office]) {
        expect(screen.entries.size).to.equal(40);
        expect([...screen.entries.values()].every((e) => e.status === 'not-yet')).to.equal(true);
      }
    });

    it('decides 35 concurrent check-ins by code, place and accuracy, and stores every acknowledged one', async () => {
      const lesson = await openLesson();
      const { plan, acks } = await submitAll(lesson);
      acks.forEach((ack, i) => {
        const p = plan(i);
        if (!p) return;
        const view = ok(ack!);
        expect(view.status, `student ${i}`).to.equal(p.expect);
        if (p.reason) expect(view.reason, `student ${i}`).to.equal(p.reason);
      });
      expect(await srv.store.records.listBySession(lesson.org.id, lesson.session.id)).to.have.length(35);
    });

    it('shows every check-in on every screen, and a fresh snapshot counts them', async () => {
      const lesson = await openLesson();
      const { plan } = await submitAll(lesson);
      const expected = (i: number) => plan(i)?.expect ?? 'not-yet';
      for (const screen of [lesson.projector, lesson.phone, lesson.office]) {
        await waitFor(() => lesson.students.every((s, i) => screen.statusOf(s.id) === expected(i)), 3_000);
      }
      const fresh = ok(await command(lesson.phone.socket, 'session:watch', { sessionId: lesson.session.id }));
      expect(fresh.counts).to.include({ present: 15, rejected: 15, pending: 5, notYet: 5, total: 40 });
    });

    it("sends the teacher's decisions from the phone to the student and to every screen", async () => {
      const lesson = await openLesson();
      await submitAll(lesson);
      const { session, phone, students, studentSockets } = lesson;
      const rejectTarget = students[0]!;
      const acceptTarget = students[30]!;
      const rejectedPush = nextEvent(studentSockets[0]!, 'checkin:decision', (v) => v.status === 'rejected');
      const acceptedPush = nextEvent(studentSockets[30]!, 'checkin:decision', (v) => v.status === 'present');
      const r = ok(
        await command(phone.socket, 'checkin:decide', {
          sessionId: session.id,
          studentId: rejectTarget.id,
          decision: 'reject',
          note: 'not in the room',
        }),
      );
      expect(r.status).to.equal('rejected');
      const a = ok(
        await command(phone.socket, 'checkin:decide', { sessionId: session.id, studentId: acceptTarget.id, decision: 'accept' }),
      );
      expect(a.status).to.equal('present');
      expect((await rejectedPush)[0]).to.include({ status: 'rejected', reason: 'REJECTED_BY_TEACHER', note: 'not in the room' });
      expect((await acceptedPush)[0]).to.include({ status: 'present', reason: 'ACCEPTED_BY_TEACHER' });
      for (const screen of [lesson.projector, phone, lesson.office]) {
        await waitFor(() => screen.statusOf(rejectTarget.id) === 'rejected' && screen.statusOf(acceptTarget.id) === 'present', 3_000);
      }
    });

    it('closing marks the rest absent, settles the pending, writes the daily summary and tells screens and students', async () => {
      const lesson = await openLesson();
      await submitAll(lesson);
      // Every status pushed from before the close on: closing settles 40 records, which on a
      // loaded machine takes longer than a fixed wait begun before it.
      const pushed: string[] = [];
      lesson.studentSockets[39]!.on('session:status', (s) => pushed.push(s.status));
      const closed = await close(lesson);
      expect(closed.session.status).to.equal('closed');
      // 15 present; 15 rejected, 5 pending and 5 who never submitted are absent.
      expect(closed.counts).to.include({ present: 15, absent: 25, pending: 0, rejected: 0, total: 40 });
      await waitFor(() => pushed.includes('closed'));
      const summary = await srv.store.summaries.get(lesson.org.id, lesson.subject.id, closed.session.day);
      expect(summary).to.include({ present: 15, late: 0, absent: 25, excused: 0, total: 40, percentage: 37.5 });
      for (const screen of [lesson.projector, lesson.phone, lesson.office]) {
        await waitFor(() => lesson.students.every((s) => ['present', 'absent'].includes(screen.statusOf(s.id) ?? '')), 3_000);
      }
    });

    it('a correction after closing needs a reason, and moves the daily summary', async () => {
      const lesson = await openLesson();
      await submitAll(lesson);
      const closed = await close(lesson);
      const mark = { sessionId: lesson.session.id, studentId: lesson.students[39]!.id, status: 'excused' } as const;
      const noReason = await command(lesson.projector.socket, 'checkin:mark', mark);
      expect(noReason.ok ? 'ok' : noReason.error.code).to.equal('VALIDATION_FAILED');
      ok(await command(lesson.projector.socket, 'checkin:mark', { ...mark, reason: 'sick note' }));
      expect(await srv.store.summaries.get(lesson.org.id, lesson.subject.id, closed.session.day)).to.include({
        excused: 1,
        absent: 24,
        percentage: 38.5,
      });
    });

    it('the HTTP read side agrees: records, CSV with the correction reason, summaries, a student history', async () => {
      const lesson = await openLesson();
      const { session, subject, students } = lesson;
      await submitAll(lesson);
      const closed = await close(lesson);
      ok(
        await command(lesson.projector.socket, 'checkin:mark', {
          sessionId: session.id,
          studentId: students[39]!.id,
          status: 'excused',
          reason: 'sick note',
        }),
      );

      const login = token(lesson.teacher);
      const records = await srv.request('GET', `/api/v1/sessions/${session.id}/records`, { token: login });
      expect(records.status).to.equal(200);
      expect(records.body.entries).to.have.length(40);
      const csv = await srv.request('GET', `/api/v1/sessions/${session.id}/records.csv`, { token: login });
      expect(csv.headers.get('content-type')).to.match(/text\/csv/);
      expect((csv.body as string).trim().split('\n')).to.have.length(41);
      // The correction's reason is in the roster entry and in the CSV, in its own column.
      const corrected = (records.body.entries as { studentId: string; correctionReason: string | null }[]).find(
        (e) => e.studentId === students[39]!.id,
      );
      expect(corrected?.correctionReason).to.equal('sick note');
      const [header, ...lines] = (csv.body as string).trim().split('\n');
      expect(header!.split(',').slice(-2)).to.deep.equal(['correctionReason', 'absenceCategory']);
      expect(lines.filter((l) => l.endsWith(',sick note,'))).to.have.length(1);
      const summaries = await srv.request(
        'GET',
        `/api/v1/subjects/${subject.id}/summaries?from=${closed.session.day}&to=${closed.session.day}`,
        { token: login },
      );
      expect(summaries.body.items[0]).to.include({ present: 15, excused: 1 });
      const history = async (i: number) =>
        (await srv.request('GET', '/api/v1/me/attendance', { token: token(students[i]!) })).body.items[0];
      expect(await history(0)).to.include({ sessionId: session.id, status: 'present' });
      expect(await history(20)).to.include({ sessionId: session.id, status: 'absent' });
    });
  });
}

const ENV = { CHECKIN_RATE_PER_MINUTE: '100' };

liveSession('live attendance session over socket.io (40 students)', (clock) => startTestServer(ENV, { clock: clock.now }));

// The same session on the production store: MONGODB_URI's MongoDB, else FerretDB (skipped,
// saying why, when neither can be had).
describe('on the MongoDB store', function () {
  const server = useMongo();
  liveSession('live attendance session over socket.io (40 students, MongoDB store)', (clock) => {
    const dbUri = server.mongo.databaseUri('attendance_live');
    return startTestServer(ENV, { clock: clock.now, openStore: () => createMongoStore(testMongoStoreConfig(dbUri)) });
  });
});
