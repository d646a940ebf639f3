import { expect } from 'chai';
import type { NewOutboxMail } from '../../src/domain/ports/outbox.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, page } from './fixtures.js';

// The email outbox and users' email preferences.

const mail = (orgId: string, to = 'a@example.test'): NewOutboxMail => ({
  orgId,
  category: 'alert',
  to,
  subject: 'Subject',
  text: 'Text',
  html: '<p>Text</p>',
  headers: { 'List-Unsubscribe': '<https://x.example/u>' },
});

export function outboxContract(ctx: ContractContext): void {
  describe('email outbox', function () {
    it('purges emails sent or failed for good that were queued before a time, and keeps the others', async function () {
      let now = Date.UTC(2025, 4, 1, 8);
      const opened = await ctx.open(() => new Date(now));
      try {
        const s = opened.store;
        const org = await makeOrg(s);
        const sent = (await s.outbox.enqueue(mail(org.id, 'sent@example.test'), 10))!;
        const failed = (await s.outbox.enqueue(mail(org.id, 'failed@example.test'), 10))!;
        const queued = (await s.outbox.enqueue(mail(org.id, 'queued@example.test'), 10))!;
        const claimed = await s.outbox.claimDue(new Date(now), 'n', new Date(now + 60_000), 10);
        expect(claimed.map((m) => m.id)).to.have.members([sent.id, failed.id, queued.id]);
        expect(await s.outbox.markSent(sent.id, 'n', new Date(now))).to.equal(true);
        expect(await s.outbox.markFailed(failed.id, 'n', '550 no such user', null)).to.equal(true);
        expect(await s.outbox.markFailed(queued.id, 'n', '451 later', new Date(now + 60_000))).to.equal(true);
        now += 40 * 86_400_000;
        const recent = (await s.outbox.enqueue(mail(org.id, 'recent@example.test'), 10))!;
        await s.outbox.claimDue(new Date(now), 'n', new Date(now + 60_000), 10);
        expect(await s.outbox.markSent(recent.id, 'n', new Date(now))).to.equal(true);

        expect(await s.outbox.purgeFinished(new Date(now - 30 * 86_400_000))).to.deep.equal([{ orgId: org.id, count: 2 }]);
        const left = await s.outbox.list(org.id, { limit: 10, offset: 0 });
        expect(left.items.map((m) => m.to).sort()).to.deep.equal(['queued@example.test', 'recent@example.test']);
      } finally {
        await opened.cleanup();
      }
    });

    it('queues due now, bounded per organisation by emails waiting', async function () {
      const now = Date.UTC(2025, 4, 1, 8);
      const opened = await ctx.open(() => new Date(now));
      try {
        const s = opened.store;
        const org = await makeOrg(s);
        const other = await makeOrg(s);
        const first = await s.outbox.enqueue(mail(org.id), 2);
        expect(first).to.deep.include({
          ...mail(org.id),
          status: 'queued',
          attempts: 0,
          lastError: null,
          claimedBy: null,
          claimUntil: null,
          sentAt: null,
        });
        expect(first!.nextAttemptAt).to.deep.equal(new Date(now));
        expect(await s.outbox.enqueue(mail(org.id), 2)).to.not.equal(null);
        expect(await s.outbox.enqueue(mail(org.id), 2)).to.equal(null);
        expect(await s.outbox.enqueue(mail(other.id), 2)).to.not.equal(null);
        const listed = await s.outbox.list(org.id, page());
        expect(listed.total).to.equal(2);
        expect(listed.items.every((m) => m.orgId === org.id)).to.equal(true);
        expect(listed.items[0]!.headers).to.deep.equal(mail(org.id).headers);
      } finally {
        await opened.cleanup();
      }
    });

    it("queues one email per user and category while it waits: a second is answered with the first, another user's or a sent one's is new", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const reset = (userId: string) => ({ ...mail(org.id, `${userId}@example.test`), category: 'reset' as const, userId, headers: {} });
      const first = (await s.outbox.enqueue(reset('user-1'), 10))!;
      expect(await s.outbox.enqueue(reset('user-1'), 10)).to.deep.equal(first);
      const invitation = (await s.outbox.enqueue({ ...reset('user-1'), category: 'invitation' }, 10))!;
      const other = (await s.outbox.enqueue(reset('user-2'), 10))!;
      expect(new Set([first.id, invitation.id, other.id]).size).to.equal(3);
      // Plain emails name no user: each is its own.
      expect((await s.outbox.enqueue(mail(org.id), 10))!.id).to.not.equal((await s.outbox.enqueue(mail(org.id), 10))!.id);
      const claimed = await s.outbox.claimDue(new Date(Date.now() + 1_000), 'n', new Date(Date.now() + 60_000), 1_000);
      expect(await s.outbox.markSent(first.id, 'n', new Date())).to.equal(true);
      expect(claimed.map((m) => m.id)).to.include(first.id);
      const again = (await s.outbox.enqueue(reset('user-1'), 10))!;
      expect(again.id).to.not.equal(first.id);
      expect(again.status).to.equal('queued');
      expect((await s.outbox.list(org.id, page())).total).to.equal(6);
    });

    it('finds emails by recipient: exact or prefix, any case, paged with its total, wildcards taken literally', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      for (const to of ['Ada.Lovelace@Example.test', 'ada@example.test', 'adam@example.test', 'bob@example.test', 'a_b%c@example.test']) {
        expect(await s.outbox.enqueue(mail(org.id, to), 100)).to.not.equal(null);
      }
      expect(await s.outbox.enqueue(mail(other.id, 'ada@example.test'), 100)).to.not.equal(null);
      const found = async (recipient: string, limit = 100, offset = 0) => {
        const listed = await s.outbox.list(org.id, { ...page(limit, offset), recipient });
        return { total: listed.total, to: listed.items.map((m) => m.to).sort() };
      };
      expect(await found('ADA')).to.deep.equal({ total: 3, to: ['Ada.Lovelace@Example.test', 'ada@example.test', 'adam@example.test'] });
      expect(await found('ada@example.test')).to.deep.equal({ total: 1, to: ['ada@example.test'] });
      expect(await found('ada.lovelace@example.TEST')).to.deep.equal({ total: 1, to: ['Ada.Lovelace@Example.test'] });
      // A prefix, not a substring; `_` and `%` are letters of an address, not wildcards; `.` not a regex dot.
      expect(await found('example')).to.deep.equal({ total: 0, to: [] });
      expect(await found('a_b%')).to.deep.equal({ total: 1, to: ['a_b%c@example.test'] });
      expect(await found('a%')).to.deep.equal({ total: 0, to: [] });
      expect(await found('ada.')).to.deep.equal({ total: 1, to: ['Ada.Lovelace@Example.test'] });
      expect(await found('adaX')).to.deep.equal({ total: 0, to: [] });
      // Paged: the total counts every match, the page holds at most `limit`.
      const first = await found('ad', 2, 0);
      const second = await found('ad', 2, 2);
      expect([first.total, second.total]).to.deep.equal([3, 3]);
      expect([...first.to, ...second.to].sort()).to.deep.equal(['Ada.Lovelace@Example.test', 'ada@example.test', 'adam@example.test']);
      // With the status filter too.
      expect((await s.outbox.list(org.id, { ...page(), recipient: 'ada', status: 'sent' })).total).to.equal(0);
      expect((await s.outbox.list(org.id, { ...page(), recipient: 'ada', status: 'queued' })).total).to.equal(3);
    });

    it('bounds the emails waiting of one category apart from the whole outbox', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const reset = (userId: string) => ({ ...mail(org.id), category: 'reset' as const, userId, headers: {} });
      expect(await s.outbox.enqueue(reset('u1'), 10, 2)).to.not.equal(null);
      expect(await s.outbox.enqueue(reset('u2'), 10, 2)).to.not.equal(null);
      expect(await s.outbox.enqueue(reset('u3'), 10, 2)).to.equal(null);
      // The other categories still have the rest of the outbox.
      expect(await s.outbox.enqueue(mail(org.id), 10, 2)).to.not.equal(null);
      expect(await s.outbox.enqueue({ ...reset('u3'), category: 'invitation' }, 10, 2)).to.not.equal(null);
      expect((await s.outbox.list(org.id, page())).total).to.equal(4);
    });

    it('queues many in one call as one after another: a user once per category, the bounds met in order, one with an email waiting answered by it', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const invite = (orgId: string, userId: string) => ({
        ...mail(orgId, `${userId}@example.test`),
        category: 'invitation' as const,
        userId,
        headers: {},
      });
      const reset = (userId: string) => ({ ...invite(org.id, userId), category: 'reset' as const });
      const waiting = (await s.outbox.enqueue(invite(org.id, 'u0'), 10))!;
      expect(await s.outbox.enqueueMany([], 10)).to.deep.equal([]);
      const batch = [
        invite(org.id, 'u1'),
        invite(org.id, 'u0'), // waiting already: answered by it
        invite(org.id, 'u1'), // twice in the batch: the first answers
        reset('u1'), // another category: its own
        reset('u2'), // past the resets' bound of 1
        invite(other.id, 'u9'), // another organisation's bound
        invite(org.id, 'u3'),
        invite(org.id, 'u4'), // past the organisation's bound of 4
        invite(org.id, 'u0'), // full, but waiting: still answered by it
      ];
      const queued = await s.outbox.enqueueMany(batch, 4, { reset: 1 });
      expect(queued).to.have.length(batch.length);
      const [u1, u0, u1again, r1, r2, o9, u3, u4, u0again] = queued;
      expect(u0!.id).to.equal(waiting.id);
      expect(u0again!.id).to.equal(waiting.id);
      expect(u1).to.deep.include({
        orgId: org.id,
        category: 'invitation',
        userId: 'u1',
        to: 'u1@example.test',
        status: 'queued',
        attempts: 0,
      });
      expect(u1again!.id).to.equal(u1!.id);
      expect(r1).to.deep.include({ category: 'reset', userId: 'u1' });
      expect(r2).to.equal(null);
      expect(o9).to.deep.include({ orgId: other.id, userId: 'u9' });
      expect(u3).to.deep.include({ userId: 'u3' });
      expect(u4).to.equal(null);
      const listed = await s.outbox.list(org.id, page());
      expect(listed.items.map((m) => m.id)).to.have.members([waiting.id, u1!.id, r1!.id, u3!.id]);
      expect((await s.outbox.list(other.id, page())).items.map((m) => m.id)).to.deep.equal([o9!.id]);
      // Queued for sending like any other.
      const claimed = await s.outbox.claimDue(new Date(Date.now() + 1_000), 'n', new Date(Date.now() + 60_000), 1_000);
      expect(claimed.map((m) => m.id)).to.include.members([u1!.id, r1!.id, u3!.id, o9!.id]);
    });

    it('keeps the user an invitation or reset is for, through claim and list; other emails name none', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const invitation = { ...mail(org.id, 'invited@example.test'), category: 'invitation' as const, userId: 'user-1', headers: {} };
      const queued = (await s.outbox.enqueue(invitation, 10))!;
      expect(queued).to.deep.include({ category: 'invitation', userId: 'user-1' });
      const plain = (await s.outbox.enqueue(mail(org.id, 'plain@example.test'), 10))!;
      expect(plain.userId).to.equal(null);
      const claimed = await s.outbox.claimDue(new Date(Date.now() + 1_000), 'n', new Date(Date.now() + 60_000), 1_000);
      expect(claimed.find((m) => m.id === queued.id)).to.deep.include({
        category: 'invitation',
        userId: 'user-1',
        to: 'invited@example.test',
      });
      const listed = (await s.outbox.list(org.id, page())).items;
      expect(listed.find((m) => m.id === queued.id)!.userId).to.equal('user-1');
      expect(listed.find((m) => m.id === plain.id)!.userId).to.equal(null);
    });

    it('claims the resets a person is waiting for before earlier emails: a bulk invitation under a send rate does not hold them back', async function () {
      let now = Date.UTC(2025, 4, 1, 8);
      const opened = await ctx.open(() => new Date(now));
      try {
        const s = opened.store;
        const org = await makeOrg(s);
        const account = (category: 'invitation' | 'reset' | 'admin-reset', userId: string) => ({
          ...mail(org.id, `${userId}@example.test`),
          category,
          userId,
          headers: {},
        });
        const invited = await s.outbox.enqueueMany(
          ['i1', 'i2', 'i3'].map((u) => account('invitation', u)),
          100,
        );
        now += 1_000;
        const alert = (await s.outbox.enqueue(mail(org.id), 100))!;
        now += 1_000;
        const reset = (await s.outbox.enqueue(account('reset', 'r1'), 100))!;
        now += 1_000;
        const adminReset = (await s.outbox.enqueue(account('admin-reset', 'r2'), 100))!;
        const until = new Date(now + 60_000);
        const first = await s.outbox.claimDue(new Date(now), 'n', until, 2);
        expect(first.map((m) => m.id)).to.deep.equal([reset.id, adminReset.id]);
        const rest = await s.outbox.claimDue(new Date(now), 'n', until, 10);
        // Then oldest due first: the invitations (queued in one call, so of one time), then the alert.
        expect(rest.slice(0, 3).map((m) => m.id)).to.have.members(invited.map((m) => m!.id));
        expect(rest.map((m) => m.id))
          .to.have.length(4)
          .and.to.have.property('3', alert.id);
      } finally {
        await opened.cleanup();
      }
    });

    it('each due email goes to one claimer; sent, retried later, or failed for good; an expired claim is taken over', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const a = (await s.outbox.enqueue(mail(org.id, 'a@example.test'), 10))!;
      const b = (await s.outbox.enqueue(mail(org.id, 'b@example.test'), 10))!;
      const now = new Date(Date.now() + 1_000);
      const until = new Date(now.getTime() + 60_000);
      const [one, two] = await Promise.all([s.outbox.claimDue(now, 'n1', until, 10), s.outbox.claimDue(now, 'n2', until, 10)]);
      expect([...one!, ...two!].map((m) => m.id).sort()).to.deep.equal([a.id, b.id].sort());
      const mine = (id: string) => (one!.some((m) => m.id === id) ? 'n1' : 'n2');
      expect(one!.concat(two!).every((m) => m.status === 'sending')).to.equal(true);
      expect(await s.outbox.claimDue(now, 'n3', until, 10)).to.deep.equal([]);

      expect(await s.outbox.markSent(a.id, 'someone-else', now)).to.equal(false);
      expect(await s.outbox.markSent(a.id, mine(a.id), now)).to.equal(true);
      const retryAt = new Date(now.getTime() + 30_000);
      expect(await s.outbox.markFailed(b.id, mine(b.id), 'connection refused', retryAt)).to.equal(true);
      let rows = new Map((await s.outbox.list(org.id, page())).items.map((m) => [m.id, m]));
      expect(rows.get(a.id)).to.deep.include({ status: 'sent', attempts: 1, claimedBy: null });
      expect(rows.get(a.id)!.sentAt).to.deep.equal(now);
      expect(rows.get(b.id)).to.deep.include({ status: 'queued', attempts: 1, lastError: 'connection refused' });
      expect(rows.get(b.id)!.nextAttemptAt).to.deep.equal(retryAt);

      expect(await s.outbox.claimDue(now, 'n1', until, 10)).to.deep.equal([]);
      const later = new Date(retryAt.getTime() + 1);
      const [again] = await s.outbox.claimDue(later, 'n1', new Date(later.getTime() + 60_000), 10);
      expect(again).to.deep.include({ id: b.id, attempts: 1 });
      // n1 dies: past its claim another node takes the email over, and n1 can no longer mark it.
      const afterClaim = new Date(later.getTime() + 60_001);
      const [taken] = await s.outbox.claimDue(afterClaim, 'n2', new Date(afterClaim.getTime() + 60_000), 10);
      expect(taken).to.deep.include({ id: b.id, claimedBy: 'n2' });
      expect(await s.outbox.markFailed(b.id, 'n1', 'late', null)).to.equal(false);
      expect(await s.outbox.markFailed(b.id, 'n2', 'mailbox unavailable', null)).to.equal(true);
      expect((await s.outbox.list(org.id, { ...page(), status: 'failed' })).items).to.have.length(1);
      rows = new Map((await s.outbox.list(org.id, page())).items.map((m) => [m.id, m]));
      expect(rows.get(b.id)).to.deep.include({ status: 'failed', attempts: 2, lastError: 'mailbox unavailable' });
      expect(await s.outbox.claimDue(new Date(afterClaim.getTime() + 86_400_000), 'n3', until, 10)).to.deep.equal([]);
    });

    it('queues a failed email again within its organisation only, attempts and last error kept', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const failed = (await s.outbox.enqueue(mail(org.id, 'f@example.test'), 10))!;
      const now = new Date(Date.now() + 1_000);
      await s.outbox.claimDue(now, 'n1', new Date(now.getTime() + 60_000), 10);
      expect(await s.outbox.markFailed(failed.id, 'n1', 'mailbox unavailable', null)).to.equal(true);
      const queued = (await s.outbox.enqueue(mail(org.id, 'q@example.test'), 10))!;

      expect(await s.outbox.requeueFailed(other.id, failed.id, now, 10), 'another organisation').to.equal(null);
      expect(await s.outbox.requeueFailed(org.id, queued.id, now, 10), 'not failed').to.equal(null);
      expect(await s.outbox.requeueFailed(org.id, 'no-such-id', now, 10)).to.equal(null);
      const later = new Date(now.getTime() + 5_000);
      const again = await s.outbox.requeueFailed(org.id, failed.id, later, 10);
      expect(again?.outcome).to.equal('queued');
      const requeued = again?.outcome === 'queued' ? again.mail : null;
      expect(requeued).to.deep.include({ id: failed.id, status: 'queued', attempts: 1, lastError: 'mailbox unavailable' });
      expect(requeued!.nextAttemptAt).to.deep.equal(later);
      expect(await s.outbox.requeueFailed(org.id, failed.id, later, 10), 'already queued').to.equal(null);
      // Due at `later`, not before: until then only the other email is claimed.
      expect((await s.outbox.claimDue(now, 'n2', new Date(now.getTime() + 60_000), 10)).map((m) => m.id)).to.deep.equal([queued.id]);
      const [claimed] = await s.outbox.claimDue(later, 'n2', new Date(later.getTime() + 60_000), 10);
      expect(claimed).to.deep.include({ id: failed.id, status: 'sending' });
    });

    it("queues a failed email again only within the bounds of a new one: its user's waiting email answers, a full outbox or share refuses", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const reset = (userId: string) => ({ ...mail(org.id, `${userId}@example.test`), category: 'reset' as const, userId, headers: {} });
      const now = new Date(Date.now() + 1_000);
      const failAll = async () => {
        for (const m of await s.outbox.claimDue(now, 'n1', new Date(now.getTime() + 60_000), 10)) {
          expect(await s.outbox.markFailed(m.id, 'n1', '550 refused', null)).to.equal(true);
        }
      };
      const failedReset = (await s.outbox.enqueue(reset('user-1'), 10))!;
      const failedAlert = (await s.outbox.enqueue(mail(org.id, 'alert@example.test'), 10))!;
      await failAll();
      const statusOf = async (id: string) => (await s.outbox.list(org.id, page())).items.find((m) => m.id === id)?.status;

      // The user asked again meanwhile: that email answers, and the failed one stays failed.
      const waiting = (await s.outbox.enqueue(reset('user-1'), 10))!;
      expect(await s.outbox.requeueFailed(org.id, failedReset.id, now, 10)).to.deep.equal({ outcome: 'waiting', mail: waiting });
      expect(await statusOf(failedReset.id)).to.equal('failed');
      // Another user's reset waiting fills the resets' share of one; the outbox still has room for an alert.
      await failAll();
      await s.outbox.enqueue(reset('user-2'), 10);
      expect(await s.outbox.requeueFailed(org.id, failedReset.id, now, 10, { reset: 1 })).to.deep.equal({ outcome: 'full' });
      expect(await statusOf(failedReset.id)).to.equal('failed');
      // Two waiting fill an outbox of two, whatever the category.
      await s.outbox.enqueue(mail(org.id, 'other@example.test'), 10);
      expect(await s.outbox.requeueFailed(org.id, failedAlert.id, now, 2, { reset: 1 })).to.deep.equal({ outcome: 'full' });
      expect(await statusOf(failedAlert.id)).to.equal('failed');
      const queued = await s.outbox.requeueFailed(org.id, failedAlert.id, now, 3, { reset: 1 });
      expect(queued?.outcome === 'queued' && queued.mail).to.deep.include({ id: failedAlert.id, status: 'queued' });
      expect(await s.outbox.requeueFailed(org.id, failedReset.id, now, 10, { reset: 2 })).to.deep.include({ outcome: 'queued' });
    });

    it('claims at most `limit`, oldest due first', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      for (const to of ['1@x.test', '2@x.test', '3@x.test']) await s.outbox.enqueue(mail(org.id, to), 10);
      const now = new Date(Date.now() + 1_000);
      const first = await s.outbox.claimDue(now, 'n1', new Date(now.getTime() + 60_000), 2);
      expect(first).to.have.length(2);
      expect(await s.outbox.claimDue(now, 'n1', new Date(now.getTime() + 60_000), 2)).to.have.length(1);
    });
  });

  describe('email preferences', function () {
    it('put replaces, get and getMany read within the organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      expect(await s.notificationPreferences.get(org.id, 'u1')).to.equal(null);
      const p = await s.notificationPreferences.put(org.id, 'u1', { language: 'fr', unsubscribed: ['digest', 'alert', 'digest'] });
      expect(p).to.deep.include({ orgId: org.id, userId: 'u1', language: 'fr', unsubscribed: ['alert', 'digest'] });
      expect(await s.notificationPreferences.get(org.id, 'u1')).to.deep.equal(p);
      const q = await s.notificationPreferences.put(org.id, 'u1', { language: 'en', unsubscribed: [] });
      expect(await s.notificationPreferences.get(org.id, 'u1')).to.deep.equal(q);
      await s.notificationPreferences.put(org.id, 'u2', { language: 'fr', unsubscribed: ['digest'] });
      await s.notificationPreferences.put(other.id, 'u3', { language: 'fr', unsubscribed: [] });
      expect((await s.notificationPreferences.getMany(org.id, ['u1', 'u2', 'u3'])).map((x) => x.userId)).to.deep.equal(['u1', 'u2']);
      expect(await s.notificationPreferences.get(other.id, 'u1')).to.equal(null);
    });

    it("keeps a null language (the organisation's) apart from a chosen one", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const p = await s.notificationPreferences.put(org.id, 'u1', { language: null, unsubscribed: ['digest'] });
      expect(p.language).to.equal(null);
      expect(await s.notificationPreferences.get(org.id, 'u1')).to.deep.equal(p);
      await s.notificationPreferences.put(org.id, 'u1', { language: 'fr', unsubscribed: ['digest'] });
      expect((await s.notificationPreferences.get(org.id, 'u1'))?.language).to.equal('fr');
      await s.notificationPreferences.put(org.id, 'u1', { language: null, unsubscribed: [] });
      expect((await s.notificationPreferences.getMany(org.id, ['u1']))[0]?.language).to.equal(null);
    });
  });
}
