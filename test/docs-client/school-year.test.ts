// A school year's calendar and its end, by a client written from README.md, docs/timetable.md and
// the OpenAPI document only, on one production node: a holiday that takes a week's meeting away
// until it is deleted, a day called off with the session the teacher's tap had made for it, then the new year: archiving, next year's subjects rolled over
// with last year's codes, and the leavers deactivated at once.
import { expect } from 'chai';
import { firstRunWith, localDay, people, useDeployment, useSockets } from './deployment.js';
import { detailsOf, refusalOf, type Tokens, type UserView } from './http-client.js';
import { codeOf, data, send } from './socket-client.js';

/** An item of `GET /subjects/{id}/upcoming` (docs/timetable.md "HTTP API"). */
interface Dated {
  meetingId: string;
  day: string;
  state: 'planned' | 'created' | 'cancelled';
  sessionId: string | null;
}

interface RolloverRow {
  subjectId: string;
  code: string;
  newCode: string | null;
  outcome: 'new' | 'exists' | 'finished' | 'refused';
  problem: string | null;
  newSubjectId: string | null;
  renamedTo: string | null;
  students: number;
  meetings: number;
}

describe('docs client: a school year (holidays, a day called off, archive, roll-over, leavers)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-school-year', 1);
  const staff = people('y', 1, 0);
  const pupils = people('y', 0, 2);
  let admin: Tokens;
  let teacher: Tokens;
  let users: Map<string, UserView>;
  let subjectId = '';
  let termId = '';
  let meetingId = '';
  let holidayId = '';
  const open = useSockets(dep);
  const http = () => dep.http[0]!;
  const pupilId = (i: number) => users.get(pupils[i]!.email)!.id;
  const tomorrow = localDay(1);
  const upcoming = async () =>
    (await http().get<Dated[]>(`/api/v1/subjects/${subjectId}/upcoming?days=14`, teacher.accessToken)).body.filter(
      (d) => d.meetingId === meetingId,
    );

  before(async function () {
    this.timeout(180_000);
    ({ admin, users } = await firstRunWith(dep, [...staff, ...pupils]));
    teacher = await http().login(staff[0]!.email, staff[0]!.password);
    const subject = await http().post<{ id: string }>(
      '/api/v1/subjects',
      { code: '7A-MATH', name: 'Maths 7A', teacherIds: [teacher.user.id] },
      admin.accessToken,
    );
    subjectId = subject.body.id;
    await http().post(`/api/v1/subjects/${subjectId}/enrolments`, { studentIds: [pupilId(0), pupilId(1)] }, admin.accessToken);
  });

  it('a holiday: staff read it in the calendar, and the meeting has no day inside it', async () => {
    const term = await http().post<{ id: string }>(
      '/api/v1/timetable/terms',
      { name: 'Autumn', startDay: localDay(-1).day, endDay: localDay(40).day },
      admin.accessToken,
    );
    expect(term.status, term.text).to.equal(201);
    termId = term.body.id;
    const holiday = await http().post<{ id: string; startDay: string; endDay: string }>(
      '/api/v1/timetable/holidays',
      { name: 'Strike day', startDay: tomorrow.day, endDay: tomorrow.day },
      admin.accessToken,
    );
    expect(holiday.status, holiday.text).to.equal(201);
    holidayId = holiday.body.id;
    const calendar = await http().get<{
      terms: { id: string }[];
      holidays: { id: string; name: string; startDay: string; endDay: string }[];
    }>('/api/v1/timetable/calendar', teacher.accessToken);
    expect(calendar.status, calendar.text).to.equal(200);
    expect(calendar.body.terms.map((t) => t.id)).to.deep.equal([termId]);
    expect(calendar.body.holidays).to.have.length(1);
    expect(calendar.body.holidays[0]).to.include({ id: holidayId, name: 'Strike day', startDay: tomorrow.day, endDay: tomorrow.day });
    const student = await http().login(pupils[0]!.email, pupils[0]!.password);
    expect(refusalOf(await http().get('/api/v1/timetable/calendar', student.accessToken))[0], 'staff only').to.equal(403);

    const meeting = await http().post<{ id: string }>(
      `/api/v1/subjects/${subjectId}/meetings`,
      { termId, weekday: tomorrow.weekday, startTime: '10:00', endTime: '10:50', preset: 'manual' },
      teacher.accessToken,
    );
    expect(meeting.status, meeting.text).to.equal(201);
    meetingId = meeting.body.id;
    expect((await upcoming()).map((d) => d.day)).to.deep.equal([localDay(8).day]);
    const onHoliday = await http().post(`/api/v1/meetings/${meetingId}/cancel`, { day: tomorrow.day }, teacher.accessToken);
    expect(refusalOf(onHoliday), 'timetable.md: a holiday is a day the meeting does not take place').to.deep.equal([404, 'NOT_FOUND']);
  });

  it('the holiday deleted, the day is back; tapped, then called off, its session is cancelled', async () => {
    const gone = await http().request('DELETE', `/api/v1/timetable/holidays/${holidayId}`, { token: admin.accessToken });
    expect(gone.status, gone.text).to.be.oneOf([200, 204]);
    expect((await upcoming()).map((d) => d.day)).to.deep.equal([tomorrow.day, localDay(8).day]);
    // The job runs every TIMETABLE_INTERVAL_MS (a minute at the least): a `tap` teacher starts it at once instead.
    const tapMode = await http().request('PUT', '/api/v1/timetable/settings', {
      token: teacher.accessToken,
      json: { timetableOpen: 'tap' },
    });
    expect(tapMode.status, tapMode.text).to.equal(200);
    const started = await http().post<{ id: string; status: string }>(
      `/api/v1/meetings/${meetingId}/start`,
      { day: tomorrow.day },
      teacher.accessToken,
    );
    expect(started.status, started.text).to.equal(200);
    const day = (await upcoming()).find((d) => d.day === tomorrow.day);
    expect(day).to.include({ state: 'created', sessionId: started.body.id });
    const sessionId = day!.sessionId!;
    const off = await http().post<Dated>(`/api/v1/meetings/${meetingId}/cancel`, { day: tomorrow.day }, teacher.accessToken);
    expect(off.status, off.text).to.equal(200);
    expect(off.body).to.include({ meetingId, day: tomorrow.day, state: 'cancelled', sessionId });
    const sessions = await http().get<{ items: { id: string; status: string }[] }>(
      `/api/v1/subjects/${subjectId}/sessions?status=cancelled`,
      teacher.accessToken,
    );
    expect(sessions.body.items.map((s) => s.id)).to.deep.equal([sessionId]);
    expect((await upcoming()).find((d) => d.day === tomorrow.day)).to.include({ state: 'cancelled' });
  });

  it('archiving: refused while a session is open, then done; an archived subject takes no session and leaves the lists', async () => {
    const teacherSocket = await open(0, () => teacher.accessToken);
    const live = data(await send(teacherSocket, 'session:open', { subjectId }));
    const busy = await http().post('/api/v1/subjects/archive', { subjectIds: [subjectId] }, admin.accessToken);
    expect(refusalOf(busy)).to.deep.equal([409, 'SUBJECT_HAS_SESSIONS']);
    expect(detailsOf(busy)['sessionIds']).to.deep.equal([live.id]);
    data(await send(teacherSocket, 'session:close', { sessionId: live.id }));
    const archived = await http().post<{ changed: { id: string; archivedAt: string | null }[]; unchangedIds: string[] }>(
      '/api/v1/subjects/archive',
      { subjectIds: [subjectId] },
      admin.accessToken,
    );
    expect(archived.status, archived.text).to.equal(200);
    expect(archived.body.changed.map((s) => s.id)).to.deep.equal([subjectId]);
    expect(archived.body.changed[0]!.archivedAt).to.be.a('string');
    expect(codeOf(await send(teacherSocket, 'session:open', { subjectId }))).to.equal('SUBJECT_ARCHIVED');
    const inUse = await http().get<{ items: { id: string }[] }>('/api/v1/subjects', admin.accessToken);
    expect(inUse.body.items.map((s) => s.id)).to.not.include(subjectId);
    const old = await http().get<{ items: { id: string }[] }>('/api/v1/subjects?archived=true', admin.accessToken);
    expect(old.body.items.map((s) => s.id)).to.deep.equal([subjectId]);
  });

  it("next year's subject takes last year's code, its students and its meetings; a retry makes nothing twice", async () => {
    const next = await http().post<{ id: string }>(
      '/api/v1/timetable/terms',
      { name: 'Next autumn', startDay: localDay(60).day, endDay: localDay(120).day },
      admin.accessToken,
    );
    expect(next.status, next.text).to.equal(201);
    const body = {
      subjectIds: [subjectId],
      codes: {},
      previousSuffix: '-2026',
      carryStudents: true,
      terms: [{ from: termId, to: next.body.id }],
    };
    const dry = await http().post<{ dryRun: boolean; rows: RolloverRow[] }>(
      '/api/v1/subjects/rollover?dryRun=true',
      body,
      admin.accessToken,
    );
    expect(dry.status, dry.text).to.equal(200);
    expect(dry.body.dryRun).to.equal(true);
    expect(dry.body.rows[0]).to.include({ outcome: 'new', newCode: '7A-MATH', newSubjectId: null });
    expect(
      (await http().get<{ total: number }>('/api/v1/subjects?archived=true', admin.accessToken)).body.total,
      'a dry run writes nothing',
    ).to.equal(1);

    const run = await http().post<{ dryRun: boolean; rows: RolloverRow[] }>('/api/v1/subjects/rollover', body, admin.accessToken);
    expect(run.status, run.text).to.equal(201);
    const row = run.body.rows[0]!;
    expect(row).to.include({ outcome: 'new', newCode: '7A-MATH', renamedTo: '7A-MATH-2026', students: 2, meetings: 1 });
    const made = await http().get<{ id: string; code: string; teacherIds: string[]; archivedAt: string | null }>(
      `/api/v1/subjects/${row.newSubjectId}`,
      admin.accessToken,
    );
    expect(made.body).to.include({ code: '7A-MATH', archivedAt: null });
    expect(made.body.teacherIds).to.deep.equal([teacher.user.id]);
    const last = await http().get<{ code: string }>(`/api/v1/subjects/${subjectId}`, admin.accessToken);
    expect(last.body.code).to.equal('7A-MATH-2026');
    // The OpenAPI document: a bare array of the subject's weekly meetings.
    const meetings = await http().get<{ termId: string; weekday: number; startTime: string }[]>(
      `/api/v1/subjects/${row.newSubjectId}/meetings`,
      teacher.accessToken,
    );
    const list = meetings.body;
    expect(list.map((m) => [m.termId, m.weekday, m.startTime])).to.deep.equal([[next.body.id, tomorrow.weekday, '10:00']]);

    const again = await http().post<{ rows: RolloverRow[] }>('/api/v1/subjects/rollover', body, admin.accessToken);
    expect(again.status, again.text).to.equal(201);
    expect(again.body.rows[0]!.outcome, JSON.stringify(again.body.rows[0])).to.not.equal('new');
    const inUse = await http().get<{ items: { code: string }[] }>('/api/v1/subjects', admin.accessToken);
    expect(inUse.body.items.map((s) => s.code)).to.deep.equal(['7A-MATH']);
  });

  it('leavers: deactivated at once (the admin left alone), out of the subjects in use, their logins refused', async () => {
    const leaver = await http().login(pupils[0]!.email, pupils[0]!.password);
    const res = await http().post<{ deactivatedIds: string[]; selfId: string | null; notFoundIds: string[]; unenrolled: number }>(
      '/api/v1/users/deactivate',
      { userIds: [pupilId(0), admin.user.id, 'no-such-user'], removeFromSubjects: true },
      admin.accessToken,
    );
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.include({ deactivatedIds: [pupilId(0)], selfId: admin.user.id, notFoundIds: ['no-such-user'], unenrolled: 1 });
    expect(refusalOf(await http().post('/api/v1/auth/refresh', { refreshToken: leaver.refreshToken }))).to.deep.equal([
      401,
      'REFRESH_TOKEN_INVALID',
    ]);
    expect(refusalOf(await http().post('/api/v1/auth/login', { email: pupils[0]!.email, password: pupils[0]!.password }))).to.deep.equal([
      403,
      'ACCOUNT_DISABLED',
    ]);
    const inUse = (await http().get<{ items: { id: string }[] }>('/api/v1/subjects', admin.accessToken)).body.items[0]!.id;
    const students = await http().get<{ items: { id: string }[] }>(`/api/v1/subjects/${inUse}/students`, admin.accessToken);
    expect(students.body.items.map((s) => s.id)).to.deep.equal([pupilId(1)]);
    const archivedClass = await http().get<{ items: { id: string }[] }>(`/api/v1/subjects/${subjectId}/students`, admin.accessToken);
    expect(archivedClass.body.items.map((s) => s.id).sort(), 'archived subjects keep their class lists').to.deep.equal(
      [pupilId(0), pupilId(1)].sort(),
    );
  });
});
