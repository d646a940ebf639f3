import { newId } from '../../shared/ids.js';
import type { AlertPayload, AlertRuleKind, NotificationCategory } from '../../shared/alerts.js';
import type { AlertRepository, AlertRule } from '../../domain/ports/alerts.js';
import type { Notification, NotificationRepository } from '../../domain/ports/notifications.js';
import type { SqliteDb } from './db.js';
import { totalFromPage } from '../../domain/paging.js';

// Alert rules, whether each is crossed per (subject, student), and users' notifications.

interface RuleRow {
  id: string;
  org_id: string;
  kind: string;
  count: number;
  threshold_pct: number | null;
  window_days: number | null;
  created_at: number;
}

interface NotificationRow {
  id: string;
  org_id: string;
  user_id: string;
  category: string;
  alert: string;
  created_at: number;
  read_at: number | null;
}

const ruleFromRow = (r: RuleRow): AlertRule => ({
  id: r.id,
  orgId: r.org_id,
  kind: r.kind as AlertRuleKind,
  count: r.count,
  thresholdPct: r.threshold_pct,
  windowDays: r.window_days,
  createdAt: new Date(r.created_at),
});

const notificationFromRow = (r: NotificationRow): Notification => ({
  id: r.id,
  orgId: r.org_id,
  userId: r.user_id,
  category: r.category as NotificationCategory,
  alert: JSON.parse(r.alert) as AlertPayload,
  createdAt: new Date(r.created_at),
  readAt: r.read_at === null ? null : new Date(r.read_at),
});

export function alertRepository(db: SqliteDb, clock: () => Date): AlertRepository {
  return {
    async createRule(orgId, input) {
      const rule: AlertRule = { id: newId(), orgId, ...input, createdAt: clock() };
      db.stmt(
        `INSERT INTO alert_rules (id, org_id, kind, count, threshold_pct, window_days, created_at)
         VALUES (@id, @orgId, @kind, @count, @thresholdPct, @windowDays, @createdAt)`,
      ).run({ ...rule, createdAt: rule.createdAt.getTime() });
      return rule;
    },
    async listRules(orgId) {
      return db.stmt<RuleRow>('SELECT * FROM alert_rules WHERE org_id = ? ORDER BY created_at, rowid').all(orgId).map(ruleFromRow);
    },
    async deleteRule(orgId, id) {
      return db.tx(() => {
        db.stmt('DELETE FROM alert_states WHERE org_id = ? AND rule_id = ?').run(orgId, id);
        return db.stmt('DELETE FROM alert_rules WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
      });
    },
    async setFiring(orgId, ruleId, subjectId, studentId, firing) {
      const key = { orgId, ruleId, subjectId, studentId };
      if (!firing) {
        return (
          db
            .stmt(
              'UPDATE alert_states SET firing = 0 WHERE org_id = @orgId AND rule_id = @ruleId AND subject_id = @subjectId AND student_id = @studentId AND firing = 1',
            )
            .run(key).changes === 1
        );
      }
      return (
        db
          .stmt(
            `INSERT INTO alert_states (org_id, rule_id, subject_id, student_id, firing) VALUES (@orgId, @ruleId, @subjectId, @studentId, 1)
             ON CONFLICT (org_id, rule_id, subject_id, student_id) DO UPDATE SET firing = 1 WHERE alert_states.firing = 0`,
          )
          .run(key).changes === 1
      );
    },
  };
}

/** A notification's alert is about the student bound here; read among one user's rows, so no index. */
const ABOUT_STUDENT = "json_extract(alert, '$.studentId') = ?";

export function notificationRepository(db: SqliteDb, clock: () => Date): NotificationRepository {
  return {
    async createMany(inputs) {
      const at = clock();
      const created: Notification[] = inputs.map((input) => ({ id: newId(), ...input, createdAt: at, readAt: null }));
      db.tx(() => {
        const next = db.stmt<{ seq: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM notifications').get()!.seq;
        created.forEach((n, i) =>
          db
            .stmt(
              `INSERT INTO notifications (id, org_id, user_id, category, alert, created_at, read_at, seq)
               VALUES (?, ?, ?, ?, ?, ?, NULL, ?)`,
            )
            .run(n.id, n.orgId, n.userId, n.category, JSON.stringify(n.alert), at.getTime(), next + i),
        );
      });
      return created;
    },
    async list(orgId, userId, filter) {
      const unread = filter.unreadOnly ? ' AND read_at IS NULL' : '';
      const about = filter.aboutStudentId === undefined ? '' : ` AND ${ABOUT_STUDENT}`;
      const where = `org_id = ? AND user_id = ?${unread}${about}`;
      const args = filter.aboutStudentId === undefined ? [orgId, userId] : [orgId, userId, filter.aboutStudentId];
      const items = db
        .stmt<NotificationRow>(`SELECT * FROM notifications WHERE ${where} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`)
        .all(...args, filter.limit, filter.offset)
        .map(notificationFromRow);
      const total =
        totalFromPage(items.length, filter) ??
        db.stmt<{ n: number }>(`SELECT COUNT(*) AS n FROM notifications WHERE ${where}`).get(...args)!.n;
      return { items, total };
    },
    async unreadCount(orgId, userId, aboutStudentId) {
      if (aboutStudentId !== undefined) {
        return db
          .stmt<{ n: number }>(
            `SELECT COUNT(*) AS n FROM notifications WHERE org_id = ? AND user_id = ? AND read_at IS NULL AND ${ABOUT_STUDENT}`,
          )
          .get(orgId, userId, aboutStudentId)!.n;
      }
      return db
        .stmt<{ n: number }>('SELECT COUNT(*) AS n FROM notifications WHERE org_id = ? AND user_id = ? AND read_at IS NULL')
        .get(orgId, userId)!.n;
    },
    async markRead(orgId, userId, ids, at) {
      if (ids === null) {
        return db
          .stmt('UPDATE notifications SET read_at = ? WHERE org_id = ? AND user_id = ? AND read_at IS NULL')
          .run(at.getTime(), orgId, userId).changes;
      }
      return db
        .stmt(
          'UPDATE notifications SET read_at = ? WHERE org_id = ? AND user_id = ? AND read_at IS NULL AND id IN (SELECT value FROM json_each(?))',
        )
        .run(at.getTime(), orgId, userId, JSON.stringify(ids)).changes;
    },
  };
}
