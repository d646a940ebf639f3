// The admin's changes during a year, by a client written from README.md ("Admin console", "Links
// that stop working"), docs/privacy.md, docs/authorization.md and the OpenAPI document only, on
// one production node: the year's subjects from one CSV, a teacher away handed over to a
// colleague and back, a mistyped email corrected (the link mailed to it then voided), a
// guardian's consent recorded and withdrawn, and a teacher deactivated whose class nobody could
// take, given to a colleague from the list of sessions left without a teacher.
import { expect } from 'chai';
import { tokenFromMail } from '../support/mail.js';
import { firstRunWith, people, useDeployment, useSockets } from './deployment.js';
import { detailsOf, refusalOf, type Tokens, type UserView } from './http-client.js';
import { data, send } from './socket-client.js';

interface Subject {
  id: string;
  code: string;
  teacherIds: string[];
  location: { lat: number; lon: number; radiusM: number } | null;
  allowedIpRanges: string[];
}

interface Handover {
  toTeacherId: string;
  subjects: { subjectId: string; code: string; before: string[]; after: string[] }[];
}

describe('docs client: the admin during the year (subjects CSV, hand-over, an email corrected, consents, a class left without a teacher)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-staff-changes', 1);
  const open = useSockets(dep);
  const staff = people('c', 2, 0);
  const pupils = people('c', 0, 3);
  let admin: Tokens;
  let users: Map<string, UserView>;
  let subjects: Subject[] = [];
  const http = () => dep.http[0]!;
  const idOf = (email: string) => users.get(email)!.id;

  before(async function () {
    this.timeout(180_000);
    ({ admin, users } = await firstRunWith(dep, [...staff, ...pupils]));
  });

  it("the year's subjects from one CSV: checked whole (bad rows by line, nothing written), then created with their classes", async () => {
    const header = 'code,name,teacher_email,co_teacher_emails,student_numbers,latitude,longitude,radius_m,allowed_networks';
    const good = [
      `9B-HIST,History 9B,${staff[0]!.email},,${pupils[0]!.studentNumber} ${pupils[1]!.studentNumber},48.85,2.35,60,10.1.0.0/16`,
      `9B-GEO,Geography 9B,${staff[0]!.email},${staff[1]!.email},${pupils[2]!.studentNumber},,,,`,
    ];
    const bad = [header, ...good, `9B-ART,Art 9B,nobody@docs-school.test,,,,,,`].join('\n') + '\n';
    const refused = await http().request('POST', '/api/v1/subjects/import?dryRun=true', {
      token: admin.accessToken,
      raw: bad,
      contentType: 'text/csv',
    });
    expect(refusalOf(refused)).to.deep.equal([400, 'VALIDATION_FAILED']);
    const rows = detailsOf(refused)['rows'] as { line: number; code: string }[];
    expect(rows.map((r) => [r.line, r.code])).to.deep.equal([[4, '9B-ART']]);
    const dry = await http().request<{ created: number }>('POST', '/api/v1/subjects/import?dryRun=true', {
      token: admin.accessToken,
      json: { csv: [header, ...good].join('\n') + '\n' },
    });
    expect(dry.status, dry.text).to.equal(200);
    expect((await http().get<{ total: number }>('/api/v1/subjects', admin.accessToken)).body.total, 'a dry run writes nothing').to.equal(0);
    const done = await http().request<{ created: number; enrolled: number; subjects: Subject[] }>('POST', '/api/v1/subjects/import', {
      token: admin.accessToken,
      raw: [header, ...good].join('\n') + '\n',
      contentType: 'text/csv',
    });
    expect(done.status, done.text).to.equal(201);
    expect(done.body).to.include({ created: 2, enrolled: 3 });
    subjects = done.body.subjects;
    const hist = subjects.find((s) => s.code === '9B-HIST')!;
    expect(hist.location).to.deep.equal({ lat: 48.85, lon: 2.35, radiusM: 60 });
    expect(hist.allowedIpRanges).to.deep.equal(['10.1.0.0/16']);
    expect(subjects.find((s) => s.code === '9B-GEO')!.teacherIds).to.deep.equal([idOf(staff[0]!.email), idOf(staff[1]!.email)]);
    const students = await http().get<{ items: { id: string }[] }>(`/api/v1/subjects/${hist.id}/students`, admin.accessToken);
    expect(students.body.items.map((s) => s.id).sort()).to.deep.equal([idOf(pupils[0]!.email), idOf(pupils[1]!.email)].sort());
  });

  it('a teacher away: their subjects handed to a colleague (first where they were first), then back exactly', async () => {
    const away = idOf(staff[0]!.email);
    const colleague = idOf(staff[1]!.email);
    const taught = await http().get<{ items: { id: string }[] }>(`/api/v1/users/${away}/taught-subjects`, admin.accessToken);
    expect(taught.status, taught.text).to.equal(200);
    const taughtIds = taught.body.items.map((s) => s.id).sort();
    expect(taughtIds).to.deep.equal(subjects.map((s) => s.id).sort());
    const handed = await http().post<Handover>(`/api/v1/users/${away}/handover`, { toTeacherId: colleague }, admin.accessToken);
    expect(handed.status, handed.text).to.equal(200);
    const byCode = new Map(handed.body.subjects.map((s) => [s.code, s]));
    expect(byCode.get('9B-HIST')!.after).to.deep.equal([colleague]);
    expect(byCode.get('9B-GEO')!.before).to.deep.equal([away, colleague]);
    expect(byCode.get('9B-GEO')!.after, 'the colleague first, where the absent teacher was first').to.deep.equal([colleague]);
    const teacher = await http().login(staff[0]!.email, staff[0]!.password);
    expect((await http().get<{ total: number }>('/api/v1/subjects', teacher.accessToken)).body.total).to.equal(0);

    const back = await http().post<Handover>(`/api/v1/users/${away}/handover/back`, {}, admin.accessToken);
    expect(back.status, back.text).to.equal(200);
    for (const s of subjects) {
      const now = await http().get<Subject>(`/api/v1/subjects/${s.id}`, admin.accessToken);
      expect(now.body.teacherIds, s.code).to.deep.equal(s.teacherIds);
    }
  });

  it('an email corrected by an admin voids the link mailed to the old address; a new invitation works', async () => {
    const pupil = pupils[2]!;
    const id = idOf(pupil.email);
    const before = dep.smtp.received.length;
    const invited = await http().post<{ queued: number; resets: number }>(`/api/v1/users/${id}/invite`, {}, admin.accessToken);
    expect(invited.status, invited.text).to.equal(202);
    expect(invited.body.resets, 'README: a user with a password gets a reset sent by an admin').to.equal(1);
    const oldLink = tokenFromMail((await dep.smtp.next(pupil.email, before)).raw);
    const corrected = 'c.s3.fixed@docs-school.test';
    const patch = await http().request<UserView>('PATCH', `/api/v1/users/${id}`, { token: admin.accessToken, json: { email: corrected } });
    expect(patch.status, patch.text).to.equal(200);
    expect(patch.body.email).to.equal(corrected);
    expect(refusalOf(await http().post('/api/v1/auth/reset-password', { token: oldLink, password: 'taken-over-pass' }))).to.deep.equal([
      400,
      'LINK_INVALID',
    ]);
    const again = dep.smtp.received.length;
    await http().post(`/api/v1/users/${id}/invite`, {}, admin.accessToken);
    const newLink = tokenFromMail((await dep.smtp.next(corrected, again)).raw);
    expect((await http().post('/api/v1/auth/reset-password', { token: newLink, password: 'corrected-pass-3' })).status).to.equal(204);
    await http().login(corrected, 'corrected-pass-3');
  });

  it("a guardian's consent recorded by an admin, read by the student, withdrawn by the student; teachers record none", async () => {
    const pupil = pupils[0]!;
    const id = idOf(pupil.email);
    const student = await http().login(pupil.email, pupil.password);
    const teacher = await http().login(staff[1]!.email, staff[1]!.password);
    const byTeacher = await http().post(
      `/api/v1/users/${id}/consents`,
      { textVersion: 'v1', givenBy: 'guardian', guardianName: 'Ann' },
      teacher.accessToken,
    );
    expect(refusalOf(byTeacher)).to.deep.equal([403, 'FORBIDDEN']);
    const noName = await http().post(`/api/v1/users/${id}/consents`, { textVersion: 'v1', givenBy: 'guardian' }, admin.accessToken);
    expect(refusalOf(noName)[0], 'a guardian consent names the guardian').to.equal(400);
    const recorded = await http().post<{
      id: string;
      givenBy: string;
      guardianName: string | null;
      recordedBy: string;
      withdrawnAt: string | null;
    }>(`/api/v1/users/${id}/consents`, { textVersion: 'form-2026', givenBy: 'guardian', guardianName: 'Ann Parent' }, admin.accessToken);
    expect(recorded.status, recorded.text).to.equal(201);
    expect(recorded.body).to.include({ givenBy: 'guardian', guardianName: 'Ann Parent', recordedBy: admin.user.id, withdrawnAt: null });
    const read = await http().get<{ items: { id: string; withdrawnAt: string | null }[] }>(
      `/api/v1/users/${id}/consents`,
      student.accessToken,
    );
    expect(read.body.items.map((c) => c.id)).to.deep.equal([recorded.body.id]);
    expect(refusalOf(await http().get(`/api/v1/users/${id}/consents`, teacher.accessToken))[0], 'the student and admins only').to.equal(
      403,
    );
    const withdrawn = await http().request<{ withdrawn: number; faceDeleted: boolean }>('DELETE', `/api/v1/users/${id}/consents`, {
      token: student.accessToken,
    });
    expect(withdrawn.status, withdrawn.text).to.equal(200);
    expect(withdrawn.body).to.deep.equal({ withdrawn: 1, faceDeleted: false });
    const history = await http().get<{ items: { withdrawnAt: string | null; withdrawnBy: string | null }[] }>(
      `/api/v1/users/${id}/consents`,
      admin.accessToken,
    );
    expect(history.body.items).to.have.length(1);
    expect(history.body.items[0]!.withdrawnBy).to.equal(id);
    expect(history.body.items[0]!.withdrawnAt).to.be.a('string');
    const twice = await http().request<{ withdrawn: number }>('DELETE', `/api/v1/users/${id}/consents`, { token: admin.accessToken });
    expect(twice.body.withdrawn, 'idempotent').to.equal(0);
  });

  it("a teacher deactivated whose class nobody could take: on the admins' list, then given to a colleague", async () => {
    const away = idOf(staff[0]!.email);
    const colleague = idOf(staff[1]!.email);
    const hist = subjects.find((s) => s.code === '9B-HIST')!;
    expect(hist.teacherIds, 'taught by the one teacher alone').to.deep.equal([away]);
    const teacher = await http().login(staff[0]!.email, staff[0]!.password);
    const socket = await open(0, () => teacher.accessToken);
    const startsAt = new Date(Date.now() + 86_400_000);
    const closesAt = new Date(startsAt.getTime() + 3_600_000);
    const session = data(
      await send(socket, 'session:open', { subjectId: hist.id, startsAt: startsAt.toISOString(), closesAt: closesAt.toISOString() }),
    );
    expect(session.status).to.equal('scheduled');
    socket.close();
    expect((await http().post(`/api/v1/users/${away}/deactivate`, {}, admin.accessToken)).status).to.equal(200);

    interface Unstaffed {
      session: { id: string; teacherId: string; subjectCode: string };
      teacherName: string | null;
      why: string;
      teachers: { id: string; name: string }[];
    }
    const listed = async () => (await http().get<{ items: Unstaffed[] }>('/api/v1/unstaffed-sessions', admin.accessToken)).body.items;
    const [left] = await listed();
    expect(left).to.deep.include({ why: 'deactivated', teachers: [], teacherName: staff[0]!.name });
    expect(left!.session).to.include({ id: session.id, teacherId: away, subjectCode: '9B-HIST' });
    // A page as authorization.md writes it: the whole list's total, no cursor past the last page.
    const paged = await http().get<Record<string, unknown>>('/api/v1/unstaffed-sessions?limit=1', admin.accessToken);
    expect(paged.body).to.deep.include({ total: 1, limit: 1, offset: 0, nextCursor: null });
    const mixed = await http().get(`/api/v1/unstaffed-sessions?cursor=x&offset=1`, admin.accessToken);
    expect(refusalOf(mixed)).to.deep.equal([400, 'VALIDATION_FAILED']);
    // Nobody to give it to: refused, as the page would say.
    const refused = await http().post(`/api/v1/unstaffed-sessions/${session.id}/teacher`, { teacherId: colleague }, admin.accessToken);
    expect(refusalOf(refused)).to.deep.equal([400, 'VALIDATION_FAILED']);

    // The colleague made a teacher of the subject (the deactivated teacher may stay), then given it.
    const patched = await http().request('PATCH', `/api/v1/subjects/${hist.id}`, {
      token: admin.accessToken,
      json: { teacherIds: [away, colleague] },
    });
    expect(patched.status, patched.text).to.equal(200);
    expect((await listed())[0]!.teachers.map((t) => t.id)).to.deep.equal([colleague]);
    const given = await http().post<{ id: string; teacherId: string; status: string }>(
      `/api/v1/unstaffed-sessions/${session.id}/teacher`,
      { teacherId: colleague },
      admin.accessToken,
    );
    expect(given.status, given.text).to.equal(200);
    expect(given.body).to.include({ id: session.id, teacherId: colleague, status: 'scheduled' });
    expect(await listed()).to.deep.equal([]);
  });
});
