import { expect } from 'chai';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

// A teacher away for a month: their subjects handed to a colleague at once and handed back on
// their return (POST /users/{id}/handover, /handover/back), under the first-teacher rule.

describe('teacher hand-over (HTTP)', function () {
  let srv: TestServer;

  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.cleanup());

  async function school() {
    const org = await createOrg(srv.store);
    const [admin, absent, cover, colleague] = [
      await createUser(srv.store, org.id, 'admin'),
      await createUser(srv.store, org.id, 'teacher'),
      await createUser(srv.store, org.id, 'teacher'),
      await createUser(srv.store, org.id, 'teacher'),
    ];
    const subject = (code: string, teacherIds: string[]) =>
      srv.store.subjects.create(org.id, { code, name: code, teacherIds, location: null, allowedIpRanges: [] });
    const art = await subject('A-ART', [absent.id]);
    const bio = await subject('B-BIO', [colleague.id, absent.id]);
    const chem = await subject('C-CHEM', [absent.id]);
    const drama = await subject('D-DRAMA', [cover.id]);
    const token = (await srv.login(admin.email, PASSWORD, org.slug)).accessToken;
    const term = await srv.store.timetable.createTerm(org.id, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-17' });
    const meeting = async (subjectId: string, startTime: string, endTime: string) => {
      const res = await srv.request('POST', `/api/v1/subjects/${subjectId}/meetings`, {
        token,
        body: { termId: term.id, preset: 'manual', weekday: 4, startTime, endTime },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    };
    // The cover already teaches drama on Thursday at the time of the absent teacher's chemistry.
    await meeting(chem.id, '09:00', '10:00');
    await meeting(drama.id, '09:30', '10:30');
    const teachersOf = async (id: string) => (await srv.store.subjects.get(org.id, id))?.teacherIds;
    return { org, absent, cover, colleague, art, bio, chem, drama, token, teachersOf };
  }

  it("lists a teacher's subjects, hands them all over all or nothing, and hands back exactly what was handed", async () => {
    const { org, absent, cover, colleague, art, bio, chem, token, teachersOf } = await school();
    const listed = await srv.request('GET', `/api/v1/users/${absent.id}/taught-subjects`, { token });
    expect(listed.status, JSON.stringify(listed.body)).to.equal(200);
    expect(listed.body.items.map((s: { code: string }) => s.code)).to.deep.equal(['A-ART', 'B-BIO', 'C-CHEM']);
    expect(listed.body.handover).to.equal(null);

    // Chemistry's meeting would double-book the cover: nothing changes, chemistry is named.
    const refused = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, { token, body: { toTeacherId: cover.id } });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
    expect(refused.body.error.code).to.equal('TEACHER_DOUBLE_BOOKED');
    expect(refused.body.error.details.refused.map((r: { subjectId: string }) => r.subjectId)).to.deep.equal([chem.id]);
    expect(refused.body.error.message).to.contain('C-CHEM');
    // Each clash named for a page to word: which meeting against which subject's.
    expect(refused.body.error.details.refused[0].doubleBookings).to.deep.equal([
      {
        code: 'C-CHEM',
        meeting: { weekday: 4, startTime: '09:00', endTime: '10:00' },
        day: null,
        withCode: 'D-DRAMA',
        withMeeting: { weekday: 4, startTime: '09:30', endTime: '10:30' },
      },
    ]);
    expect(await teachersOf(art.id)).to.deep.equal([absent.id]);
    expect(await teachersOf(bio.id)).to.deep.equal([colleague.id, absent.id]);
    expect(await teachersOf(chem.id)).to.deep.equal([absent.id]);

    // Confirmed, keeping the absent teacher: the cover takes their place, they stay after.
    const handed = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, {
      token,
      body: { toTeacherId: cover.id, keepAbsent: true, teacherOverlap: true },
    });
    expect(handed.status, JSON.stringify(handed.body)).to.equal(200);
    expect(await teachersOf(art.id)).to.deep.equal([cover.id, absent.id]);
    expect(await teachersOf(bio.id)).to.deep.equal([colleague.id, cover.id, absent.id]);
    expect(await teachersOf(chem.id)).to.deep.equal([cover.id, absent.id]);
    // The meeting follows its new first teacher.
    expect((await srv.store.timetable.listMeetings(org.id, chem.id)).map((m) => m.teacherId)).to.deep.equal([null]);

    // One hand-over at a time.
    const again = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, { token, body: { toTeacherId: colleague.id } });
    expect(again.status, JSON.stringify(again.body)).to.equal(409);
    expect(again.body.error.code).to.equal('CONFLICT');
    const pending = await srv.request('GET', `/api/v1/users/${absent.id}/taught-subjects`, { token });
    expect(pending.body.handover).to.include({ id: handed.body.id, toTeacherId: cover.id, keepAbsent: true });

    const back = await srv.request('POST', `/api/v1/users/${absent.id}/handover/back`, { token, body: {} });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect(await teachersOf(art.id)).to.deep.equal([absent.id]);
    expect(await teachersOf(bio.id)).to.deep.equal([colleague.id, absent.id]);
    expect(await teachersOf(chem.id)).to.deep.equal([absent.id]);
    const trail = await srv.store.audit.listForEntity(org.id, 'user', absent.id);
    expect(trail.map((e) => e.action)).to.deep.equal(['user.handover', 'user.handback']);
    const after = await srv.request('GET', `/api/v1/users/${absent.id}/taught-subjects`, { token });
    expect(after.body.handover).to.equal(null);
    const twice = await srv.request('POST', `/api/v1/users/${absent.id}/handover/back`, { token, body: {} });
    expect(twice.status).to.equal(404);
  });

  it('a refused hand-over writes nothing, and one made or handed back writes one subject.update entry per subject', async () => {
    const { org, absent, cover, art, bio, chem, token } = await school();
    const updates = async (id: string) =>
      (await srv.store.audit.listForEntity(org.id, 'subject', id)).filter((e) => e.action === 'subject.update').length;
    const stamped = await srv.store.subjects.getMany(org.id, [art.id, bio.id]);

    // Chemistry refuses: art and biology, before it by code, are not written and put back.
    const refused = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, { token, body: { toTeacherId: cover.id } });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(409);
    for (const s of [art, bio, chem]) expect(await updates(s.id), s.code).to.equal(0);
    expect(await srv.store.subjects.getMany(org.id, [art.id, bio.id])).to.have.deep.members(stamped);

    const handed = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, {
      token,
      body: { toTeacherId: cover.id, teacherOverlap: true },
    });
    expect(handed.status, JSON.stringify(handed.body)).to.equal(200);
    for (const s of [art, bio, chem]) expect(await updates(s.id), s.code).to.equal(1);
    const back = await srv.request('POST', `/api/v1/users/${absent.id}/handover/back`, { token, body: { teacherOverlap: true } });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    for (const s of [art, bio, chem]) expect(await updates(s.id), s.code).to.equal(2);
    const [entry] = (await srv.store.audit.listForEntity(org.id, 'subject', art.id)).slice(-1);
    expect(entry).to.deep.include({ from: { teacherIds: [cover.id] }, to: { teacherIds: [absent.id] } });
  });

  it('hands over some subjects, refuses one not theirs, and refuses to hand back a subject changed since', async () => {
    const { org, absent, cover, colleague, art, bio, drama, token, teachersOf } = await school();
    const notTheirs = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, {
      token,
      body: { toTeacherId: cover.id, subjectIds: [art.id, drama.id] },
    });
    expect(notTheirs.status, JSON.stringify(notTheirs.body)).to.equal(400);
    expect(notTheirs.body.error.details.notTaughtSubjectIds).to.deep.equal([drama.id]);
    expect(await teachersOf(art.id)).to.deep.equal([absent.id]);

    await srv.store.users.update(org.id, colleague.id, { active: false });
    const inactive = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, { token, body: { toTeacherId: colleague.id } });
    expect(inactive.status, JSON.stringify(inactive.body)).to.equal(400);
    expect(inactive.body.error.details.unknownTeacherIds).to.deep.equal([colleague.id]);
    await srv.store.users.update(org.id, colleague.id, { active: true });

    const some = await srv.request('POST', `/api/v1/users/${absent.id}/handover`, {
      token,
      body: { toTeacherId: cover.id, subjectIds: [art.id] },
    });
    expect(some.status, JSON.stringify(some.body)).to.equal(200);
    expect(await teachersOf(art.id)).to.deep.equal([cover.id]);
    expect(await teachersOf(bio.id)).to.deep.equal([colleague.id, absent.id]);

    // Another admin changed art's teachers meanwhile: the hand back does not guess.
    const edit = await srv.request('PATCH', `/api/v1/subjects/${art.id}`, { token, body: { teacherIds: [cover.id, colleague.id] } });
    expect(edit.status, JSON.stringify(edit.body)).to.equal(200);
    const back = await srv.request('POST', `/api/v1/users/${absent.id}/handover/back`, { token, body: {} });
    expect(back.status, JSON.stringify(back.body)).to.equal(409);
    expect(back.body.error.details.refused).to.deep.equal([
      { subjectId: art.id, code: 'A-ART', error: 'CONFLICT', message: 'Its teachers changed since the hand-over.' },
    ]);
    expect(await teachersOf(art.id)).to.deep.equal([cover.id, colleague.id]);
  });
});
