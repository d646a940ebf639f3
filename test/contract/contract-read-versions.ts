import { expect } from 'chai';
import { CheckinReads, type CheckinContext } from '../../src/domain/checkins/checkin-reads.js';
import { READ_VERSION_KINDS, type ReadVersionKind } from '../../src/domain/ports/read-versions.js';
import type { Store } from '../../src/domain/ports/store.js';
import { skipBecause } from '../support/skip.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from './fixtures.js';

// The check-in reads a node keeps across turns, and the read versions that keep them exact.

/** Each read in a turn of its own, as check-ins seconds apart. */
const eachAlone = (fn: () => void) => queueMicrotask(fn);

async function classOf(s: Store) {
  const org = await makeOrg(s);
  const subject = await s.subjects.create(org.id, newSubject());
  const [ada, bo] = await s.users.createMany(org.id, [newUser({ name: 'Ada' }), newUser({ name: 'Bo' })]);
  await s.subjects.enrol(org.id, subject.id, [ada!.id, bo!.id]);
  const session = await s.sessions.create(org.id, newSession(subject.id, 't1'));
  return { org, subject, ada: ada!, bo: bo!, session };
}

export function readVersionsContract(ctx: ContractContext): void {
  describe('check-in reads kept across turns', function () {
    it('show a rename, an unenrolment, a closing, an erasure and a deleted subject at the next read', async function () {
      const s = ctx.store();
      const { org, subject, ada, bo, session } = await classOf(s);
      const reads = new CheckinReads(s, eachAlone);
      const read = (studentId: string): Promise<CheckinContext> => reads.read(org.id, session.id, studentId);
      const first = await read(ada.id);
      expect([first.student.name, first.enrolled, first.session.status, first.existing]).to.deep.equal(['Ada', true, 'open', null]);
      expect((await read(bo.id)).student.name).to.equal('Bo');

      await s.users.update(org.id, ada.id, { name: 'Ada Lovelace', studentNumber: 'N9' });
      expect((await read(ada.id)).student).to.deep.equal({ id: ada.id, name: 'Ada Lovelace', studentNumber: 'N9' });

      await s.subjects.unenrol(org.id, subject.id, [ada.id]);
      expect((await read(ada.id)).enrolled).to.equal(false);
      await s.subjects.enrol(org.id, subject.id, [ada.id]);
      expect((await read(ada.id)).enrolled).to.equal(true);

      // Records are read every time (a group commit does not move the read version).
      const stored = (await s.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, ada.id, { status: 'present' }))).record;
      expect((await read(ada.id)).existing?.id).to.equal(stored.id);

      await s.sessions.transition(org.id, session.id, ['open'], { status: 'closed', closedAt: new Date(), closedBy: 't1' });
      expect((await read(bo.id)).session.status).to.equal('closed');

      await s.privacy.erase({ orgId: org.id, userId: bo.id, identifiers: [bo.email, bo.name] }, 'tomb-bo');
      expect((await read(bo.id)).student).to.deep.equal({ id: bo.id, name: bo.id, studentNumber: null });

      await s.subjects.delete(org.id, subject.id);
      let refused: unknown = null;
      await read(ada.id).catch((err: unknown) => (refused = err));
      expect(refused).to.have.property('code', 'SESSION_NOT_FOUND');
    });

    it("read versions (where the store has them) move with every change of an organisation's directory, and only its own", async function () {
      const s = ctx.store();
      const versions = s.readVersions;
      // MongoDB has none: its check-in reads read afresh every turn (the test above).
      if (!versions) skipBecause(this, `the ${s.kind} store has no read versions: its check-in reads read afresh every turn`);
      const { org, subject, ada, bo, session } = await classOf(s);
      const other = await makeOrg(s);
      const theirs = await versions.current(other.id);
      // The kinds whose version the change moved.
      const moves = async (what: string, change: () => Promise<unknown>, expected: ReadVersionKind[]) => {
        const before = await versions.current(org.id);
        await change();
        const after = await versions.current(org.id);
        expect(
          READ_VERSION_KINDS.filter((k) => after[k] !== before[k]),
          what,
        ).to.deep.equal(expected);
        for (const k of expected) expect(after[k], `${what}: ${k}`).to.be.greaterThan(before[k]);
      };
      await moves('a new user', () => s.users.create(org.id, newUser()), ['users']);
      await moves('a rename', () => s.users.update(org.id, ada.id, { name: 'Ada L.' }), ['users']);
      await moves('a deactivation', () => s.users.update(org.id, ada.id, { active: false }), ['users']);
      await moves('a subject change', () => s.subjects.update(org.id, subject.id, { name: 'Renamed subject' }), ['subjects']);
      // Bo, still active: the store enrols no deactivated student.
      await moves('an unenrolment', () => s.subjects.unenrol(org.id, subject.id, [bo.id]), ['enrolments']);
      await moves('an enrolment', () => s.subjects.enrol(org.id, subject.id, [bo.id]), ['enrolments']);
      await moves('a new session', () => s.sessions.create(org.id, newSession(subject.id, 't1')), ['sessions']);
      const later = new Date(session.closesAt.getTime() + 60_000);
      await moves('a session transition', () => s.sessions.transition(org.id, session.id, ['open'], { closesAt: later }), ['sessions']);
      // What a check-in does not read leaves it: records, their roster counter, the scheduler's lease.
      await moves(
        'a group commit',
        () =>
          s.records.writeBatch([
            {
              kind: 'insert',
              orgId: org.id,
              input: newRecord(session.id, subject.id, ada.id, { status: 'present' }),
              audit: { actorId: ada.id, action: 'checkin.submit', reason: null, ip: null },
            },
          ]),
        [],
      );
      await moves('a lease', () => s.sessions.acquireLease(org.id, session.id, 'node-1', new Date(Date.now() + 60_000), new Date()), []);
      const erased = await versions.current(org.id);
      await s.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email] }, 'tomb-ada');
      expect((await versions.current(org.id)).users, 'an erasure').to.be.greaterThan(erased.users);
      const deleted = await versions.current(org.id);
      await s.subjects.delete(org.id, subject.id);
      const afterDelete = await versions.current(org.id);
      // Its enrolments go with it (the cascade's deletes move their version too).
      expect([afterDelete.subjects > deleted.subjects, afterDelete.enrolments > deleted.enrolments], 'a deleted subject').to.deep.equal([
        true,
        true,
      ]);
      expect(await versions.current(other.id)).to.deep.equal(theirs);
    });
  });

  describe('standing version (who may act)', function () {
    it("moves with every revocation, and only the organisation's own; a change of nothing else leaves it", async function () {
      const s = ctx.store();
      const versions = s.standingVersions;
      const { org, subject, ada, bo } = await classOf(s);
      const other = await makeOrg(s);
      const [theirs] = await s.users.createMany(other.id, [newUser()]);
      const login = async (userId: string, orgId = org.id) => {
        const familyId = `family-${userId}-${Math.random().toString(36).slice(2)}`;
        await s.refreshTokens.create({
          orgId,
          userId,
          familyId,
          tokenHash: `hash-${familyId}`,
          expiresAt: new Date(Date.now() + 86_400_000),
          userAgent: null,
          ip: null,
        });
        return familyId;
      };
      const theirLogin = await login(theirs!.id, other.id);
      const untouched = await versions.current(other.id);
      const moves = async (what: string, change: () => Promise<unknown>, expected: boolean) => {
        const before = await versions.current(org.id);
        await change();
        const after = await versions.current(org.id);
        if (expected) expect(after, what).to.be.greaterThan(before);
        else expect(after, what).to.equal(before);
      };
      const phone = await login(ada.id);
      const laptop = await login(ada.id);
      await moves('a new login', () => login(bo.id), false);
      await moves('a rename', () => s.users.update(org.id, ada.id, { name: 'Ada L.' }), false);
      await moves('a new user', () => s.users.create(org.id, newUser()), false);
      await moves('an unenrolment (the check-in reads follow it)', () => s.subjects.unenrol(org.id, subject.id, [bo.id]), false);
      await moves('a role change', () => s.users.update(org.id, ada.id, { role: 'teacher' }), true);
      await moves('a deactivation', () => s.users.update(org.id, ada.id, { active: false }), true);
      await moves('a reactivation', () => s.users.update(org.id, ada.id, { active: true }), true);
      await moves('a new password required', () => s.users.update(org.id, ada.id, { mustChangePassword: true }), true);
      await moves('a logout (one login ended)', () => s.refreshTokens.revokeFamily(phone, new Date()), true);
      await moves('a login already ended', () => s.refreshTokens.revokeFamily(phone, new Date()), false);
      await moves(
        "every login of a user ended (a new password, an admin's reset)",
        () => s.refreshTokens.revokeAllForUser(org.id, ada.id, new Date()),
        true,
      );
      expect(await s.refreshTokens.revokedFamilies([laptop])).to.deep.equal([laptop]);
      await moves('an organisation disabled', () => s.organisations.update(org.id, { active: false }), true);
      await moves('an organisation enabled', () => s.organisations.update(org.id, { active: true }), true);
      await moves('an erasure', () => s.privacy.erase({ orgId: org.id, userId: bo.id, identifiers: [bo.email] }, 'tomb-bo'), true);
      expect(await versions.current(other.id), 'another organisation').to.equal(untouched);
      await s.refreshTokens.revokeFamily(theirLogin, new Date());
      expect(await versions.current(other.id), 'its own logout').to.be.greaterThan(untouched);
    });
  });
}
