// Selfie check-ins by a client written from README.md ("Face enrolment"), docs/face.md,
// docs/protocol.md (§5.7, §6, §8, §10, §12-§15), docs/privacy.md (consent) and the OpenAPI
// document only, on a production node with its face engine, over LFW people and photos no other
// test uses (the closest the shared data comes to faces the service has not seen). Consents and
// enrolments over HTTP (an admin's, a student's own), a session whose policy asks for a selfie,
// then each kind of selfie the docs promise an answer for: the same person, another person, two
// faces, no face, a printed photo and a screen replay, an unreadable or oversized upload; each
// verdict as the student's push and the teacher's roster see it, and the retry rules.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { CheckinView, RosterEntry, SessionView } from '../../src/shared/events.js';
import { FACES_DIR, blankJpeg } from '../support/face-images.js';
import { ADMIN, createFirstAdmin, importAndInvite, people, useDeployment, useSockets } from './deployment.js';
import { refusalOf, type ErrorBody, type HttpAnswer, type Tokens } from './http-client.js';
import { data, RosterFeed, send, type DocsSocket } from './socket-client.js';

/**
 * README: the largest selfie or photo. Set between couple.jpg (944,694 bytes) and the socket's
 * message limit (SOCKET_MAX_BUFFER_BYTES, 1 MiB), so that one selfie can be over it and still sent.
 */
const MAX_IMAGE_BYTES = 960_000;
const lfw = (name: string, n: number) =>
  readFileSync(path.join(FACES_DIR!, 'lfw-devtrain', name, `${name}_${String(n).padStart(4, '0')}.jpg`));
const shared = (file: string) => readFileSync(path.join(FACES_DIR!, file));

/** Every field of protocol.md §15's CheckinView: a student is never sent a distance or a score. */
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

