import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import { PASSWORD, createCodeSession, createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { sampleBundle } from '../support/oneroster-bundle.js';

// The OneRoster routes over real HTTP: the sample bundle dry-run, imported twice with identical
// results, a refused bundle, and the attendance export with the SIS's sourcedIds.

describe('OneRoster over HTTP', function () {
  let srv: TestServer;
  let org: Organisation;
  let token: string;

  before(async function () {
    srv = await startTestServer();
  });
  after(async function () {
    await srv.cleanup();
  });
  beforeEach(async function () {
    org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    token = (await srv.login(admin.email, PASSWORD, org.slug)).accessToken;
  });

  const people = async () => (await srv.store.users.list(org.id, { limit: 100, offset: 0 })).items.filter((u) => u.role !== 'admin');

  it('a dry run writes nothing; two imports give identical reports and an identical roster', async function () {
    const dry = await srv.request('POST', '/api/v1/oneroster/import?dryRun=true', { token, body: sampleBundle() });
    expect(dry.status).to.equal(200);
    expect(dry.body.files.users).to.deep.equal({ created: 3, updated: 0, unchanged: 0, skipped: 1, error: 1 });
    expect(await people()).to.deep.equal([]);

    const first = await srv.request('POST', '/api/v1/oneroster/import', { token, body: sampleBundle() });
    expect(first.status).to.equal(200);
    expect({ ...first.body, dryRun: true }).to.deep.equal(dry.body);
    const roster1 = await people();
    expect(roster1.map((u) => u.email)).to.deep.equal(['ada@springfield.test', 'ben@springfield.test', 'cleo@springfield.test']);

    const second = await srv.request('POST', '/api/v1/oneroster/import', { token, body: sampleBundle() });
    expect(second.status).to.equal(200);
    const actions = new Set(second.body.rows.map((r: { action: string }) => r.action));
    expect([...actions].sort()).to.deep.equal(['error', 'skipped', 'unchanged']);
    expect(await people()).to.deep.equal(roster1);
  });

  it('refuses a bundle with a missing column as a whole, naming the file', async function () {
    const bundle = sampleBundle();
    const res = await srv.request('POST', '/api/v1/oneroster/import', {
      token,
      body: { ...bundle, classes: bundle.classes!.replace('termSourcedIds', 'terms') },
    });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    expect(res.body.error.details.files).to.deep.equal([
      {
        file: 'classes.csv',
        line: 1,
        reason: 'missing column(s): termSourcedIds',
        problem: { code: 'missingColumns', params: { columns: 'termSourcedIds' } },
      },
    ]);
    expect(await people()).to.deep.equal([]);
  });

  it('exports attendance of settled sessions as CSV with the class and student sourcedIds', async function () {
    await srv.request('POST', '/api/v1/oneroster/import', { token, body: sampleBundle() });
    const [bio] = (await srv.store.subjects.list(org.id, { q: 'BIO201', limit: 1, offset: 0 })).items;
    const ben = (await srv.store.users.getByEmail(org.id, 'ben@springfield.test'))!;
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const session = await createCodeSession(srv.store, org.id, bio!.id, teacher.id, {
      startsAt: new Date('2026-03-02T09:00:00.000Z'),
      status: 'closed',
    });
    await srv.store.records.insertIfAbsent(org.id, {
      sessionId: session.id,
      subjectId: bio!.id,
      studentId: ben.id,
      status: 'late',
      reason: null,
      flags: ['LATE'],
      distanceM: null,
      location: null,
      ip: null,
      attempts: 1,
      submittedAt: new Date('2026-03-02T09:12:00.000Z'),
      decidedAt: null,
      decidedBy: null,
      note: null,
      verification: null,
    });

    const res = await fetch(`${srv.baseUrl}/api/v1/oneroster/attendance.csv?from=2026-03-01&to=2026-03-31`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    expect(rows).to.deep.equal([
      {
        classSourcedId: 'cls-2',
        classCode: 'BIO201',
        sessionId: session.id,
        sessionDate: '2026-03-02',
        sessionStart: '2026-03-02T09:00:00+00:00',
        userSourcedId: 's-1',
        studentNumber: 'S001',
        status: 'late',
        reason: '',
        checkedInAt: '2026-03-02T09:12:00+00:00',
      },
    ]);
    const outside = await srv.request('GET', '/api/v1/oneroster/attendance.csv?from=2026-04-01&to=2026-04-30', { token });
    expect(outside.status).to.equal(200);
  });
});
