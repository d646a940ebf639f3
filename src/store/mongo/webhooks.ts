import { purgeByOrg } from './identity.js';
import { newId } from '../../shared/ids.js';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookRepository } from '../../domain/webhooks/webhook-ports.js';
import type { QueryFilter } from 'mongoose';
import type { Models } from './models.js';
import type { WebhookAttemptDoc, WebhookDeliveryDoc, WebhookEndpointDoc } from './webhook-schemas.js';
import { newWebhookEndpointEntity } from '../new-entities.js';
import { pagedList } from './paged-list.js';

/** The `webhookCounters` document holding the last delivery seq handed out. */
export const DELIVERY_COUNTER = 'deliveries';

function endpointOf({ _id, ...d }: WebhookEndpointDoc): WebhookEndpoint {
  return { id: _id, ...d, events: [...d.events], description: d.description ?? null };
}

function deliveryOf({ _id, leaseOwner: _o, leaseUntil: _u, ...d }: WebhookDeliveryDoc): WebhookDelivery {
  return { id: _id, ...d };
}

function attemptOf({ _id: _i, ...a }: WebhookAttemptDoc): WebhookAttempt {
  return a;
}

export function webhookRepository(m: Models): WebhookRepository {
  const getEndpoint = async (orgId: string, id: string) => {
    const d = await m.webhookEndpoints.findOne({ _id: id, orgId }).lean<WebhookEndpointDoc>();
    return d ? endpointOf(d) : null;
  };
  const getDelivery = async (orgId: string, id: string) => {
    const d = await m.webhookDeliveries.findOne({ _id: id, orgId }).lean<WebhookDeliveryDoc>();
    return d ? deliveryOf(d) : null;
  };
  const leaseFree = (now: Date) => [{ leaseUntil: null }, { leaseUntil: { $lt: now } }];
  return {
    async purgeFinished(before) {
      const done: QueryFilter<WebhookDeliveryDoc> = { state: { $in: ['delivered', 'abandoned'] }, createdAt: { $lt: before } };
      const ids = (await m.webhookDeliveries.find(done, { _id: 1 }).lean<{ _id: string }[]>()).map((d) => d._id);
      // Attempts first: a crash in between leaves deliveries to purge again, never orphaned attempts.
      if (ids.length > 0) await m.webhookAttempts.deleteMany({ deliveryId: { $in: ids } });
      return purgeByOrg(m.webhookDeliveries, { ...done, _id: { $in: ids } } as QueryFilter<WebhookDeliveryDoc>);
    },
    async createEndpoint(orgId, input, now) {
      const { id, ...rest } = newWebhookEndpointEntity(orgId, input, now);
      const doc: WebhookEndpointDoc = { _id: id, ...rest };
      await m.webhookEndpoints.insertMany([doc], { lean: true });
      return endpointOf(doc);
    },
    getEndpoint,
    async listEndpoints(orgId) {
      return (await m.webhookEndpoints.find({ orgId }).sort({ createdAt: 1, _id: 1 }).lean<WebhookEndpointDoc[]>()).map(endpointOf);
    },
    async listSubscribed(orgId, event) {
      return (
        await m.webhookEndpoints.find({ orgId, active: true, events: event }).sort({ createdAt: 1, _id: 1 }).lean<WebhookEndpointDoc[]>()
      ).map(endpointOf);
    },
    async updateEndpoint(orgId, id, patch, now) {
      const set: Record<string, unknown> = { updatedAt: now };
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) set[k] = v;
      const d = await m.webhookEndpoints
        .findOneAndUpdate({ _id: id, orgId }, { $set: set }, { returnDocument: 'after' })
        .lean<WebhookEndpointDoc>();
      return d ? endpointOf(d) : null;
    },
    async disableEndpoint(orgId, id, reason, now) {
      const res = await m.webhookEndpoints.updateOne(
        { _id: id, orgId, active: true },
        { $set: { active: false, disabledAt: now, disabledReason: reason, updatedAt: now } },
      );
      return res.modifiedCount === 1;
    },
    async deleteEndpoint(orgId, id) {
      const ids = (await m.webhookDeliveries.find({ orgId, endpointId: id }, { _id: 1 }).lean<{ _id: string }[]>()).map((d) => d._id);
      if (ids.length > 0) await m.webhookAttempts.deleteMany({ orgId, deliveryId: { $in: ids } });
      await m.webhookDeliveries.deleteMany({ orgId, endpointId: id });
      return (await m.webhookEndpoints.deleteOne({ _id: id, orgId })).deletedCount === 1;
    },
    async enqueue(inputs) {
      if (inputs.length === 0) return [];
      // One $inc reserves a block of seq numbers for the batch.
      const counter = await m.webhookCounters
        .findOneAndUpdate({ _id: DELIVERY_COUNTER }, { $inc: { value: inputs.length } }, { upsert: true, returnDocument: 'after' })
        .lean<{ value: number }>();
      const first = counter!.value - inputs.length + 1;
      const docs: WebhookDeliveryDoc[] = inputs.map((d, i) => ({
        _id: d.id ?? newId(),
        orgId: d.orgId,
        endpointId: d.endpointId,
        event: d.event,
        orderKey: d.orderKey,
        seq: first + i,
        body: d.body,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: d.createdAt,
        retryUntil: d.retryUntil,
        lastStatus: null,
        lastError: null,
        leaseOwner: null,
        leaseUntil: null,
        createdAt: d.createdAt,
        deliveredAt: null,
      }));
      await m.webhookDeliveries.insertMany(docs, { ordered: true, lean: true });
      return docs.map(deliveryOf);
    },
    getDelivery,
    async listDeliveries(orgId, endpointId, page) {
      return pagedList(
        () =>
          m.webhookDeliveries
            .find({ orgId, endpointId })
            .sort({ seq: -1 })
            .skip(page.offset)
            .limit(page.limit)
            .lean<WebhookDeliveryDoc[]>(),
        () => m.webhookDeliveries.countDocuments({ orgId, endpointId }),
        page,
        deliveryOf,
      );
    },
    async listAttempts(orgId, deliveryId) {
      return (await m.webhookAttempts.find({ orgId, deliveryId }).sort({ at: 1, _id: 1 }).lean<WebhookAttemptDoc[]>()).map(attemptOf);
    },
    async claimDue(owner, until, now, limit) {
      // Candidates first, then one conditional update each: the update's filter (still pending,
      // lease free) is what makes a claim exclusive between nodes.
      const candidates = await m.webhookDeliveries
        .find({ state: 'pending', nextAttemptAt: { $lte: now }, $or: leaseFree(now) })
        .sort({ nextAttemptAt: 1, seq: 1 })
        .limit(limit * 4)
        .lean<WebhookDeliveryDoc[]>();
      const endpointIds = [...new Set(candidates.map((c) => c.endpointId))];
      const active = new Set(
        (await m.webhookEndpoints.find({ _id: { $in: endpointIds }, active: true }, { _id: 1 }).lean<{ _id: string }[]>()).map(
          (e) => e._id,
        ),
      );
      const claimed: WebhookDelivery[] = [];
      const queues = new Set<string>();
      for (const c of candidates) {
        if (claimed.length >= limit) break;
        const queue = `${c.endpointId}\u0000${c.orderKey}`;
        if (!active.has(c.endpointId) || queues.has(queue)) continue;
        queues.add(queue);
        const earlier = await m.webhookDeliveries.exists({
          endpointId: c.endpointId,
          orderKey: c.orderKey,
          state: 'pending',
          seq: { $lt: c.seq },
        });
        if (earlier) continue;
        const d = await m.webhookDeliveries
          .findOneAndUpdate(
            { _id: c._id, state: 'pending', $or: leaseFree(now) },
            { $set: { leaseOwner: owner, leaseUntil: until } },
            { returnDocument: 'after' },
          )
          .lean<WebhookDeliveryDoc>();
        if (d) claimed.push(deliveryOf(d));
      }
      return claimed;
    },
    async settle(orgId, id, owner, attempt, outcome) {
      const set: Record<string, unknown> = {
        state: outcome.state,
        lastStatus: attempt.statusCode,
        lastError: attempt.error,
        deliveredAt: outcome.state === 'delivered' ? attempt.at : null,
        leaseOwner: null,
        leaseUntil: null,
      };
      if (outcome.state === 'pending') set.nextAttemptAt = outcome.nextAttemptAt;
      const res = await m.webhookDeliveries.updateOne({ _id: id, orgId, leaseOwner: owner }, { $set: set, $inc: { attempts: 1 } });
      if (res.modifiedCount !== 1) return false;
      await m.webhookAttempts.insertMany([{ _id: newId(), deliveryId: id, orgId, ...attempt }], { lean: true });
      return true;
    },
    async redeliver(orgId, id, now, retryUntil) {
      const d = await m.webhookDeliveries
        .findOneAndUpdate(
          { _id: id, orgId },
          { $set: { state: 'pending', nextAttemptAt: now, retryUntil, deliveredAt: null } },
          { returnDocument: 'after' },
        )
        .lean<WebhookDeliveryDoc>();
      return d ? deliveryOf(d) : null;
    },
  };
}
