import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Excuse } from '../../src/domain/ports/excuses.js';
import type { Term } from '../../src/domain/ports/timetable.js';
import type { AttendanceSession } from '../../src/domain/ports/sessions.js';
import { PASSWORD, createCodeSession, createSchool, createSubject, createUser, unique, type TestSchool } from '../support/fixtures.js';
import { startTestServer, type RequestOptions, type TestServer } from '../support/http.js';

/**
 * The authorization matrix compares the answers to another organisation's ids with those to ids
 * that exist nowhere when the id is in the path. The same rule holds for the ids a request names
 * elsewhere: in its body (a hand-over's colleague, a roll-over's subjects and terms, a meeting's
 * term and teacher, an excuse's session or subject, students to enrol, teachers to name) and in
 * its query string (list filters, the audit trail's selectors, an export's subject). Each is sent
 * by a user of another organisation, with an id of this one and with an id that exists nowhere:
 * the two answers must be the same but for the id they echo, and nothing of this one changes.
 */
type Caller = 'admin' | 'teacher' | 'student';

interface Case {
  name: string;
  caller: Caller;
  method: string;
  /** The request naming `id`; everything else in it is the caller's own, so only the id decides. */
  request: (id: string) => RequestOptions & { path: string };
  /** An id of this organisation. */
  id: () => string;
}

