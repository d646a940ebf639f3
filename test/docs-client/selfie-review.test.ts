// Selfies whose match falls in the review band, by a client written from README.md ("Face
// enrolment", the student's history), docs/face.md ("Decisions"), docs/protocol.md (§5.7, §5.8,
// §5.9, §6, §10, §11, §14, §15) and docs/privacy.md (consent) only, on a production node with its
// face engine. The photos are real LFW pairs whose distance falls between FACE_CONFIDENT_DISTANCE
// (0.40) and FACE_UNCERTAIN_DISTANCE (0.48), measured with `scripts/face-eval.ts --distances`:
// Hugh_Grant 1/7 (0.439) and Darren_Clarke 1/2 (0.429) the same person, Brandon_Hammond 1 /
// Kurt_Thomas 1 (0.443) two people. Every other pair of these photos is further apart than each
// student's own, so no selfie is closer to a classmate (face.md "Anti-proxy"). What the docs say
// each side sees: the ack, the verdict pushed, the teacher's roster with the band and no distance,
// the teacher accepting, rejecting or leaving it to the close, the student told each time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { CheckinView, SessionView } from '../../src/shared/events.js';
import { FACES_DIR } from '../support/face-images.js';
import { ADMIN, createFirstAdmin, importAndInvite, people, useDeployment, useSockets } from './deployment.js';
import type { HttpAnswer, Tokens } from './http-client.js';
import { codeOf, data, RosterFeed, send, type DocsSocket } from './socket-client.js';

const lfw = (name: string, n: number) =>
  readFileSync(path.join(FACES_DIR!, 'lfw-devtrain', name, `${name}_${String(n).padStart(4, '0')}.jpg`));

/** protocol.md §15: the fields of a CheckinView; a student is never sent a distance or a score. */
const CHECKIN_VIEW_FIELDS = [
  'attempts',
  'attemptsLeft',
  'decidedAt',
  'flags',
  'note',
  'reason',
  'recordId',
  'recordVersion',
  'sessionId',
  'status',
  'submittedAt',
  'verifying',
];

/** Each student's enrolment photo and the selfie they send: a pair in the review band. */
const STUDENTS = [
  { enrol: lfw('Hugh_Grant', 1), selfie: lfw('Hugh_Grant', 7) },
  { enrol: lfw('Brandon_Hammond', 1), selfie: lfw('Kurt_Thomas', 1) },
  { enrol: lfw('Darren_Clarke', 1), selfie: lfw('Darren_Clarke', 2) },
];

interface HistoryItem {
  sessionId: string;
  status: string;
  sessionStatus: string;
  reason: string | null;
  note: string | null;
}

