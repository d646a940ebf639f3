import { expect } from 'chai';
import type { Page, PageQuery } from '../../src/domain/ports/common.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser, page } from './fixtures.js';
import { seedNewerData } from './contract-privacy.js';

// The paged lists other than the directory's (contract-directory.ts has those): each gives the
// total of a page shorter than its limit from the page itself, and counts only when it cannot
// tell (src/domain/paging.ts totalFromPage).

export function pagingContract(ctx: ContractContext): void {
  describe('paged lists', function () {
    it("give a short page's total without a count query, and count a full page once", async function () {
      const counted = ctx.countQueries();
      if (!counted) return this.skip();
      const s = ctx.store();
      const org = await makeOrg(s);
      const teacher = await s.users.create(org.id, newUser({ role: 'teacher', studentNumber: null }));
      const ada = await s.users.create(org.id, newUser());
      const bob = await s.users.create(org.id, newUser());
      const subject = await s.subjects.create(org.id, newSubject());
      const sess = await s.sessions.create(org.id, newSession(subject.id, teacher.id));
      const next = await s.sessions.create(org.id, newSession(subject.id, teacher.id, { startsAt: new Date(Date.UTC(2025, 2, 11, 8)) }));
      const { record } = await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, ada.id));
      await s.records.insertIfAbsent(org.id, newRecord(next.id, subject.id, ada.id));
      // Two or more of everything, so that a list has a short page past its first.
      const { delivery, excuseAudit } = await seedNewerData(s, org.id, teacher, ada, bob, subject.id, sess.id, record.id);
      const { id: _first, ...entry } = excuseAudit;
      await s.audit.append({ ...entry, at: new Date() });
      const [notice] = await s.notifications.list(org.id, teacher.id, page(1, 0)).then((p) => p.items);
      await s.notifications.createMany([{ orgId: org.id, userId: teacher.id, category: notice!.category, alert: notice!.alert }]);
      await s.webhooks.enqueue([
        {
          orgId: org.id,
          endpointId: delivery.endpointId,
          event: 'record.created',
          orderKey: next.id,
          body: '{}',
          createdAt: new Date(),
          retryUntil: new Date(Date.now() + 86_400_000),
        },
      ]);
      for (const userId of [ada.id, bob.id]) {
        await s.faceProposals.put({
          orgId: org.id,
          userId,
          modelId: 'm',
          modelVersion: '1',
          embeddings: [[0.5]],
          photos: [],
          proposedBy: teacher.id,
          createdAt: new Date(),
        });
      }

      const lists: Record<string, (q: PageQuery) => Promise<Page<unknown>>> = {
        sessions: (q) => s.sessions.list(org.id, q),
        "a student's records": (q) => s.records.listByStudent(org.id, ada.id, q),
        notifications: (q) => s.notifications.list(org.id, teacher.id, q),
        excuses: (q) => s.excuses.list(org.id, q),
        'face proposals': (q) => s.faceProposals.list(org.id, q),
        outbox: (q) => s.outbox.list(org.id, q),
        audit: (q) => s.reports.audit(org.id, q),
        'webhook deliveries': (q) => s.webhooks.listDeliveries(org.id, delivery.endpointId, q),
      };
      const counts: Record<string, number[]> = {};
      for (const [name, list] of Object.entries(lists)) {
        const before = counted();
        const whole = await list(page(100, 0));
        const n = whole.items.length;
        expect(n, name).to.be.at.least(2);
        const afterShort = counted();
        // The last page, shorter than its limit, past the first.
        const last = await list(page(2, n - 1));
        const afterLast = counted();
        // A full page tells nothing of the items after it: counted.
        const full = await list(page(n, 0));
        counts[name] = [afterShort - before, afterLast - afterShort, counted() - afterLast];
        expect([whole.total, last.total, full.total], name).to.deep.equal([n, n, n]);
      }
      // The MongoDB adapter sorts a student's records by their sessions' starts from every key
      // of the student's, so it knows the total of a full page too: at most one count there.
      const fullPageCounts = counts["a student's records"]![2]!;
      expect(fullPageCounts, "a student's records").to.be.at.most(1);
      counts["a student's records"]![2] = 1;
      const expected = Object.fromEntries(Object.keys(lists).map((name) => [name, [0, 0, 1]]));
      expect(counts).to.deep.equal(expected);
    });
  });
}
