// At-risk alerts as docs/notifications.md and docs/reports.md describe them, by a client written
// from the docs and the OpenAPI document only, on one production node with a real SMTP server:
// an alert rule, a close that crosses it, the in-app notification pushed and read, the email's
// one-click unsubscribe and its way back, the outbox an admin reads, and the at-risk reports.
import { expect } from 'chai';
import type { NotificationView } from '../../src/shared/alerts.js';
import { decodedMail } from '../support/mail.js';
import { firstRunWith, people, useDeployment, useSockets } from './deployment.js';
import { refusalOf, type Tokens, type UserView } from './http-client.js';
import { data, nextEvent, send } from './socket-client.js';

interface Preferences {
  language: 'en' | 'fr' | null;
  unsubscribed: ('alert' | 'digest')[];
}

describe('docs client: at-risk alerts (notifications, unsubscribe, outbox, at-risk reports)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-alerts', 1);
  const staff = people('r', 1, 0);
  const pupils = people('r', 0, 2);
  let admin: Tokens;
  let teacher: Tokens;
  let student: Tokens;
  let users: Map<string, UserView>;
  let subjectId = '';
  let unsubscribeLink = '';
  let mailsBeforeClose = 0;
  const open = useSockets(dep);
  const http = () => dep.http[0]!;
  const pupilId = (i: number) => users.get(pupils[i]!.email)!.id;
  const preferences = async () => (await http().get<Preferences>('/api/v1/me/notification-preferences', teacher.accessToken)).body;

  before(async function () {
    this.timeout(180_000);
    ({ admin, users } = await firstRunWith(dep, [...staff, ...pupils]));
    teacher = await http().login(staff[0]!.email, staff[0]!.password);
    student = await http().login(pupils[0]!.email, pupils[0]!.password);
    const subject = await http().post<{ id: string }>(
      '/api/v1/subjects',
      { code: 'ART-1', name: 'Art', teacherIds: [teacher.user.id] },
      admin.accessToken,
    );
    subjectId = subject.body.id;
    await http().post(`/api/v1/subjects/${subjectId}/enrolments`, { studentIds: [pupilId(0), pupilId(1)] }, admin.accessToken);
  });

  it('email preferences: the organisation language and every category by default; a PUT sets them', async () => {
    expect(await preferences()).to.deep.equal({ language: null, unsubscribed: [] });
    const put = await http().request<Preferences>('PUT', '/api/v1/me/notification-preferences', {
      token: teacher.accessToken,
      json: { language: 'fr', unsubscribed: [] },
    });
    expect(put.status, put.text).to.equal(200);
    expect(await preferences()).to.deep.equal({ language: 'fr', unsubscribed: [] });
  });

  it('a close crossing a rule: the teacher and (with notifyStudent) the student are told live, then read it', async () => {
    const rule = await http().post('/api/v1/alert-rules', { kind: 'consecutive-absences', count: 1 }, admin.accessToken);
    expect(rule.status, rule.text).to.equal(201);
    const org = await http().request('PATCH', '/api/v1/organisation', {
      token: admin.accessToken,
      json: { settings: { notifyStudent: true } },
    });
    expect(org.status, org.text).to.equal(200);
    const teacherSocket = await open(0, () => teacher.accessToken);
    const studentSocket = await open(0, () => student.accessToken);
    const toTeacher = nextEvent(teacherSocket, 'notification:new');
    const toStudent = nextEvent(studentSocket, 'notification:new');
    mailsBeforeClose = dep.smtp.received.length;
    const session = data(await send(teacherSocket, 'session:open', { subjectId }));
    data(await send(teacherSocket, 'session:close', { sessionId: session.id }));

    const [teacherNews] = await toTeacher;
    expect(teacherNews.unread).to.equal(2);
    const [studentNews] = await toStudent;
    expect(studentNews.unread, 'a student is told of their own alert only').to.equal(1);
    expect(studentNews.notification.alert).to.include({ studentId: pupilId(0), rule: 'consecutive-absences', subjectCode: 'ART-1' });

    const list = await http().get<{ items: NotificationView[]; total: number; unread: number }>(
      '/api/v1/me/notifications?unread=true',
      teacher.accessToken,
    );
    expect(list.status, list.text).to.equal(200);
    expect(list.body).to.include({ total: 2, unread: 2 });
    expect(list.body.items.map((n) => n.alert.studentId).sort()).to.deep.equal([pupilId(0), pupilId(1)].sort());
    const one = await http().post<{ marked: number; unread: number }>(
      '/api/v1/me/notifications/read',
      { ids: [list.body.items[0]!.id] },
      teacher.accessToken,
    );
    expect(one.body).to.deep.equal({ marked: 1, unread: 1 });
    const all = await http().post<{ marked: number; unread: number }>('/api/v1/me/notifications/read', {}, teacher.accessToken);
    expect(all.body).to.deep.equal({ marked: 1, unread: 0 });
    const unreadNow = await http().get<{ total: number; unread: number }>('/api/v1/me/notifications?unread=true', teacher.accessToken);
    expect(unreadNow.body).to.include({ total: 0, unread: 0 });
  });

  it("one email to the teacher listing both alerts, its subject as the admin's outbox shows it", async () => {
    const mail = await dep.smtp.next(staff[0]!.email, mailsBeforeClose);
    const text = decodedMail(mail.raw);
    expect(text).to.include(pupils[0]!.name).and.include(pupils[1]!.name);
    unsubscribeLink = /List-Unsubscribe:\s*<([^>]+)>/.exec(text)?.[1] ?? '';
    expect(unsubscribeLink).to.match(/^https:\/\/attendance\.docs-school\.test\/api\/v1\/unsubscribe\?token=/);
    expect(text).to.match(/List-Unsubscribe-Post:\s*List-Unsubscribe=One-Click/);
    const outbox = await http().get<{ items: { to: string; category: string; status: string; subject: string }[] }>(
      `/api/v1/outbox?recipient=${encodeURIComponent(staff[0]!.email)}&status=sent`,
      admin.accessToken,
    );
    expect(outbox.status, outbox.text).to.equal(200);
    const alerts = outbox.body.items.filter((m) => m.category === 'alert');
    expect(alerts).to.have.length(1);
    expect(alerts[0]!.to).to.equal(staff[0]!.email);
    const subjectLine = /^Subject: (.*)$/m.exec(text)?.[1];
    expect(alerts[0]!.subject, 'notifications.md: the subject is the one the recipient gets').to.equal(subjectLine);
    expect(refusalOf(await http().get('/api/v1/outbox', teacher.accessToken))[0], 'admins only').to.equal(403);
    const notFailed = await http().post(
      `/api/v1/outbox/${(outbox.body.items[0] as unknown as { id: string }).id}/retry`,
      {},
      admin.accessToken,
    );
    expect(refusalOf(notFailed), 'only a failed email is sent again').to.deep.equal([404, 'NOT_FOUND']);
  });

  it('the email\'s one-click unsubscribe stops alert emails; "Subscribe again" brings them back; a forged link is refused', async () => {
    const link = new URL(unsubscribeLink);
    const at = link.pathname + link.search;
    const bare = await http().request('POST', at, { json: {} });
    expect(refusalOf(bare), 'a POST without the pair changes nothing').to.deep.equal([400, 'VALIDATION_FAILED']);
    expect((await preferences()).unsubscribed).to.deep.equal([]);
    const click = await http().request('POST', at, { json: { 'List-Unsubscribe': 'One-Click' } });
    expect(click.status, click.text).to.equal(200);
    expect((await preferences()).unsubscribed).to.deep.equal(['alert']);
    const back = await http().request('POST', `/api/v1/resubscribe${link.search}`, {
      raw: 'List-Unsubscribe=One-Click',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(back.status, back.text).to.equal(200);
    expect((await preferences()).unsubscribed).to.deep.equal([]);
    const token = link.searchParams.get('token')!;
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    const refused = await http().request('POST', `/api/v1/unsubscribe?token=${encodeURIComponent(forged)}`, {
      json: { 'List-Unsubscribe': 'One-Click' },
    });
    expect(refusalOf(refused)).to.deep.equal([400, 'UNSUBSCRIBE_LINK_INVALID']);
  });

  it('the at-risk reports list the absent students and their subject under the default 75 %', async () => {
    const students = await http().get<{
      threshold: number;
      items: { studentId: string; absent: number; total: number; percentage: number }[];
    }>(`/api/v1/reports/subjects/${subjectId}/at-risk`, teacher.accessToken);
    expect(students.status, students.text).to.equal(200);
    expect(students.body.threshold).to.equal(75);
    expect(students.body.items.map((i) => i.studentId).sort()).to.deep.equal([pupilId(0), pupilId(1)].sort());
    expect(students.body.items[0]).to.include({ absent: 1, total: 1, percentage: 0 });
    const subjects = await http().get<{ threshold: number; items: { subjectId: string; percentage: number }[] }>(
      '/api/v1/reports/at-risk/subjects',
      admin.accessToken,
    );
    expect(subjects.body.items.map((i) => i.subjectId)).to.deep.equal([subjectId]);
    expect(refusalOf(await http().get(`/api/v1/reports/subjects/${subjectId}/at-risk`, student.accessToken))[0]).to.equal(403);
  });
});
