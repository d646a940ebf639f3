// What a client written from the docs alone meets when things change under it (two production
// nodes, Redis, SMTP): invitations and their links, an enrolment and an unenrolment while the
// student is connected (subject:enrolled, session:access-lost), a teacher taken off a subject,
// the roster's batches and versions, accept/reject and a correction after closing, the check-in
// and login rate limits with their retry hints, and a reconnection's resync.
import { expect } from 'chai';
import { decodedMail, tokenFromMail } from '../support/mail.js';
import type { RosterUpdates, SessionView } from '../../src/shared/events.js';
import { ADMIN, ORG, PUBLIC_URL, createFirstAdmin, people, useDeployment, useSockets, usersCsv, type Person } from './deployment.js';
import { detailsOf, refusalOf, type Tokens, type UserView } from './http-client.js';
import { codeOf, data, nextEvent, RosterFeed, send, type DocsSocket } from './socket-client.js';

describe('docs client: changes under a connected client (two production nodes, Redis, SMTP)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-live');
  const staff = people('l', 2, 0);
  const pupils = people('l', 0, 5);
  let admin: Tokens;
  let users: Map<string, UserView>;
  const id = (p: Person) => users.get(p.email)!.id;
  let subjectId = '';
  const open = useSockets(dep);
  const login = (p: Person, node = 0) => dep.http[node]!.login(p.email, p.password);
  const manual = { preset: 'manual' } as const;
  /** The password the admin CLI printed for a second admin. */
  let deputyPassword = '';

  /** Follows an invitation's link from the SMTP server to a set password (README "Inviting users"). */
  async function acceptInvitation(p: Person, sentBefore: number): Promise<void> {
    const mail = await dep.smtp.next(p.email, sentBefore);
    // README "Inviting users": the link, `back` the login page of the user's role, `lang` the email's.
    const link = new RegExp(
      `${PUBLIC_URL.replace(/\./g, '\\.')}/reset\\.html#token=[A-Za-z0-9_-]{43}&invite=1&back=${p.role}\\.html&lang=en\\b`,
    );
    expect(decodedMail(mail.raw)).to.match(link);
    const reset = await dep.http[1]!.post('/api/v1/auth/reset-password', { token: tokenFromMail(mail.raw), password: p.password });
    expect(reset.status, reset.text).to.equal(204);
  }

  before(async function () {
    this.timeout(180_000);
    await createFirstAdmin(dep);
    admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password);
    const imported = await dep.http[0]!.request<{ users: UserView[] }>('POST', '/api/v1/users/import', {
      token: admin.accessToken,
      raw: usersCsv([...staff, ...pupils]),
      contentType: 'text/csv',
    });
    expect(imported.status, imported.text).to.equal(201);
    users = new Map(imported.body.users.map((u) => [u.email, u]));
  });

  it('invitations: one user, then a list; unknown and deactivated ids come back in skipped; a refused password keeps the link', async () => {
    const [first, ...rest] = [...staff, ...pupils];
    const before = dep.smtp.received.length;
    const one = await dep.http[0]!.post(`/api/v1/users/${id(first!)}/invite`, {}, admin.accessToken);
    expect(one.status, one.text).to.equal(202);
    expect(one.body).to.deep.equal({ queued: 1, skipped: [], resets: 0 });
    expect(refusalOf(await dep.http[0]!.post('/api/v1/users/no-such-user/invite', {}, admin.accessToken))).to.deep.equal([
      404,
      'NOT_FOUND',
    ]);

    const leaving = people('gone', 1, 0)[0]!;
    const made = await dep.http[1]!.post<UserView>(
      '/api/v1/users',
      { name: leaving.name, email: leaving.email, role: 'teacher' },
      admin.accessToken,
    );
    expect(made.status, made.text).to.equal(201);
    expect((await dep.http[1]!.post(`/api/v1/users/${made.body.id}/deactivate`, {}, admin.accessToken)).status).to.equal(200);
    const many = await dep.http[1]!.post(
      '/api/v1/users/invitations',
      { userIds: [...rest.map(id), 'no-such-user', made.body.id] },
      admin.accessToken,
    );
    expect(many.status, many.text).to.equal(202);
    expect(many.body).to.have.property('queued', rest.length);
    expect((many.body as { skipped: string[] }).skipped).to.have.members(['no-such-user', made.body.id]);

    // README: "A refused password leaves the link usable".
    const mail = await dep.smtp.next(first!.email, before);
    const token = tokenFromMail(mail.raw);
    const short = await dep.http[1]!.post('/api/v1/auth/reset-password', { token, password: 'short' });
    expect(refusalOf(short)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(
      (detailsOf(short)['issues'] as { path: string; code: string; params: unknown }[]).map((i) => [i.path, i.code, i.params]),
    ).to.deep.equal([['password', 'tooShort', { minimum: 8 }]]);
    const long = await dep.http[1]!.post('/api/v1/auth/reset-password', { token, password: 'é'.repeat(37) });
    expect(detailsOf(long)['issues'], 'protocol §1: at most 72 bytes in UTF-8').to.deep.include({
      path: 'password',
      message: (detailsOf(long)['issues'] as { message: string }[])[0]!.message,
      code: 'tooManyBytes',
      params: { maximum: 72 },
    });
    expect((await dep.http[0]!.post('/api/v1/auth/reset-password', { token, password: first!.password })).status).to.equal(204);
    for (const p of rest) await acceptInvitation(p, before);
    const tokens = await login(first!, 1);
    expect(tokens.user).to.include({ email: first!.email, hasPassword: true, mustChangePassword: false });
  });

  it('the admin CLI without --password-stdin prints a generated password once, which logs in', async function () {
    // Each CLI run or failed login starts a process or hashes a password: slow on a loaded machine.
    this.timeout(180_000);
    const made = await dep.admin(['admin', 'create', '--org', ORG.slug, '--email', 'deputy@docs-school.test', '--name', 'Deputy Head']);
    expect(made.code, made.stderr).to.equal(0);
    // README "First run in production": "a strong password is generated and printed once".
    const printed = /^password \(shown once\): (\S+)$/m.exec(made.stdout)?.[1];
    expect(printed, made.stdout).to.be.a('string');
    deputyPassword = printed!;
    const deputy = await dep.http[1]!.login('deputy@docs-school.test', deputyPassword);
    expect(deputy.user).to.include({ role: 'admin', hasPassword: true });
    const twice = await dep.admin(['admin', 'create', '--org', ORG.slug, '--email', 'deputy@docs-school.test', '--name', 'Again']);
    expect(twice.code).to.equal(1);
    expect(twice.stdout + twice.stderr).to.include('EMAIL_TAKEN');
  });

  it('an invitation of a user who has a password already is queued as a reset sent by an admin, and its link replaces the password', async () => {
    const p = pupils[4]!;
    const before = dep.smtp.received.length;
    const again = await dep.http[0]!.post(`/api/v1/users/${id(p)}/invite`, {}, admin.accessToken);
    expect(again.status, again.text).to.equal(202);
    // notifications.md "Invitations and password resets": such a user gets a reset, counted in `resets`.
    expect(again.body).to.deep.equal({ queued: 1, skipped: [], resets: 1 });
    const mail = await dep.smtp.next(p.email, before);
    p.password = 'chosen-again-pass-5';
    const set = await dep.http[1]!.post('/api/v1/auth/reset-password', { token: tokenFromMail(mail.raw), password: p.password });
    expect(set.status, set.text).to.equal(204);
    const tokens = await login(p);
    expect(tokens.user.id).to.equal(id(p));
    // protocol.md §1: the same password rule wherever a new password is chosen.
    const issue = (res: Parameters<typeof detailsOf>[0]) =>
      (detailsOf(res)['issues'] as { path: string; code: string; params: unknown }[]).map((i) => [i.path, i.code, i.params]);
    const change = await dep.http[0]!.post(
      '/api/v1/me/password',
      { currentPassword: p.password, newPassword: 'short' },
      tokens.accessToken,
    );
    expect(issue(change)).to.deep.equal([['newPassword', 'tooShort', { minimum: 8 }]]);
    const made = await dep.http[0]!.post(
      '/api/v1/users',
      { name: 'Long Password', email: 'long.password@docs-school.test', role: 'teacher', password: 'a'.repeat(73) },
      admin.accessToken,
    );
    expect(issue(made)).to.deep.equal([['password', 'tooManyBytes', { maximum: 72 }]]);
  });

  describe('a live session while the subject changes', () => {
    let teacher: Tokens;
    let coTeacher: Tokens;
    let session: SessionView;
    let t: DocsSocket;
    let co: DocsSocket;
    const s: DocsSocket[] = [];
    let screen: RosterFeed;
    /** Every roster:updates and session:status the screen's socket got, in arrival order. */
    const heard: ({ kind: 'updates'; batch: RosterUpdates } | { kind: 'status'; view: SessionView })[] = [];

    before(async () => {
      teacher = await login(staff[0]!);
      coTeacher = await login(staff[1]!, 1);
      const subject = await dep.http[0]!.post<{ id: string }>(
        '/api/v1/subjects',
        { code: 'LIVE-1', name: 'Live changes', teacherIds: [teacher.user.id, coTeacher.user.id] },
        admin.accessToken,
      );
      expect(subject.status, subject.text).to.equal(201);
      subjectId = subject.body.id;
      // Students 0-2 enrolled from the start; 3 is enrolled while connected; 4 is the rate-limit student.
      const enrol = await dep.http[0]!.post(
        `/api/v1/subjects/${subjectId}/enrolments`,
        { studentIds: [pupils[0]!, pupils[1]!, pupils[2]!, pupils[4]!].map(id) },
        admin.accessToken,
      );
      expect(enrol.body).to.deep.equal({ enrolled: 4, total: 4 });
      t = await open(0, () => teacher.accessToken);
      co = await open(1, () => coTeacher.accessToken);
      for (const [i, p] of pupils.entries()) {
        const tokens = await login(p, i % 2);
        s.push(await open(i % 2, () => tokens.accessToken));
      }
    });
    after(() => screen?.stop());

    it('opens with a policy; a listing student hears of it; a screen watches and a co-teacher watches', async () => {
      data(await send(s[0]!, 'session:list-active', {}));
      const heardOpen = nextEvent(s[0]!, 'session:status', (v) => v.subjectId === subjectId);
      session = data(await send(t, 'session:open', { subjectId, policy: { ...manual, maxAttempts: 3 } }));
      expect(session.policy).to.deep.include({ preset: 'manual', geofence: false, rotatingCode: false, maxAttempts: 3 });
      expect(session).to.include({ status: 'open', teacherId: teacher.user.id, room: null, closedAt: null });
      expect((await heardOpen)[0].id).to.equal(session.id);
      screen = new RosterFeed(t, session.id);
      t.on('roster:updates', (batch) => batch.sessionId === session.id && heard.push({ kind: 'updates', batch }));
      t.on('session:status', (view) => view.id === session.id && heard.push({ kind: 'status', view }));
      const snap = await screen.start();
      expect(snap.version, '§8: 0 before any change').to.equal(0);
      expect(snap.counts).to.deep.include({ notYet: 4, total: 4 });
      expect(data(await send(co, 'session:watch', { sessionId: session.id })).session.id).to.equal(session.id);
    });

    it('subject:enrolled: an enrolment while connected puts the student in the room at once, listed or not', async () => {
      const student = s[3]!;
      expect(codeOf(await send(student, 'session:join', { sessionId: session.id }))).to.equal('NOT_ENROLLED');
      const told = nextEvent(student, 'subject:enrolled');
      // The student is on node B; the enrolment is made on node A.
      const enrol = await dep.http[0]!.post(
        `/api/v1/subjects/${subjectId}/enrolments`,
        { studentIds: [id(pupils[3]!)] },
        admin.accessToken,
      );
      expect(enrol.body).to.deep.equal({ enrolled: 1, total: 5 });
      expect((await told)[0]).to.deep.equal({ subjectId });
      // §3: "from then on the subject's session:status reach it" without a list.
      const extended = nextEvent(student, 'session:status', (v) => v.id === session.id);
      const closesAt = new Date(Date.parse(session.closesAt) + 10 * 60_000).toISOString();
      session = data(await send(t, 'session:extend', { sessionId: session.id, closesAt }));
      expect((await extended)[0].closesAt).to.equal(closesAt);
      expect(data(await send(student, 'session:list-active', {})).map((x) => x.id)).to.deep.equal([session.id]);
      const joined = data(await send(student, 'session:join', { sessionId: session.id }));
      expect(joined.checkin).to.equal(null);
      const again = await dep.http[0]!.post(
        `/api/v1/subjects/${subjectId}/enrolments`,
        { studentIds: [id(pupils[3]!)] },
        admin.accessToken,
      );
      expect(again.body, 'enrolled already: nothing new').to.deep.equal({ enrolled: 0, total: 5 });
    });

    it('roster batches: every version after the snapshot exactly once, oldest first in a message, a new snapshot at the last one', async () => {
      const before = screen.snapshotVersion;
      const versions: number[] = [];
      const listener = (batch: RosterUpdates) => {
        if (batch.sessionId !== session.id) return;
        const inBatch = batch.updates.map((u) => u.version);
        expect(inBatch, '§6: oldest first').to.deep.equal([...inBatch].sort((a, b) => a - b));
        versions.push(...inBatch);
      };
      t.on('roster:updates', listener);
      // Three students on two nodes at once: each a first submission, so three record changes.
      const acks = await Promise.all([0, 1, 2].map((i) => send(s[i]!, 'checkin:submit', { sessionId: session.id })));
      for (const ack of acks) expect(data(ack)).to.include({ status: 'present', attempts: 1, recordVersion: 1 });
      await screen.until((e) => [0, 1, 2].every((i) => e.get(id(pupils[i]!))?.status === 'present'));
      while (versions.length < 3) await nextEvent(t, 'roster:updates', (b) => b.sessionId === session.id);
      t.off('roster:updates', listener);
      expect(
        [...versions].sort((a, b) => a - b),
        '§8: no gap while Redis is up',
      ).to.deep.equal([1, 2, 3].map((k) => before + k));
      const snap = data(await send(co, 'session:watch', { sessionId: session.id }));
      expect(snap.version).to.equal(before + 3);
      expect(snap.counts).to.deep.include({ present: 3, notYet: 2, total: 5 });
      expect(screen.resyncs.gap, 'no resync was needed').to.equal(0);
    });

    it('accept and reject go both ways while open; the student hears each decision', async () => {
      const who = id(pupils[1]!);
      const entry = screen.entries.get(who)!;
      const pushed = nextEvent(s[1]!, 'checkin:decision', (v) => v.reason === 'REJECTED_BY_TEACHER');
      const rejected = data(
        await send(t, 'checkin:decide', {
          sessionId: session.id,
          studentId: who,
          decision: 'reject',
          expectedVersion: entry.recordVersion,
          note: 'seen outside',
        }),
      );
      expect(rejected).to.include({ status: 'rejected', reason: 'REJECTED_BY_TEACHER', note: 'seen outside', decidedBy: teacher.user.id });
      expect(rejected.recordVersion).to.equal(entry.recordVersion + 1);
      const [view] = await pushed;
      expect(view).to.include({ status: 'rejected', attemptsLeft: 0, recordVersion: rejected.recordVersion, note: 'seen outside' });
      const accepted = data(
        await send(co, 'checkin:decide', {
          sessionId: session.id,
          studentId: who,
          decision: 'accept',
          expectedVersion: rejected.recordVersion,
        }),
      );
      expect(accepted, '§5.8: note kept when omitted').to.include({
        status: 'present',
        reason: 'ACCEPTED_BY_TEACHER',
        note: 'seen outside',
        decidedBy: coTeacher.user.id,
      });
      const repeat = await send(t, 'checkin:decide', {
        sessionId: session.id,
        studentId: who,
        decision: 'reject',
        expectedVersion: rejected.recordVersion,
      });
      expect(codeOf(repeat), 'a duplicate cannot overwrite the newer change').to.equal('RECORD_CHANGED');
    });

    it('a co-teacher taken off the subject is told session:access-lost and refused from then on', async () => {
      const lost = nextEvent(co, 'session:access-lost');
      const patch = await dep.http[0]!.request('PATCH', `/api/v1/subjects/${subjectId}`, {
        token: admin.accessToken,
        json: { teacherIds: [teacher.user.id] },
      });
      expect(patch.status, patch.text).to.equal(200);
      expect((await lost)[0]).to.deep.equal({ sessionId: session.id, code: 'NOT_SUBJECT_TEACHER' });
      expect(codeOf(await send(co, 'session:watch', { sessionId: session.id }))).to.equal('NOT_SUBJECT_TEACHER');
      expect(data(await send(co, 'session:list-active', {}))).to.deep.equal([]);
    });

    it('session:access-lost: an unenrolled student is told, refused, and no longer lists the session', async () => {
      const student = s[2]!;
      data(await send(student, 'session:join', { sessionId: session.id }));
      const lost = nextEvent(student, 'session:access-lost');
      const removed = await dep.http[1]!.request('DELETE', `/api/v1/subjects/${subjectId}/enrolments`, {
        token: admin.accessToken,
        json: { studentIds: [id(pupils[2]!), 'never-enrolled'] },
      });
      expect(removed.status, removed.text).to.equal(200);
      expect(removed.body).to.deep.equal({ removed: 1, notEnrolledIds: ['never-enrolled'], total: 4 });
      expect((await lost)[0]).to.deep.equal({ sessionId: session.id, code: 'NOT_ENROLLED' });
      expect(codeOf(await send(student, 'session:join', { sessionId: session.id }))).to.equal('NOT_ENROLLED');
      expect(codeOf(await send(student, 'checkin:submit', { sessionId: session.id }))).to.equal('NOT_ENROLLED');
      expect(data(await send(student, 'session:list-active', {}))).to.deep.equal([]);
      // §5.2: "plus anyone with a record who was unenrolled since".
      const snap = data(await send(t, 'session:watch', { sessionId: session.id }));
      expect(snap.entries.map((e) => e.studentId)).to.include(id(pupils[2]!));
    });

    it('check-in rate: the eleventh submission in a minute is RATE_LIMITED (checkin) with its hint, shared across nodes', async () => {
      const student = s[4]!; // on node A
      const answers: string[] = [];
      let refusal: { code: string; details?: Record<string, unknown> } | null = null;
      for (let k = 0; k < 12 && !refusal; k += 1) {
        const ack = await send(student, 'checkin:submit', { sessionId: session.id });
        if (ack.ok) answers.push(ack.data.status);
        else refusal = ack.error;
      }
      expect(answers, '§10: repeats answer the record unchanged').to.deep.equal(Array(10).fill('present'));
      expect(refusal?.code).to.equal('RATE_LIMITED');
      expect(refusal?.details?.['limit']).to.equal('checkin');
      expect(refusal?.details?.['retryAfterMs']).to.be.a('number').within(1, 60_000);
      // limits.md: one budget across nodes, each node admitting its local share without asking Redis.
      const tokens = await login(pupils[4]!, 1);
      const other = await open(1, () => tokens.accessToken);
      const codes = [];
      for (let k = 0; k < 2; k += 1) codes.push(codeOf(await send(other, 'checkin:submit', { sessionId: session.id })));
      expect(codes).to.include('RATE_LIMITED');
    });

    it('reconnection: a student reads what changed while away with session:join; a screen re-watches and converges', async () => {
      const student = s[0]!;
      const away = new Promise<string>((resolve) => student.once('disconnect', resolve));
      student.disconnect();
      expect(await away).to.equal('io client disconnect');
      const dropped = new Promise<string>((resolve) => t.once('disconnect', resolve));
      t.io.engine.close(); // §4: as the pages do at the browser's offline event
      expect(await dropped, 'socket.io-client names a transport closed by the client so').to.equal('forced close');
      expect(t.active, '§4: retried as after any dropped connection').to.equal(true);
      const admin2 = await dep.http[1]!.login(ADMIN.email, ADMIN.password);
      const a = await open(1, () => admin2.accessToken);
      const marked = data(
        await send(a, 'checkin:mark', { sessionId: session.id, studentId: id(pupils[0]!), status: 'late', note: 'came back' }),
      );
      expect(marked).to.include({ status: 'late', reason: 'MARKED_BY_TEACHER', note: 'came back' });
      await screen.until((e) => screen.resyncs.reconnect > 0 && e.get(id(pupils[0]!))?.recordVersion === marked.recordVersion);
      student.connect();
      await new Promise<void>((resolve) => student.once('connect', () => resolve()));
      const joined = data(await send(student, 'session:join', { sessionId: session.id }));
      expect(joined.checkin).to.include({ status: 'late', reason: 'MARKED_BY_TEACHER', recordVersion: marked.recordVersion });
    });

    it('closing: the absent reaches the screen before the status that says closed; a correction afterwards', async () => {
      heard.length = 0;
      const late = id(pupils[3]!);
      const closed = nextEvent(t, 'session:status', (v) => v.id === session.id && v.status === 'closed');
      const absent = nextEvent(s[3]!, 'checkin:decision', (v) => v.status === 'absent');
      const result = data(await send(t, 'session:close', { sessionId: session.id }));
      expect(result.session.status).to.equal('closed');
      expect(result.counts).to.deep.include({ absent: 1 });
      await closed;
      expect((await absent)[0]).to.include({ reason: 'NO_CHECKIN' });
      const absentAt = heard.findIndex((h) => h.kind === 'updates' && h.batch.updates.some((u) => u.entry.studentId === late));
      const closedAt = heard.findIndex((h) => h.kind === 'status' && h.view.status === 'closed');
      expect(absentAt, '§6: changes are sent before the session:status that follows them').to.be.within(0, closedAt - 1);
      await screen.until((e) => e.get(late)?.status === 'absent');

      const decide = await send(t, 'checkin:decide', { sessionId: session.id, studentId: late, decision: 'accept' });
      expect(codeOf(decide), '§5.8: use checkin:mark with a reason').to.equal('SESSION_CLOSED');
      const held = screen.entries.get(late)!;
      const stale = await send(t, 'checkin:mark', {
        sessionId: session.id,
        studentId: late,
        status: 'present',
        reason: 'was in the library',
        expectedVersion: held.recordVersion - 1,
      });
      expect(codeOf(stale)).to.equal('RECORD_CHANGED');
      const told = nextEvent(s[3]!, 'checkin:decision', (v) => v.reason === 'CORRECTED_BY_TEACHER');
      const fixed = data(
        await send(t, 'checkin:mark', {
          sessionId: session.id,
          studentId: late,
          status: 'present',
          reason: 'was in the library',
          expectedVersion: held.recordVersion,
        }),
      );
      expect(fixed).to.include({ status: 'present', reason: 'CORRECTED_BY_TEACHER', correctionReason: 'was in the library' });
      expect((await told)[0].recordVersion).to.equal(fixed.recordVersion);
      await screen.until((e) => e.get(late)?.status === 'present');
    });

    it('reopen: watchers are told roster:resync, students session:status; a NO_CHECKIN absent is gone and the student checks in', async () => {
      // §6: session:status reaches joined students and those of the subject who listed the sessions.
      data(await send(s[1]!, 'session:list-active', {}));
      const again = data(await send(t, 'session:open', { subjectId, policy: manual }));
      const feed = new RosterFeed(t, again.id);
      try {
        await feed.start();
        const who = id(pupils[1]!);
        const absent = nextEvent(s[1]!, 'checkin:decision', (v) => v.sessionId === again.id && v.status === 'absent');
        data(await send(t, 'session:close', { sessionId: again.id }));
        const [old] = await absent;
        expect(old).to.include({ reason: 'NO_CHECKIN' });
        const resync = nextEvent(t, 'roster:resync', (n) => n.sessionId === again.id);
        const reopened = nextEvent(s[1]!, 'session:status', (v) => v.id === again.id && v.status === 'open');
        const view = data(await send(t, 'session:reopen', { sessionId: again.id, reason: 'closed too early' }));
        expect(view).to.include({ status: 'open', closedAt: null });
        await resync;
        await reopened;
        await feed.until((e) => e.get(who)?.status === 'not-yet' && e.get(who)?.recordVersion === 0);
        expect(data(await send(s[1]!, 'session:join', { sessionId: again.id })).checkin, '§6: read it again after a reopening').to.equal(
          null,
        );
        const fresh = data(await send(s[1]!, 'checkin:submit', { sessionId: again.id }));
        expect(fresh).to.include({ status: 'present', attempts: 1 });
        // §6: a student client keeps, per recordId, the view with the higher recordVersion.
        expect(fresh.recordId !== old.recordId || fresh.recordVersion > old.recordVersion, JSON.stringify([old, fresh])).to.equal(true);
        await feed.until((e) => e.get(who)?.status === 'present');
        data(await send(t, 'session:cancel', { sessionId: again.id }));
      } finally {
        feed.stop();
      }
    });

    it('heavy commands: past SOCKET_HEAVY_RATE_PER_MINUTE (60) a minute, RATE_LIMITED (heavy) with its hint', async () => {
      // A user who sent no command yet: the window opens at the first and holds all of them.
      const deputy = await dep.http[1]!.login('deputy@docs-school.test', deputyPassword);
      const socket = await open(1, () => deputy.accessToken);
      let refusal: { code: string; details?: Record<string, unknown> } | null = null;
      let answered = 0;
      for (let k = 0; k < 80 && !refusal; k += 1) {
        const ack = await send(socket, 'session:list-active', {});
        if (ack.ok) answered += 1;
        else refusal = ack.error;
      }
      expect(refusal?.code).to.equal('RATE_LIMITED');
      expect(refusal?.details).to.include({ limit: 'heavy' });
      expect(refusal?.details?.['retryAfterMs']).to.be.a('number').within(1, 60_000);
      expect(answered).to.equal(60);
      // §12: the light budget is another one.
      expect(codeOf(await send(socket, 'session:unwatch', { sessionId: session.id }))).to.equal(null);
    });

    it('HTTP login throttling: 429 RATE_LIMITED with a Retry-After in seconds matching details.retryAfterMs', async function () {
      // Each CLI run or failed login starts a process or hashes a password: slow on a loaded machine.
      this.timeout(180_000);
      let answer = await dep.http[0]!.post('/api/v1/auth/login', { email: pupils[1]!.email, password: 'wrong-password-1' });
      for (let k = 0; k < 40 && answer.status !== 429; k += 1)
        answer = await dep.http[0]!.post('/api/v1/auth/login', { email: pupils[1]!.email, password: 'wrong-password-1' });
      expect(refusalOf(answer)).to.deep.equal([429, 'RATE_LIMITED']);
      const ms = detailsOf(answer)['retryAfterMs'] as number;
      expect(ms).to.be.a('number').above(0);
      expect(answer.headers.get('retry-after')).to.equal(String(Math.ceil(ms / 1000)));
    });
  });
});
