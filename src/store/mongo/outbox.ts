import { purgeByOrg } from './identity.js';
import { newOutboxMailEntity } from '../new-entities.js';
import type { NotificationPreferenceRepository, NotificationPreferences } from '../../domain/ports/notifications.js';
import { URGENT_OUTBOX_CATEGORIES, type OutboxCategory } from '../../shared/alerts.js';
import type { OutboxMail, OutboxRepository } from '../../domain/ports/outbox.js';
import type { QueryFilter } from 'mongoose';
import type { Models } from './models.js';
import type { NotificationPreferenceDoc } from './alert-schemas.js';
import type { OutboxDoc } from './outbox-schemas.js';
import { pagedList } from './paged-list.js';
import { escapeRegExp } from '../../domain/privacy/erasure-rules.js';

// The email outbox (claimed per document, so each email is sent by one node) and users' email preferences.

const toMail = (d: OutboxDoc): OutboxMail => ({
  id: d._id,
  orgId: d.orgId,
  category: d.category,
  userId: d.userId ?? null,
  to: d.to,
  subject: d.subject,
  text: d.text,
  html: d.html,
  headers: d.headers ?? {},
  status: d.status,
  attempts: d.attempts,
  lastError: d.lastError ?? null,
  nextAttemptAt: d.nextAttemptAt,
  claimedBy: d.claimedBy ?? null,
  claimUntil: d.claimUntil ?? null,
  createdAt: d.createdAt,
  sentAt: d.sentAt ?? null,
});

