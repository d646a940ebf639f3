import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { refusal, startTestServer, type TestServer } from '../support/http.js';

const API = '/api/v1';
const HEADER = 'subject_code,term,weekday,start,end,teacher_email';

describe('POST /timetable/meetings/import: a school’s week from CSV over HTTP', () => {
  let srv: TestServer;
  let org: Organisation;
  let admin: string;
  let teacher: User;
  let maths: Subject;
  let physics: Subject;

  beforeEach(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    const adminUser = await createUser(srv.store, org.id, 'admin');
    admin = (await srv.login(adminUser.email, PASSWORD)).accessToken;
    teacher = await createUser(srv.store, org.id, 'teacher');
    const room = { location: { lat: 48.85, lon: 2.35, radiusM: 60 }, allowedIpRanges: [] };
    maths = await srv.store.subjects.create(org.id, { code: 'MATH-7A', name: 'Maths', teacherIds: [teacher.id], ...room });
    physics = await srv.store.subjects.create(org.id, { code: 'PHY-7A', name: 'Physics', teacherIds: [teacher.id], ...room });
    const term = await srv.request('POST', `${API}/timetable/terms`, {
      token: admin,
      body: { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' },
    });
    expect(term.status).to.equal(201);
  });
  afterEach(() => srv.cleanup());

  const post = (token: string, csv: string, dryRun = false) =>
    srv.request('POST', `${API}/timetable/meetings/import${dryRun ? '?dryRun=true' : ''}`, { token, raw: csv, contentType: 'text/csv' });
  const meetingsOf = async (s: Subject) => (await srv.store.timetable.listMeetings(org.id, s.id)).length;
  // Maths and physics at once on Monday morning: the teacher is double-booked by the file itself.
  const week = () =>
    [HEADER, 'MATH-7A,Autumn,1,09:00,10:00,', 'MATH-7A,Autumn,Thursday,11:00,12:00,', `PHY-7A,Autumn,1,09:30,10:30,${teacher.email}`].join(
      '\n',
    );

  it('a dry run writes nothing and warns of the double booking; the import adds and audits; the same file again is skipped row by row', async () => {
    const dry = await post(admin, week(), true);
    expect(dry.status).to.equal(200);
    expect(dry.body).to.deep.include({ added: 0, toAdd: 3, checked: 3, doubleBooked: 1, skipped: [], refused: [] });
    expect(dry.body.warnings.map((r: { line: number; subjectCode: string }) => [r.line, r.subjectCode])).to.deep.equal([[4, 'PHY-7A']]);
    expect(await meetingsOf(maths)).to.equal(0);

    const done = await post(admin, week());
    expect(done.status).to.equal(201);
    expect(done.body).to.deep.include({ added: 3, doubleBooked: 1 });
    expect(done.body.warnings[0].problems[0]).to.deep.include({ code: 'teacherDoubleBooked', params: { count: 1 } });
    expect(await meetingsOf(maths)).to.equal(2);
    expect(await meetingsOf(physics)).to.equal(1);
    const trail = await srv.store.audit.listForEntity(org.id, 'subject', maths.id);
    expect(trail.filter((e) => e.action === 'meeting.create')).to.have.length(2);

    const again = await post(admin, week());
    expect(again.status).to.equal(201);
    expect(again.body).to.deep.include({ added: 0, toAdd: 0, doubleBooked: 0 });
    expect(again.body.skipped.map((r: { line: number; problems: Array<{ code: string }> }) => [r.line, r.problems[0]!.code])).to.deep.equal(
      [
        [2, 'meetingExists'],
        [3, 'meetingExists'],
        [4, 'meetingExists'],
      ],
    );
    expect(await meetingsOf(maths)).to.equal(2);
  });

  it('refuses a bad file whole, by line and code, on a dry run as on the import, and writes nothing', async () => {
    const bad = [HEADER, 'MATH-7A,Autumn,1,09:00,10:00,', 'NOPE,Autumn,1,09:00,10:00,', 'PHY-7A,Summer,9,10:00,09:00,'].join('\n');
    for (const dryRun of [true, false]) {
      const res = await post(admin, bad, dryRun);
      expect(refusal(res)).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(res.body.error.details.lines).to.deep.equal([3, 4]);
      expect(res.body.error.details.problemCounts).to.deep.equal({
        subjectUnknown: 1,
        weekdayInvalid: 1,
        endNotAfterStart: 1,
        termUnknown: 1,
      });
      expect(
        res.body.error.details.rows.map((r: { line: number; subjectCode: string | null; problems: Array<{ column?: string }> }) => [
          r.line,
          r.subjectCode,
          r.problems.map((p) => p.column),
        ]),
      ).to.deep.equal([
        [3, 'NOPE', ['subject_code']],
        [4, 'PHY-7A', ['weekday', 'end', 'term']],
      ]);
    }
    expect(await meetingsOf(maths)).to.equal(0);
  });

  it('reads a file a French spreadsheet saved: semicolons, day names in French, decimal commas in the room', async () => {
    const french =
      '\uFEFFsubject_code;term;weekday;start;end;latitude;longitude;radius_m;allowed_networks\r\n' +
      'MATH-7A;Autumn;lundi;8:30;9:25;48,8566;2,3522;75;10.0.0.0/8 192.168.1.0/24\r\n';
    const res = await post(admin, french);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.meetings[0]).to.deep.include({
      weekday: 1,
      startTime: '08:30',
      endTime: '09:25',
      location: { lat: 48.8566, lon: 2.3522, radiusM: 75 },
      allowedIpRanges: ['10.0.0.0/8', '192.168.1.0/24'],
    });
  });

  it('a teacher is refused', async () => {
    const asTeacher = await post((await srv.login(teacher.email, PASSWORD)).accessToken, week(), true);
    expect(refusal(asTeacher)).to.deep.equal([403, 'FORBIDDEN']);
    expect(await meetingsOf(maths)).to.equal(0);
  });
});
