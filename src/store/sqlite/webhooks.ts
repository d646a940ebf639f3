import { countByOrg } from './identity.js';
import { newId } from '../../shared/ids.js';
import type { DeliveryState, WebhookEventType } from '../../shared/webhooks.js';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookRepository } from '../../domain/webhooks/webhook-ports.js';
import type { SqliteDb } from './db.js';
import { newWebhookEndpointEntity } from '../new-entities.js';
import { totalFromPage } from '../../domain/paging.js';

type Row = Record<string, unknown>;
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as number));

function endpointOf(r: Row): WebhookEndpoint {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    url: r.url as string,
    description: (r.description as string | null) ?? null,
    secret: r.secret as string,
    events: JSON.parse(r.events as string) as WebhookEventType[],
    active: r.active === 1,
    failingSince: date(r.failing_since),
    disabledAt: date(r.disabled_at),
    disabledReason: (r.disabled_reason as string | null) ?? null,
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
  };
}

function deliveryOf(r: Row): WebhookDelivery {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    endpointId: r.endpoint_id as string,
    event: r.event as WebhookEventType,
    orderKey: r.order_key as string,
    seq: r.seq as number,
    body: r.body as string,
    state: r.state as DeliveryState,
    attempts: r.attempts as number,
    nextAttemptAt: date(r.next_attempt_at)!,
    retryUntil: date(r.retry_until)!,
    lastStatus: (r.last_status as number | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: date(r.created_at)!,
    deliveredAt: date(r.delivered_at),
  };
}

function attemptOf(r: Row): WebhookAttempt {
  return {
    deliveryId: r.delivery_id as string,
    orgId: r.org_id as string,
    at: date(r.at)!,
    statusCode: (r.status_code as number | null) ?? null,
    error: (r.error as string | null) ?? null,
    durationMs: r.duration_ms as number,
  };
}

const PATCH_COLUMNS = {
  url: 'url',
  description: 'description',
  secret: 'secret',
  events: 'events',
  active: 'active',
  failingSince: 'failing_since',
  disabledAt: 'disabled_at',
  disabledReason: 'disabled_reason',
} as const;

function columnValue(v: unknown): unknown {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v)) return JSON.stringify(v);
  return v;
}

