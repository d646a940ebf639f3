import { countByOrg } from './identity.js';
import { newOutboxMailEntity } from '../new-entities.js';
import { URGENT_OUTBOX_CATEGORIES, type EmailCategory, type OutboxCategory } from '../../shared/alerts.js';
import { isLanguage } from '../../shared/i18n/languages.js';
import type { NotificationPreferenceRepository, NotificationPreferences } from '../../domain/ports/notifications.js';
import type { OutboxFilter, OutboxMail, OutboxRepository, OutboxStatus } from '../../domain/ports/outbox.js';
import type { SqliteDb } from './db.js';
import { totalFromPage } from '../../domain/paging.js';

/** The claim order's first categories, as claimDue's bound parameter. */
const URGENT = JSON.stringify(URGENT_OUTBOX_CATEGORIES);

// The email outbox (claimed per row, so each email is sent by one node) and users' email preferences.

interface OutboxRow {
  id: string;
  org_id: string;
  category: string;
  user_id: string | null;
  recipient: string;
  subject: string;
  text: string;
  html: string;
  headers: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  claimed_by: string | null;
  claim_until: number | null;
  created_at: number;
  sent_at: number | null;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

const fromRow = (r: OutboxRow): OutboxMail => ({
  id: r.id,
  orgId: r.org_id,
  category: r.category as OutboxCategory,
  userId: r.user_id,
  to: r.recipient,
  subject: r.subject,
  text: r.text,
  html: r.html,
  headers: JSON.parse(r.headers) as Record<string, string>,
  status: r.status as OutboxStatus,
  attempts: r.attempts,
  lastError: r.last_error,
  nextAttemptAt: new Date(r.next_attempt_at),
  claimedBy: r.claimed_by,
  claimUntil: date(r.claim_until),
  createdAt: new Date(r.created_at),
  sentAt: date(r.sent_at),
});

export function outboxRepository(db: SqliteDb, clock: () => Date): OutboxRepository {
  /** The email of `category` queued for the user, if any (one serves every request for them). */
  const waitingFor = (orgId: string, category: string, userId: string | null): OutboxRow | undefined =>
    userId === null
      ? undefined
      : db
          .stmt<OutboxRow>("SELECT * FROM outbox WHERE status = 'queued' AND org_id = ? AND category = ? AND user_id = ? LIMIT 1")
          .get(orgId, category, userId);
  /** Whether the organisation has `maxWaiting` emails queued or sending, or `categoryMax` of `category`. */
  const isFull = (orgId: string, category: OutboxCategory, maxWaiting: number, categoryMax: number | undefined): boolean => {
    const waiting = db
      .stmt<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE org_id = ? AND status IN ('queued', 'sending')")
      .get(orgId)!.n;
    if (waiting >= maxWaiting) return true;
    if (categoryMax === undefined) return false;
    const ofCategory = db
      .stmt<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE org_id = ? AND category = ? AND status IN ('queued', 'sending')")
      .get(orgId, category)!.n;
    return ofCategory >= categoryMax;
  };
  /** Enqueue's rule, inside the caller's transaction. */
  const enqueueOne = (mail: OutboxMail, maxWaiting: number, categoryMax: number | undefined): OutboxMail | null => {
    const queued = waitingFor(mail.orgId, mail.category, mail.userId);
    if (queued) return fromRow(queued);
    if (isFull(mail.orgId, mail.category, maxWaiting, categoryMax)) return null;
    db.stmt(
      `INSERT INTO outbox (id, org_id, category, user_id, recipient, subject, text, html, headers, status, attempts, last_error,
         next_attempt_at, claimed_by, claim_until, created_at, sent_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, NULL, ?, NULL, NULL, ?, NULL)`,
    ).run(
      mail.id,
      mail.orgId,
      mail.category,
      mail.userId,
      mail.to,
      mail.subject,
      mail.text,
      mail.html,
      JSON.stringify(mail.headers),
      mail.nextAttemptAt.getTime(),
      mail.createdAt.getTime(),
    );
    return mail;
  };
  return {
    async purgeFinished(before) {
      return countByOrg(
        db
          .stmt<{ org_id: string }>("DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < ? RETURNING org_id")
          .all(before.getTime()),
      );
    },
    async enqueue(input, maxWaiting, categoryMaxWaiting) {
      return db.tx(() => enqueueOne(newOutboxMailEntity(input, clock()), maxWaiting, categoryMaxWaiting));
    },
    async enqueueMany(inputs, maxWaiting, categoryMaxWaiting = {}) {
      const now = clock();
      // One transaction: each email meets the bounds as enqueue would, after the ones before it.
      return db.tx(() =>
        inputs.map((input) => enqueueOne(newOutboxMailEntity(input, now), maxWaiting, categoryMaxWaiting[input.category])),
      );
    },
    async claimDue(now, owner, until, limit) {
      return db.tx(() => {
        const due = db
          .stmt<OutboxRow>(
            `SELECT * FROM outbox WHERE (status = 'queued' AND next_attempt_at <= @now) OR (status = 'sending' AND claim_until < @now)
             ORDER BY category IN (SELECT value FROM json_each(@urgent)) DESC, next_attempt_at, created_at, id LIMIT @limit`,
          )
          .all({ now: now.getTime(), limit, urgent: URGENT });
        const claim = db.stmt("UPDATE outbox SET status = 'sending', claimed_by = ?, claim_until = ? WHERE id = ?");
        for (const r of due) claim.run(owner, until.getTime(), r.id);
        return due.map((r) => fromRow({ ...r, status: 'sending', claimed_by: owner, claim_until: until.getTime() }));
      });
    },
    async markSent(id, owner, at) {
      return (
        db
          .stmt(
            `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL, claimed_by = NULL, claim_until = NULL
             WHERE id = ? AND status = 'sending' AND claimed_by = ?`,
          )
          .run(at.getTime(), id, owner).changes === 1
      );
    },
    async markFailed(id, owner, error, retryAt) {
      const status = retryAt ? 'queued' : 'failed';
      return (
        db
          .stmt(
            `UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at),
               claimed_by = NULL, claim_until = NULL
             WHERE id = ? AND status = 'sending' AND claimed_by = ?`,
          )
          .run(status, error, retryAt ? retryAt.getTime() : null, id, owner).changes === 1
      );
    },
    async requeueFailed(orgId, id, at, maxWaiting, categoryMaxWaiting = {}) {
      return db.tx(() => {
        const failed = db.stmt<OutboxRow>("SELECT * FROM outbox WHERE id = ? AND org_id = ? AND status = 'failed'").get(id, orgId);
        if (!failed) return null;
        // The bounds of enqueue, in the same order: the user's waiting email first, then the counts.
        const waiting = waitingFor(failed.org_id, failed.category, failed.user_id);
        if (waiting) return { outcome: 'waiting' as const, mail: fromRow(waiting) };
        if (isFull(failed.org_id, failed.category as OutboxCategory, maxWaiting, categoryMaxWaiting[failed.category as OutboxCategory])) {
          return { outcome: 'full' as const };
        }
        const row = db
          .stmt<OutboxRow>(`UPDATE outbox SET status = 'queued', next_attempt_at = ? WHERE id = ? RETURNING *`)
          .get(at.getTime(), id)!;
        return { outcome: 'queued' as const, mail: fromRow(row) };
      });
    },
    async list(orgId, filter) {
      const { where, args } = outboxListWhere(orgId, filter);
      const items = db
        .stmt<OutboxRow>(`SELECT * FROM outbox WHERE ${where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`)
        .all(...args, filter.limit, filter.offset)
        .map(fromRow);
      const total =
        totalFromPage(items.length, filter) ?? db.stmt<{ n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE ${where}`).get(...args)!.n;
      return { items, total };
    },
  };
}

interface PreferenceRow {
  org_id: string;
  user_id: string;
  language: string | null;
  unsubscribed: string;
  updated_at: number;
}

const prefsFromRow = (r: PreferenceRow): NotificationPreferences => ({
  orgId: r.org_id,
  userId: r.user_id,
  language: isLanguage(r.language) ? r.language : null,
  unsubscribed: JSON.parse(r.unsubscribed) as EmailCategory[],
  updatedAt: new Date(r.updated_at),
});

export function notificationPreferenceRepository(db: SqliteDb, clock: () => Date): NotificationPreferenceRepository {
  return {
    async get(orgId, userId) {
      const r = db.stmt<PreferenceRow>('SELECT * FROM notification_preferences WHERE org_id = ? AND user_id = ?').get(orgId, userId);
      return r ? prefsFromRow(r) : null;
    },
    async getMany(orgId, userIds) {
      return db
        .stmt<PreferenceRow>(
          'SELECT * FROM notification_preferences WHERE org_id = ? AND user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id',
        )
        .all(orgId, JSON.stringify(userIds))
        .map(prefsFromRow);
    },
    async put(orgId, userId, prefs) {
      const p: NotificationPreferences = {
        orgId,
        userId,
        language: prefs.language,
        unsubscribed: [...new Set(prefs.unsubscribed)].sort(),
        updatedAt: clock(),
      };
      db.stmt(
        `INSERT INTO notification_preferences (org_id, user_id, language, unsubscribed, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (org_id, user_id) DO UPDATE SET language = excluded.language, unsubscribed = excluded.unsubscribed, updated_at = excluded.updated_at`,
      ).run(orgId, userId, p.language, JSON.stringify(p.unsubscribed), p.updatedAt.getTime());
      return p;
    },
  };
}

/** The WHERE clause of the outbox page (exported for its query-plan test). */
export function outboxListWhere(orgId: string, filter: OutboxFilter): { where: string; args: (string | number)[] } {
  const terms = ['org_id = ?'];
  const args: (string | number)[] = [orgId];
  if (filter.status) {
    terms.push('status = ?');
    args.push(filter.status);
  }
  if (filter.recipient) {
    // LIKE ignores ASCII case (outbox_org_recipient is NOCASE for it); the address's own `%`,
    // `_` and `\` are escaped to mean themselves.
    terms.push("recipient LIKE ? ESCAPE '\\'");
    args.push(`${filter.recipient.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  return { where: terms.join(' AND '), args };
}