describe('docs client: a selfie in the review band (FACE_UNCERTAIN) goes to the teacher, who decides', function () {
  this.timeout(120_000);
  before(function () {
    if (!FACES_DIR) this.skip();
  });
  const dep = useDeployment('docs-selfie-review', 1, { FACE_ENABLED: 'true', FACE_POOL_SIZE: '1' });
  const open = useSockets(dep);
  const staff = people('r', 1, 0);
  const pupils = people('r', 0, STUDENTS.length);
  let admin: Tokens;
  let teacher: Tokens;
  const student: Tokens[] = [];
  const sockets: DocsSocket[] = [];
  /** Every checkin:decision each student's socket received, in order. */
  const pushes: CheckinView[][] = [];
  let teacherSocket: DocsSocket;
  let session: SessionView;
  let roster: RosterFeed;
  const idOf = (i: number) => student[i]!.user.id;

  before(async function () {
    if (!FACES_DIR) return this.skip();
    this.timeout(300_000);
    await createFirstAdmin(dep);
    admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password);
    await importAndInvite(dep, admin.accessToken, [...staff, ...pupils]);
    teacher = await dep.http[0]!.login(staff[0]!.email, staff[0]!.password);
    for (const p of pupils) student.push(await dep.http[0]!.login(p.email, p.password));
    const subject = await dep.http[0]!.post<{ id: string }>(
      '/api/v1/subjects',
      { code: 'HIS-3', name: 'History', teacherIds: [teacher.user.id] },
      admin.accessToken,
    );
    expect(subject.status, subject.text).to.equal(201);
    const enrolled = await dep.http[0]!.post(
      `/api/v1/subjects/${subject.body.id}/enrolments`,
      { studentIds: student.map((s) => s.user.id) },
      admin.accessToken,
    );
    expect(enrolled.status, enrolled.text).to.be.oneOf([200, 201]);
    // privacy.md: a consent first (an admin records a guardian's), then README "Face enrolment".
    for (let i = 0; i < STUDENTS.length; i += 1) {
      const consent = await dep.http[0]!.post(
        `/api/v1/users/${idOf(i)}/consents`,
        { textVersion: '2026-09', givenBy: 'guardian', guardianName: `Guardian of ${i}` },
        admin.accessToken,
      );
      expect(consent.status, consent.text).to.equal(201);
      const put = await putFace(admin.accessToken, idOf(i), [STUDENTS[i]!.enrol]);
      expect(put.status, put.text).to.equal(201);
      const socket = await open(0, () => student[i]!.accessToken);
      const seen: CheckinView[] = [];
      socket.on('checkin:decision', (view) => seen.push(view));
      sockets.push(socket);
      pushes.push(seen);
    }
    teacherSocket = await open(0, () => teacher.accessToken);
    session = data(
      await send(teacherSocket, 'session:open', {
        subjectId: subject.body.id,
        policy: { geofence: false, network: false, rotatingCode: false, selfie: true, maxAttempts: 2 },
      }),
    );
    roster = new RosterFeed(teacherSocket, session.id);
    await roster.start();
  });
  after(() => roster?.stop());

  /** README "Face enrolment": multipart `photos`, one part per photo. */
  async function putFace(token: string, userId: string, photos: Buffer[]): Promise<HttpAnswer> {
    const form = new FormData();
    photos.forEach((bytes, i) => form.append('photos', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), `photo-${i}.jpg`));
    const res = await fetch(new URL(`/api/v1/users/${userId}/face`, dep.nodes[0]!.url), {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null, text };
  }

  /** The first push to student `i` of this session past `version` that `match` accepts. */
  function pushAfter(i: number, version: number, match: (v: CheckinView) => boolean = () => true): Promise<CheckinView> {
    return waitFor(() => pushes[i]!.find((v) => v.sessionId === session.id && v.recordVersion > version && match(v)), 60_000);
  }

  /**
   * §5.7: acknowledged `pending` / `SELFIE_PENDING`, `verifying: true`; face.md "Decisions": a
   * match between the two distances is `pending` for the teacher, `FACE_UNCERTAIN`. §10: a pending
   * record is final for the student (no attempt left), and §14 keeps the doubt in `flags`.
   */
  async function uncertainSelfie(i: number): Promise<CheckinView> {
    const ack = data(
      await send(sockets[i]!, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array(STUDENTS[i]!.selfie) }, 60_000),
    );
    expect(ack).to.include({ status: 'pending', reason: 'SELFIE_PENDING', verifying: true });
    const verdict = await pushAfter(i, ack.recordVersion, (v) => !v.verifying);
    expect(Object.keys(verdict).sort(), 'no distance nor score reaches the student').to.deep.equal(CHECKIN_VIEW_FIELDS);
    expect(verdict).to.include({ status: 'pending', reason: 'FACE_UNCERTAIN', verifying: false, attempts: 1, attemptsLeft: 0 });
    expect(verdict.flags).to.include('FACE_UNCERTAIN');
    expect(verdict.flags, 'no classmate is closer (face.md "Anti-proxy")').to.not.include('POSSIBLE_PROXY');
    // The roster: the same state, the band and the flags, never the distance (§15 VerificationView).
    await roster.until((entries) => (entries.get(idOf(i))?.recordVersion ?? 0) >= verdict.recordVersion, 60_000);
    const entry = roster.entries.get(idOf(i))!;
    expect(entry).to.include({ status: 'pending', reason: 'FACE_UNCERTAIN', recordVersion: verdict.recordVersion });
    expect(entry.verification).to.deep.include({ state: 'done', band: 'uncertain' });
    expect(Object.keys(entry.verification!).sort()).to.deep.equal(['band', 'flags', 'state']);
    expect(entry.verification!.flags).to.include('FACE_UNCERTAIN');
    return verdict;
  }

  /** §10: a final record comes back unchanged whatever the new evidence, and nothing is pushed. */
  async function submitAgainUnchanged(i: number, current: CheckinView, selfie: Buffer): Promise<void> {
    const pushed = pushes[i]!.length;
    const again = data(await send(sockets[i]!, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array(selfie) }, 60_000));
    expect(again).to.deep.equal(current);
    await new Promise((r) => setTimeout(r, 500));
    expect(pushes[i]!.length, 'no event for an unchanged record').to.equal(pushed);
  }

  async function history(i: number): Promise<HistoryItem> {
    const res = await dep.http[0]!.get<{ items: HistoryItem[] }>('/api/v1/me/attendance?limit=20', student[i]!.accessToken);
    expect(res.status, res.text).to.equal(200);
    return res.body.items.find((item) => item.sessionId === session.id)!;
  }

  it('the same person at 0.44: pending for the teacher, who accepts; the student is told, with the note', async () => {
    const verdict = await uncertainSelfie(0);
    const listed = data(await send(sockets[0]!, 'session:list-active', {})).find((s) => s.id === session.id)!;
    expect(listed.checkin).to.deep.equal({ status: 'pending', attemptsLeft: 0, verifying: false, recordVersion: verdict.recordVersion });
    // Even the enrolment photo itself (a sure match) changes nothing now: the teacher decides.
    await submitAgainUnchanged(0, verdict, STUDENTS[0]!.enrol);

    const accepted = data(
      await send(teacherSocket, 'checkin:decide', {
        sessionId: session.id,
        studentId: idOf(0),
        decision: 'accept',
        note: 'Checked against the class list',
        expectedVersion: verdict.recordVersion,
      }),
    );
    expect(accepted).to.include({
      status: 'present',
      reason: 'ACCEPTED_BY_TEACHER',
      decidedBy: teacher.user.id,
      note: 'Checked against the class list',
    });
    expect(accepted.flags, '§10: flags kept').to.include('FACE_UNCERTAIN');
    const told = await pushAfter(0, verdict.recordVersion);
    expect(told).to.include({
      status: 'present',
      reason: 'ACCEPTED_BY_TEACHER',
      note: 'Checked against the class list',
      attemptsLeft: 0,
      recordVersion: accepted.recordVersion,
    });
    expect(told.decidedAt).to.be.a('string');
  });

  it('another person at 0.44: the teacher rejects (a stale version refused first); no retry after that', async () => {
    const verdict = await uncertainSelfie(1);
    const stale = await send(teacherSocket, 'checkin:decide', {
      sessionId: session.id,
      studentId: idOf(1),
      decision: 'reject',
      expectedVersion: verdict.recordVersion - 1,
    });
    expect(codeOf(stale), '§5.8: a version the teacher did not see').to.equal('RECORD_CHANGED');

    const rejected = data(
      await send(teacherSocket, 'checkin:decide', {
        sessionId: session.id,
        studentId: idOf(1),
        decision: 'reject',
        note: 'Not you in the photo: see me after class',
        expectedVersion: verdict.recordVersion,
      }),
    );
    expect(rejected).to.include({ status: 'rejected', reason: 'REJECTED_BY_TEACHER', decidedBy: teacher.user.id });
    expect(rejected.flags).to.include('FACE_UNCERTAIN');
    const told = await pushAfter(1, verdict.recordVersion);
    expect(told).to.include({
      status: 'rejected',
      reason: 'REJECTED_BY_TEACHER',
      attemptsLeft: 0,
      note: 'Not you in the photo: see me after class',
    });
    // §10: the attempts are used up, even with maxAttempts 2 and the enrolled face this time.
    await submitAgainUnchanged(1, told, STUDENTS[1]!.enrol);
  });

  it('the same person at 0.43 left undecided: absent / PENDING_AT_CLOSE at the close, then corrected by the teacher', async () => {
    const verdict = await uncertainSelfie(2);
    const closed = data(await send(teacherSocket, 'session:close', { sessionId: session.id }, 30_000));
    // §14: pending at closing is absent, flags plus UNRESOLVED_AT_CLOSE; rejected at closing is absent too.
    expect(closed.counts).to.include({ present: 1, pending: 0, rejected: 0, absent: 2, total: 3 });
    const atClose = await pushAfter(2, verdict.recordVersion);
    expect(atClose).to.include({ status: 'absent', reason: 'PENDING_AT_CLOSE' });
    expect(atClose.flags).to.include.members(['FACE_UNCERTAIN', 'UNRESOLVED_AT_CLOSE']);
    await roster.until((entries) => entries.get(idOf(2))?.status === 'absent' && entries.get(idOf(1))?.status === 'absent');
    expect(roster.entries.get(idOf(1))).to.include({ status: 'absent', reason: 'REJECTED_BY_TEACHER' });
    expect(roster.entries.get(idOf(2))!.verification).to.deep.include({ state: 'done', band: 'uncertain' });

    // §5.8: no decision on a closed session; §5.9: a correction with its reason instead.
    const late = await send(teacherSocket, 'checkin:decide', { sessionId: session.id, studentId: idOf(2), decision: 'accept' });
    expect(codeOf(late)).to.equal('SESSION_CLOSED');
    const corrected = data(
      await send(teacherSocket, 'checkin:mark', {
        sessionId: session.id,
        studentId: idOf(2),
        status: 'present',
        reason: 'Uncertain selfie checked after class',
        expectedVersion: atClose.recordVersion,
      }),
    );
    expect(corrected).to.include({
      status: 'present',
      reason: 'CORRECTED_BY_TEACHER',
      correctionReason: 'Uncertain selfie checked after class',
    });
    const told = await pushAfter(2, atClose.recordVersion);
    expect(told).to.include({ status: 'present', reason: 'CORRECTED_BY_TEACHER' });

    // README: the student's own history says the same, without the band or a distance.
    expect(await history(0)).to.include({ status: 'present', reason: 'ACCEPTED_BY_TEACHER', sessionStatus: 'closed' });
    expect(await history(1)).to.include({
      status: 'absent',
      reason: 'REJECTED_BY_TEACHER',
      note: 'Not you in the photo: see me after class',
    });
    const mine = await history(2);
    expect(mine).to.include({ status: 'present', reason: 'CORRECTED_BY_TEACHER' });
    expect(Object.keys(mine)).to.not.include.members(['verification', 'distance', 'band']);
  });
});

/** Polls `find` until it answers, or fails after `timeoutMs`. */
async function waitFor<T>(find: () => T | undefined, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