export function webhookRepository(db: SqliteDb): WebhookRepository {
  const getEndpoint = (orgId: string, id: string) => {
    const r = db.stmt('SELECT * FROM webhook_endpoints WHERE org_id = ? AND id = ?').get(orgId, id);
    return r ? endpointOf(r) : null;
  };
  const getDelivery = (orgId: string, id: string) => {
    const r = db.stmt('SELECT * FROM webhook_deliveries WHERE org_id = ? AND id = ?').get(orgId, id);
    return r ? deliveryOf(r) : null;
  };
  return {
    async purgeFinished(before) {
      return db.tx(() => {
        const done = "state IN ('delivered', 'abandoned') AND created_at < ?";
        db.stmt(`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE ${done})`).run(
          before.getTime(),
        );
        return countByOrg(
          db.stmt<{ org_id: string }>(`DELETE FROM webhook_deliveries WHERE ${done} RETURNING org_id`).all(before.getTime()),
        );
      });
    },
    async createEndpoint(orgId, input, now) {
      const e = newWebhookEndpointEntity(orgId, input, now);
      db.stmt(
        `INSERT INTO webhook_endpoints (id, org_id, url, description, secret, events, active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`,
      ).run(e.id, orgId, e.url, e.description, e.secret, JSON.stringify(e.events), now.getTime(), now.getTime());
      return e;
    },
    async getEndpoint(orgId, id) {
      return getEndpoint(orgId, id);
    },
    async listEndpoints(orgId) {
      return db.stmt('SELECT * FROM webhook_endpoints WHERE org_id = ? ORDER BY created_at, rowid').all(orgId).map(endpointOf);
    },
    async listSubscribed(orgId, event) {
      return db
        .stmt(
          `SELECT * FROM webhook_endpoints WHERE org_id = ? AND active = 1
             AND EXISTS (SELECT 1 FROM json_each(webhook_endpoints.events) WHERE value = ?)
           ORDER BY created_at, rowid`,
        )
        .all(orgId, event)
        .map(endpointOf);
    },
    async updateEndpoint(orgId, id, patch, now) {
      const sets: string[] = ['updated_at = ?'];
      const values: unknown[] = [now.getTime()];
      for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
        const v = (patch as Record<string, unknown>)[key];
        if (v === undefined) continue;
        sets.push(`${column} = ?`);
        values.push(columnValue(v));
      }
      const changed = db
        .stmt(`UPDATE webhook_endpoints SET ${sets.join(', ')} WHERE org_id = ? AND id = ?`)
        .run(...values, orgId, id).changes;
      return changed === 1 ? getEndpoint(orgId, id) : null;
    },
    async disableEndpoint(orgId, id, reason, now) {
      return (
        db
          .stmt(
            'UPDATE webhook_endpoints SET active = 0, disabled_at = ?, disabled_reason = ?, updated_at = ? WHERE org_id = ? AND id = ? AND active = 1',
          )
          .run(now.getTime(), reason, now.getTime(), orgId, id).changes === 1
      );
    },
    async deleteEndpoint(orgId, id) {
      return db.tx(() => {
        db.stmt(
          'DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE org_id = ? AND endpoint_id = ?)',
        ).run(orgId, id);
        db.stmt('DELETE FROM webhook_deliveries WHERE org_id = ? AND endpoint_id = ?').run(orgId, id);
        return db.stmt('DELETE FROM webhook_endpoints WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
      });
    },
    async enqueue(inputs) {
      return db.tx(() =>
        inputs.map((d) => {
          const r = db
            .stmt(
              `INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event, order_key, body, state, attempts, next_attempt_at, retry_until, created_at)
               VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) RETURNING *`,
            )
            .get(
              d.id ?? newId(),
              d.orgId,
              d.endpointId,
              d.event,
              d.orderKey,
              d.body,
              d.createdAt.getTime(),
              d.retryUntil.getTime(),
              d.createdAt.getTime(),
            );
          return deliveryOf(r!);
        }),
      );
    },
    async getDelivery(orgId, id) {
      return getDelivery(orgId, id);
    },
    async listDeliveries(orgId, endpointId, page) {
      const items = db
        .stmt('SELECT * FROM webhook_deliveries WHERE org_id = ? AND endpoint_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?')
        .all(orgId, endpointId, page.limit, page.offset)
        .map(deliveryOf);
      const total =
        totalFromPage(items.length, page) ??
        db.stmt<{ n: number }>('SELECT count(*) AS n FROM webhook_deliveries WHERE org_id = ? AND endpoint_id = ?').get(orgId, endpointId)!
          .n;
      return { items, total };
    },
    async listAttempts(orgId, deliveryId) {
      return db
        .stmt('SELECT * FROM webhook_attempts WHERE org_id = ? AND delivery_id = ? ORDER BY at, rowid')
        .all(orgId, deliveryId)
        .map(attemptOf);
    },
    async claimDue(owner, until, now, limit) {
      // One IMMEDIATE transaction: another node (process on the same file) waits for it, then
      // sees these leases and skips the rows.
      return db.tx(() => {
        const due = db
          .stmt<{ seq: number }>(
            `SELECT d.seq FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.active = 1
             WHERE d.state = 'pending' AND d.next_attempt_at <= @now AND (d.lease_until IS NULL OR d.lease_until < @now)
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
                 AND p.order_key = d.order_key AND p.state = 'pending' AND p.seq < d.seq)
             ORDER BY d.next_attempt_at, d.seq LIMIT @limit`,
          )
          .all({ now: now.getTime(), limit });
        return due.map(({ seq }) =>
          deliveryOf(
            db
              .stmt('UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE seq = ? RETURNING *')
              .get(owner, until.getTime(), seq)!,
          ),
        );
      });
    },
    async settle(orgId, id, owner, attempt, outcome) {
      return db.tx(() => {
        const changed = db
          .stmt(
            `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = coalesce(?, next_attempt_at),
               last_status = ?, last_error = ?, delivered_at = ?, lease_owner = NULL, lease_until = NULL
             WHERE org_id = ? AND id = ? AND lease_owner = ?`,
          )
          .run(
            outcome.state,
            outcome.state === 'pending' ? outcome.nextAttemptAt.getTime() : null,
            attempt.statusCode,
            attempt.error,
            outcome.state === 'delivered' ? attempt.at.getTime() : null,
            orgId,
            id,
            owner,
          ).changes;
        if (changed !== 1) return false;
        db.stmt('INSERT INTO webhook_attempts (delivery_id, org_id, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
          id,
          orgId,
          attempt.at.getTime(),
          attempt.statusCode,
          attempt.error,
          attempt.durationMs,
        );
        return true;
      });
    },
    async redeliver(orgId, id, now, retryUntil) {
      const changed = db
        .stmt(
          `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, retry_until = ?, delivered_at = NULL
           WHERE org_id = ? AND id = ?`,
        )
        .run(now.getTime(), retryUntil.getTime(), orgId, id).changes;
      return changed === 1 ? getDelivery(orgId, id) : null;
    },
  };
}
