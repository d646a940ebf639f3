import { expect } from 'chai';
import type { SessionView } from '../../src/shared/events.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD, unique } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, nextEvent, ok, type ClientSocket } from '../support/sockets.js';

// What a student reads of a class (docs/authorization.md): the classroom's geofence (centre and
// radius) and the school's networks stay with the subject's staff, over HTTP and the socket alike.
// The values are odd enough that any answer carrying them can be found by its text.

const CLASSROOM = { lat: 48.853_417, lon: 2.348_791, radiusM: 73 };
const CLASSROOM_NETWORK = '198.51.100.0/24';
const HALL = { lat: 51.507_359, lon: -0.127_763, radiusM: 41 };
const HALL_NETWORK = '203.0.113.64/26';
const SECRETS = ['48.853417', '2.348791', CLASSROOM_NETWORK, '51.507359', '-0.127763', HALL_NETWORK];

/** The classroom's figures found in an answer's text: none may reach a student. */
const leaked = (answer: unknown): string[] => SECRETS.filter((s) => JSON.stringify(answer).includes(s));

describe('what a student reads of a class: no geofence, no networks', function () {
  let srv: TestServer;
  let teacher: User;
  let admin: User;
  let student: User;
  let subject: Subject;
  const sockets: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer();
    const org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    admin = await createUser(srv.store, org.id, 'admin');
    student = await createUser(srv.store, org.id, 'student');
    subject = await srv.store.subjects.create(org.id, {
      code: unique('GEO'),
      name: 'Geography',
      teacherIds: [teacher.id],
      location: CLASSROOM,
      allowedIpRanges: [CLASSROOM_NETWORK],
    });
    await srv.store.subjects.enrol(org.id, subject.id, [student.id]);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(() => srv.cleanup());

  const token = async (user: User) => (await srv.login(user.email, PASSWORD)).accessToken;
  async function connect(user: User): Promise<ClientSocket> {
    const socket = await connectClient(srv.baseUrl, await token(user));
    sockets.push(socket);
    return socket;
  }
  const listed = async (user: User) => {
    const res = await srv.request('GET', '/api/v1/subjects', { token: await token(user) });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return (res.body.items as Record<string, unknown>[]).find((s) => s['id'] === subject.id)!;
  };

  describe('GET /subjects', () => {
    it("a student's list names the subject without its location and networks", async () => {
      const mine = await listed(student);
      expect(mine).to.include({ id: subject.id, code: subject.code, name: 'Geography' });
      expect(mine).to.not.have.any.keys('location', 'allowedIpRanges');
      expect(leaked(mine)).to.deep.equal([]);
    });

    it("the privacy export of the student's data names the subject, not its classroom", async () => {
      const res = await srv.request('GET', `/api/v1/users/${student.id}/export`, { token: await token(admin) });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.subjects).to.deep.equal([{ id: subject.id, code: subject.code, name: 'Geography', relation: 'enrolled' }]);
      expect(leaked(res.body)).to.deep.equal([]);
    });

    it('its teacher and an admin read both', async () => {
      for (const user of [teacher, admin]) {
        expect(await listed(user), user.role).to.deep.include({ location: CLASSROOM, allowedIpRanges: [CLASSROOM_NETWORK] });
      }
    });
  });

  describe('the socket', () => {
    /** A session held in the hall, opened by the teacher: its room names the hall and its network. */
    async function openInHall(teacherSocket: ClientSocket): Promise<SessionView> {
      const view = ok(
        await command(teacherSocket, 'session:open', {
          subjectId: subject.id,
          policy: { preset: 'location' },
          location: HALL,
          allowedIpRanges: [HALL_NETWORK],
          parallel: true,
        }),
      );
      expect(view.room).to.deep.equal({ location: HALL, allowedIpRanges: [HALL_NETWORK] });
      return view;
    }

    it("a student's list, join and pushes carry the checks to make, never the room; the teacher's carry the room", async () => {
      const teacherSocket = await connect(teacher);
      const studentSocket = await connect(student);
      // The student's list puts the socket in the subject's room: it hears the opening.
      expect(ok(await command(studentSocket, 'session:list-active', {}))).to.be.an('array');
      const heard = nextEvent(studentSocket, 'session:status', (s) => s.subjectId === subject.id);
      const session = await openInHall(teacherSocket);
      const [opened] = await heard;
      expect(opened).to.include({ id: session.id, status: 'open' }).and.not.have.property('room');
      expect(opened.policy).to.include({ geofence: true });

      const list = ok(await command(studentSocket, 'session:list-active', {}));
      const item = list.find((s) => s.id === session.id);
      expect(item, 'listed').to.not.equal(undefined);
      expect(item).to.not.have.property('room');
      expect(item!.policy).to.include({ geofence: true });

      const joined = ok(await command(studentSocket, 'session:join', { sessionId: session.id }));
      expect(joined.session).to.include({ id: session.id }).and.not.have.property('room');
      expect(leaked([opened, list, joined])).to.deep.equal([]);

      // A change reaches the watching teacher whole and the joined student without the room.
      expect(ok(await command(teacherSocket, 'session:watch', { sessionId: session.id })).session.room).to.deep.equal(session.room);
      const toTeacher = nextEvent(teacherSocket, 'session:status', (s) => s.id === session.id && s.closesAt !== session.closesAt);
      const toStudent = nextEvent(studentSocket, 'session:status', (s) => s.id === session.id && s.closesAt !== session.closesAt);
      const closesAt = new Date(Date.parse(session.closesAt) + 10 * 60_000).toISOString();
      ok(await command(teacherSocket, 'session:extend', { sessionId: session.id, closesAt, parallel: true }));
      const [[staffView], [studentView]] = await Promise.all([toTeacher, toStudent]);
      expect(staffView.room).to.deep.equal(session.room);
      expect(studentView).to.include({ closesAt }).and.not.have.property('room');
      expect(leaked(studentView)).to.deep.equal([]);
    });

    it("a student outside the room learns the verdict, not the distance or the room's figures", async () => {
      const teacherSocket = await connect(teacher);
      const studentSocket = await connect(student);
      const session = await openInHall(teacherSocket);
      ok(await command(studentSocket, 'session:join', { sessionId: session.id }));
      // In the classroom, not the hall where this session is held.
      const location = { lat: CLASSROOM.lat, lon: CLASSROOM.lon, accuracy: 10, timestamp: Date.now() };
      const result = ok(await command(studentSocket, 'checkin:submit', { sessionId: session.id, location }));
      expect([result.reason, ...result.flags]).to.include('GEOFENCE_OUTSIDE');
      expect(result).to.not.have.any.keys('distanceM', 'room', 'location');
      expect(leaked(result)).to.deep.equal([]);
    });
  });
});
