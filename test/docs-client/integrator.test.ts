// A school's integrator (SIS/LMS), written from README, docs/ and /api/openapi.json alone:
// an admin account kept for the sync, a OneRoster bundle in, webhooks received and checked as
// docs/webhooks.md says, corrections with their audit, and the exports read to the end.
import { expect } from 'chai';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { startIntegratorService, type IntegratorService } from './integrator-service.js';

type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };
interface Tokens {
  accessToken: string;
  refreshToken: string;
  user: { id: string; mustChangePassword: boolean };
}
interface Delivery {
  id: string;
  type: string;
  createdAt: string;
  organisationId: string;
  data: Record<string, { id: string; sessionId?: string; studentId?: string; status?: string; version?: number }>;
}
interface Received {
  delivery: Delivery;
  raw: string;
  t: number;
  idempotencyKey: string;
  signature: string;
  answered: number;
}

const ADMIN = { slug: 'lycee', timezone: 'Europe/Paris', email: 'sis-sync@lycee.example', password: 'integrator-pass-1' };
const PASSWORD = 'class-pass-2026';

// docs/webhooks.md, "Headers and signature": the Node.js receiver's check, as printed there
function verify(secret: string, rawBody: string, header: string, now = Date.now()): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2))) as Record<string, string>;
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(now / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function csvRows(text: string): Record<string, string>[] {
  // RFC 4180 as protocol.md §17 says: quoted cells may hold commas, quotes and line breaks
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endRow = (): void => {
    row.push(cell);
    rows.push(row);
    row = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') {
      quoted = false;
    } else if (quoted || (c !== '"' && c !== ',' && c !== '\n' && c !== '\r')) {
      cell += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
    }
  }
  if (cell !== '' || row.length > 0) endRow();
  const [header = [], ...data] = rows;
  return data.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])));
}

