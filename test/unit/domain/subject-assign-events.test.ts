import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { SubjectService } from '../../../src/domain/subjects/subject-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';

const T = new Date('2026-09-07T08:00:00.000Z');

// A subject given to teachers is announced (the transport tells their open pages on every node),
// for the teachers it adds only: a rename or the same teachers again announce nothing.
describe('SubjectService: teachers given a subject are announced', () => {
  let store: Store;
  let admin: Actor;
  let events: DomainEvent[];
  let subjects: SubjectService;
  let teachers: string[];

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => T });
    const org = await store.organisations.create({ name: 'Springfield', slug: 'springfield', timezone: 'UTC' });
    const user = (role: 'admin' | 'teacher', i: number) =>
      store.users.create(org.id, {
        name: `${role} ${i}`,
        email: `${role}${i}@springfield.test`,
        role,
        studentNumber: null,
        passwordHash: null,
        active: true,
      });
    admin = { id: (await user('admin', 0)).id, orgId: org.id, role: 'admin', ip: null };
    teachers = [];
    for (let i = 0; i < 3; i += 1) teachers.push((await user('teacher', i)).id);
    events = [];
    subjects = new SubjectService({ store, clock: () => T, events: { publish: (e) => events.push(e) } });
  });
  afterEach(async () => store.close());

  const assigned = () => events.filter((e) => e.type === 'subject.assigned');

  it('names the teachers a subject is created with', async () => {
    const math = await subjects.create(admin, { code: 'MATH', name: 'Maths', teacherIds: [teachers[0]!] });
    expect(assigned()).to.deep.equal([{ type: 'subject.assigned', orgId: admin.orgId, subjectId: math.id, teacherIds: [teachers[0]] }]);
    events = [];
    await subjects.create(admin, { code: 'BIO', name: 'Biology' });
    expect(assigned()).to.deep.equal([]);
  });

  it('names the teachers a change adds, not those who had it already nor those it removes', async () => {
    const math = await subjects.create(admin, { code: 'MATH', name: 'Maths', teacherIds: [teachers[0]!, teachers[1]!] });
    events = [];
    await subjects.update(admin, math.id, { teacherIds: [teachers[1]!, teachers[2]!] });
    expect(assigned()).to.deep.equal([{ type: 'subject.assigned', orgId: admin.orgId, subjectId: math.id, teacherIds: [teachers[2]] }]);
    events = [];
    await subjects.update(admin, math.id, { name: 'Mathematics' });
    await subjects.update(admin, math.id, { teacherIds: [teachers[2]!, teachers[1]!] });
    expect(assigned()).to.deep.equal([]);
  });
});
