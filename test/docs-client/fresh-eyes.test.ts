// A school's first day, by clients written from README.md and docs/ alone (docs28): the operator's
// admin CLI, an admin's onboarding script over HTTP, a teacher's console and students' phones over
// Socket.IO, against a production node in its own process. Each assertion is a sentence of the docs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { Http, login } from './fresh/http.js';
import { ask, connect, must, nextEvent, OwnRecords, RosterFeed, studentReaction } from './fresh/live.js';
import { startProductionNode, type ProductionNode } from './fresh/node.js';
import {
  acceptInvitation,
  classroom,
  createSubject,
  enrolByNumbers,
  importUsers,
  invite,
  setClassroom,
  usersCsv,
  unQuote,
  type ImportedUser,
  type Subject,
} from './fresh/onboarding.js';
import {
  documentedKeys,
  keyDiff,
  type CheckinView,
  type CloseResult,
  type CodeView,
  type RosterEntry,
  type SessionView,
  type StudentJoinResult,
} from './fresh/protocol-types.js';

const ORG = 'fresh';
const PASSWORD = 'correct horse battery';

let fixes = 0;
/** A fresh GPS fix a few metres from the previous one (two fixes within 1 m are flagged LOCATION_DUPLICATE, §9). */
function fix(over: Partial<{ lat: number; lon: number; accuracy: number }> = {}): Record<string, number> {
  fixes += 1;
  return { lat: classroom.lat + fixes * 0.00003, lon: classroom.lon, accuracy: 10, timestamp: Date.now(), ...over };
}

/** The refusal's code, checked to be one the docs list for a student's commands. */
function refusal(ack: { ok: boolean; error?: { code: string } }): string {
  assert.ok(!ack.ok && ack.error, 'a refusal');
  studentReaction(ack.error.code);
  return ack.error.code;
}

function sameKeys(view: object, keys: readonly string[], what: string): void {
  assert.deepEqual(keyDiff(view, keys), { extra: [], missing: [] }, `${what} as protocol.md §15 gives it`);
}