describe('docs client: selfie check-ins on faces no other test uses (production node, face engine)', function () {
  this.timeout(120_000);
  before(function () {
    if (!FACES_DIR) this.skip();
  });
  const dep = useDeployment('docs-selfies', 1, {
    FACE_ENABLED: 'true',
    FACE_POOL_SIZE: '1',
    FACE_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
  });
  const open = useSockets(dep);
  const staff = people('f', 1, 0);
  const pupils = people('f', 0, 7);
  let admin: Tokens;
  let teacher: Tokens;
  const student: Tokens[] = [];
  const sockets: DocsSocket[] = [];
  /** Every checkin:decision each student's socket received, in order. */
  const pushes: CheckinView[][] = [];
  /** Every face:changed each student's socket received. */
  const faceChanges: { userId: string; change: string; byRole: string }[][] = [];
  let subjectId = '';
  let session: SessionView;
  let teacherSocket: DocsSocket;
  let roster: RosterFeed;
  /** Every roster change the teacher's socket received, in arrival order. */
  const rosterLog: RosterEntry[] = [];
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
      { code: 'BIO-7', name: 'Biology', teacherIds: [teacher.user.id] },
      admin.accessToken,
    );
    subjectId = subject.body.id;
    const enrolled = await dep.http[0]!.post(
      `/api/v1/subjects/${subjectId}/enrolments`,
      { studentIds: student.map((s) => s.user.id) },
      admin.accessToken,
    );
    expect(enrolled.status, enrolled.text).to.be.oneOf([200, 201]);
    for (let i = 0; i < student.length; i += 1) {
      const socket = await open(0, () => student[i]!.accessToken);
      const seen: CheckinView[] = [];
      socket.on('checkin:decision', (view) => seen.push(view));
      const changes: { userId: string; change: string; byRole: string }[] = [];
      socket.on('face:changed', (change) => changes.push(change));
      sockets.push(socket);
      pushes.push(seen);
      faceChanges.push(changes);
    }
    teacherSocket = await open(0, () => teacher.accessToken);
    teacherSocket.on('roster:updates', (batch) => rosterLog.push(...batch.updates.map((u) => u.entry)));
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

  function consent(by: 'admin' | 'student', i: number): Promise<HttpAnswer> {
    const body =
      by === 'admin'
        ? { textVersion: '2026-09', givenBy: 'guardian', guardianName: `Guardian of ${i}` }
        : { textVersion: '2026-09', givenBy: 'student' };
    return dep.http[0]!.post(`/api/v1/users/${idOf(i)}/consents`, body, by === 'admin' ? admin.accessToken : student[i]!.accessToken);
  }

  /**
   * §5.7: a selfie check-in is acknowledged `pending` / `SELFIE_PENDING` with `verifying: true`,
   * and the verdict follows as a `checkin:decision`; §6: that push may come before the ack.
   * Answers the ack and the first push of a later recordVersion that is no longer verifying.
   */
  async function selfie(i: number, bytes: Buffer | Uint8Array): Promise<{ ack: CheckinView; verdict: CheckinView }> {
    const ack = data(await send(sockets[i]!, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array(bytes) }, 60_000));
    expect(Object.keys(ack).sort(), 'CheckinView of §15').to.deep.equal(CHECKIN_VIEW_FIELDS);
    expect(ack).to.include({ status: 'pending', reason: 'SELFIE_PENDING', verifying: true });
    const verdict = await waitFor(
      () => pushes[i]!.find((v) => v.sessionId === session.id && v.recordVersion > ack.recordVersion && !v.verifying),
      60_000,
    );
    expect(Object.keys(verdict).sort(), 'a pushed CheckinView carries no distance or score').to.deep.equal(CHECKIN_VIEW_FIELDS);
    return { ack, verdict };
  }

  /** The roster entry of student `i` once it is no longer being verified (§15 VerificationView). */
  async function decidedOnRoster(i: number, atLeastVersion: number): Promise<RosterEntry> {
    await roster.until((entries) => {
      const e = entries.get(idOf(i));
      return !!e && e.recordVersion >= atLeastVersion && e.verification?.state !== 'queued';
    }, 60_000);
    return roster.entries.get(idOf(i))!;
  }

  it('consents and enrolments: an admin with a guardian consent, a student their own first one', async () => {
    const noConsent = await putFace(admin.accessToken, idOf(0), [lfw('Venus_Williams', 1)]);
    expect(refusalOf(noConsent), 'README: a consent must be on record first').to.deep.equal([409, 'FACE_CONSENT_REQUIRED']);

    for (const i of [0, 1, 3, 4, 5]) expect((await consent('admin', i)).status).to.equal(201);
    const byAdmin: [number, Buffer[]][] = [
      [0, [lfw('Venus_Williams', 1), lfw('Venus_Williams', 4)]],
      [1, [lfw('Queen_Elizabeth_II', 4)]],
      [3, [shared('spoof/image_T1.jpg')]],
    ];
    for (const [i, photos] of byAdmin) {
      const put = await putFace(admin.accessToken, idOf(i), photos);
      expect(put.status, put.text).to.equal(201);
      expect(put.body).to.deep.include({ outcome: 'enrolled' });
      expect((put.body as { status: Record<string, unknown> }).status).to.include({
        userId: idOf(i),
        enrolled: true,
        photoCount: photos.length,
        modelId: 'faceapi-resnet128',
        reenrolNeeded: false,
      });
    }

    // The student's own consent and first enrolment (README: FACE_SELF_ENROLMENT=direct by default).
    expect((await consent('student', 2)).status).to.equal(201);
    const own = await putFace(student[2]!.accessToken, idOf(2), [lfw('Tim_Henman', 10)]);
    expect(own.status, own.text).to.equal(201);
    expect(own.body).to.deep.include({ outcome: 'enrolled' });
    const again = await putFace(student[2]!.accessToken, idOf(2), [lfw('Tim_Henman', 15)]);
    expect(again.status, 'README: a student proposes later ones').to.equal(202);
    expect(again.body).to.deep.include({ outcome: 'proposed' });
    const status = await dep.http[0]!.get<{ enrolled: boolean; photoCount: number }>(
      `/api/v1/users/${idOf(2)}/face`,
      student[2]!.accessToken,
    );
    expect(status.body).to.include({ enrolled: true, photoCount: 1 });

    // protocol.md §6: every change and proposal is pushed to the student.
    await waitFor(() => (faceChanges[2]!.length >= 2 ? true : undefined), 20_000);
    expect(faceChanges[0]!.map((c) => [c.userId, c.change, c.byRole])).to.deep.equal([[idOf(0), 'enrolled', 'admin']]);
    expect(faceChanges[2]!.map((c) => [c.change, c.byRole])).to.deep.equal([
      ['enrolled', 'student'],
      ['proposed', 'student'],
    ]);
  });

  it('enrolment uploads: two faces, no face, not an image, too large: the documented refusals, nothing stored', async () => {
    const refused = async (photos: Buffer[]) => {
      const put = await putFace(admin.accessToken, idOf(4), photos);
      expect(refusalOf(put), put.text).to.deep.equal([422, 'FACE_ENROLMENT_REFUSED']);
      return (put.body as ErrorBody).error.details!['photos'] as { index: number; reason: string; message: string }[];
    };
    const couple = await refused([shared('photos/couple.jpg')]);
    expect(couple.map((p) => [p.index, p.reason])).to.deep.equal([[0, 'FACE_MULTIPLE']]);
    const mixed = await refused([lfw('Clint_Eastwood', 3), await blankJpeg(), Buffer.from('not an image, just text\n'.repeat(40))]);
    expect(mixed.map((p) => [p.index, p.reason])).to.deep.equal([
      [1, 'FACE_NOT_FOUND'],
      [2, 'IMAGE_UNSUPPORTED_TYPE'],
    ]);
    // face.md "Enrolment": all the same person, or the odd one out is named.
    const another = await refused([lfw('Clint_Eastwood', 3), lfw('Clint_Eastwood', 5), lfw('Bill_Gates', 3)]);
    expect(another.map((p) => [p.index, p.reason])).to.deep.equal([[2, 'ENROLMENT_INCONSISTENT']]);
    const big = oversized(lfw('Clint_Eastwood', 3), MAX_IMAGE_BYTES + 20_000);
    const tooLarge = await putFace(admin.accessToken, idOf(4), [big]);
    expect(refusalOf(tooLarge), `OpenAPI: 413 PAYLOAD_TOO_LARGE; ${tooLarge.text}`).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
    const status = await dep.http[0]!.get<{ enrolled: boolean }>(`/api/v1/users/${idOf(4)}/face`, admin.accessToken);
    expect(status.body.enrolled).to.equal(false);
  });

  it('the teacher opens a session whose policy asks for a selfie and watches its roster', async () => {
    session = data(
      await send(teacherSocket, 'session:open', {
        subjectId,
        policy: { geofence: false, network: false, rotatingCode: false, selfie: true, maxAttempts: 3 },
      }),
    );
    expect(session.policy).to.include({ selfie: true, liveness: false, maxAttempts: 3, preset: 'custom' });
    roster = new RosterFeed(teacherSocket, session.id);
    const snapshot = await roster.start();
    expect(snapshot.entries.map((e) => e.status)).to.deep.equal(Array(student.length).fill('not-yet'));
  });

  it('the same person (another photo) is present / FACE_MATCH, pending first, on the roster as on the phone', async () => {
    const { ack, verdict } = await selfie(0, lfw('Venus_Williams', 6));
    expect(verdict).to.include({ status: 'present', reason: 'FACE_MATCH', attempts: 1, attemptsLeft: 0, verifying: false });
    expect(verdict.flags, '§14: FACE_MATCH is never kept in flags').to.not.include('FACE_MATCH');
    const entry = await decidedOnRoster(0, verdict.recordVersion);
    expect(entry).to.include({ status: 'present', reason: 'FACE_MATCH', recordVersion: verdict.recordVersion });
    expect(entry.verification).to.deep.include({ state: 'done', band: 'confident' });
    expect(entry.verification!.flags).to.include('FACE_MATCH');
    // §6: the push of the submission itself (pending, verifying) precedes the verdict's.
    expect(pushes[0]!.map((v) => [v.status, v.verifying])).to.deep.equal([
      ['pending', true],
      ['present', false],
    ]);
    expect(pushes[0]![0]!.recordVersion).to.equal(ack.recordVersion);
    // The roster too: the submission (pending, verification queued), then the verdict.
    const seen = rosterLog.filter((e) => e.studentId === idOf(0));
    expect(seen.map((e) => [e.status, e.reason, e.verification?.state, e.recordVersion])).to.deep.equal([
      ['pending', 'SELFIE_PENDING', 'queued', ack.recordVersion],
      ['present', 'FACE_MATCH', 'done', verdict.recordVersion],
    ]);
    const listed = data(await send(sockets[0]!, 'session:list-active', {})).find((s) => s.id === session.id)!;
    expect(listed.checkin).to.deep.equal({ status: 'present', attemptsLeft: 0, verifying: false, recordVersion: verdict.recordVersion });
  });

  it('another person is rejected / FACE_MISMATCH with a retry; the retry with their own face is accepted', async () => {
    const first = await selfie(1, lfw('Bill_Gates', 3));
    expect(first.verdict).to.include({ status: 'rejected', reason: 'FACE_MISMATCH', attempts: 1, attemptsLeft: 2 });
    const entry = await decidedOnRoster(1, first.verdict.recordVersion);
    expect(entry).to.include({ status: 'rejected', reason: 'FACE_MISMATCH' });
    expect(entry.verification).to.deep.include({ state: 'done', band: 'mismatch' });

    const retry = await selfie(1, lfw('Queen_Elizabeth_II', 5));
    expect(retry.ack.recordId, '§10: a retry updates the same record').to.equal(first.ack.recordId);
    expect(retry.ack.attempts).to.equal(2);
    expect(retry.verdict).to.include({ status: 'present', reason: 'FACE_MATCH', attempts: 2, attemptsLeft: 0 });
    expect(retry.verdict.recordVersion).to.be.above(first.verdict.recordVersion);
    expect((await decidedOnRoster(1, retry.verdict.recordVersion)).status).to.equal('present');
  });

  it('two faces, then no face, then an oversized image: each rejected with its reason until no attempt is left', async () => {
    const two = await selfie(2, shared('photos/couple.jpg'));
    expect(two.verdict).to.include({ status: 'rejected', reason: 'FACE_MULTIPLE', attemptsLeft: 2 });
    const none = await selfie(2, await blankJpeg());
    expect(none.verdict).to.include({ status: 'rejected', reason: 'FACE_NOT_FOUND', attemptsLeft: 1 });
    const big = oversized(lfw('Tim_Henman', 15), MAX_IMAGE_BYTES + 20_000);
    const large = await selfie(2, big);
    expect(large.verdict).to.include({ status: 'rejected', reason: 'IMAGE_TOO_LARGE', attempts: 3, attemptsLeft: 0 });
    const entry = await decidedOnRoster(2, large.verdict.recordVersion);
    expect(entry).to.include({ status: 'rejected', reason: 'IMAGE_TOO_LARGE', attempts: 3 });

    // §10: no attempt left, so the same student's own face gets the final record back unchanged, no event.
    const pushed = pushes[2]!.length;
    const final = data(await send(sockets[2]!, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array(lfw('Tim_Henman', 15)) }));
    expect(final).to.deep.equal(large.verdict);
    await new Promise((r) => setTimeout(r, 500));
    expect(pushes[2]!.length).to.equal(pushed);
  });

  it('bytes that are no image are rejected / IMAGE_UNSUPPORTED_TYPE with a retry left', async () => {
    const { verdict } = await selfie(5, Buffer.from('this is a text file, not a photo\n'.repeat(30)));
    expect(verdict).to.include({ status: 'rejected', reason: 'IMAGE_UNSUPPORTED_TYPE', attemptsLeft: 2 });
  });

  it('a printed photo of the enrolled student is not stopped (face.md): present, no spoof flag at its score', async () => {
    const { verdict } = await selfie(3, shared('spoof/image_F1.jpg'));
    expect(verdict).to.include({ status: 'present', reason: 'FACE_MATCH' });
    const entry = await decidedOnRoster(3, verdict.recordVersion);
    expect(entry.verification).to.deep.include({ state: 'done', band: 'confident' });
    // face.md: 'real' 0.66 for this print, above FACE_MIN_REAL (0.3): no SPOOF_SUSPECTED.
    expect(entry.verification!.flags).to.not.include('SPOOF_SUSPECTED');
  });

  it('a student with a consent and no enrolment goes to the teacher (FACE_NOT_ENROLLED), who accepts', async () => {
    const { verdict } = await selfie(4, lfw('Clint_Eastwood', 5));
    expect(verdict).to.include({ status: 'pending', reason: 'FACE_NOT_ENROLLED', verifying: false });
    const entry = await decidedOnRoster(4, verdict.recordVersion);
    expect(entry).to.include({ status: 'pending', reason: 'FACE_NOT_ENROLLED' });
    expect(entry.verification).to.deep.include({ state: 'done', band: 'no-enrolment' });
    const decided = data(
      await send(teacherSocket, 'checkin:decide', {
        sessionId: session.id,
        studentId: idOf(4),
        decision: 'accept',
        expectedVersion: entry.recordVersion,
      }),
    );
    expect(decided).to.include({ status: 'present', reason: 'ACCEPTED_BY_TEACHER' });
    const pushed = await waitFor(
      () => pushes[4]!.find((v) => v.sessionId === session.id && v.recordVersion === decided.recordVersion),
      10_000,
    );
    expect(pushed).to.include({ status: 'present', reason: 'ACCEPTED_BY_TEACHER' });
  });

  it("a student without an enrolment sending an enrolled classmate's face goes to the teacher as a possible proxy", async () => {
    const { verdict } = await selfie(5, lfw('Venus_Williams', 8));
    expect(verdict).to.include({ status: 'pending', reason: 'POSSIBLE_PROXY', attempts: 2 });
    // face.md "Anti-proxy": such a check-in carries FACE_NOT_ENROLLED in its flags.
    expect(verdict.flags).to.include('FACE_NOT_ENROLLED');
  });

  it('a student without a consent is pending / FACE_NO_CONSENT at once: no selfie needed, none analysed', async () => {
    const ack = data(await send(sockets[6]!, 'checkin:submit', { sessionId: session.id }));
    expect(ack).to.include({ status: 'pending', reason: 'FACE_NO_CONSENT', verifying: false });
    expect(ack.flags).to.include('FACE_NO_CONSENT');
    const entry = await decidedOnRoster(6, ack.recordVersion);
    expect(entry).to.include({ status: 'pending', reason: 'FACE_NO_CONSENT' });
  });

  it('a message over the socket limit closes the connection, with no answer (§12)', async () => {
    const big = oversized(lfw('Tim_Henman', 15), 1_100_000);
    const closed = new Promise<string>((resolve) => sockets[5]!.once('disconnect', (reason) => resolve(reason)));
    const answer = send(sockets[5]!, 'checkin:submit', { sessionId: session.id, selfie: new Uint8Array(big) }, 5_000).then(
      () => 'answered',
      () => 'no answer',
    );
    expect(await closed).to.be.oneOf(['transport close', 'transport error']);
    expect(await answer).to.equal('no answer');
  });

  it('the roster kept by §8 from the updates equals a fresh snapshot, versions in order', async () => {
    const snapshot = data(await send(teacherSocket, 'session:watch', { sessionId: session.id }));
    for (const entry of snapshot.entries) {
      const held = roster.entries.get(entry.studentId)!;
      expect([held.status, held.reason, held.recordVersion], entry.name).to.deep.equal([entry.status, entry.reason, entry.recordVersion]);
    }
    for (const seen of pushes) {
      const versions = seen.filter((v) => v.sessionId === session.id).map((v) => v.recordVersion);
      expect(versions, 'each student saw their record in version order').to.deep.equal([...versions].sort((a, b) => a - b));
    }
  });

  it('a screen replay of the enrolled student in the next session is not stopped either', async () => {
    data(await send(teacherSocket, 'session:close', { sessionId: session.id }));
    roster.stop();
    session = data(
      await send(teacherSocket, 'session:open', { subjectId, policy: { geofence: false, rotatingCode: false, selfie: true } }),
    );
    roster = new RosterFeed(teacherSocket, session.id);
    await roster.start();
    const { verdict } = await selfie(3, shared('spoof/image_F2.jpg'));
    expect(verdict).to.include({ status: 'present', reason: 'FACE_MATCH' });
    const entry = await decidedOnRoster(3, verdict.recordVersion);
    expect(entry.verification!.flags, "face.md: 'real' 0.54").to.not.include('SPOOF_SUSPECTED');
  });

  it("an enrolled student sending a classmate's face is pending / POSSIBLE_PROXY, FACE_MISMATCH in the flags, not rejected", async () => {
    const { verdict } = await selfie(2, lfw('Venus_Williams', 9));
    expect(verdict).to.include({ status: 'pending', reason: 'POSSIBLE_PROXY', attemptsLeft: 0 });
    expect(verdict.flags).to.include('FACE_MISMATCH');
    const entry = await decidedOnRoster(2, verdict.recordVersion);
    expect(entry).to.include({ status: 'pending', reason: 'POSSIBLE_PROXY' });
  });
});

/** A real photo followed by zeros up to `bytes` (after the JPEG's end, as a camera's trailer). */
function oversized(photo: Buffer, bytes: number): Buffer {
  return Buffer.concat([photo, Buffer.alloc(bytes - photo.length)]);
}

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
