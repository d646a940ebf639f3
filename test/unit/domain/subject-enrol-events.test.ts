import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { SubjectService } from '../../../src/domain/subjects/subject-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';

const T = new Date('2026-09-07T08:00:00.000Z');

// An enrolment is announced (the transport joins the students' open sockets to the subject's
// room on every node), for the students it adds only: an import run again announces nothing.
describe('SubjectService: enrolments are announced', () => {
  let store: Store;
  let admin: Actor;
  let events: DomainEvent[];
  let subjects: SubjectService;
  let students: string[];
  let subjectIds: string[];

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => T });
    const org = await store.organisations.create({ name: 'Springfield', slug: 'springfield', timezone: 'UTC' });
    const user = (role: 'admin' | 'student', i: number) =>
      store.users.create(org.id, {
        name: `${role} ${i}`,
        email: `${role}${i}@springfield.test`,
        role,
        studentNumber: role === 'student' ? `S${i}` : null,
        passwordHash: null,
        active: true,
      });
    admin = { id: (await user('admin', 0)).id, orgId: org.id, role: 'admin', ip: null };
    students = [];
    for (let i = 0; i < 3; i += 1) students.push((await user('student', i)).id);
    events = [];
    subjects = new SubjectService({ store, clock: () => T, events: { publish: (e) => events.push(e) } });
    subjectIds = [];
    for (const code of ['MATH', 'BIO']) subjectIds.push((await subjects.create(admin, { code, name: code })).id);
  });
  afterEach(async () => store.close());

  const enrolled = () => events.filter((e) => e.type === 'subject.enrolled');

  it('names the students one enrolment adds, not those enrolled already', async () => {
    const [math] = subjectIds as [string];
    await subjects.enrol(admin, math, [students[0]!]);
    events = [];
    await subjects.enrol(admin, math, students);
    expect(enrolled()).to.deep.equal([{ type: 'subject.enrolled', orgId: admin.orgId, subjectId: math, studentIds: students.slice(1) }]);
    events = [];
    await subjects.enrol(admin, math, students);
    expect(enrolled()).to.deep.equal([]);
  });

  it("names, for each subject of a bulk enrolment (an import's), the students it adds there", async () => {
    const [math, bio] = subjectIds as [string, string];
    await subjects.enrol(admin, bio, [students[2]!]);
    events = [];
    await subjects.enrolEach(
      admin,
      new Map([
        [math, [students[0]!, students[1]!]],
        [bio, [students[1]!, students[2]!]],
      ]),
    );
    expect(enrolled()).to.deep.equal([
      { type: 'subject.enrolled', orgId: admin.orgId, subjectId: math, studentIds: [students[0], students[1]] },
      { type: 'subject.enrolled', orgId: admin.orgId, subjectId: bio, studentIds: [students[1]] },
    ]);
  });
});
