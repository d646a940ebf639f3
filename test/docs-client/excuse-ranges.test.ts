// Excuses for days rather than one session, by a client written from docs/absences.md and the
// OpenAPI document only, on one production node: the organisation's own categories, an excuse of
// every subject (admins decide it, not teachers), a session closed after its approval settling the
// student as excused, a declined excuse changing nothing, and the pending list read by its cursor.
import { expect } from 'chai';
import { firstRunWith, localDay, people, useDeployment, useSockets } from './deployment.js';
import { refusalOf, type Tokens, type UserView } from './http-client.js';
import { data, send } from './socket-client.js';

interface Excuse {
  id: string;
  subjectId: string | null;
  sessionId: string | null;
  fromDay: string;
  toDay: string;
  category: string;
  status: 'pending' | 'approved' | 'declined';
  decisionNote: string | null;
  updatedAt: string;
}

interface Page {
  items: Excuse[];
  total: number;
  nextCursor: string | null;
}

describe('docs client: excuses for days (own categories, all subjects, applied at close, declined, cursor)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-excuse-ranges', 1);
  const staff = people('e', 1, 0);
  const pupils = people('e', 0, 2);
  let admin: Tokens;
  let teacher: Tokens;
  let student: Tokens;
  let users: Map<string, UserView>;
  let subjectId = '';
  const open = useSockets(dep);
  const http = () => dep.http[0]!;
  const pupilId = (i: number) => users.get(pupils[i]!.email)!.id;
  const today = localDay(0).day;

  before(async function () {
    this.timeout(180_000);
    ({ admin, users } = await firstRunWith(dep, [...staff, ...pupils]));
    teacher = await http().login(staff[0]!.email, staff[0]!.password);
    student = await http().login(pupils[0]!.email, pupils[0]!.password);
    const subject = await http().post<{ id: string }>(
      '/api/v1/subjects',
      { code: 'PE-1', name: 'Sport', teacherIds: [teacher.user.id] },
      admin.accessToken,
    );
    subjectId = subject.body.id;
    await http().post(`/api/v1/subjects/${subjectId}/enrolments`, { studentIds: [pupilId(0), pupilId(1)] }, admin.accessToken);
  });

  it("the organisation's own categories replace the defaults, checked as a whole list", async () => {
    const lower = await http().request('PUT', '/api/v1/absence-categories', {
      token: admin.accessToken,
      json: { categories: [{ code: 'sport', label: 'Sport', authorised: true }] },
    });
    expect(refusalOf(lower), 'codes of upper-case letters, digits and _').to.deep.equal([400, 'VALIDATION_FAILED']);
    const twice = await http().request('PUT', '/api/v1/absence-categories', {
      token: admin.accessToken,
      json: {
        categories: [
          { code: 'SPORT', label: 'Sport', authorised: true },
          { code: 'SPORT', label: 'Again', authorised: false },
        ],
      },
    });
    expect(refusalOf(twice), 'each code once').to.deep.equal([400, 'VALIDATION_FAILED']);
    const byTeacher = await http().request('PUT', '/api/v1/absence-categories', {
      token: teacher.accessToken,
      json: { categories: [{ code: 'SPORT', label: 'Sport', authorised: true }] },
    });
    expect(refusalOf(byTeacher)[0]).to.equal(403);
    const list = [
      { code: 'MEDICAL', label: 'Medical', authorised: true },
      { code: 'SPORT_EVENT', label: 'Sports event', authorised: true },
    ];
    const put = await http().request('PUT', '/api/v1/absence-categories', { token: admin.accessToken, json: { categories: list } });
    expect(put.status, put.text).to.equal(200);
    const read = await http().get<{ items: unknown[] }>('/api/v1/absence-categories', student.accessToken);
    expect(read.body.items).to.deep.equal(list);
    const gone = await http().post('/api/v1/excuses', { fromDay: today, toDay: today, category: 'SCHOOL_TRIP' }, student.accessToken);
    expect(refusalOf(gone), 'a default no longer in the list').to.deep.equal([400, 'ABSENCE_CATEGORY_UNKNOWN']);
  });

  it('an excuse of every subject is for admins to decide; once approved, a session closed in its days settles the student excused', async () => {
    const sent = await http().post<Excuse>(
      '/api/v1/excuses',
      { fromDay: today, toDay: localDay(2).day, category: 'SPORT_EVENT', text: 'regional final' },
      student.accessToken,
    );
    expect(sent.status, sent.text).to.equal(201);
    expect(sent.body).to.include({ subjectId: null, sessionId: null, fromDay: today, toDay: localDay(2).day, status: 'pending' });
    expect(refusalOf(await http().get(`/api/v1/excuses/${sent.body.id}`, teacher.accessToken))).to.deep.equal([403, 'FORBIDDEN']);
    expect(refusalOf(await http().post(`/api/v1/excuses/${sent.body.id}/approve`, {}, teacher.accessToken))).to.deep.equal([
      403,
      'FORBIDDEN',
    ]);
    const approved = await http().post<{ excuse: Excuse; recordsChanged: number }>(
      `/api/v1/excuses/${sent.body.id}/approve`,
      {},
      admin.accessToken,
    );
    expect(approved.status, approved.text).to.equal(200);
    expect(approved.body.recordsChanged, 'no session of its days settled yet').to.equal(0);

    const teacherSocket = await open(0, () => teacher.accessToken);
    const session = data(await send(teacherSocket, 'session:open', { subjectId }));
    const closed = data(await send(teacherSocket, 'session:close', { sessionId: session.id }));
    expect(closed.counts).to.include({ excused: 1, absent: 1, total: 2 });
    const records = await http().get<{
      entries: { studentId: string; status: string; reason: string | null; absenceCategory: string | null }[];
    }>(`/api/v1/sessions/${session.id}/records`, teacher.accessToken);
    expect(records.body.entries.find((e) => e.studentId === pupilId(0))).to.include({
      status: 'excused',
      reason: 'EXCUSED',
      absenceCategory: 'SPORT_EVENT',
    });
    const audit = await http().get<{ total: number }>(
      `/api/v1/reports/audit?sessionId=${session.id}&action=close.excused`,
      admin.accessToken,
    );
    expect(audit.body.total).to.equal(1);
  });

  it('a declined excuse changes no record and tells the student why', async () => {
    const other = await http().login(pupils[1]!.email, pupils[1]!.password);
    const sent = await http().post<Excuse>(
      '/api/v1/excuses',
      { subjectId, fromDay: today, toDay: today, category: 'MEDICAL' },
      other.accessToken,
    );
    expect(sent.status, sent.text).to.equal(201);
    const declined = await http().post<{ excuse: Excuse; recordsChanged: number }>(
      `/api/v1/excuses/${sent.body.id}/decline`,
      { note: 'no certificate' },
      teacher.accessToken,
    );
    expect(declined.status, declined.text).to.equal(200);
    expect(declined.body.excuse).to.include({ status: 'declined', decisionNote: 'no certificate' });
    const mine = await http().get<Page>('/api/v1/excuses?status=declined', other.accessToken);
    expect(mine.body.items.map((e) => e.id)).to.deep.equal([sent.body.id]);
    const csv = await http().get<string>(`/api/v1/subjects/${subjectId}/attendance.csv?from=${today}&to=${today}`, teacher.accessToken);
    const row = csv.body.split('\n').find((l) => l.includes(pupils[1]!.studentNumber));
    expect(row, csv.body).to.include(',absent,');
  });

  it('the pending list read by its cursor holds every excuse once while staff decide meanwhile', async () => {
    const ids: string[] = [];
    for (let d = 10; d < 14; d += 1) {
      const day = localDay(d).day;
      const sent = await http().post<Excuse>(
        '/api/v1/excuses',
        { subjectId, fromDay: day, toDay: day, category: 'MEDICAL' },
        student.accessToken,
      );
      expect(sent.status, sent.text).to.equal(201);
      ids.push(sent.body.id);
    }
    const seen: string[] = [];
    let page = await http().get<Page>('/api/v1/excuses?status=pending&limit=1', teacher.accessToken);
    expect(page.body.total).to.equal(4);
    while (true) {
      seen.push(...page.body.items.map((e) => e.id));
      // A colleague decides the one just read: an offset would now skip the next one.
      if (page.body.items[0]) await http().post(`/api/v1/excuses/${page.body.items[0].id}/approve`, {}, admin.accessToken);
      if (!page.body.nextCursor) break;
      page = await http().get<Page>(
        `/api/v1/excuses?status=pending&limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`,
        teacher.accessToken,
      );
    }
    expect(seen, 'newest first, each once').to.deep.equal([...ids].reverse());
  });
});