export function outboxRepository(m: Models, clock: () => Date): OutboxRepository {
  /** The email of `category` queued for the user, if any (one serves every request for them). */
  const waitingFor = (orgId: string, category: OutboxCategory, userId: string | null): Promise<OutboxDoc | null> =>
    userId === null ? Promise.resolve(null) : m.outbox.findOne({ orgId, category, userId, status: 'queued' }).lean<OutboxDoc>().exec();
  /** Whether the organisation has `maxWaiting` emails queued or sending, or `categoryMax` of `category`. */
  const isFull = async (orgId: string, category: OutboxCategory, maxWaiting: number, categoryMax: number | undefined): Promise<boolean> => {
    if ((await m.outbox.countDocuments({ orgId, status: { $in: ['queued', 'sending'] } })) >= maxWaiting) return true;
    if (categoryMax === undefined) return false;
    return (await m.outbox.countDocuments({ orgId, category, status: { $in: ['queued', 'sending'] } })) >= categoryMax;
  };
  return {
    async purgeFinished(before) {
      return purgeByOrg(m.outbox, { status: { $in: ['sent', 'failed'] }, createdAt: { $lt: before } });
    },
    async enqueue(input, maxWaiting, categoryMaxWaiting) {
      // The bounds are soft ones across nodes (count, then insert): they cap memory and SMTP
      // load, not an exact number; so is the one email queued per user and category.
      const queued = await waitingFor(input.orgId, input.category, input.userId ?? null);
      if (queued) return toMail(queued);
      if (await isFull(input.orgId, input.category, maxWaiting, categoryMaxWaiting)) return null;
      const mail = newOutboxMailEntity(input, clock());
      const { id, ...rest } = mail;
      await m.outbox.create({ _id: id, ...rest });
      return mail;
    },
    async enqueueMany(inputs, maxWaiting, categoryMaxWaiting = {}) {
      if (inputs.length === 0) return [];
      // Enqueue's rules, one email after another, over counts and waiting emails read once:
      // one count per organisation and bounded category, one read of the users' waiting
      // emails, one insert. As soft across nodes as enqueue's.
      const orgIds = [...new Set(inputs.map((i) => i.orgId))];
      const active = { status: { $in: ['queued' as const, 'sending' as const] } };
      const waitingCount = new Map<string, number>();
      for (const orgId of orgIds) waitingCount.set(orgId, await m.outbox.countDocuments({ orgId, ...active }));
      const categoryKey = (orgId: string, category: OutboxCategory) => `${orgId}\n${category}`;
      const categoryCount = new Map<string, number>();
      for (const { orgId, category } of inputs) {
        const key = categoryKey(orgId, category);
        if (categoryMaxWaiting[category] === undefined || categoryCount.has(key)) continue;
        categoryCount.set(key, await m.outbox.countDocuments({ orgId, category, ...active }));
      }
      const userKey = (orgId: string, category: OutboxCategory, userId: string) => `${orgId}\n${category}\n${userId}`;
      const userIds = [...new Set(inputs.flatMap((i) => (i.userId ? [i.userId] : [])))];
      const waiting = new Map<string, OutboxMail>();
      if (userIds.length > 0) {
        const docs = await m.outbox.find({ orgId: { $in: orgIds }, userId: { $in: userIds }, status: 'queued' }).lean<OutboxDoc[]>();
        for (const d of docs) {
          if (d.userId) waiting.set(userKey(d.orgId, d.category, d.userId), toMail(d));
        }
      }
      const now = clock();
      const added: OutboxMail[] = [];
      const results = inputs.map((input): OutboxMail | null => {
        const key = input.userId ? userKey(input.orgId, input.category, input.userId) : null;
        const queued = key === null ? undefined : waiting.get(key);
        if (queued) return queued;
        const cap = categoryMaxWaiting[input.category];
        const ofCategory = categoryCount.get(categoryKey(input.orgId, input.category)) ?? 0;
        if (waitingCount.get(input.orgId)! >= maxWaiting || (cap !== undefined && ofCategory >= cap)) return null;
        const mail = newOutboxMailEntity(input, now);
        waitingCount.set(input.orgId, waitingCount.get(input.orgId)! + 1);
        if (cap !== undefined) categoryCount.set(categoryKey(input.orgId, input.category), ofCategory + 1);
        if (key !== null) waiting.set(key, mail);
        added.push(mail);
        return mail;
      });
      if (added.length > 0) {
        await m.outbox.insertMany(
          added.map(({ id, ...rest }) => ({ _id: id, ...rest })),
          { ordered: false },
        );
      }
      return results;
    },
    async claimDue(now, owner, until, limit) {
      const claimed: OutboxMail[] = [];
      const due: QueryFilter<OutboxDoc> = {
        $or: [
          { status: 'queued', nextAttemptAt: { $lte: now } },
          { status: 'sending', claimUntil: { $lt: now } },
        ],
      };
      // The urgent categories first, as the SQLite adapter orders them; then any due email.
      let filter: QueryFilter<OutboxDoc> = { ...due, category: { $in: [...URGENT_OUTBOX_CATEGORIES] } };
      // One document at a time: findOneAndUpdate is atomic per document, so two nodes never claim one email.
      while (claimed.length < limit) {
        const d = await m.outbox
          .findOneAndUpdate(
            filter,
            { $set: { status: 'sending', claimedBy: owner, claimUntil: until } },
            { sort: { nextAttemptAt: 1, createdAt: 1, _id: 1 }, returnDocument: 'after' },
          )
          .lean<OutboxDoc>();
        if (d) {
          claimed.push(toMail(d));
        } else if (filter !== due) {
          filter = due;
        } else {
          break;
        }
      }
      return claimed;
    },
    async markSent(id, owner, at) {
      const res = await m.outbox.updateOne(
        { _id: id, status: 'sending', claimedBy: owner },
        { $set: { status: 'sent', sentAt: at, lastError: null, claimedBy: null, claimUntil: null }, $inc: { attempts: 1 } },
      );
      return res.modifiedCount === 1;
    },
    async markFailed(id, owner, error, retryAt) {
      const res = await m.outbox.updateOne(
        { _id: id, status: 'sending', claimedBy: owner },
        {
          $set: {
            status: retryAt ? 'queued' : 'failed',
            lastError: error,
            claimedBy: null,
            claimUntil: null,
            ...(retryAt ? { nextAttemptAt: retryAt } : {}),
          },
          $inc: { attempts: 1 },
        },
      );
      return res.modifiedCount === 1;
    },
    async requeueFailed(orgId, id, at, maxWaiting, categoryMaxWaiting = {}) {
      const failed = await m.outbox.findOne({ _id: id, orgId, status: 'failed' }).lean<OutboxDoc>();
      if (!failed) return null;
      // The bounds of enqueue, as soft across nodes as there, in the same order.
      const waiting = await waitingFor(orgId, failed.category, failed.userId ?? null);
      if (waiting) return { outcome: 'waiting' as const, mail: toMail(waiting) };
      if (await isFull(orgId, failed.category, maxWaiting, categoryMaxWaiting[failed.category])) return { outcome: 'full' as const };
      const d = await m.outbox
        .findOneAndUpdate(
          { _id: id, orgId, status: 'failed' },
          { $set: { status: 'queued', nextAttemptAt: at } },
          { returnDocument: 'after' },
        )
        .lean<OutboxDoc>();
      // Queued again by another admin meanwhile: no longer a failed email.
      return d ? { outcome: 'queued' as const, mail: toMail(d) } : null;
    },
    async list(orgId, filter) {
      const query = {
        orgId,
        ...(filter.status ? { status: filter.status } : {}),
        // Anchored, case ignored, the address's own regex characters escaped to mean themselves.
        ...(filter.recipient ? { to: { $regex: `^${escapeRegExp(filter.recipient)}`, $options: 'i' } } : {}),
      };
      return pagedList(
        () => m.outbox.find(query).sort({ createdAt: -1, _id: -1 }).skip(filter.offset).limit(filter.limit).lean<OutboxDoc[]>(),
        () => m.outbox.countDocuments(query),
        filter,
        toMail,
      );
    },
  };
}

const toPrefs = (d: NotificationPreferenceDoc): NotificationPreferences => ({
  orgId: d.orgId,
  userId: d.userId,
  language: d.language ?? null,
  unsubscribed: [...(d.unsubscribed ?? [])],
  updatedAt: d.updatedAt,
});

export function notificationPreferenceRepository(m: Models, clock: () => Date): NotificationPreferenceRepository {
  return {
    async get(orgId, userId) {
      const d = await m.notificationPreferences.findOne({ _id: `${orgId}|${userId}` }).lean<NotificationPreferenceDoc>();
      return d ? toPrefs(d) : null;
    },
    async getMany(orgId, userIds) {
      const docs = await m.notificationPreferences
        .find({ _id: { $in: userIds.map((u) => `${orgId}|${u}`) } })
        .sort({ userId: 1 })
        .lean<NotificationPreferenceDoc[]>();
      return docs.map(toPrefs);
    },
    async put(orgId, userId, prefs) {
      const p: NotificationPreferences = {
        orgId,
        userId,
        language: prefs.language,
        unsubscribed: [...new Set(prefs.unsubscribed)].sort(),
        updatedAt: clock(),
      };
      await m.notificationPreferences.updateOne(
        { _id: `${orgId}|${userId}` },
        { $set: { orgId, userId, language: p.language, unsubscribed: p.unsubscribed, updatedAt: p.updatedAt } },
        { upsert: true },
      );
      return p;
    },
  };
}
