import { expect } from 'chai';
import { LeaseLostError, type LeaseFence } from '../../src/domain/ports/common.js';
import type { RecordWrite } from '../../src/domain/ports/records.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from './fixtures.js';

// A close's write steps (its record batches, the daily summary, closing -> closed) fenced by the
// session's close lease in the write itself: a close paused between renewing its lease and
// writing, while another close took the session over, must write nothing on waking.

const T0 = Date.UTC(2025, 2, 10, 9, 0, 0, 0);
const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);

async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

/** A session whose close lease node A holds until at(10); the fence node A's close writes with. */
async function leased(s: Store) {
  const org = await makeOrg(s);
  const subject = await s.subjects.create(org.id, newSubject());
  const session = await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'closing' }));
  expect(await s.sessions.acquireLease(org.id, session.id, 'node-a', at(10), at(0))).to.equal(true);
  const fence = (until: Date): LeaseFence => ({ names: [], owner: 'node-a', until, session: { orgId: org.id, id: session.id } });
  /** Node B takes the expired lease over (a scheduler, after node A paused past it). */
  const takeOver = async (now: Date) => {
    expect(await s.sessions.acquireLease(org.id, session.id, 'node-b', new Date(now.getTime() + 30 * 60_000), now)).to.equal(true);
  };
  return { org, subject, session, fence, takeOver };
}

export function closeFenceContract(ctx: ContractContext): void {
  describe("a close's writes fenced by the session's close lease", function () {
    it("a record batch is written only while the lease is the owner's, and extends it", async function () {
      const s = ctx.store();
      const { org, subject, session, fence, takeOver } = await leased(s);
      const [a, b] = await s.users.createMany(org.id, [newUser(), newUser()]);
      const absent = (studentId: string): RecordWrite => ({
        kind: 'insert',
        orgId: org.id,
        input: newRecord(session.id, subject.id, studentId, { status: 'absent', reason: 'NO_CHECKIN' }),
        audit: { actorId: null, action: 'close.absent', reason: 'NO_CHECKIN', ip: null },
      });
      const [written] = await s.records.writeBatch([absent(a!.id)], fence(at(40)));
      expect(written).to.deep.include({ written: true });
      // Extended to the fence's `until`: not free for another owner at at(20).
      expect((await s.sessions.get(org.id, session.id))?.leaseUntil?.getTime()).to.equal(at(40).getTime());
      expect(await s.sessions.acquireLease(org.id, session.id, 'node-b', at(50), at(20))).to.equal(false);
      await takeOver(at(41));
      const err = await rejected(s.records.writeBatch([absent(b!.id)], fence(at(60))));
      expect(err).to.be.instanceOf(LeaseLostError);
      expect((await s.records.listBySession(org.id, session.id)).map((r) => r.studentId)).to.deep.equal([a!.id]);
      expect((await s.audit.listForSession(org.id, session.id)).map((e) => e.action)).to.deep.equal(['close.absent']);
      expect(await s.sessions.get(org.id, session.id)).to.deep.include({ leaseOwner: 'node-b', rosterVersion: 1 });
    });

    it("an update in a fenced batch is not applied once the lease is another's", async function () {
      const s = ctx.store();
      const { org, subject, session, fence, takeOver } = await leased(s);
      const [a] = await s.users.createMany(org.id, [newUser()]);
      const { record } = await s.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, a!.id, { status: 'pending' }));
      await takeOver(at(11));
      const err = await rejected(
        s.records.writeBatch(
          [
            {
              kind: 'update',
              orgId: org.id,
              id: record.id,
              expectedVersion: record.version,
              patch: { status: 'absent', reason: 'PENDING_AT_CLOSE' },
              audit: { actorId: null, action: 'close.settle', reason: 'PENDING_AT_CLOSE', ip: null },
            },
          ],
          fence(at(60)),
        ),
      );
      expect(err).to.be.instanceOf(LeaseLostError);
      expect(await s.records.get(org.id, record.id)).to.deep.include({ status: 'pending', version: record.version });
      expect(await s.audit.listForSession(org.id, session.id)).to.deep.equal([]);
    });

    it("the daily summary is stored only while the lease is the owner's", async function () {
      const s = ctx.store();
      const { org, subject, fence, takeOver } = await leased(s);
      const counts = { present: 1, late: 0, absent: 1, excused: 0, total: 2, percentage: 50 };
      const stored = await s.summaries.upsert({ orgId: org.id, subjectId: subject.id, day: '2025-03-10', ...counts }, fence(at(40)));
      expect(stored).to.include({ absent: 1 });
      await takeOver(at(41));
      const err = await rejected(
        s.summaries.upsert({ orgId: org.id, subjectId: subject.id, day: '2025-03-10', ...counts, absent: 2, total: 3 }, fence(at(60))),
      );
      expect(err).to.be.instanceOf(LeaseLostError);
      expect(await s.summaries.get(org.id, subject.id, '2025-03-10')).to.deep.equal(stored);
      // A first summary of another day is not stored either.
      const first = await rejected(
        s.summaries.upsert({ orgId: org.id, subjectId: subject.id, day: '2025-03-11', ...counts }, fence(at(60))),
      );
      expect(first).to.be.instanceOf(LeaseLostError);
      expect(await s.summaries.get(org.id, subject.id, '2025-03-11')).to.equal(null);
    });

    it("closing -> closed is applied only while the lease is the owner's", async function () {
      const s = ctx.store();
      const { org, session, fence, takeOver } = await leased(s);
      await takeOver(at(11));
      const err = await rejected(
        s.sessions.transition(org.id, session.id, ['closing'], { status: 'closed', closedAt: at(12) }, fence(at(60))),
      );
      expect(err).to.be.instanceOf(LeaseLostError);
      expect(await s.sessions.get(org.id, session.id)).to.deep.include({ status: 'closing', closedAt: null, leaseOwner: 'node-b' });
      await s.sessions.releaseLease(org.id, session.id, 'node-b');
      expect(await s.sessions.acquireLease(org.id, session.id, 'node-a', at(20), at(13))).to.equal(true);
      const closed = await s.sessions.transition(org.id, session.id, ['closing'], { status: 'closed', closedAt: at(14) }, fence(at(40)));
      expect(closed).to.deep.include({ status: 'closed', leaseOwner: 'node-a' });
      expect(closed?.leaseUntil?.getTime()).to.equal(at(40).getTime());
    });
  });
}
