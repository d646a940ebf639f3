import { expect } from 'chai';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from './fixtures.js';

// The store stamps its writes with the clock it was given, never the machine's: one clock
// rules the domain's decisions and the stored times.

/** Far from the machine's clock, so a write stamped with `new Date()` cannot pass. */
const FIXED = new Date(Date.UTC(2001, 0, 2, 3, 4, 5, 678));

export function clockContract(ctx: ContractContext): void {
  describe('write stamps', function () {
    it('every write is stamped with the store clock', async function () {
      const opened = await ctx.open(() => new Date(FIXED));
      try {
        const s = opened.store;
        const org = await makeOrg(s);
        expect(org.createdAt).to.deep.equal(FIXED);
        const user = await s.users.create(org.id, newUser());
        expect([user.createdAt, user.updatedAt]).to.deep.equal([FIXED, FIXED]);
        expect((await s.users.update(org.id, user.id, { name: 'Renamed' }))!.updatedAt).to.deep.equal(FIXED);
        const subject = await s.subjects.create(org.id, newSubject());
        expect([subject.createdAt, subject.updatedAt]).to.deep.equal([FIXED, FIXED]);
        expect((await s.subjects.update(org.id, subject.id, { name: 'Renamed' }))!.updatedAt).to.deep.equal(FIXED);
        const session = await s.sessions.create(org.id, newSession(subject.id, 't1'));
        expect([session.createdAt, session.updatedAt]).to.deep.equal([FIXED, FIXED]);
        const moved = await s.sessions.transition(org.id, session.id, ['open'], { status: 'closing' });
        expect(moved!.updatedAt).to.deep.equal(FIXED);
        expect((await s.sessions.get(org.id, session.id))!.updatedAt).to.deep.equal(FIXED);
        const { record } = await s.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, user.id));
        expect([record.createdAt, record.updatedAt]).to.deep.equal([FIXED, FIXED]);
        const decided = await s.records.update(org.id, record.id, record.version, { status: 'present' });
        expect(decided!.updatedAt).to.deep.equal(FIXED);
        const summary = await s.summaries.upsert({
          orgId: org.id,
          subjectId: subject.id,
          day: session.day,
          present: 1,
          late: 0,
          absent: 0,
          excused: 0,
          total: 1,
          percentage: 100,
        });
        expect(summary.updatedAt).to.deep.equal(FIXED);
        const token = await s.refreshTokens.create({
          orgId: org.id,
          userId: user.id,
          familyId: 'family-1',
          tokenHash: 'hash-1',
          expiresAt: new Date(FIXED.getTime() + 60_000),
        });
        expect(token.createdAt).to.deep.equal(FIXED);
        const face = await s.faces.put({
          orgId: org.id,
          userId: user.id,
          modelId: 'm',
          modelVersion: '1',
          embeddings: [[0.1, 0.2]],
          photos: null,
        });
        expect(face.updatedAt).to.deep.equal(FIXED);
      } finally {
        await opened.cleanup();
      }
    });
  });
}
