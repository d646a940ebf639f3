import { newId } from '../../shared/ids.js';
import type { AlertRepository, AlertRule } from '../../domain/ports/alerts.js';
import type { Notification, NotificationRepository } from '../../domain/ports/notifications.js';
import { isDuplicateKeyError } from './errors.js';
import type { Models } from './models.js';
import type { AlertRuleDoc, NotificationDoc } from './alert-schemas.js';
import { pagedList } from './paged-list.js';

// Alert rules, whether each is crossed per (subject, student), and users' notifications.

const toRule = (d: AlertRuleDoc): AlertRule => ({
  id: d._id,
  orgId: d.orgId,
  kind: d.kind,
  count: d.count,
  thresholdPct: d.thresholdPct ?? null,
  windowDays: d.windowDays ?? null,
  createdAt: d.createdAt,
});

export const toNotification = (d: NotificationDoc): Notification => ({
  id: d._id,
  orgId: d.orgId,
  userId: d.userId,
  category: d.category,
  alert: d.alert,
  createdAt: d.createdAt,
  readAt: d.readAt ?? null,
});

export function alertRepository(m: Models, clock: () => Date): AlertRepository {
  return {
    async createRule(orgId, input) {
      const rule: AlertRule = { id: newId(), orgId, ...input, createdAt: clock() };
      const { id, ...rest } = rule;
      await m.alertRules.create({ _id: id, ...rest });
      return rule;
    },
    async listRules(orgId) {
      const docs = await m.alertRules.find({ orgId }).sort({ createdAt: 1, _id: 1 }).lean<AlertRuleDoc[]>();
      return docs.map(toRule);
    },
    async deleteRule(orgId, id) {
      const res = await m.alertRules.deleteOne({ orgId, _id: id });
      await m.alertStates.deleteMany({ orgId, ruleId: id });
      return res.deletedCount === 1;
    },
    async setFiring(orgId, ruleId, subjectId, studentId, firing) {
      const _id = [orgId, ruleId, subjectId, studentId].join('|');
      if (!firing) {
        const res = await m.alertStates.updateOne({ _id, firing: true }, { $set: { firing: false } });
        return res.modifiedCount === 1;
      }
      // A conditional upsert: when the state is already firing the filter misses and the insert
      // of the same `_id` fails on the duplicate key, which means another caller got there first.
      try {
        await m.alertStates.updateOne(
          { _id, firing: { $ne: true } },
          { $set: { firing: true }, $setOnInsert: { orgId, ruleId } },
          { upsert: true },
        );
        return true;
      } catch (err) {
        if (isDuplicateKeyError(err)) return false;
        throw err;
      }
    },
  };
}

export function notificationRepository(m: Models, clock: () => Date): NotificationRepository {
  return {
    async createMany(inputs) {
      const at = clock();
      const created: Notification[] = inputs.map((input) => ({ id: newId(), ...input, createdAt: at, readAt: null }));
      if (created.length > 0) {
        await m.notifications.insertMany(created.map(({ id, ...rest }) => ({ _id: id, ...rest })));
      }
      return created;
    },
    async list(orgId, userId, filter) {
      const query = {
        orgId,
        userId,
        ...(filter.unreadOnly ? { readAt: null } : {}),
        ...(filter.aboutStudentId === undefined ? {} : { 'alert.studentId': filter.aboutStudentId }),
      };
      return pagedList(
        () =>
          m.notifications.find(query).sort({ createdAt: -1, _id: -1 }).skip(filter.offset).limit(filter.limit).lean<NotificationDoc[]>(),
        () => m.notifications.countDocuments(query),
        filter,
        toNotification,
      );
    },
    async unreadCount(orgId, userId, aboutStudentId) {
      return m.notifications.countDocuments({
        orgId,
        userId,
        readAt: null,
        ...(aboutStudentId === undefined ? {} : { 'alert.studentId': aboutStudentId }),
      });
    },
    async markRead(orgId, userId, ids, at) {
      const res = await m.notifications.updateMany(
        { orgId, userId, readAt: null, ...(ids === null ? {} : { _id: { $in: ids } }) },
        { $set: { readAt: at } },
      );
      return res.modifiedCount;
    },
  };
}