function day(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

const bundle = {
  manifest: [
    'propertyName,value',
    'manifest.version,1.0',
    'oneroster.version,1.1',
    'file.academicSessions,bulk',
    'file.orgs,bulk',
    'file.users,bulk',
    'file.classes,bulk',
    'file.enrollments,bulk',
    'file.courses,absent',
    'file.demographics,absent',
    '',
  ].join('\n'),
  orgs: 'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\norg-1,,,Lycée Intégration,school,LI,\n',
  academicSessions:
    'sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n' +
    'term-1,,,Year 2026,schoolYear,2026-01-01,2027-12-31,,2027\n',
  users: [
    'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password',
    'u-teacher,,,true,org-1,teacher,mcurie,,Marie,Curie,,,marie.curie@lycee.example,,,,,',
    'u-s1,,,true,org-1,student,s1,,Ana,Alves,,L0001,ana@lycee.example,,,,,',
    'u-s2,,,true,org-1,student,s2,,Ben,Bakri,,L0002,ben@lycee.example,,,,,',
    'u-s3,,,true,org-1,student,s3,,Chloé,Chen,,L0003,chloe@lycee.example,,,,,',
    'u-s4,,,true,org-1,student,s4,,Dan,Dumas,,L0004,dan@lycee.example,,,,,',
    'u-parent,,,true,org-1,parent,p1,,Paul,Alves,,,paul@lycee.example,,,,,',
    'u-bad,,,true,org-1,student,s9,,Eve,Error,,L0009,not-an-email,,,,,',
    '',
  ].join('\n'),
  classes:
    'sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n' +
    'class-phy,,,Physics 1,,course-phy,PHY1,scheduled,,org-1,term-1,,,\n',
  enrollments: [
    'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate',
    'e-t,,,class-phy,org-1,u-teacher,teacher,true,,',
    'e-1,,,class-phy,org-1,u-s1,student,false,,',
    'e-2,,,class-phy,org-1,u-s2,student,false,,',
    'e-3,,,class-phy,org-1,u-s3,student,false,,',
    'e-4,,,class-phy,org-1,u-s4,student,false,,',
    'e-bad,,,class-phy,org-1,u-bad,student,false,,',
    '',
  ].join('\n'),
};

describe('docs client: a school integrator (OneRoster, webhooks, corrections, exports)', function () {
  this.timeout(120_000);
  let service: IntegratorService;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  const refusedOnce = new Set<string>();
  const sockets: Socket[] = [];

  let sync: Tokens;
  const api = async (path: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${init.token ?? sync.accessToken}`);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${service.baseUrl}/api/v1${path}`, {
      ...init,
      headers,
      body: init.json !== undefined ? JSON.stringify(init.json) : (init.body ?? null),
    });
  };
  const json = async <T>(path: string, init: RequestInit & { json?: unknown; token?: string } = {}, status = 200): Promise<T> => {
    const res = await api(path, init);
    const text = await res.text();
    expect(res.status, `${init.method ?? 'GET'} ${path}: ${text}`).to.equal(status);
    return (text === '' ? null : JSON.parse(text)) as T;
  };
  const login = async (email: string, password: string): Promise<Tokens> => {
    const res = await fetch(`${service.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, organisation: ADMIN.slug }),
    });
    const body = (await res.json()) as Tokens;
    expect(res.status, JSON.stringify(body)).to.equal(200);
    return body;
  };
  const connect = async (token: string): Promise<Socket> => {
    const socket = io(service.baseUrl, { auth: { token }, transports: ['websocket'] });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  };
  const ask = async <T>(socket: Socket, event: string, payload: unknown): Promise<T> => {
    const ack = (await socket.timeout(10_000).emitWithAck(event, payload)) as Ack<T>;
    if (!ack.ok) throw new Error(`${event}: ${ack.error.code} ${ack.error.message}`);
    return ack.data;
  };
  const waitFor = async (what: string, ok: () => boolean, ms = 40_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  let secret = '';
  let subjectId = '';
  let sessionId = '';
  const studentIds = new Map<string, string>();

  before(async function () {
    service = await startIntegratorService(ADMIN);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = String(req.headers['x-attendance-signature'] ?? '');
        if (!verify(secret, raw, header)) {
          res.writeHead(401).end();
          return;
        }
        const delivery = JSON.parse(raw) as Delivery;
        const t = Number(/t=(\d+)/.exec(header)?.[1]);
        const key = String(req.headers['idempotency-key']);
        // the first record.created is refused once: the docs promise a retry, and the session's
        // later deliveries wait for it ("In order per session")
        const refuse = delivery.type === 'record.created' && refusedOnce.size === 0;
        if (refuse) refusedOnce.add(delivery.id);
        received.push({ delivery, raw, t, idempotencyKey: key, signature: header, answered: refuse ? 503 : 204 });
        res.writeHead(refuse ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    if (address === null || typeof address === 'string') throw new Error('receiver has no port');
    receiverUrl = `http://127.0.0.1:${address.port}/attendance-hook`;
  });

  after(async function () {
    for (const socket of sockets) socket.disconnect();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    if (service) await service.stop();
  });

  it('keeps its own admin login alive with rotating refresh tokens; a reused one ends that login', async function () {
    sync = await login(ADMIN.email, ADMIN.password);
    const first = sync.refreshToken;
    const refreshed = await fetch(`${service.baseUrl}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: first }),
    });
    const pair = (await refreshed.json()) as Tokens;
    expect(refreshed.status).to.equal(200);
    expect(pair.refreshToken).to.not.equal(first);
    // two sync jobs sharing one refresh token: the second one's refresh revokes the login
    const reused = await fetch(`${service.baseUrl}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: first }),
    });
    expect(reused.status).to.equal(401);
    expect(((await reused.json()) as { error: { code: string } }).error.code).to.equal('REFRESH_TOKEN_REUSED');
    const revoked = await api('/me', { token: pair.accessToken });
    expect(revoked.status).to.equal(401);
    expect(((await revoked.json()) as { error: { code: string } }).error.code).to.equal('TOKEN_REVOKED');
    sync = await login(ADMIN.email, ADMIN.password);
  });

  it('registers a webhook endpoint; the secret is shown once', async function () {
    const created = await json<{ id: string; secret: string; active: boolean }>(
      '/webhooks',
      {
        method: 'POST',
        json: { url: receiverUrl, events: ['session.opened', 'session.closed', 'record.created', 'record.changed'], description: 'SIS' },
      },
      201,
    );
    expect(created.secret).to.be.a('string').with.length.greaterThan(0);
    expect(created.active).to.equal(true);
    secret = created.secret;
    const list = await json<{ items?: Array<Record<string, unknown>> } | Array<Record<string, unknown>>>('/webhooks');
    const items = Array.isArray(list) ? list : (list.items ?? []);
    expect(items).to.have.length(1);
    expect(items[0]).to.not.have.property('secret');
  });

  it('imports the OneRoster bundle: the dry run is the real run, a second run changes nothing', async function () {
    type Report = {
      dryRun: boolean;
      files: Record<string, { created: number; updated: number; unchanged: number; skipped: number; error: number }>;
      rows: Array<{ file: string; line: number; sourcedId: string; action: string; problem: { code: string; column?: string } | null }>;
    };
    const dry = await json<Report>('/oneroster/import?dryRun=true', { method: 'POST', json: bundle });
    expect(dry.dryRun).to.equal(true);
    expect(dry.files.users).to.deep.equal({ created: 5, updated: 0, unchanged: 0, skipped: 1, error: 1 });
    const bad = dry.rows.find((r) => r.sourcedId === 'u-bad');
    expect(bad?.action).to.equal('error');
    expect(bad?.problem?.code).to.equal('emailInvalid');
    expect(bad?.line).to.equal(8);
    expect((await json<{ total: number }>('/users?role=student')).total, 'a dry run writes nothing').to.equal(0);

    const real = await json<Report>('/oneroster/import', { method: 'POST', json: bundle });
    expect(real.dryRun).to.equal(false);
    expect(real.files).to.deep.equal(dry.files);
    expect(real.files.classes?.created).to.equal(1);
    expect(real.files.enrollments).to.include({ created: 5, error: 1 });

    const again = await json<Report>('/oneroster/import', { method: 'POST', json: bundle });
    expect(again.files.users).to.include({ created: 0, updated: 0, unchanged: 5 });
    expect(again.files.enrollments).to.include({ created: 0, unchanged: 5 });

    const subjects = await json<{ items: Array<{ id: string; code: string; teacherIds: string[] }> }>('/subjects?q=PHY1');
    expect(subjects.items.map((s) => s.code)).to.deep.equal(['PHY1']);
    subjectId = subjects.items[0]?.id ?? '';
    // paging to the end, one student a page
    const seen: Array<{ id: string; email: string; studentNumber: string | null }> = [];
    for (let offset = 0; ; offset++) {
      const page = await json<{ items: typeof seen; total: number }>(`/subjects/${subjectId}/students?limit=1&offset=${offset}`);
      seen.push(...page.items);
      if (page.items.length === 0 || seen.length >= page.total) break;
    }
    expect(seen.map((s) => s.studentNumber).sort()).to.deep.equal(['L0001', 'L0002', 'L0003', 'L0004']);
    for (const s of seen) studentIds.set(s.email, s.id);
  });

  it('runs a class: the webhooks arrive signed, once retried after a failure, in order per session', async function () {
    // imported accounts have no password (docs/oneroster.md): the admin sets them here
    const people = [
      { email: 'marie.curie@lycee.example' },
      ...['ana', 'ben', 'chloe', 'dan'].map((n) => ({ email: `${n}@lycee.example` })),
    ];
    const users = await json<{ items: Array<{ id: string; email: string }> }>('/users?limit=200');
    for (const person of people) {
      const user = users.items.find((u) => u.email === person.email);
      expect(user, person.email).to.not.equal(undefined);
      await json(`/users/${user!.id}`, { method: 'PATCH', json: { password: PASSWORD, mustChangePassword: false } });
    }
    const teacher = await login('marie.curie@lycee.example', PASSWORD);
    expect(teacher.user.mustChangePassword).to.equal(false);
    const teacherSocket = await connect(teacher.accessToken);
    const session = await ask<{ id: string; status: string; day: string }>(teacherSocket, 'session:open', {
      subjectId,
      policy: { preset: 'manual' },
    });
    expect(session.status).to.equal('open');
    sessionId = session.id;
    for (const name of ['ana', 'ben', 'chloe']) {
      const student = await login(`${name}@lycee.example`, PASSWORD);
      const socket = await connect(student.accessToken);
      const view = await ask<{ status: string }>(socket, 'checkin:submit', { sessionId });
      expect(view.status, name).to.be.oneOf(['present', 'late']);
    }
    const closed = await ask<{ counts: { absent: number; total: number } }>(teacherSocket, 'session:close', { sessionId });
    expect(closed.counts).to.include({ absent: 1, total: 4 });

    const delivered = () => received.filter((r) => r.answered === 204);
    await waitFor('session.closed delivered', () => delivered().some((r) => r.delivery.type === 'session.closed'));
    const types = delivered().map((r) => r.delivery.type);
    expect(types[0]).to.equal('session.opened');
    expect(types.at(-1), 'session.closed comes after every record of the session').to.equal('session.closed');
    expect(types.filter((t) => t === 'record.created')).to.have.length(4);

    // the refused delivery came again: same id and Idempotency-Key, same body, signed afresh
    const [refusedId] = [...refusedOnce];
    const attempts = received.filter((r) => r.delivery.id === refusedId);
    expect(attempts.map((a) => a.answered)).to.deep.equal([503, 204]);
    expect(attempts[1]?.idempotencyKey).to.equal(refusedId);
    expect(attempts[1]?.raw).to.equal(attempts[0]?.raw);
    expect(attempts[1]?.t).to.be.at.least(attempts[0]?.t ?? Infinity);
    // and nothing of the session overtook it
    const firstAfter = received.findIndex((r) => r.delivery.id === refusedId && r.answered === 204);
    const refusedAt = received.findIndex((r) => r.delivery.id === refusedId);
    expect(received.slice(refusedAt + 1, firstAfter).filter((r) => r.delivery.type !== 'session.opened')).to.deep.equal([]);

    for (const r of delivered()) {
      expect(r.idempotencyKey).to.equal(r.delivery.id);
      const record = r.delivery.data.record;
      if (record !== undefined) {
        expect(record.sessionId).to.equal(sessionId);
        expect(Object.keys(record).sort()).to.deep.equal(
          ['id', 'sessionId', 'studentId', 'status', 'reason', 'flags', 'attempts', 'submittedAt', 'decidedAt', 'version'].sort(),
        );
      }
    }
    // the delivery log (GET /webhooks/{id}/deliveries): `attempts` counts, `attemptLog` lists them
    const endpointId = (await json<{ items: Array<{ id: string }> }>('/webhooks')).items[0]?.id;
    const log = await json<{
      items: Array<{ id: string; state: string; attempts: number; attemptLog: Array<{ statusCode: number | null }> }>;
    }>(`/webhooks/${endpointId}/deliveries?limit=200`);
    expect(log.items.map((d) => d.state)).to.satisfy((states: string[]) => states.every((s) => s === 'delivered'));
    const retried = log.items.find((d) => d.id === refusedId);
    expect(retried?.attempts).to.equal(2);
    expect(retried?.attemptLog.map((a) => a.statusCode).sort()).to.deep.equal([204, 503]);
  });

  it('redelivers by hand with the same id, and signs with the new secret alone once rotated', async function () {
    const endpointId = (await json<{ items: Array<{ id: string }> }>('/webhooks')).items[0]?.id ?? '';
    const closedOne = received.find((r) => r.answered === 204 && r.delivery.type === 'session.closed');
    expect(closedOne).to.not.equal(undefined);
    const count = received.length;
    await json(`/webhook-deliveries/${closedOne?.delivery.id}/redeliver`, { method: 'POST' }, 202);
    await waitFor('the redelivery', () => received.length > count);
    const again = received[count];
    expect(again?.idempotencyKey, 'a receiver deduplicates a redelivery by its key').to.equal(closedOne?.delivery.id);
    expect(again?.raw).to.equal(closedOne?.raw);

    const old = secret;
    const rotated = await json<{ secret: string }>(`/webhooks/${endpointId}/rotate-secret`, { method: 'POST' });
    expect(rotated.secret).to.not.equal(old);
    secret = rotated.secret;
    const before = received.length;
    await json(`/webhook-deliveries/${closedOne?.delivery.id}/redeliver`, { method: 'POST' }, 202);
    await waitFor('the redelivery under the new secret', () => received.length > before);
    const signedAfresh = received[before];
    expect(signedAfresh?.answered).to.equal(204);
    const header = `t=${signedAfresh?.t},v1=${createHmac('sha256', old).update(`${signedAfresh?.t}.${signedAfresh?.raw}`).digest('hex')}`;
    expect(verify(old, signedAfresh?.raw ?? '', header), 'the check itself').to.equal(true);
    expect(header, 'the old secret no longer signs').to.not.equal(signedAfresh?.signature);
  });

  it('syncs a second class by API: users from CSV, a subject, enrolments by student number, an unenrolment', async function () {
    const csv = 'name,email,role,student_number\nFlo Faure,flo@lycee.example,student,L0005\nGus Gallo,gus@lycee.example,student,L0006\n';
    const dry = await json<{ created: number; checked: number }>('/users/import?dryRun=true', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(dry).to.include({ created: 0 });
    const imported = await json<{ created: number; users: Array<{ id: string; hasPassword: boolean }> }>(
      '/users/import',
      { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv },
      201,
    );
    expect(imported.created).to.equal(2);
    expect(imported.users.every((u) => !u.hasPassword)).to.equal(true);
    const again = await api('/users/import', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
    expect(again.status, 'the same file twice: its emails are taken, nothing written').to.equal(400);

    const teacherId = (await json<{ items: Array<{ id: string }> }>('/users?role=teacher')).items[0]?.id ?? '';
    const chem = await json<{ id: string; teacherIds: string[] }>(
      '/subjects',
      { method: 'POST', json: { code: 'CHEM1', name: 'Chemistry 1', teacherIds: [teacherId] } },
      201,
    );
    expect(chem.teacherIds).to.deep.equal([teacherId]);
    const numbers = ['L0001', 'L0005', 'L0006', 'L9999'];
    const found = await json<{ items: Array<{ id: string; studentNumber: string | null }> }>('/users/by-student-number', {
      method: 'POST',
      json: { studentNumbers: numbers },
    });
    expect(found.items.map((u) => u.studentNumber).sort(), 'an unknown number is left out').to.deep.equal(['L0001', 'L0005', 'L0006']);
    const enrolled = await json<{ enrolled: number; total: number }>(`/subjects/${chem.id}/enrolments`, {
      method: 'POST',
      json: { studentIds: found.items.map((u) => u.id) },
    });
    expect(enrolled).to.deep.equal({ enrolled: 3, total: 3 });
    const twice = await json<{ enrolled: number; total: number }>(`/subjects/${chem.id}/enrolments`, {
      method: 'POST',
      json: { studentIds: found.items.map((u) => u.id) },
    });
    expect(twice, 'enrolling again is idempotent').to.deep.equal({ enrolled: 0, total: 3 });
    const leaver = found.items.find((u) => u.studentNumber === 'L0006')?.id ?? '';
    const removed = await json<{ removed: number; notEnrolledIds: string[]; total: number }>(`/subjects/${chem.id}/enrolments`, {
      method: 'DELETE',
      json: { studentIds: [leaver, 'no-such-student'] },
    });
    expect(removed).to.deep.equal({ removed: 1, notEnrolledIds: ['no-such-student'], total: 2 });
  });

  it('corrects an absence after closing over HTTP, with a reason the audit trail and the exports keep', async function () {
    const dan = studentIds.get('dan@lycee.example')!;
    const records = await json<{ entries: Array<{ studentId: string; status: string; recordVersion: number }> }>(
      `/sessions/${sessionId}/records`,
    );
    const before = records.entries.find((e) => e.studentId === dan)!;
    expect(before.status).to.equal('absent');
    const correction = `/sessions/${sessionId}/records/${dan}/correction`;
    const refused = await json<{ error: { code: string } }>(correction, { method: 'POST', json: { status: 'excused' } }, 400);
    expect(refused.error.code).to.equal('VALIDATION_FAILED');
    const body = {
      status: 'excused',
      absenceCategory: 'MEDICAL',
      expectedVersion: before.recordVersion,
      reason: 'medical certificate received by the office',
    };
    const entry = await json<{ status: string; reason: string; correctionReason: string; recordId: string; absenceCategory: string }>(
      correction,
      { method: 'POST', json: body },
    );
    expect(entry).to.include({
      status: 'excused',
      reason: 'CORRECTED_BY_TEACHER',
      correctionReason: 'medical certificate received by the office',
      absenceCategory: 'MEDICAL',
    });
    const stale = await json<{ error: { code: string } }>(correction, { method: 'POST', json: body }, 409);
    expect(stale.error.code, 'the same correction sent again from the same data').to.equal('RECORD_CHANGED');

    await waitFor('record.changed delivered', () =>
      received.some((r) => r.answered === 204 && r.delivery.type === 'record.changed' && r.delivery.data.record?.studentId === dan),
    );
    const audit = await json<{ items: Array<{ action: string; reason: string | null; actorName: string | null; actorId: string }> }>(
      `/reports/audit?entityType=record&entityId=${entry.recordId}`,
    );
    const corrected = audit.items.find((a) => a.action === 'record.correct');
    expect(corrected).to.include({ reason: 'medical certificate received by the office', actorName: 'SIS sync', actorId: sync.user.id });
  });

  it('reads the exports over a range across a month: CSV, OneRoster CSV, JSON reports and the audit to its end', async function () {
    const today = day(new Date(), ADMIN.timezone);
    const [y = 0, m = 0] = today.split('-').map(Number);
    const from = `${m === 1 ? y - 1 : y}-${String(m === 1 ? 12 : m - 1).padStart(2, '0')}-20`;

    const csv = await api(`/attendance.csv?from=${from}&to=${today}`);
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    const rows = csvRows(await csv.text());
    expect(Object.keys(rows[0] ?? {})).to.deep.equal([
      'day',
      'sessionId',
      'startsAt',
      'subjectCode',
      'studentNumber',
      'name',
      'status',
      'reason',
      'flags',
      'submittedAt',
      'decidedAt',
      'note',
      'correctionReason',
      'absenceCategory',
    ]);
    expect(rows.map((r) => `${r.studentNumber}:${r.status}`).sort()).to.deep.equal([
      'L0001:present',
      'L0002:present',
      'L0003:present',
      'L0004:excused',
    ]);
    expect(rows.find((r) => r.studentNumber === 'L0004')?.correctionReason).to.equal('medical certificate received by the office');
    expect(rows.find((r) => r.studentNumber === 'L0004')?.absenceCategory).to.equal('MEDICAL');
    expect(rows[0]?.startsAt).to.match(/[+-]\d\d:\d\d$/);

    const sis = csvRows(await (await api(`/oneroster/attendance.csv?from=${from}&to=${today}&subjectId=${subjectId}`)).text());
    expect(sis.map((r) => `${r.classSourcedId}/${r.userSourcedId}/${r.status}`).sort()).to.deep.equal([
      'class-phy/u-s1/present',
      'class-phy/u-s2/present',
      'class-phy/u-s3/present',
      'class-phy/u-s4/excused',
    ]);

    const months = await json<{ items: Array<{ total: number }> }>(`/reports/months?from=${from}&to=${today}`);
    expect(months.items).to.have.length(2);
    expect(months.items.reduce((n, x) => n + x.total, 0)).to.equal(4);
    const perStudent = await json<{ items: Array<{ studentNumber?: string; present: number; excused: number }> }>(
      `/reports/subjects/${subjectId}/students?from=${from}&to=${today}`,
    );
    expect(perStudent.items).to.have.length(4);
    const summaries = await json<{ items: Array<{ present: number; excused: number; total: number; percentage: number }> }>(
      `/subjects/${subjectId}/summaries?from=${from}&to=${today}`,
    );
    expect(summaries.items).to.have.length(1);
    expect(summaries.items[0]).to.include({ present: 3, excused: 1, total: 4, percentage: 100 });

    // the whole trail of the session, three entries a page, to the end; then the same as CSV
    const ids = new Set<string>();
    let total = -1;
    for (let offset = 0; total < 0 || offset < total; offset += 3) {
      const page = await json<{ items: Array<{ id: string }>; total: number }>(
        `/reports/audit?sessionId=${sessionId}&limit=3&offset=${offset}`,
      );
      total = page.total;
      for (const item of page.items) ids.add(item.id);
      if (page.items.length === 0) break;
    }
    expect(ids.size).to.equal(total);
    expect(total).to.be.greaterThan(5);
    const auditCsv = csvRows(await (await api(`/reports/audit.csv?sessionId=${sessionId}`)).text());
    expect(auditCsv).to.have.length(total);
  });
});
