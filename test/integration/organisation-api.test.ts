import { expect } from 'chai';
import { parse as parseCsv } from 'csv-parse/sync';
import { PASSWORD, createCodeSession, createOrg, createUser } from '../support/fixtures.js';
import { useSchoolServer } from '../support/school-server.js';
import { newRecord } from '../contract/fixtures.js';
import { command, connectClient, connectRefused } from '../support/sockets.js';

const API = '/api/v1';

describe('organisation API, time zone of exports, deactivated organisations', function () {
  this.timeout(20_000);
  const school = useSchoolServer(['admin', 'teacher']);

  it('shows every user the organisation; only its admin changes it, audited', async () => {
    const { srv, org, admin, tokens } = school();
    const seen = await srv.request('GET', `${API}/organisation`, { token: tokens.teacher });
    expect(seen.status).to.equal(200);
    expect(seen.body).to.deep.include({ id: org.id, slug: org.slug, timezone: 'UTC', active: true });

    const refused = await srv.request('PATCH', `${API}/organisation`, { token: tokens.teacher, body: { name: 'Nope' } });
    expect([refused.status, refused.body.error.code]).to.deep.equal([403, 'FORBIDDEN']);

    const changed = await srv.request('PATCH', `${API}/organisation`, {
      token: tokens.admin,
      body: {
        name: 'Renamed School',
        timezone: 'Asia/Kolkata',
        settings: { sessionMinutes: 50, defaultPolicy: { maxAttempts: 3 }, riskThreshold: 60 },
      },
    });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    expect(changed.body).to.deep.include({ name: 'Renamed School', timezone: 'Asia/Kolkata' });
    expect(changed.body.settings).to.deep.equal({
      sessionMinutes: 50,
      lateGraceMinutes: null,
      codePeriodS: null,
      defaultPolicy: { maxAttempts: 3 },
      sharedDevice: 'flag',
      retention: { probeDays: 7, locationDays: 30, locationMode: 'keep', ipDays: 30 },
      riskThreshold: 60,
    });
    const [entry] = await srv.store.audit.listForEntity(org.id, 'organisation', org.id);
    expect(entry).to.include({ actorId: admin.id, action: 'organisation.update' });

    for (const body of [
      { timezone: 'Mars/Olympus' },
      { settings: { codePeriodS: 1 } },
      { settings: { riskThreshold: 101 } },
      {},
      { slug: 'x' },
    ]) {
      const bad = await srv.request('PATCH', `${API}/organisation`, { token: tokens.admin, body });
      expect([bad.status, bad.body.error.code], JSON.stringify(body)).to.deep.equal([400, 'VALIDATION_FAILED']);
    }
    expect((await srv.store.organisations.get(org.id))!.timezone).to.equal('Asia/Kolkata');
  });

  it('changes the retention settings field by field, refusing a bad value', async () => {
    const { srv, org, tokens } = school();
    const changed = await srv.request('PATCH', `${API}/organisation`, {
      token: tokens.admin,
      body: { settings: { retention: { locationMode: 'never', probeDays: 1 } } },
    });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    expect(changed.body.settings.retention).to.deep.equal({ probeDays: 1, locationDays: 30, locationMode: 'never', ipDays: 30 });
    for (const retention of [{ ipDays: -1 }, { locationDays: 3651 }, { locationMode: 'blur' }, { probeDays: 'soon' }]) {
      const bad = await srv.request('PATCH', `${API}/organisation`, { token: tokens.admin, body: { settings: { retention } } });
      expect([bad.status, bad.body.error.code], JSON.stringify(retention)).to.deep.equal([400, 'VALIDATION_FAILED']);
    }
    expect((await srv.store.organisations.get(org.id))!.settings.retention).to.deep.equal(changed.body.settings.retention);
  });

  it('opens sessions with the defaults the admin set', async () => {
    const { srv, subject, tokens } = school();
    const socket = await connectClient(srv.baseUrl, tokens.teacher);
    try {
      const ack = await command(socket, 'session:open', { subjectId: subject.id, policy: { geofence: false } });
      if (!ack.ok) throw new Error(JSON.stringify(ack.error));
      expect(Date.parse(ack.data.closesAt) - Date.parse(ack.data.startsAt)).to.equal(50 * 60_000);
      expect(ack.data.policy.maxAttempts).to.equal(3);
    } finally {
      socket.disconnect();
    }
  });

  it("writes the CSV exports' times in the organisation's time zone", async () => {
    const { srv, org, teacher, student, subject, tokens } = school();
    const session = await createCodeSession(srv.store, org.id, subject.id, teacher.id, {
      startsAt: new Date('2026-01-15T09:00:00.000Z'),
      status: 'closed',
    });
    await srv.store.records.insertIfAbsent(
      org.id,
      newRecord(session.id, subject.id, student.id, {
        status: 'present',
        attempts: 1,
        submittedAt: new Date('2026-01-15T09:03:20.000Z'),
        decidedAt: new Date('2026-01-15T09:03:21.000Z'),
      }),
    );
    const rowsOf = async (path: string) =>
      parseCsv((await srv.request('GET', path, { token: tokens.teacher })).body as string, { columns: true }) as Record<string, string>[];

    const [kolkata] = await rowsOf(`${API}/sessions/${session.id}/records.csv`);
    expect(kolkata).to.include({
      startsAt: '2026-01-15T14:30:00+05:30',
      submittedAt: '2026-01-15T14:33:20+05:30',
      decidedAt: '2026-01-15T14:33:21+05:30',
    });

    await srv.request('PATCH', `${API}/organisation`, { token: tokens.admin, body: { timezone: 'America/New_York' } });
    const [newYork] = await rowsOf(`${API}/subjects/${subject.id}/attendance.csv?from=2026-01-15&to=2026-01-15`);
    expect(newYork).to.include({ day: '2026-01-15', startsAt: '2026-01-15T04:00:00-05:00', submittedAt: '2026-01-15T04:03:20-05:00' });
  });

  it("writes an export for a person when asked with lang=: words, wall-clock times, a byte order mark, the language's separator", async () => {
    const { srv, org, teacher, student, subject, tokens } = school();
    await srv.request('PATCH', `${API}/organisation`, { token: tokens.admin, body: { timezone: 'Europe/Paris' } });
    const session = await srv.store.sessions.create(org.id, {
      subjectId: subject.id,
      teacherId: teacher.id,
      status: 'closed',
      policy: { geofence: false, network: false, rotatingCode: true, selfie: false, codePeriodS: 15, maxAttempts: 2 },
      startsAt: new Date('2026-03-02T09:00:00.000Z'),
      lateAfter: new Date('2026-03-02T09:10:00.000Z'),
      closesAt: new Date('2026-03-02T10:00:00.000Z'),
      codeSecret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
      day: '2026-03-02',
    });
    await srv.store.records.insertIfAbsent(
      org.id,
      newRecord(session.id, subject.id, student.id, {
        status: 'late',
        attempts: 1,
        submittedAt: new Date('2026-03-02T09:12:05.000Z'),
        decidedAt: new Date('2026-03-02T09:12:06.000Z'),
      }),
    );
    // The raw bytes: fetch's text() would drop a byte order mark.
    const bytesOf = async (path: string) => {
      const res = await fetch(`${srv.baseUrl}${path}`, { headers: { authorization: `Bearer ${tokens.teacher}` } });
      expect(res.status, path).to.equal(200);
      return Buffer.from(await res.arrayBuffer()).toString('utf8');
    };

    const french = await bytesOf(`${API}/sessions/${session.id}/records.csv?lang=fr`);
    expect(french.split('\n')).to.deep.equal([
      '\uFEFFJour;Séance;Début;Matière;Numéro d’élève;Nom;Statut;Motif;Signalements;Pointé à;Décidé à;Note;Motif de la correction;Catégorie d’absence',
      `2026-03-02;${session.id};2026-03-02 10:00:00;${subject.code};${student.studentNumber ?? ''};${student.name};En retard;;;2026-03-02 10:12:05;2026-03-02 10:12:06;;;`,
      '',
    ]);
    const english = await bytesOf(`${API}/subjects/${subject.id}/attendance.csv?from=2026-03-02&to=2026-03-02&lang=en`);
    expect(english.split('\n')[0]).to.equal(
      '\uFEFFDay,Session,Starts at,Subject,Student number,Name,Status,Reason,Flags,Checked in at,Decided at,Note,Correction reason,Absence category',
    );
    expect(english.split('\n')[1]).to.contain(',Late,,,2026-03-02 10:12:05,');

    // Without lang= the machine contract, byte for byte: keys, codes, ISO times with the offset, no mark.
    const machine = await bytesOf(`${API}/sessions/${session.id}/records.csv`);
    expect(machine.split('\n')).to.deep.equal([
      'day,sessionId,startsAt,subjectCode,studentNumber,name,status,reason,flags,submittedAt,decidedAt,note,correctionReason,absenceCategory',
      `2026-03-02,${session.id},2026-03-02T10:00:00+01:00,${subject.code},${student.studentNumber ?? ''},${student.name},late,,,2026-03-02T10:12:05+01:00,2026-03-02T10:12:06+01:00,,,`,
      '',
    ]);
    const refused = await srv.request('GET', `${API}/sessions/${session.id}/records.csv?lang=de`, { token: tokens.teacher });
    expect(refused.status).to.equal(400);
    expect(refused.body.error.details.issues[0]).to.deep.include({ path: 'lang', code: 'notOneOf' });
  });

  it("refuses a deactivated organisation's users everywhere, and no one else", async () => {
    const { srv, org, teacher, tokens } = school();
    const other = await createOrg(srv.store);
    const otherAdmin = await createUser(srv.store, other.id, 'admin');
    const otherToken = (await srv.login(otherAdmin.email, PASSWORD)).accessToken;
    const { refreshToken } = await srv.login(teacher.email, PASSWORD);

    await srv.app.services.organisations.setActive('test', org.slug, false);
    try {
      for (const token of [tokens.admin, tokens.teacher]) {
        const res = await srv.request('GET', `${API}/me`, { token });
        expect([res.status, res.body.error.code]).to.deep.equal([403, 'ORGANISATION_DISABLED']);
      }
      const login = await srv.request('POST', `${API}/auth/login`, { body: { email: teacher.email, password: PASSWORD } });
      expect([login.status, login.body.error.code]).to.deep.equal([403, 'ORGANISATION_DISABLED']);
      const wrong = await srv.request('POST', `${API}/auth/login`, { body: { email: teacher.email, password: 'wrong-password' } });
      expect(wrong.body.error.code, 'says nothing without the password').to.equal('INVALID_CREDENTIALS');
      const refresh = await srv.request('POST', `${API}/auth/refresh`, { body: { refreshToken } });
      expect([refresh.status, refresh.body.error.code]).to.deep.equal([403, 'ORGANISATION_DISABLED']);
      expect(await connectRefused(srv.baseUrl, { token: tokens.teacher })).to.include({ code: 'ORGANISATION_DISABLED' });

      expect((await srv.request('GET', `${API}/me`, { token: otherToken })).status).to.equal(200);
    } finally {
      await srv.app.services.organisations.setActive('test', org.slug, true);
    }
    expect((await srv.request('GET', `${API}/me`, { token: tokens.teacher })).status).to.equal(200);
  });
});