describe('docs client: a first day written from the docs alone', function () {
  this.timeout(120_000);
  let node: ProductionNode;
  let admin: Http;
  let users: ImportedUser[] = [];
  let subject: Subject;
  const students: { http: Http; socket: Socket; own: OwnRecords; user: ImportedUser }[] = [];
  let teacher: { http: Http; socket: Socket };
  let session: SessionView;
  let feed: RosterFeed;
  let code: CodeView;

  before(async function () {
    this.timeout(90_000);
    node = await startProductionNode();
  });
  after(async () => {
    feed?.stop();
    for (const s of students) s.socket.close();
    teacher?.socket.close();
    await node?.stop();
  });

  it('the operator creates the organisation and its first admin with the admin CLI', async () => {
    const org = await node.admin(['org', 'create', '--name', 'Fresh School', '--slug', ORG, '--timezone', 'Europe/Paris']);
    assert.equal(org.code, 0, org.stderr);
    const made = await node.admin(
      ['admin', 'create', '--org', ORG, '--email', 'head@fresh.example', '--name', 'Head Teacher', '--password-stdin'],
      `${PASSWORD}\n` /* as echo sends it: README */,
    );
    assert.equal(made.code, 0, made.stderr);
    const again = await node.admin(['org', 'create', '--name', 'Again', '--slug', ORG]);
    assert.equal(again.code, 1, 'exit code 1: failed, the coded error printed');
    assert.match(again.stdout + again.stderr, /ORGANISATION_SLUG_TAKEN/);
    admin = new Http(node.baseUrl);
    const answer = await login(admin, 'head@fresh.example', PASSWORD, ORG);
    assert.equal(answer.user.role, 'admin');
    assert.deepEqual(Object.keys(answer).sort(), [
      'accessToken',
      'accessTokenExpiresAt',
      'deviceToken',
      'refreshToken',
      'refreshTokenExpiresAt',
      'user',
    ]);
    assert.deepEqual(Object.keys(answer.user).sort(), [
      'active',
      'createdAt',
      'email',
      'hasPassword',
      'id',
      'mustChangePassword',
      'name',
      'orgId',
      'role',
      'studentNumber',
      'updatedAt',
    ]);
    assert.equal(typeof answer.deviceToken, 'string');
    const organisation = await admin.expect<Record<string, unknown>>(200, 'PATCH', '/organisation', {
      name: 'Fresh School (day one)',
      timezone: 'Europe/Paris',
      settings: { lateGraceMinutes: 5 },
    });
    assert.deepEqual(Object.keys(organisation).sort(), ['active', 'id', 'name', 'settings', 'slug', 'timezone']);
    assert.equal((organisation.settings as { lateGraceMinutes: number }).lateGraceMinutes, 5);
  });

  it('the admin imports a teacher and four students from CSV and invites them', async () => {
    const csv = usersCsv([
      { name: 'Grace Hopper', email: 'grace@fresh.example', role: 'teacher' },
      ...[1, 2, 3, 4].map((i) => ({ name: `Student ${i}`, email: `s${i}@fresh.example`, role: 'student', studentNumber: `F00${i}` })),
    ]);
    users = await importUsers(admin, csv);
    assert.equal(users.length, 5);
    const sent = await invite(
      admin,
      users.map((u) => u.id),
    );
    assert.equal(sent.queued, 5);
    assert.deepEqual(sent.skipped, []);
    assert.equal(sent.resets, 0);
  });

  it('the admin makes the subject, enrols the class by student number and sets the classroom', async () => {
    const grace = users.find((u) => u.role === 'teacher');
    assert.ok(grace);
    subject = await createSubject(admin, 'MATH7', 'Mathematics 7', grace.id);
    assert.deepEqual(subject.teacherIds, [grace.id]);
    const ids = await enrolByNumbers(admin, subject.id, ['F001', 'F002', 'F003', 'F004']);
    assert.equal(ids.length, 4);
    const placed = await setClassroom(admin, subject.id);
    assert.deepEqual(placed.location, classroom);
  });

  it('everyone sets a password from their invitation and connects', async () => {
    const grace = users.find((u) => u.role === 'teacher');
    assert.ok(grace);
    const http = await acceptInvitation(node.baseUrl, node.dataDir, grace.email, PASSWORD, ORG);
    teacher = { http, socket: await connect(node.baseUrl, () => http.token ?? '') };
    for (const user of users.filter((u) => u.role === 'student')) {
      const h = await acceptInvitation(node.baseUrl, node.dataDir, user.email, PASSWORD, ORG);
      const socket = await connect(node.baseUrl, () => h.token ?? '');
      students.push({ http: h, socket, own: new OwnRecords(socket), user });
    }
    // README "Without SMTP": the link sits in a quoted-printable body, cut across lines.
    const outbox = join(node.dataDir, 'outbox');
    const raw = readdirSync(outbox)
      .filter((f) => f.endsWith('.eml'))
      .map((f) => readFileSync(join(outbox, f), 'utf8'));
    assert.equal(raw.length, 5);
    for (const eml of raw) {
      assert.match(eml, /^Content-Transfer-Encoding: quoted-printable\r?$/m);
      assert.match(unQuote(eml), /reset\.html#token=[A-Za-z0-9_-]{20,}&invite=1/);
    }
  });

  it('the teacher opens a location-code session and watches the roster', async () => {
    const open = await ask<SessionView>(teacher.socket, 'session:open', { subjectId: subject.id, policy: { preset: 'location-code' } });
    assert.ok(open.ok, JSON.stringify(open));
    session = open.data;
    sameKeys(session, documentedKeys.SessionView, 'SessionView');
    sameKeys(session.policy, documentedKeys.PolicyView, 'PolicyView');
    assert.equal(session.status, 'open');
    assert.equal(session.policy.preset, 'location-code');
    assert.equal(session.room, null);

    feed = new RosterFeed(teacher.socket, session.id);
    await feed.resync();
    assert.equal(feed.entries.size, 4);
    assert.deepEqual(feed.counts(), { present: 0, late: 0, pending: 0, rejected: 0, excused: 0, absent: 0, notYet: 4, total: 4 });
    sameKeys(feed.entry(students[0]!.user.id), documentedKeys.RosterEntry, 'RosterEntry');
    const snap = await must<{ counts: object; entries: RosterEntry[] }>(teacher.socket, 'session:watch', { sessionId: session.id });
    sameKeys(snap, documentedKeys.RosterSnapshot, 'RosterSnapshot');
    const names = snap.entries.map((e) => e.name);
    assert.deepEqual(names, [...names].sort(), 'entries sorted by name (§5.2)');
    sameKeys(snap.counts, documentedKeys.RosterCounts, 'RosterCounts');
    code = await must<CodeView>(teacher.socket, 'session:code', { sessionId: session.id });
    sameKeys(code, documentedKeys.CodeView, 'CodeView');
    assert.match(code.code, /^\d{6}$/);
  });

  it('students list, join and check in; every refusal is a documented code', async () => {
    const [s1, s2, s3] = students;
    assert.ok(s1 && s2 && s3);
    const active = await must<SessionView[]>(s1.socket, 'session:list-active', {});
    assert.deepEqual(
      active.map((s) => s.id),
      [session.id],
    );
    // A student's view is §15's SessionView without `room`, listed (with their own `checkin`) or joined.
    sameKeys(active[0]!, documentedKeys.StudentListedSession, "ActiveSessionView (a student's)");
    assert.equal((active[0] as { checkin?: unknown }).checkin, null);
    const joined = await must<StudentJoinResult>(s1.socket, 'session:join', { sessionId: session.id });
    sameKeys(joined, documentedKeys.StudentJoinResult, 'StudentJoinResult');
    sameKeys(joined.session, documentedKeys.StudentSessionView, "SessionView (a student's)");
    assert.equal(joined.checkin, null);

    const noFix = await ask<CheckinView>(s1.socket, 'checkin:submit', { sessionId: session.id, code: code.code });
    assert.equal(refusal(noFix), 'LOCATION_REQUIRED');
    assert.ok(!noFix.ok);
    assert.equal(noFix.error.details?.field, 'location');

    const pushed = nextEvent<CheckinView>(s1.socket, 'checkin:decision', (v) => v.sessionId === session.id);
    const present = await must<CheckinView>(s1.socket, 'checkin:submit', { sessionId: session.id, code: code.code, location: fix() });
    sameKeys(present, documentedKeys.CheckinView, 'CheckinView');
    assert.equal(present.status, 'present');
    assert.equal(present.reason, null);
    assert.deepEqual(present.flags, []);
    const push = await pushed;
    assert.equal(push.recordVersion, present.recordVersion, 'the ack and the push of one submission carry one version');
    s1.own.keep(present);
    // §5.5: the list now says the student checked in, before any Join.
    const listed = await must<{ id: string; checkin: Record<string, unknown> | null }[]>(s1.socket, 'session:list-active', {});
    const mine = listed.find((s) => s.id === session.id)?.checkin;
    assert.ok(mine, "the listed session carries the student's check-in");
    sameKeys(mine, documentedKeys.ListedCheckin, 'ListedCheckin');
    assert.equal(mine.status, 'present');
    assert.equal(mine.recordVersion, present.recordVersion);

    const far = await must<CheckinView>(s2.socket, 'checkin:submit', {
      sessionId: session.id,
      code: code.code,
      location: fix({ lat: classroom.lat + 0.01 }),
    });
    assert.equal(far.status, 'rejected');
    assert.equal(far.reason, 'GEOFENCE_OUTSIDE');
    assert.equal(far.attemptsLeft, 1);
    const wrong = await must<CheckinView>(s2.socket, 'checkin:submit', {
      sessionId: session.id,
      code: '000000' === code.code ? '111111' : '000000',
      location: fix(),
    });
    assert.equal(wrong.status, 'rejected');
    assert.equal(wrong.reason, 'CODE_INVALID');
    assert.equal(wrong.attempts, 2);
    assert.equal(wrong.attemptsLeft, 0);
    const final = await must<CheckinView>(s2.socket, 'checkin:submit', { sessionId: session.id, code: code.code, location: fix() });
    assert.deepEqual(final, wrong, 'a final record comes back unchanged');

    const coarse = await must<CheckinView>(s3.socket, 'checkin:submit', {
      sessionId: session.id,
      code: code.code,
      location: fix({ accuracy: 600 }),
    });
    assert.equal(coarse.status, 'pending');
    assert.equal(coarse.reason, 'GEOFENCE_IMPRECISE');
  });

  it('the roster follows by the rules of §8; the teacher accepts, then rejects, with expectedVersion', async () => {
    const [s1, s2, s3, s4] = students;
    assert.ok(s1 && s2 && s3 && s4);
    await waitUntil(() => feed.entry(s3.user.id).status === 'pending');
    assert.deepEqual(feed.counts(), { present: 1, late: 0, pending: 1, rejected: 1, excused: 0, absent: 0, notYet: 1, total: 4 });
    const pending = feed.entry(s3.user.id);
    const stale = await ask<RosterEntry>(teacher.socket, 'checkin:decide', {
      sessionId: session.id,
      studentId: s3.user.id,
      decision: 'accept',
      expectedVersion: pending.recordVersion - 1,
    });
    assert.ok(!stale.ok);
    assert.equal(stale.error.code, 'RECORD_CHANGED');
    const verdict = nextEvent<CheckinView>(s3.socket, 'checkin:decision', (v) => v.status === 'present');
    const accepted = await must<RosterEntry>(teacher.socket, 'checkin:decide', {
      sessionId: session.id,
      studentId: s3.user.id,
      decision: 'accept',
      note: 'seen in class',
      expectedVersion: pending.recordVersion,
    });
    assert.equal(accepted.status, 'present');
    assert.equal(accepted.reason, 'ACCEPTED_BY_TEACHER');
    assert.deepEqual(accepted.flags, ['GEOFENCE_IMPRECISE'], 'flags kept');
    assert.equal(accepted.decidedBy, users.find((u) => u.role === 'teacher')?.id);
    const pushed = await verdict;
    assert.equal(pushed.note, 'seen in class');

    // §10: a decision can be turned round while open; a teacher's rejection is final for the student.
    const rejectedPush = nextEvent<CheckinView>(s3.socket, 'checkin:decision', (v) => v.status === 'rejected');
    const rejected = await must<RosterEntry>(teacher.socket, 'checkin:decide', {
      sessionId: session.id,
      studentId: s3.user.id,
      decision: 'reject',
      note: 'not in the room after all',
      expectedVersion: accepted.recordVersion,
    });
    assert.equal(rejected.status, 'rejected');
    assert.equal(rejected.reason, 'REJECTED_BY_TEACHER');
    const told = await rejectedPush;
    assert.equal(told.attemptsLeft, 0);
    const retry = await must<CheckinView>(s3.socket, 'checkin:submit', { sessionId: session.id, code: code.code, location: fix() });
    assert.equal(retry.reason, 'REJECTED_BY_TEACHER', 'no retry after a teacher rejected');
    assert.equal(retry.recordVersion, told.recordVersion);
  });

  it('a dropped link comes back: the student reads the record again, the teacher watches again', async () => {
    const s1 = students[0];
    assert.ok(s1);
    const before = feed.snapshots;
    const back = nextEvent(teacher.socket, 'connect', () => true);
    teacher.socket.io.engine.close();
    await back;
    await waitUntil(() => feed.snapshots > before);
    const studentBack = nextEvent(s1.socket, 'connect', () => true);
    s1.socket.io.engine.close();
    await studentBack;
    const rejoined = await must<StudentJoinResult>(s1.socket, 'session:join', { sessionId: session.id });
    assert.equal(rejoined.checkin?.status, 'present');
    assert.equal(rejoined.checkin?.recordVersion, s1.own.bySession.get(session.id)?.recordVersion);
  });

  it('the teacher closes; absents and settlements follow; corrections need a reason', async () => {
    const [s1, s2, , s4] = students;
    assert.ok(s1 && s2 && s4);
    const closedSeen = nextEvent<SessionView>(s1.socket, 'session:status', (s) => s.status === 'closed');
    const absentPush = nextEvent<CheckinView>(s4.socket, 'checkin:decision', (v) => v.status === 'absent');
    const closed = await must<CloseResult>(teacher.socket, 'session:close', { sessionId: session.id });
    sameKeys(closed, documentedKeys.CloseResult, 'CloseResult');
    assert.equal(closed.session.status, 'closed');
    assert.deepEqual(closed.counts, { present: 1, late: 0, pending: 0, rejected: 0, excused: 0, absent: 3, notYet: 0, total: 4 });
    await closedSeen;
    const absent = await absentPush;
    assert.equal(absent.reason, 'NO_CHECKIN');
    await waitUntil(() => feed.entry(s4.user.id).status === 'absent');
    assert.equal(feed.entry(s2.user.id).reason, 'CODE_INVALID', 'a rejected record closes absent keeping its reason');

    const late = await ask(s4.socket, 'checkin:submit', { sessionId: session.id, code: code.code, location: fix() });
    assert.equal(refusal(late), 'SESSION_CLOSED');
    const decide = await ask(teacher.socket, 'checkin:decide', { sessionId: session.id, studentId: s4.user.id, decision: 'accept' });
    assert.ok(!decide.ok);
    assert.equal(decide.error.code, 'SESSION_CLOSED');
    const noReason = await ask(teacher.socket, 'checkin:mark', { sessionId: session.id, studentId: s4.user.id, status: 'present' });
    assert.ok(!noReason.ok);
    assert.equal(noReason.error.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      (noReason.error.details?.issues as { path: string; code: string }[]).map((i) => [i.path, i.code]),
      [['reason', 'required']],
    );
    const corrected = await must<RosterEntry>(teacher.socket, 'checkin:mark', {
      sessionId: session.id,
      studentId: s4.user.id,
      status: 'present',
      reason: 'was at the nurse',
      expectedVersion: feed.entry(s4.user.id).recordVersion,
    });
    assert.equal(corrected.reason, 'CORRECTED_BY_TEACHER');
    assert.equal(corrected.correctionReason, 'was at the nurse');
    await waitUntil(() => feed.entry(s4.user.id).recordVersion === corrected.recordVersion);
    // Every change reached the feed in order: no gap asked for a snapshot beyond the first watch and
    // the one after the reconnection, and the feed holds what a new snapshot reads.
    assert.equal(feed.snapshots, 2);
    const fresh = await must<{ version: number; entries: RosterEntry[] }>(teacher.socket, 'session:watch', { sessionId: session.id });
    assert.equal(feed.version, fresh.version);
    assert.deepEqual(new Map(fresh.entries.map((e) => [e.studentId, e])), feed.entries);
  });

  it('a reopening sends roster:resync: the feed takes the snapshot whole, then the session closes again', async () => {
    const [, s2, , s4] = students;
    assert.ok(s2 && s4);
    const before = feed.snapshots;
    const resync = nextEvent<{ sessionId: string }>(teacher.socket, 'roster:resync', (m) => m.sessionId === session.id);
    const reopened = await must<SessionView>(teacher.socket, 'session:reopen', { sessionId: session.id, reason: 'a late group' });
    assert.equal(reopened.status, 'open');
    assert.equal(reopened.closedAt, null);
    await resync;
    await waitUntil(() => feed.snapshots > before && feed.entry(s2.user.id).status === 'rejected');
    assert.equal(feed.entry(s2.user.id).reason, 'CODE_INVALID', 'a settled rejection gets its state from before closing');
    assert.equal(feed.entry(s4.user.id).reason, 'CORRECTED_BY_TEACHER', 'a correction after closing stays');
    const again = await must<CloseResult>(teacher.socket, 'session:close', { sessionId: session.id });
    assert.equal(again.session.status, 'closed');
    await must(teacher.socket, 'session:unwatch', { sessionId: session.id });
    // §5.2, §5.6: null whether or not the socket was in the room.
    assert.equal(await must(teacher.socket, 'session:unwatch', { sessionId: session.id }), null);
    assert.equal(await must(s2.socket, 'session:leave', { sessionId: session.id }), null);
  });

  it('the admin reads the results back: records, summaries and CSV exports', async () => {
    const day = session.day;
    const records = await admin.expect<{ session: SessionView; entries: RosterEntry[] }>(200, 'GET', `/sessions/${session.id}/records`);
    assert.equal(records.entries.length, 4);
    assert.deepEqual(Object.keys(records).sort(), ['entries', 'session']);
    sameKeys(records.entries[0]!, documentedKeys.RosterEntry, 'a record of GET /sessions/{id}/records');
    const summaries = await admin.expect<{ items: { present: number; absent: number; total: number; percentage: number }[] }>(
      200,
      'GET',
      `/subjects/${subject.id}/summaries?from=${day}&to=${day}`,
    );
    assert.equal(summaries.items.length, 1);
    assert.deepEqual(Object.keys(summaries.items[0]!).sort(), [
      'absent',
      'day',
      'excused',
      'late',
      'percentage',
      'present',
      'subjectId',
      'total',
      'updatedAt',
    ]);
    assert.equal(summaries.items[0]?.present, 2);
    assert.equal(summaries.items[0]?.absent, 2);
    assert.equal(summaries.items[0]?.percentage, 50);
    const header =
      'day,sessionId,startsAt,subjectCode,studentNumber,name,status,reason,flags,submittedAt,decidedAt,note,correctionReason,absenceCategory';
    for (const path of [
      `/sessions/${session.id}/records.csv`,
      `/subjects/${subject.id}/attendance.csv?from=${day}&to=${day}`,
      `/attendance.csv?from=${day}&to=${day}`,
    ]) {
      const csv = await admin.call('GET', path);
      assert.equal(csv.status, 200, path);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = csv.text.trim().split(/\r?\n/);
      assert.equal(lines[0], header, path);
      assert.equal(lines.length, 5, path);
    }
    // README "Attendance reports": the student page's My attendance, from these two routes.
    const s1 = students[0]!;
    const mine = await s1.http.expect<{ items: Record<string, unknown>[]; total: number; limit: number; offset: number }>(
      200,
      'GET',
      '/me/attendance?limit=20',
    );
    assert.equal(mine.total, 1);
    assert.equal(mine.limit, 20);
    assert.deepEqual(Object.keys(mine.items[0]!).sort(), [
      'day',
      'decidedAt',
      'note',
      'reason',
      'sessionId',
      'sessionStatus',
      'startsAt',
      'status',
      'subjectCode',
      'subjectId',
      'subjectName',
      'submittedAt',
    ]);
    assert.equal(mine.items[0]!.status, 'present');
    assert.equal(mine.items[0]!.sessionStatus, 'closed');
    const figures = await s1.http.expect<{ items: { percentage: number }[] }>(
      200,
      'GET',
      `/reports/students/${s1.user.id}?from=${day}&to=${day}`,
    );
    assert.equal(figures.items.length, 1);
    assert.equal(figures.items[0]!.percentage, 100);
  });

  it("the classroom screen follows the rotating code (§7 step 4); the previous period's code still passes (§9)", async () => {
    const s4 = students[3];
    assert.ok(s4);
    const next = await must<SessionView>(teacher.socket, 'session:open', {
      subjectId: subject.id,
      policy: { preset: 'location-code', codePeriodS: 5 },
    });
    const first = await must<CodeView>(teacher.socket, 'session:code', { sessionId: next.id });
    assert.equal(first.periodS, 5);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(first.expiresAt) - Date.now())));
    let second = await must<CodeView>(teacher.socket, 'session:code', { sessionId: next.id });
    while (second.expiresAt === first.expiresAt) {
      await new Promise((r) => setTimeout(r, 250));
      second = await must<CodeView>(teacher.socket, 'session:code', { sessionId: next.id });
    }
    assert.equal(Date.parse(second.expiresAt) - Date.parse(first.expiresAt), 5_000);
    const previous = await must<CheckinView>(s4.socket, 'checkin:submit', { sessionId: next.id, code: first.code, location: fix() });
    assert.equal(previous.status, 'present');
    const cancelled = await must<SessionView>(teacher.socket, 'session:cancel', { sessionId: next.id, reason: 'a rehearsal' });
    assert.equal(cancelled.status, 'cancelled');
  });
});

// Each wait is for a roster change or a resync that a loaded machine may take seconds to bring.
async function waitUntil(test: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
