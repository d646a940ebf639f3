import { expect } from 'chai';
import http from 'node:http';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { AttendanceSession } from '../../src/domain/ports/sessions.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { PASSWORD, createCodeSession, createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer, refusal } from '../support/http.js';

const BOUNDARY = 'excuse-boundary';
/** One file under `document`, claiming to be a PDF whatever its bytes are. */
function upload(bytes: string): { raw: string; contentType: string } {
  return {
    raw: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="document"; filename="note.pdf"\r\nContent-Type: application/pdf\r\n\r\n${bytes}\r\n--${BOUNDARY}--\r\n`,
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
  };
}
const PDF = '%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF';

// Excuse requests over the real HTTP API: a student submits, staff decide, an approval turns
// the absence into an audited excused record and the daily summary follows.
describe('excuses', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let otherTeacher: User;
  let admin: User;
  let student: User;
  let classmate: User;
  let subject: Subject;
  const tokens = new Map<string, string>();
  const token = (u: User) => tokens.get(u.id)!;

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    otherTeacher = await createUser(srv.store, org.id, 'teacher');
    admin = await createUser(srv.store, org.id, 'admin');
    student = await createUser(srv.store, org.id, 'student');
    classmate = await createUser(srv.store, org.id, 'student');
    subject = await createSubject(srv.store, org.id, [teacher.id], [student.id, classmate.id]);
    for (const u of [teacher, otherTeacher, admin, student, classmate]) tokens.set(u.id, (await srv.login(u.email, PASSWORD)).accessToken);
  });
  after(() => srv.cleanup());

  /** A session of the subject on `day`, closed by its teacher: both students absent. */
  async function closedSession(day: string): Promise<AttendanceSession> {
    const session = await createCodeSession(srv.store, org.id, subject.id, teacher.id, { startsAt: new Date(`${day}T09:00:00Z`) });
    await srv.app.attendance.closer.close(org.id, session.id, teacher.id);
    return session;
  }

  async function submit(u: User, body: Record<string, unknown>) {
    return srv.request('POST', '/api/v1/excuses', { token: token(u), body });
  }

  it('a student submits an excuse, the teacher approves it: the record becomes excused with its category, audited, and the summary follows', async () => {
    const session = await closedSession('2026-01-12');
    const before = await srv.store.summaries.get(org.id, subject.id, '2026-01-12');
    expect(before).to.include({ absent: 2, excused: 0 });

    const submitted = await submit(student, { sessionId: session.id, category: 'medical', text: 'Flu, doctor note attached' });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    expect(submitted.body).to.include({
      status: 'pending',
      category: 'MEDICAL',
      subjectId: subject.id,
      fromDay: '2026-01-12',
      toDay: '2026-01-12',
    });
    const id = submitted.body.id as string;

    const attached = await srv.request('PUT', `/api/v1/excuses/${id}/document`, { token: token(student), ...upload(PDF) });
    expect(attached.status, JSON.stringify(attached.body)).to.equal(200);
    expect(attached.body.document).to.deep.equal({
      fileName: `excuse-${id}.pdf`,
      contentType: 'application/pdf',
      size: Buffer.byteLength(PDF),
    });

    const listed = await srv.request('GET', '/api/v1/excuses?status=pending', { token: token(teacher) });
    expect(listed.body.items.map((e: { id: string }) => e.id)).to.include(id);
    const doc = await srv.request('GET', `/api/v1/excuses/${id}/document`, { token: token(teacher) });
    expect(doc.status).to.equal(200);
    expect(doc.headers.get('content-type')).to.match(/^application\/pdf/);
    expect(doc.headers.get('content-disposition')).to.match(/^attachment; filename="?excuse-[0-9a-f-]+\.pdf"?$/);
    expect(doc.headers.get('x-content-type-options')).to.equal('nosniff');

    const approved = await srv.request('POST', `/api/v1/excuses/${id}/approve`, { token: token(teacher), body: { note: 'Get well' } });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body).to.deep.include({ recordsChanged: 1 });
    expect(approved.body.excuse).to.include({ status: 'approved', decidedBy: teacher.id, decisionNote: 'Get well' });

    const record = await srv.store.records.getForStudent(org.id, session.id, student.id);
    expect(record).to.include({ status: 'excused', reason: 'EXCUSED', absenceCategory: 'MEDICAL' });
    const other = await srv.store.records.getForStudent(org.id, session.id, classmate.id);
    expect(other).to.include({ status: 'absent' });
    const trail = await srv.store.audit.listForEntity(org.id, 'record', record!.id);
    const change = trail.find((e) => e.action === 'record.excuse');
    expect(change).to.include({ actorId: teacher.id, reason: `excuse ${id} (MEDICAL)` });
    expect(change!.from).to.include({ status: 'absent' });
    expect(change!.to).to.include({ status: 'excused', absenceCategory: 'MEDICAL' });
    expect(await srv.store.summaries.get(org.id, subject.id, '2026-01-12')).to.include({ absent: 1, excused: 1 });

    const csv = await srv.request('GET', `/api/v1/sessions/${session.id}/records.csv`, { token: token(teacher) });
    const [header, ...lines] = String(csv.body).trim().split('\n');
    expect(header!.split(',').at(-1)).to.equal('absenceCategory');
    expect(lines.filter((l) => l.endsWith(',MEDICAL'))).to.have.length(1);

    const again = await srv.request('POST', `/api/v1/excuses/${id}/decline`, { token: token(admin), body: {} });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('EXCUSE_DECIDED');
  });

  it('a declined excuse changes no record and no summary', async () => {
    const session = await closedSession('2026-01-13');
    const submitted = await submit(classmate, { sessionId: session.id, category: 'UNAUTHORISED', text: 'Overslept' });
    const declined = await srv.request('POST', `/api/v1/excuses/${submitted.body.id}/decline`, {
      token: token(teacher),
      body: { note: 'No' },
    });
    expect(declined.status, JSON.stringify(declined.body)).to.equal(200);
    expect(declined.body).to.deep.include({ recordsChanged: 0 });
    expect(declined.body.excuse).to.include({ status: 'declined' });
    const record = await srv.store.records.getForStudent(org.id, session.id, classmate.id);
    expect(record).to.include({ status: 'absent', reason: 'NO_CHECKIN', version: 1 });
    expect(await srv.store.summaries.get(org.id, subject.id, '2026-01-13')).to.include({ absent: 2, excused: 0 });
  });

  it('submissions of one scope at the same moment make one pending excuse, decided once; after the decision a new one may be sent', async () => {
    const session = await closedSession('2026-01-14');
    // A double tap, two tabs, a retry: eight requests in flight at once.
    const sent = { sessionId: session.id, category: 'MEDICAL', text: 'Flu' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => submit(student, sent)));
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 200, 200, 200, 200, 200, 200, 201]);
    const created = answers.find((a) => a.status === 201)!.body;
    for (const a of answers) expect(a.body).to.deep.equal(created);
    const mine = await srv.request('GET', '/api/v1/excuses?status=pending', { token: token(student) });
    expect((mine.body.items as { sessionId: string | null }[]).filter((e) => e.sessionId === session.id)).to.have.length(1);
    const trail = await srv.store.audit.listForEntity(org.id, 'excuse', created.id as string);
    expect(trail.map((e) => e.action)).to.deep.equal(['excuse.submit']);

    // The same days as a range are another scope; sent twice in a row, it is one excuse too.
    const range = { subjectId: subject.id, fromDay: '2026-01-14', toDay: '2026-01-15', category: 'MEDICAL', text: '' };
    const first = await submit(student, range);
    const second = await submit(student, range);
    expect([first.status, second.status]).to.deep.equal([201, 200]);
    expect(second.body).to.deep.equal(first.body);
    const declined = await srv.request('POST', `/api/v1/excuses/${created.id}/decline`, {
      token: token(teacher),
      body: { note: 'A note, please' },
    });
    expect(declined.status, JSON.stringify(declined.body)).to.equal(200);
    const resent = await submit(student, { sessionId: session.id, category: 'MEDICAL', text: 'With the note' });
    expect(resent.status, JSON.stringify(resent.body)).to.equal(201);
    expect(resent.body.id).to.not.equal(created.id);
    expect(resent.body).to.include({ status: 'pending', text: 'With the note' });
  });

  it("a pending excuse sent again with another reason or text takes the student's edit, audited; a decided one is never changed", async () => {
    const session = await closedSession('2026-01-27');
    const first = await submit(student, { sessionId: session.id, category: 'MEDICAL', text: 'Flu' });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const edited = await submit(student, { sessionId: session.id, category: 'SCHOOL_TRIP', text: 'The museum trip, in fact' });
    expect(edited.status, JSON.stringify(edited.body)).to.equal(200);
    expect(edited.body).to.include({ id: first.body.id, status: 'pending', category: 'SCHOOL_TRIP', text: 'The museum trip, in fact' });
    expect(edited.body.updatedAt).to.not.equal(first.body.updatedAt);
    // What the student and staff read afterwards is the edit.
    const read = await srv.request('GET', `/api/v1/excuses/${first.body.id}`, { token: token(teacher) });
    expect(read.body).to.deep.equal(edited.body);
    // The edit sent again (a retry of it): answered as it stands, nothing written.
    const again = await submit(student, { sessionId: session.id, category: 'SCHOOL_TRIP', text: 'The museum trip, in fact' });
    expect([again.status, again.body]).to.deep.equal([200, edited.body]);
    const trail = await srv.store.audit.listForEntity(org.id, 'excuse', first.body.id as string);
    expect(
      trail.map((e) => [e.action, e.actorId, (e.from as { category?: string } | null)?.category, (e.to as { category: string }).category]),
    ).to.deep.equal([
      ['excuse.submit', student.id, undefined, 'MEDICAL'],
      ['excuse.edit', student.id, 'MEDICAL', 'SCHOOL_TRIP'],
    ]);

    // Approved with the edited category; the next submission of the scope is a new excuse, and the decided one stays.
    const approved = await srv.request('POST', `/api/v1/excuses/${first.body.id}/approve`, { token: token(teacher), body: {} });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(await srv.store.records.getForStudent(org.id, session.id, student.id)).to.include({ absenceCategory: 'SCHOOL_TRIP' });
    const after = await submit(student, { sessionId: session.id, category: 'MEDICAL', text: 'Flu' });
    expect(after.status).to.equal(201);
    expect(after.body.id).to.not.equal(first.body.id);
    expect((await srv.store.excuses.get(org.id, first.body.id as string))!).to.include({ status: 'approved', category: 'SCHOOL_TRIP' });
  });

  it("a decision is taken on what the decider saw: the student's edit since answers RECORD_CHANGED with it, nothing decided", async () => {
    const session = await closedSession('2026-01-28');
    const first = await submit(student, { sessionId: session.id, category: 'MEDICAL', text: 'Flu' });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const shown = await srv.request('GET', `/api/v1/excuses/${first.body.id}`, { token: token(teacher) });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const edited = await submit(student, { sessionId: session.id, category: 'SCHOOL_TRIP', text: 'The trip' });
    expect(edited.status, JSON.stringify(edited.body)).to.equal(200);

    // The page's revision sent back: refused, the current excuse given to decide again on.
    const refused = await srv.request('POST', `/api/v1/excuses/${first.body.id}/approve`, {
      token: token(teacher),
      body: { updatedAt: shown.body.updatedAt },
    });
    expect([refused.status, refused.body.error?.code]).to.deep.equal([409, 'RECORD_CHANGED']);
    expect(refused.body.error.details.excuse).to.deep.equal(edited.body);
    const untouched = async () => {
      expect(await srv.store.excuses.get(org.id, first.body.id as string)).to.include({ status: 'pending', category: 'SCHOOL_TRIP' });
      expect((await srv.store.records.getForStudent(org.id, session.id, student.id))!.status).to.equal('absent');
      const actions = (await srv.store.audit.listForEntity(org.id, 'excuse', first.body.id as string)).map((e) => e.action);
      expect(actions).to.deep.equal(['excuse.submit', 'excuse.edit']);
    };
    await untouched();

    // Without a revision, an edit landing between the service's read and the store's write is refused as well.
    const decide = srv.store.excuses.decide;
    srv.store.excuses.decide = async (...args) => {
      srv.store.excuses.decide = decide;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const late = await submit(student, { sessionId: session.id, category: 'MEDICAL', text: 'Flu after all' });
      expect(late.status, JSON.stringify(late.body)).to.equal(200);
      return decide(...args);
    };
    const raced = await srv.request('POST', `/api/v1/excuses/${first.body.id}/approve`, { token: token(teacher), body: {} });
    srv.store.excuses.decide = decide;
    expect([raced.status, raced.body.error?.code]).to.deep.equal([409, 'RECORD_CHANGED']);
    expect(raced.body.error.details.excuse).to.include({ category: 'MEDICAL', text: 'Flu after all', status: 'pending' });
    expect(await srv.store.excuses.get(org.id, first.body.id as string)).to.include({ status: 'pending', category: 'MEDICAL' });
    expect((await srv.store.records.getForStudent(org.id, session.id, student.id))!.status).to.equal('absent');
    const trail = (await srv.store.audit.listForEntity(org.id, 'excuse', first.body.id as string)).map((e) => e.action);
    expect(trail).to.deep.equal(['excuse.submit', 'excuse.edit', 'excuse.edit']);

    // Decided again on what it now is: the category applied is the one shown.
    const approved = await srv.request('POST', `/api/v1/excuses/${first.body.id}/approve`, {
      token: token(teacher),
      body: { updatedAt: raced.body.error.details.excuse.updatedAt },
    });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(await srv.store.records.getForStudent(org.id, session.id, student.id)).to.include({
      status: 'excused',
      absenceCategory: 'MEDICAL',
    });
    // Once decided, a stale revision answers EXCUSE_DECIDED, as before.
    const twice = await srv.request('POST', `/api/v1/excuses/${first.body.id}/decline`, {
      token: token(teacher),
      body: { updatedAt: shown.body.updatedAt },
    });
    expect([twice.status, twice.body.error?.code]).to.deep.equal([409, 'EXCUSE_DECIDED']);
  });

  it('an excuse approved before the session closes applies when it closes', async () => {
    const submitted = await submit(student, {
      subjectId: subject.id,
      fromDay: '2026-01-19',
      toDay: '2026-01-23',
      category: 'SCHOOL_TRIP',
      text: 'Museum trip',
    });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const approved = await srv.request('POST', `/api/v1/excuses/${submitted.body.id}/approve`, { token: token(admin), body: {} });
    expect(approved.body).to.deep.include({ recordsChanged: 0 });
    const session = await closedSession('2026-01-20');
    expect(await srv.store.records.getForStudent(org.id, session.id, student.id)).to.include({
      status: 'excused',
      absenceCategory: 'SCHOOL_TRIP',
    });
    expect(await srv.store.records.getForStudent(org.id, session.id, classmate.id)).to.include({ status: 'absent' });
    expect(await srv.store.summaries.get(org.id, subject.id, '2026-01-20')).to.include({ absent: 1, excused: 1 });
  });

  it('a document that is not a PDF, JPEG or PNG is refused with a code, whatever it claims to be', async () => {
    const submitted = await submit(student, { fromDay: '2026-02-02', toDay: '2026-02-02', category: 'MEDICAL', text: '' });
    const refused = await srv.request('PUT', `/api/v1/excuses/${submitted.body.id}/document`, {
      token: token(student),
      ...upload('<html><script>alert(1)</script></html>'),
    });
    expect(refused.status).to.equal(415);
    expect(refused.body.error.code).to.equal('DOCUMENT_UNSUPPORTED_TYPE');
    const stored = await srv.request('GET', `/api/v1/excuses/${submitted.body.id}`, { token: token(student) });
    expect(stored.body.document).to.equal(null);
  });

  it('pending excuses paged by cursor: one decided on another screen between two pages is neither skipped nor shown twice', async () => {
    // A subject of its own, so its teacher's list holds only these.
    const own = await createUser(srv.store, org.id, 'teacher');
    tokens.set(own.id, (await srv.login(own.email, PASSWORD)).accessToken);
    const ownSubject = await createSubject(srv.store, org.id, [own.id], [student.id]);
    const submitted: string[] = [];
    for (let day = 16; day <= 20; day += 1) {
      const res = await submit(student, {
        subjectId: ownSubject.id,
        fromDay: `2026-02-${day}`,
        toDay: `2026-02-${day}`,
        category: 'MEDICAL',
        text: '',
      });
      submitted.push(res.body.id as string);
    }
    const pageAfter = (cursor: string | null) =>
      srv.request('GET', `/api/v1/excuses?status=pending&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        token: token(own),
      });
    const first = await pageAfter(null);
    expect(first.status).to.equal(200);
    const seen: string[] = first.body.items.map((e: { id: string }) => e.id);
    // The newest, on the first page, decided on another screen: an offset of 2 would skip one.
    expect((await srv.request('POST', `/api/v1/excuses/${seen[0]}/approve`, { token: token(admin), body: {} })).status).to.equal(200);
    let cursor = first.body.nextCursor as string | null;
    while (cursor) {
      const page = await pageAfter(cursor);
      expect(page.status).to.equal(200);
      expect(page.body.total).to.equal(4);
      seen.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    }
    expect(seen).to.deep.equal([...submitted].reverse());
    expect(refusal(await pageAfter('not-a-cursor'))).to.deep.equal([400, 'VALIDATION_FAILED']);
    const both = await srv.request(
      'GET',
      `/api/v1/excuses?limit=2&offset=2&cursor=${encodeURIComponent(first.body.nextCursor as string)}`,
      {
        token: token(own),
      },
    );
    expect(refusal(both)).to.deep.equal([400, 'VALIDATION_FAILED']);
    // Offset still answers, as documented (deprecated).
    const byOffset = await srv.request('GET', '/api/v1/excuses?status=pending&limit=2&offset=2', { token: token(own) });
    expect(byOffset.body.items.map((e: { id: string }) => e.id)).to.deep.equal([...submitted].reverse().slice(3, 5));
  });

  it("a cursor is a place in the caller's own list: replayed by a teacher of another subject or another student, it shows none of the excuses they may not see", async () => {
    const own = await createUser(srv.store, org.id, 'teacher');
    tokens.set(own.id, (await srv.login(own.email, PASSWORD)).accessToken);
    const ownSubject = await createSubject(srv.store, org.id, [own.id], [student.id]);
    for (const day of [23, 24, 25]) {
      const res = await submit(student, {
        subjectId: ownSubject.id,
        fromDay: `2026-02-${day}`,
        toDay: `2026-02-${day}`,
        category: 'MEDICAL',
      });
      expect(res.status).to.equal(201);
    }
    // The admin's first page, its cursor just past the newest of them: the other two follow it.
    const first = await srv.request('GET', '/api/v1/excuses?limit=1', { token: token(admin) });
    const cursor = encodeURIComponent(first.body.nextCursor as string);
    const mine = (await srv.request('GET', `/api/v1/excuses?cursor=${cursor}&limit=100`, { token: token(admin) })).body.items;
    expect(mine.filter((e: { subjectId: string }) => e.subjectId === ownSubject.id)).to.have.length(2);
    for (const caller of [otherTeacher, classmate]) {
      const replayed = await srv.request('GET', `/api/v1/excuses?cursor=${cursor}&limit=100&studentId=${student.id}`, {
        token: token(caller),
      });
      expect(replayed.status).to.equal(200);
      const items = replayed.body.items as { studentId: string }[];
      // The teacher teaches no subject; the classmate sees their own excuses only, whatever studentId says.
      if (caller === otherTeacher) expect([items, replayed.body.total]).to.deep.equal([[], 0]);
      else expect(items.filter((e) => e.studentId !== classmate.id)).to.deep.equal([]);
    }
  });

  it('a student has at most 20 excuses waiting, 20 of them with a document: beyond, EXCUSES_PENDING_LIMIT; a decision makes room', async () => {
    const heavy = await createUser(srv.store, org.id, 'student');
    await srv.store.subjects.enrol(org.id, subject.id, [heavy.id]);
    tokens.set(heavy.id, (await srv.login(heavy.email, PASSWORD)).accessToken);
    const range = (day: number) => ({ subjectId: subject.id, fromDay: `2026-04-${String(day).padStart(2, '0')}`, toDay: '2026-04-30' });
    const attach = (id: string, bytes = PDF) =>
      srv.request('PUT', `/api/v1/excuses/${id}/document`, { token: token(heavy), ...upload(bytes) });
    const ids: string[] = [];
    for (let day = 1; day <= 20; day += 1) {
      const res = await submit(heavy, { ...range(day), category: 'MEDICAL', text: 'x'.repeat(2_000) });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      ids.push(res.body.id as string);
      expect((await attach(res.body.id as string)).status).to.equal(200);
    }

    const beyond = await submit(heavy, { ...range(21), category: 'MEDICAL', text: '' });
    expect(refusal(beyond)).to.deep.equal([409, 'EXCUSES_PENDING_LIMIT']);
    expect(beyond.body.error.details).to.deep.equal({ maxPending: 20 });
    // A scope already pending is still answered by its excuse, and its document may be replaced.
    const again = await submit(heavy, { ...range(1), category: 'MEDICAL', text: '' });
    expect([again.status, again.body.id]).to.deep.equal([200, ids[0]]);
    expect((await attach(ids[0]!)).status).to.equal(200);
    // One more pending excuse, as submissions sent at the same moment may leave: its document is refused.
    const { excuse: extra } = await srv.store.excuses.create(org.id, {
      studentId: heavy.id,
      submittedBy: heavy.id,
      subjectId: subject.id,
      sessionId: null,
      fromDay: '2026-05-04',
      toDay: '2026-05-04',
      category: 'MEDICAL',
      text: '',
    });
    expect(refusal(await attach(extra.id))).to.deep.equal([409, 'EXCUSES_PENDING_LIMIT']);
    expect((await srv.store.excuses.get(org.id, extra.id))!.document).to.equal(null);

    const declined = await srv.request('POST', `/api/v1/excuses/${ids[1]}/decline`, { token: token(teacher), body: {} });
    expect(declined.status).to.equal(200);
    expect((await attach(extra.id)).status).to.equal(200);
  });

  it('counts the documents again once the upload is read: one stored meanwhile by another upload refuses this one', async () => {
    const busy = await createUser(srv.store, org.id, 'student');
    await srv.store.subjects.enrol(org.id, subject.id, [busy.id]);
    const bearer = (await srv.login(busy.email, PASSWORD)).accessToken;
    const ids: string[] = [];
    for (let day = 1; day <= 21; day += 1) {
      const { excuse } = await srv.store.excuses.create(org.id, {
        studentId: busy.id,
        submittedBy: busy.id,
        subjectId: subject.id,
        sessionId: null,
        fromDay: `2026-06-${String(day).padStart(2, '0')}`,
        toDay: `2026-06-${String(day).padStart(2, '0')}`,
        category: 'MEDICAL',
        text: '',
      });
      ids.push(excuse.id);
      if (day < 20)
        await srv.store.excuses.putDocument(
          org.id,
          excuse.id,
          { contentType: 'application/pdf', fileName: `excuse-${excuse.id}.pdf`, size: 3 },
          Buffer.from('%PD'),
        );
    }
    // 21 pending, as submissions sent at the same moment may leave. Admitted with 19 other
    // documents, then another node (or a second upload slot of this one) stores the 20th before
    // this body has arrived.
    const body = Buffer.from(upload(PDF).raw);
    const url = new URL(`/api/v1/excuses/${ids[20]}/document`, srv.baseUrl);
    const answer = new Promise<{ status: number; body: { error?: { code: string } } }>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': upload(PDF).contentType, 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as { error?: { code: string } } }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, 40));
      setTimeout(() => {
        void srv.store.excuses
          .putDocument(org.id, ids[19]!, { contentType: 'application/pdf', fileName: `excuse-${ids[19]}.pdf`, size: 3 }, Buffer.from('%PD'))
          .then(() => req.end(body.subarray(40)), reject);
      }, 300);
    });
    const res = await answer;
    expect([res.status, res.body.error?.code]).to.deep.equal([409, 'EXCUSES_PENDING_LIMIT']);
    expect((await srv.store.excuses.get(org.id, ids[20]!))!.document).to.equal(null);
  });

  it('another student cannot see an excuse or its document; a teacher of another subject cannot decide it', async () => {
    const session = await closedSession('2026-01-14');
    const submitted = await submit(student, { sessionId: session.id, category: 'MEDICAL', text: 'private' });
    const id = submitted.body.id as string;
    await srv.request('PUT', `/api/v1/excuses/${id}/document`, { token: token(student), ...upload(PDF) });
    for (const path of [`/api/v1/excuses/${id}`, `/api/v1/excuses/${id}/document`]) {
      const res = await srv.request('GET', path, { token: token(classmate) });
      expect(res.status, path).to.equal(404);
      expect(res.body.error.code).to.equal('EXCUSE_NOT_FOUND');
    }
    const list = await srv.request('GET', '/api/v1/excuses', { token: token(classmate) });
    expect(list.body.items.map((e: { id: string }) => e.id)).not.to.include(id);
    const foreign = await srv.request('POST', `/api/v1/excuses/${id}/approve`, { token: token(otherTeacher), body: {} });
    expect(foreign.status).to.equal(403);
    expect(foreign.body.error.code).to.equal('NOT_SUBJECT_TEACHER');
    expect((await srv.store.excuses.get(org.id, id))!.status).to.equal('pending');
  });

  it('an unknown category is refused; admins replace the categories and the new code is accepted', async () => {
    const unknown = await submit(student, { fromDay: '2026-02-03', toDay: '2026-02-03', category: 'BEREAVEMENT', text: '' });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error.code).to.equal('ABSENCE_CATEGORY_UNKNOWN');
    const refused = await srv.request('PUT', '/api/v1/absence-categories', {
      token: token(teacher),
      body: { categories: [{ code: 'X', label: 'X', authorised: true }] },
    });
    expect(refused.status).to.equal(403);
    const categories = [
      { code: 'MEDICAL', label: 'Medical', authorised: true },
      { code: 'BEREAVEMENT', label: 'Bereavement', authorised: true },
    ];
    const put = await srv.request('PUT', '/api/v1/absence-categories', { token: token(admin), body: { categories } });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    expect((await srv.request('GET', '/api/v1/absence-categories', { token: token(student) })).body.items).to.deep.equal(categories);
    expect((await submit(student, { fromDay: '2026-02-03', toDay: '2026-02-03', category: 'BEREAVEMENT', text: '' })).status).to.equal(201);
  });

  it('guardian contacts: an admin sets them, the student reads their own, another student cannot; a CSV import replaces them all or nothing', async () => {
    const contacts = [{ name: 'Ana Parent', relation: 'mother', email: 'Ana@Example.test', language: 'fr' }];
    const put = await srv.request('PUT', `/api/v1/users/${student.id}/guardians`, { token: token(admin), body: { contacts } });
    expect(put.status, JSON.stringify(put.body)).to.equal(200);
    expect(put.body.items).to.deep.equal([{ ...contacts[0], email: 'ana@example.test' }]);
    expect((await srv.request('GET', `/api/v1/users/${student.id}/guardians`, { token: token(student) })).body.items).to.have.length(1);
    const peek = await srv.request('GET', `/api/v1/users/${student.id}/guardians`, { token: token(classmate) });
    expect(refusal(peek)).to.deep.equal([403, 'FORBIDDEN']);
    const badLanguage = await srv.request('PUT', `/api/v1/users/${student.id}/guardians`, {
      token: token(admin),
      body: { contacts: [{ ...contacts[0], language: 'French!' }] },
    });
    expect(refusal(badLanguage)).to.deep.equal([400, 'VALIDATION_FAILED']);

    const bad = `student_email,name,relation,email,language\n${student.email},Ben,father,ben@example.test,en\nnobody@example.test,Cy,aunt,cy@example.test,en\n`;
    const refused = await srv.request('POST', '/api/v1/guardians/import', { token: token(admin), raw: bad, contentType: 'text/csv' });
    expect(refused.status).to.equal(400);
    expect(refused.body.error.details.rows).to.deep.equal([
      { line: 3, reason: 'no such student', problems: [{ code: 'noSuchStudent', params: {} }] },
    ]);
    expect(await srv.store.guardians.get(org.id, student.id)).to.have.length(1);

    const good = `student_email,name,relation,email,language\n${student.email},Ben,father,ben@example.test,en\n${student.email},Dee,guardian,dee@example.test,\n${classmate.email},Eve,mother,eve@example.test,fr\n`;
    const imported = await srv.request('POST', '/api/v1/guardians/import', { token: token(admin), raw: good, contentType: 'text/csv' });
    expect(imported.status, JSON.stringify(imported.body)).to.equal(200);
    expect(imported.body).to.deep.equal({ students: 2, contacts: 3 });
    expect((await srv.store.guardians.get(org.id, student.id)).map((c) => `${c.name}:${c.language}`)).to.deep.equal(['Ben:en', 'Dee:en']);
    const trail = await srv.store.audit.listForEntity(org.id, 'user', classmate.id);
    expect(trail.map((e) => e.action)).to.include('user.guardians');
  });
});
