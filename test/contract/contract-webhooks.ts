import { expect } from 'chai';
import type { Store } from '../../src/domain/ports/store.js';
import type { NewWebhookDelivery } from '../../src/domain/webhooks/webhook-ports.js';
import type { WebhookEventType } from '../../src/shared/webhooks.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, page } from './fixtures.js';

// Webhook endpoints, the delivery queue (leases, per-session order) and the attempts log.

const T0 = new Date(Date.UTC(2026, 2, 1, 8, 0, 0));
const at = (ms: number) => new Date(T0.getTime() + ms);
const DAY = 86_400_000;

async function endpoint(s: Store, orgId: string, events: WebhookEventType[] = ['record.created', 'session.closed']) {
  return s.webhooks.createEndpoint(orgId, { url: 'https://receiver.invalid/hook', description: null, secret: 'whsec_x', events }, T0);
}

function delivery(orgId: string, endpointId: string, orderKey: string, n: number): NewWebhookDelivery {
  return { orgId, endpointId, event: 'record.created', orderKey, body: JSON.stringify({ n }), createdAt: T0, retryUntil: at(DAY) };
}

export function webhooksContract(ctx: ContractContext): void {
  describe('webhooks', function () {
    it('purges deliveries finished before a time, with their attempts, and keeps pending or newer ones; counted per organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const e = await s.webhooks.createEndpoint(
        org.id,
        { url: 'https://receiver.test/hook', description: null, secret: 'whsec_p', events: ['record.created'] },
        T0,
      );
      const [done, gaveUp, waiting] = await s.webhooks.enqueue([
        delivery(org.id, e.id, 'A', 1),
        delivery(org.id, e.id, 'B', 1),
        delivery(org.id, e.id, 'C', 1),
      ]);
      const [recent] = await s.webhooks.enqueue([{ ...delivery(org.id, e.id, 'D', 1), createdAt: at(40 * DAY) }]);
      const finish = async (id: string, state: 'delivered' | 'abandoned', when: Date) => {
        await s.webhooks.claimDue('n', at(41 * DAY), when, 10);
        expect(await s.webhooks.settle(org.id, id, 'n', { at: when, statusCode: 200, error: null, durationMs: 1 }, { state })).to.equal(
          true,
        );
      };
      await finish(done!.id, 'delivered', at(1_000));
      await finish(gaveUp!.id, 'abandoned', at(2_000));
      await finish(recent!.id, 'delivered', at(40 * DAY + 1_000));
      expect(await s.webhooks.purgeFinished(at(30 * DAY))).to.deep.equal([{ orgId: org.id, count: 2 }]);
      expect(await s.webhooks.getDelivery(org.id, done!.id)).to.equal(null);
      expect(await s.webhooks.getDelivery(org.id, gaveUp!.id)).to.equal(null);
      expect(await s.webhooks.listAttempts(org.id, done!.id)).to.deep.equal([]);
      expect(await s.webhooks.getDelivery(org.id, waiting!.id)).to.not.equal(null);
      expect(await s.webhooks.listAttempts(org.id, recent!.id)).to.have.length(1);
      expect(await s.webhooks.purgeFinished(at(30 * DAY))).to.deep.equal([]);
    });

    it('creates, lists by subscription, updates and deletes endpoints inside the organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const e = await endpoint(s, org.id);
      expect(e).to.deep.include({ orgId: org.id, active: true, failingSince: null, events: ['record.created', 'session.closed'] });
      expect(await s.webhooks.getEndpoint(org.id, e.id)).to.deep.equal(e);
      expect(await s.webhooks.getEndpoint(other.id, e.id)).to.equal(null);
      expect((await s.webhooks.listSubscribed(org.id, 'record.created')).map((x) => x.id)).to.deep.equal([e.id]);
      expect(await s.webhooks.listSubscribed(org.id, 'record.changed')).to.deep.equal([]);
      expect(await s.webhooks.listSubscribed(other.id, 'record.created')).to.deep.equal([]);

      const failing = await s.webhooks.updateEndpoint(
        org.id,
        e.id,
        { active: false, failingSince: at(1), disabledAt: at(2), disabledReason: 'x' },
        at(3),
      );
      expect(failing).to.deep.include({
        active: false,
        failingSince: at(1),
        disabledAt: at(2),
        disabledReason: 'x',
        updatedAt: at(3),
        url: e.url,
      });
      expect(await s.webhooks.listSubscribed(org.id, 'record.created')).to.deep.equal([]);
      expect(await s.webhooks.updateEndpoint(other.id, e.id, { active: true }, at(4))).to.equal(null);
      expect(await s.webhooks.listEndpoints(org.id)).to.deep.equal([failing]);

      const back = await s.webhooks.updateEndpoint(org.id, e.id, { active: true, disabledAt: null, disabledReason: null }, at(5));
      expect(back).to.deep.include({ active: true, disabledAt: null });
      const disabling = await Promise.all([1, 2, 3].map(() => s.webhooks.disableEndpoint(org.id, e.id, 'failing', at(6))));
      expect(disabling.filter(Boolean), 'one of concurrent disables changes it').to.have.length(1);
      expect(await s.webhooks.getEndpoint(org.id, e.id)).to.deep.include({
        active: false,
        disabledAt: at(6),
        disabledReason: 'failing',
        updatedAt: at(6),
      });
      expect(await s.webhooks.disableEndpoint(other.id, e.id, 'x', at(7))).to.equal(false);
      await s.webhooks.enqueue([delivery(org.id, e.id, 'sess', 1)]);
      expect(await s.webhooks.deleteEndpoint(other.id, e.id)).to.equal(false);
      expect(await s.webhooks.deleteEndpoint(org.id, e.id)).to.equal(true);
      expect(await s.webhooks.listEndpoints(org.id)).to.deep.equal([]);
      expect((await s.webhooks.listDeliveries(org.id, e.id, page())).total).to.equal(0);
    });

    it("replaces an endpoint's secret inside the organisation only, leaving the rest as it was", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const e = await endpoint(s, org.id);
      expect(await s.webhooks.updateEndpoint(other.id, e.id, { secret: 'whsec_stolen' }, at(1))).to.equal(null);
      const rotated = await s.webhooks.updateEndpoint(org.id, e.id, { secret: 'whsec_new' }, at(2));
      expect(rotated).to.deep.equal({ ...e, secret: 'whsec_new', updatedAt: at(2) });
      expect(await s.webhooks.getEndpoint(org.id, e.id)).to.deep.equal(rotated);
      expect((await s.webhooks.listSubscribed(org.id, 'record.created'))[0]!.secret).to.equal('whsec_new');
    });

    it('claims only the head of each (endpoint, session) queue, each once, and only of active endpoints', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const e = await endpoint(s, org.id);
      const [a1, a2, b1] = await s.webhooks.enqueue([
        delivery(org.id, e.id, 'A', 1),
        delivery(org.id, e.id, 'A', 2),
        delivery(org.id, e.id, 'B', 1),
      ]);
      expect(a1!.seq).to.be.lessThan(a2!.seq);
      expect(a1).to.deep.include({ state: 'pending', attempts: 0, nextAttemptAt: T0, lastStatus: null });

      const first = await s.webhooks.claimDue('node-1', at(30_000), at(1), 10);
      expect(first.map((d) => d.id).sort()).to.deep.equal([a1!.id, b1!.id].sort());
      // Leased: another node gets nothing, and A's second waits behind the first.
      expect(await s.webhooks.claimDue('node-2', at(30_000), at(2), 10)).to.deep.equal([]);

      // A lease that runs out (a dead node) is taken over.
      const takeover = await s.webhooks.claimDue('node-2', at(60_000), at(30_001), 10);
      expect(takeover.map((d) => d.id).sort()).to.deep.equal([a1!.id, b1!.id].sort());
      // The first owner lost it: its late result is not recorded.
      expect(
        await s.webhooks.settle(
          org.id,
          a1!.id,
          'node-1',
          { at: at(30_002), statusCode: 200, error: null, durationMs: 5 },
          { state: 'delivered' },
        ),
      ).to.equal(false);

      expect(
        await s.webhooks.settle(
          org.id,
          a1!.id,
          'node-2',
          { at: at(30_002), statusCode: 200, error: null, durationMs: 5 },
          { state: 'delivered' },
        ),
      ).to.equal(true);
      expect(
        await s.webhooks.settle(
          org.id,
          b1!.id,
          'node-2',
          { at: at(30_003), statusCode: 500, error: 'HTTP 500', durationMs: 7 },
          { state: 'pending', nextAttemptAt: at(40_000) },
        ),
      ).to.equal(true);
      const next = await s.webhooks.claimDue('node-1', at(70_000), at(30_004), 10);
      expect(next.map((d) => d.id)).to.deep.equal([a2!.id]);

      const b = await s.webhooks.getDelivery(org.id, b1!.id);
      expect(b).to.deep.include({ state: 'pending', attempts: 1, lastStatus: 500, lastError: 'HTTP 500', nextAttemptAt: at(40_000) });
      expect(await s.webhooks.listAttempts(org.id, b1!.id)).to.deep.equal([
        { deliveryId: b1!.id, orgId: org.id, at: at(30_003), statusCode: 500, error: 'HTTP 500', durationMs: 7 },
      ]);
      expect(await s.webhooks.getDelivery(org.id, a1!.id)).to.deep.include({ state: 'delivered', attempts: 1, deliveredAt: at(30_002) });

      // A disabled endpoint's due deliveries stay queued, unclaimed.
      await s.webhooks.updateEndpoint(org.id, e.id, { active: false }, at(40_000));
      expect(await s.webhooks.claimDue('node-1', at(90_000), at(45_000), 10)).to.deep.equal([]);
    });

    it('an abandoned head no longer holds its queue back; redelivery puts it back first', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const e = await endpoint(s, org.id);
      const [d1, d2] = await s.webhooks.enqueue([delivery(org.id, e.id, 'A', 1), delivery(org.id, e.id, 'A', 2)]);
      await s.webhooks.claimDue('n', at(10_000), at(1), 10);
      await s.webhooks.settle(
        org.id,
        d1!.id,
        'n',
        { at: at(2), statusCode: null, error: 'timeout', durationMs: 10_000 },
        { state: 'abandoned' },
      );
      expect((await s.webhooks.claimDue('n', at(10_000), at(3), 10)).map((d) => d.id)).to.deep.equal([d2!.id]);
      await s.webhooks.settle(org.id, d2!.id, 'n', { at: at(4), statusCode: 204, error: null, durationMs: 1 }, { state: 'delivered' });

      const again = await s.webhooks.redeliver(org.id, d1!.id, at(5), at(5 + DAY));
      expect(again).to.deep.include({ id: d1!.id, state: 'pending', nextAttemptAt: at(5), retryUntil: at(5 + DAY), attempts: 1 });
      expect(await s.webhooks.redeliver((await makeOrg(s)).id, d1!.id, at(5), at(5 + DAY))).to.equal(null);
      expect((await s.webhooks.claimDue('n', at(10_000), at(6), 10)).map((d) => d.id)).to.deep.equal([d1!.id]);

      const log = await s.webhooks.listDeliveries(org.id, e.id, page(1, 0));
      expect(log.total).to.equal(2);
      expect(log.items.map((d) => d.id)).to.deep.equal([d2!.id]);
    });

    it('concurrent claims never hand out one delivery twice', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const e = await endpoint(s, org.id);
      await s.webhooks.enqueue(Array.from({ length: 12 }, (_, i) => delivery(org.id, e.id, `S${i}`, i)));
      const claims = await Promise.all(['a', 'b', 'c'].map((owner) => s.webhooks.claimDue(owner, at(60_000), at(1), 12)));
      const ids = claims.flat().map((d) => d.id);
      expect(ids).to.have.length(12);
      expect(new Set(ids).size).to.equal(12);
    });
  });
}
