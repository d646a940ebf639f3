import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { DEMO_PASSWORDS, seedDemo } from '../../src/domain/seed.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/domain/ports/store.js';
import { cheapPasswordHasher } from '../support/passwords.js';

describe('seedDemo', () => {
  let store: Store;
  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
  });
  afterEach(() => store.close());

  it('creates the demo organisation, staff, CS101 and 30 enrolled students once', async () => {
    expect(await seedDemo(store, { passwords: cheapPasswordHasher() })).to.deep.equal({ created: true });
    const org = await store.organisations.getBySlug('demo');
    expect(org?.name).to.equal('Demo School');
    const users = await store.users.list(org!.id, { limit: 200, offset: 0 });
    expect(users.total).to.equal(33);
    const ada = await store.users.getByEmail(org!.id, 'ada@demo.school');
    expect(await bcrypt.compare(DEMO_PASSWORDS.teacher, ada!.passwordHash!)).to.equal(true);
    const admin = await store.users.getByEmail(org!.id, 'admin@demo.school');
    expect(admin?.role).to.equal('admin');
    const last = await store.users.getByEmail(org!.id, 'student30@demo.school');
    expect(last?.studentNumber).to.equal('S0030');

    const subjects = await store.subjects.list(org!.id, { limit: 10, offset: 0 });
    expect(subjects.items.map((s) => s.code)).to.deep.equal(['CS101']);
    const cs101 = subjects.items[0]!;
    expect(cs101.teacherIds).to.deep.equal([ada!.id]);
    expect(cs101.location).to.not.equal(null);
    expect(await store.subjects.listEnrolled(org!.id, cs101.id)).to.have.length(30);

    expect(await seedDemo(store, { passwords: cheapPasswordHasher() })).to.deep.equal({ created: false });
    expect(await store.organisations.count()).to.equal(1);
  });

  it('does nothing when any organisation exists', async () => {
    await store.organisations.create({ name: 'Real School', slug: 'real', timezone: 'UTC' });
    expect(await seedDemo(store, { passwords: cheapPasswordHasher() })).to.deep.equal({ created: false });
    expect(await store.organisations.getBySlug('demo')).to.equal(null);
  });
});
