import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { personOf } from '../../../src/domain/privacy/erasure-rules.js';
import { SubjectService } from '../../../src/domain/subjects/subject-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { newUser } from '../../contract/fixtures.js';
import { expectCode } from '../../support/expect-code.js';

const T = new Date('2026-09-07T08:00:00.000Z');

// The enrol routes check their students, then write: another admin deactivating or erasing one
// in between must not leave them enrolled, nor the answer claim they are.
describe('SubjectService: a student deactivated or erased between the check and the write', () => {
  let store: Store;
  let admin: Actor;
  let events: DomainEvent[];
  let fine: User;
  let late: User;
  let subjectId: string;

  /** The store, its enrolMany preceded by `between` once: what another admin does meanwhile. */
  function racing(between: () => Promise<unknown>): Store {
    let done = false;
    const enrolments = Object.create(store.subjects) as Store['subjects'];
    enrolments.enrolMany = async (orgId, bySubject, entry) => {
      if (!done) await between();
      done = true;
      return store.subjects.enrolMany(orgId, bySubject, entry);
    };
    return { ...store, subjects: enrolments };
  }

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => T });
    const org = await store.organisations.create({ name: 'Springfield', slug: 'springfield', timezone: 'UTC' });
    const [head, a, b] = await store.users.createMany(org.id, [newUser({ role: 'admin', studentNumber: null }), newUser(), newUser()]);
    admin = { id: head!.id, orgId: org.id, role: 'admin', ip: null };
    [fine, late] = [a!, b!];
    events = [];
    subjectId = (
      await new SubjectService({ store, clock: () => T, events: { publish: () => undefined } }).create(admin, { code: 'M', name: 'M' })
    ).id;
  });
  afterEach(async () => store.close());

  const service = (s: Store) => new SubjectService({ store: s, clock: () => T, events: { publish: (e) => events.push(e) } });

  it('enrol: the deactivated one is not enrolled, and the answer names them', async () => {
    const s = racing(() => store.users.update(admin.orgId, late.id, { active: false }));
    const answer = await service(s).enrol(admin, subjectId, [fine.id, late.id]);
    expect(answer).to.deep.equal({ enrolled: 1, total: 1, refusedStudentIds: [late.id] });
    expect(await store.subjects.listEnrolled(admin.orgId, subjectId)).to.deep.equal([fine.id]);
    expect(events.flatMap((e) => (e.type === 'subject.enrolled' ? e.studentIds : []))).to.deep.equal([fine.id]);
    const audited = await store.audit.listForEntity(admin.orgId, 'subject', subjectId);
    expect(audited.filter((e) => e.action === 'subject.enrol').map((e) => e.to)).to.deep.equal([{ studentIds: [fine.id] }]);
  });

  it('enrolEach: an erased one is not enrolled, and the others are', async () => {
    const s = racing(() => store.privacy.erase(personOf(late), 'tomb-late'));
    const outcomes = await service(s).enrolEach(admin, new Map([[subjectId, [fine.id, late.id]]]));
    expect(outcomes.get(subjectId)).to.deep.equal({ added: 1, refused: [late.id] });
    expect(await store.subjects.listEnrolled(admin.orgId, subjectId)).to.deep.equal([fine.id]);
  });

  it('enrolEach refuses a student already deactivated at its check, as enrol does, writing nothing', async () => {
    await store.users.update(admin.orgId, late.id, { active: false });
    const err = await expectCode(service(store).enrolEach(admin, new Map([[subjectId, [fine.id, late.id]]])), 'VALIDATION_FAILED');
    expect(err.details).to.deep.equal({ deactivatedStudentIds: [late.id] });
    expect(await store.subjects.listEnrolled(admin.orgId, subjectId)).to.deep.equal([]);
  });
});