describe("ids named in bodies and query strings: another organisation's answer as ids that exist nowhere", () => {
  let srv: TestServer;
  /** This organisation, full of objects; `theirs`, the callers'. */
  let ours: TestSchool;
  let theirs: TestSchool;
  let ourTerm: Term;
  let theirTerm: Term;
  let ourSession: AttendanceSession;
  let ourExcuse: Excuse;
  /** A teacher of the callers' organisation with a subject to hand over. */
  let absentId: string;
  const tokens = {} as Record<Caller, string>;

  before(async () => {
    // Every case calls its route twice; the exports' per-user budget is not what is tested.
    srv = await startTestServer({ HTTP_HEAVY_RATE_PER_MINUTE: '1000' });
    ours = await createSchool(srv.store);
    theirs = await createSchool(srv.store);
    ourTerm = await srv.store.timetable.createTerm(ours.org.id, { name: 'T', startDay: '2026-01-05', endDay: '2026-12-18' });
    theirTerm = await srv.store.timetable.createTerm(theirs.org.id, { name: 'T', startDay: '2026-01-05', endDay: '2026-12-18' });
    ourSession = await createCodeSession(srv.store, ours.org.id, ours.subject.id, ours.teacher.id);
    ({ excuse: ourExcuse } = await srv.store.excuses.create(ours.org.id, {
      studentId: ours.student.id,
      submittedBy: ours.student.id,
      subjectId: ours.subject.id,
      sessionId: null,
      fromDay: '2026-03-02',
      toDay: '2026-03-02',
      category: 'MEDICAL',
      text: '',
    }));
    const absent = await createUser(srv.store, theirs.org.id, 'teacher');
    await createSubject(srv.store, theirs.org.id, [absent.id]);
    absentId = absent.id;
    for (const caller of ['admin', 'teacher', 'student'] as const) {
      tokens[caller] = (await srv.login(theirs[caller].email, PASSWORD)).accessToken;
    }
  });
  after(() => srv.cleanup());

  const theirSubject = (rest = '') => `/subjects/${theirs.subject.id}${rest}`;
  const CASES: Case[] = [
    {
      name: "a hand-over's colleague",
      caller: 'admin',
      method: 'POST',
      request: (id) => ({ path: `/users/${absentId}/handover`, body: { toTeacherId: id } }),
      id: () => ours.teacher.id,
    },
    {
      name: "a roll-over's subject",
      caller: 'admin',
      method: 'POST',
      request: (id) => ({
        path: '/subjects/rollover?dryRun=true',
        body: { subjectIds: [id], codes: { suffix: '-N' }, carryStudents: true },
      }),
      id: () => ours.subject.id,
    },
    {
      name: "a roll-over's term",
      caller: 'admin',
      method: 'POST',
      request: (id) => ({
        path: '/subjects/rollover?dryRun=true',
        body: { subjectIds: [theirs.subject.id], codes: { suffix: '-N' }, carryStudents: true, terms: [{ from: theirTerm.id, to: id }] },
      }),
      id: () => ourTerm.id,
    },
    {
      name: 'a subject to archive',
      caller: 'admin',
      method: 'POST',
      request: (id) => ({ path: '/subjects/archive', body: { subjectIds: [id] } }),
      id: () => ours.subject.id,
    },
    {
      name: "a meeting's term",
      caller: 'teacher',
      method: 'POST',
      request: (id) => ({ path: theirSubject('/meetings'), body: { termId: id, weekday: 1, startTime: '09:00', endTime: '10:00' } }),
      id: () => ourTerm.id,
    },
    {
      name: "a meeting's teacher",
      caller: 'teacher',
      method: 'POST',
      request: (id) => ({
        path: theirSubject('/meetings'),
        body: { termId: theirTerm.id, weekday: 2, startTime: '09:00', endTime: '10:00', teacherId: id },
      }),
      id: () => ours.teacher.id,
    },
    {
      name: "an excuse's session",
      caller: 'student',
      method: 'POST',
      request: (id) => ({ path: '/excuses', body: { sessionId: id, category: 'MEDICAL' } }),
      id: () => ourSession.id,
    },
    {
      name: "an excuse's subject",
      caller: 'student',
      method: 'POST',
      request: (id) => ({ path: '/excuses', body: { subjectId: id, fromDay: '2026-03-02', toDay: '2026-03-02', category: 'MEDICAL' } }),
      id: () => ours.subject.id,
    },
    {
      name: 'a student to enrol (teacher)',
      caller: 'teacher',
      method: 'POST',
      request: (id) => ({ path: theirSubject('/enrolments'), body: { studentIds: [id] } }),
      id: () => ours.student.id,
    },
    {
      name: 'a student to unenrol (teacher)',
      caller: 'teacher',
      method: 'DELETE',
      request: (id) => ({ path: theirSubject('/enrolments'), body: { studentIds: [id] } }),
      id: () => ours.student.id,
    },
    {
      name: "a subject's teacher",
      caller: 'admin',
      method: 'PATCH',
      request: (id) => ({ path: theirSubject(), body: { teacherIds: [id] } }),
      id: () => ours.teacher.id,
    },
    {
      name: "a new subject's teacher",
      caller: 'admin',
      method: 'POST',
      request: (id) => ({ path: '/subjects', body: { code: unique('NEW'), name: 'New', teacherIds: [id] } }),
      id: () => ours.teacher.id,
    },
    {
      name: 'a subject to leave (a student of theirs)',
      caller: 'admin',
      method: 'DELETE',
      request: (id) => ({ path: `/users/${theirs.student.id}/subjects`, body: { subjectIds: [id] } }),
      id: () => ours.subject.id,
    },
    {
      name: 'a user to deactivate',
      caller: 'admin',
      method: 'POST',
      request: (id) => ({ path: '/users/deactivate', body: { userIds: [id] } }),
      id: () => ours.student.id,
    },
    {
      name: "the excuses list's student (admin)",
      caller: 'admin',
      method: 'GET',
      request: (id) => ({ path: `/excuses?studentId=${id}` }),
      id: () => ours.student.id,
    },
    {
      name: "the excuses list's student (teacher)",
      caller: 'teacher',
      method: 'GET',
      request: (id) => ({ path: `/excuses?studentId=${id}` }),
      id: () => ours.student.id,
    },
    {
      name: "the subjects list's teacher",
      caller: 'admin',
      method: 'GET',
      request: (id) => ({ path: `/subjects?teacherId=${id}` }),
      id: () => ours.teacher.id,
    },
    {
      name: "the audit trail of one user's actions",
      caller: 'admin',
      method: 'GET',
      request: (id) => ({ path: `/reports/audit?actorId=${id}` }),
      id: () => ours.admin.id,
    },
    {
      name: 'the audit trail of an excuse',
      caller: 'admin',
      method: 'GET',
      request: (id) => ({ path: `/reports/audit?entityType=excuse&entityId=${id}` }),
      id: () => ourExcuse.id,
    },
    {
      name: 'the audit trail of a subject (teacher)',
      caller: 'teacher',
      method: 'GET',
      request: (id) => ({ path: `/reports/audit?entityType=subject&entityId=${id}` }),
      id: () => ours.subject.id,
    },
    {
      name: 'the audit CSV of a session (teacher)',
      caller: 'teacher',
      method: 'GET',
      request: (id) => ({ path: `/reports/audit.csv?sessionId=${id}` }),
      id: () => ourSession.id,
    },
    {
      name: "the OneRoster export's subject",
      caller: 'admin',
      method: 'GET',
      request: (id) => ({ path: `/oneroster/attendance.csv?from=2026-01-01&to=2026-12-31&subjectId=${id}` }),
      id: () => ours.subject.id,
    },
  ];

  /** What this organisation holds that a refused or empty answer must leave as it was. */
  async function ourState(): Promise<unknown> {
    const { store } = srv;
    const orgId = ours.org.id;
    return {
      subject: await store.subjects.get(orgId, ours.subject.id),
      enrolled: await store.subjects.listEnrolled(orgId, ours.subject.id),
      users: await store.users.getMany(orgId, [ours.admin.id, ours.teacher.id, ours.student.id]),
      excuse: await store.excuses.get(orgId, ourExcuse.id),
      meetings: await store.timetable.listMeetings(orgId, ours.subject.id),
      subjects: (await store.subjects.list(orgId, { limit: 100, offset: 0 })).total,
    };
  }

  for (const c of CASES) {
    it(`${c.name}, named by the other organisation's ${c.caller}`, async () => {
      const before = await ourState();
      const answer = async (id: string) => {
        const { path, ...opts } = c.request(id);
        const res = await srv.request(c.method, `/api/v1${path}`, { ...opts, token: tokens[c.caller] });
        const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
        // The answer may echo the id it was given (`details.unknownTeacherIds`): that is not a difference.
        return { status: res.status, body: text.split(id).join('<id>') };
      };
      const real = await answer(c.id());
      const nowhere = await answer(randomUUID());
      expect(real).to.deep.equal(nowhere);
      expect(await ourState()).to.deep.equal(before);
    });
  }
});
