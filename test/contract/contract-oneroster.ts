import { expect } from 'chai';
import type { ContractContext } from './store-contract.js';
import { expectConflict, makeOrg, newUser } from './fixtures.js';

// OneRoster objects: the school information system's sourcedIds of users and subjects, and the
// orgs and academic sessions an import read, unique per organisation.

export function oneRosterContract(ctx: ContractContext): void {
  describe('oneroster objects', function () {
    it('puts, replaces and reads objects by sourcedId and by local entity, per organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.oneroster.put({ orgId: org.id, kind: 'user', sourcedId: 'u-1', entityId: 'local-1', data: { role: 'student' } });
      await s.oneroster.put({
        orgId: org.id,
        kind: 'academicSession',
        sourcedId: 't-1',
        entityId: null,
        data: { title: 'Fall', startDate: '2026-09-01' },
      });
      await s.oneroster.put({ orgId: org.id, kind: 'academicSession', sourcedId: 't-2', entityId: null, data: {} });
      await s.oneroster.put({ orgId: other.id, kind: 'user', sourcedId: 'u-1', entityId: 'local-9', data: {} });

      const users = await s.oneroster.getMany(org.id, 'user', ['u-1', 'u-2']);
      expect(users.map((o) => [o.sourcedId, o.entityId, o.data])).to.deep.equal([['u-1', 'local-1', { role: 'student' }]]);
      expect(users[0]!.updatedAt).to.be.instanceOf(Date);
      const terms = await s.oneroster.getMany(org.id, 'academicSession', ['t-2', 't-1']);
      expect(terms.map((o) => [o.sourcedId, o.entityId, o.data])).to.deep.equal([
        ['t-1', null, { title: 'Fall', startDate: '2026-09-01' }],
        ['t-2', null, {}],
      ]);
      // A kind does not see another kind's sourcedIds.
      expect(await s.oneroster.getMany(org.id, 'class', ['u-1'])).to.deep.equal([]);

      await s.oneroster.put({ orgId: org.id, kind: 'user', sourcedId: 'u-1', entityId: 'local-1', data: { role: 'teacher' } });
      const [again] = await s.oneroster.getByEntities(org.id, 'user', ['local-1', 'local-9']);
      expect(again!.data).to.deep.equal({ role: 'teacher' });
      expect((await s.oneroster.getByEntities(other.id, 'user', ['local-9'])).map((o) => o.sourcedId)).to.deep.equal(['u-1']);
    });

    it('links one local entity to one sourcedId of a kind', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.oneroster.put({ orgId: org.id, kind: 'user', sourcedId: 'u-1', entityId: 'local-1', data: {} });
      await expectConflict(s.oneroster.put({ orgId: org.id, kind: 'user', sourcedId: 'u-2', entityId: 'local-1', data: {} }), 'oneroster');
      expect(await s.oneroster.getMany(org.id, 'user', ['u-2'])).to.deep.equal([]);
      // The same entity id under another kind is another link.
      await s.oneroster.put({ orgId: org.id, kind: 'class', sourcedId: 'c-1', entityId: 'local-1', data: {} });
      expect((await s.oneroster.getByEntities(org.id, 'class', ['local-1'])).map((o) => o.sourcedId)).to.deep.equal(['c-1']);
    });

    it('putMany puts several objects in one call, as put would, and refuses a link an entity already has', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.oneroster.put({ orgId: org.id, kind: 'user', sourcedId: 'u-1', entityId: 'local-1', data: { v: '1' } });
      const put = await s.oneroster.putMany([
        { orgId: org.id, kind: 'user', sourcedId: 'u-1', entityId: 'local-1', data: { v: '2' } },
        { orgId: org.id, kind: 'user', sourcedId: 'u-2', entityId: 'local-2', data: {} },
        { orgId: org.id, kind: 'class', sourcedId: 'c-1', entityId: 'local-1', data: {} },
      ]);
      expect(put.map((o) => o.sourcedId)).to.deep.equal(['u-1', 'u-2', 'c-1']);
      const users = await s.oneroster.getMany(org.id, 'user', ['u-1', 'u-2']);
      expect(users.map((o) => [o.sourcedId, o.entityId, o.data])).to.deep.equal([
        ['u-1', 'local-1', { v: '2' }],
        ['u-2', 'local-2', {}],
      ]);
      expect(await s.oneroster.putMany([])).to.deep.equal([]);
      await expectConflict(
        s.oneroster.putMany([
          { orgId: org.id, kind: 'user', sourcedId: 'u-3', entityId: 'local-3', data: {} },
          { orgId: org.id, kind: 'user', sourcedId: 'u-4', entityId: 'local-2', data: {} },
        ]),
        'oneroster',
      );
      expect(await s.oneroster.getMany(org.id, 'user', ['u-4'])).to.deep.equal([]);
    });

    it("an erasure deletes the person's sourcedId", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const user = await s.users.create(org.id, newUser());
      await s.oneroster.put({ orgId: org.id, kind: 'user', sourcedId: 'sis-42', entityId: user.id, data: {} });
      await s.privacy.erase({ orgId: org.id, userId: user.id, identifiers: [user.email, user.name] }, 'erased-1');
      expect(await s.oneroster.getMany(org.id, 'user', ['sis-42'])).to.deep.equal([]);
    });
  });
}
