// Smaller admin chores, by a client written from README.md ("Admin console", "Rules worth
// knowing"), docs/webhooks.md and the OpenAPI document only, on one production node: a student
// moving class by subject codes, the address the network check sees, a webhook endpoint paused,
// re-enabled and deleted, and a subject deleted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { firstRunWith, people, useDeployment, useSockets } from './deployment.js';
import { detailsOf, refusalOf, type Tokens, type UserView } from './http-client.js';
import { data, send } from './socket-client.js';

interface Subject {
  id: string;
  code: string;
}

describe('docs client: admin chores (a student moving class, /me/network, a webhook paused and deleted, a subject deleted)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-class-moves', 1, { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '200' });
  const staff = people('m', 1, 0);
  const pupils = people('m', 0, 2);
  let admin: Tokens;
  let teacher: Tokens;
  let users: Map<string, UserView>;
  const subjects = new Map<string, Subject>();
  const open = useSockets(dep);
  const http = () => dep.http[0]!;
  const pupilId = (i: number) => users.get(pupils[i]!.email)!.id;
  const received: { type: string }[] = [];
  let receiver: Server;

  before(async function () {
    this.timeout(180_000);
    ({ admin, users } = await firstRunWith(dep, [...staff, ...pupils]));
    teacher = await http().login(staff[0]!.email, staff[0]!.password);
    for (const code of ['8A-ENG', '8B-ENG', '8B-SCI']) {
      const made = await http().post<Subject>('/api/v1/subjects', { code, name: code, teacherIds: [teacher.user.id] }, admin.accessToken);
      subjects.set(code, made.body);
    }
    await http().post(
      `/api/v1/subjects/${subjects.get('8A-ENG')!.id}/enrolments`,
      { studentIds: [pupilId(0), pupilId(1)] },
      admin.accessToken,
    );
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as { type: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  after(() => receiver.close());

  it('a student moving from 8A to 8B: a mistyped code changes nothing; then joined by code and out of 8A', async () => {
    const path = `/api/v1/users/${pupilId(0)}/subjects`;
    const mine = async () => (await http().get<{ items: Subject[] }>(path, admin.accessToken)).body.items.map((s) => s.code);
    expect(await mine()).to.deep.equal(['8A-ENG']);
    const typo = await http().post(path, { codes: ['8B-ENG', '8B-SCl'] }, admin.accessToken);
    expect(refusalOf(typo)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(detailsOf(typo)['unknownCodes']).to.deep.equal(['8B-SCl']);
    expect(await mine(), 'all or nothing').to.deep.equal(['8A-ENG']);
    const joined = await http().post<{ items: Subject[] }>(path, { codes: ['8B-ENG', '8B-SCI'] }, admin.accessToken);
    expect(joined.status, joined.text).to.equal(200);
    expect(
      joined.body.items.map((s) => s.code),
      'ordered by code',
    ).to.deep.equal(['8A-ENG', '8B-ENG', '8B-SCI']);
    const left = await http().request<{ items: Subject[] }>('DELETE', path, {
      token: admin.accessToken,
      json: { subjectIds: [subjects.get('8A-ENG')!.id] },
    });
    expect(left.status, left.text).to.equal(200);
    expect(await mine()).to.deep.equal(['8B-ENG', '8B-SCI']);
    const teacherPath = `/api/v1/users/${teacher.user.id}/subjects`;
    expect((await http().post(teacherPath, { codes: ['8B-ENG'] }, admin.accessToken)).status, 'only students are enrolled').to.equal(400);
    await http().post(`/api/v1/users/${pupilId(1)}/deactivate`, {}, admin.accessToken);
    const deactivated = await http().post(`/api/v1/users/${pupilId(1)}/subjects`, { codes: ['8B-ENG'] }, admin.accessToken);
    expect(detailsOf(deactivated)['deactivatedStudentIds']).to.deep.equal([pupilId(1)]);
  });

  it('GET /me/network: the address the server sees and the range to allow for it', async () => {
    const seen = await http().get<{ ip: string | null; range: string | null }>('/api/v1/me/network', teacher.accessToken);
    expect(seen.status, seen.text).to.equal(200);
    expect(seen.body).to.deep.equal({ ip: '127.0.0.1', range: '127.0.0.1/32' });
  });

  it('a webhook endpoint paused queues nothing; re-enabled it is sent events again; deleted it is gone', async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const made = await http().post<{ id: string; secret: string; active: boolean }>(
      '/api/v1/webhooks',
      { url, events: ['session.opened'] },
      admin.accessToken,
    );
    expect(made.status, made.text).to.equal(201);
    const hook = `/api/v1/webhooks/${made.body.id}`;
    const paused = await http().request<{ active: boolean }>('PATCH', hook, { token: admin.accessToken, json: { active: false } });
    expect(paused.status, paused.text).to.equal(200);
    expect(paused.body.active).to.equal(false);
    const teacherSocket = await open(0, () => teacher.accessToken);
    const first = data(await send(teacherSocket, 'session:open', { subjectId: subjects.get('8B-ENG')!.id }));
    data(await send(teacherSocket, 'session:close', { sessionId: first.id }));
    const log = async () => (await http().get<{ items: { event: string }[]; total: number }>(`${hook}/deliveries`, admin.accessToken)).body;
    expect((await log()).total, 'webhooks.md: new events are not queued for an inactive endpoint').to.equal(0);

    const resumed = await http().request<{ active: boolean }>('PATCH', hook, { token: admin.accessToken, json: { active: true } });
    expect(resumed.body.active).to.equal(true);
    const second = data(await send(teacherSocket, 'session:open', { subjectId: subjects.get('8B-SCI')!.id }));
    for (let i = 0; i < 50 && received.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received.map((d) => d.type)).to.deep.equal(['session.opened']);
    expect((await log()).total).to.equal(1);
    data(await send(teacherSocket, 'session:close', { sessionId: second.id }));

    const gone = await http().request('DELETE', hook, { token: admin.accessToken });
    expect(gone.status, gone.text).to.equal(204);
    const list = await http().get<{ items: { id: string }[] }>('/api/v1/webhooks', admin.accessToken);
    expect(list.body.items.map((w) => w.id)).to.not.include(made.body.id);
    expect(refusalOf(await http().get(`${hook}/deliveries`, admin.accessToken))[0]).to.equal(404);
  });

  it('a subject deleted is gone from the lists and answers 404', async () => {
    const id = subjects.get('8A-ENG')!.id;
    const gone = await http().request('DELETE', `/api/v1/subjects/${id}`, { token: admin.accessToken });
    expect(gone.status, gone.text).to.equal(204);
    expect(refusalOf(await http().get(`/api/v1/subjects/${id}`, admin.accessToken))[0]).to.equal(404);
    const list = await http().get<{ items: Subject[] }>('/api/v1/subjects', admin.accessToken);
    expect(list.body.items.map((s) => s.code).sort()).to.deep.equal(['8B-ENG', '8B-SCI']);
  });
});
